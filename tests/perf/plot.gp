# plot.gp: latency and bandwidth against value size, dramkv and its peers,
# one column per configuration (shm, tcp, cluster).
#
#   gnuplot -c tests/perf/plot.gp OUT/plot OUT/plot.png
#
# Reads DIR/configs.txt (the configurations, space separated) and
# DIR/<config>.<series>.dat ("size value" lines), written by report.py.
dir = ARG1
png = ARG2
configs = system("cat ".dir."/configs.txt")
n = words(configs)

set terminal pngcairo size (n * 760), 1000 font "sans,10"
set output png
set multiplot layout 2, n
set logscale xy
set grid xtics ytics
set key top left font "sans,9"
set xtics ("8" 8, "64" 64, "512" 512, "4K" 4096, "32K" 32768, \
           "256K" 262144, "1M" 1048576, "4M" 4194304, "16M" 16777216, \
           "64M" 67108864)
set xlabel "value size (bytes)"

f(c, s) = dir."/".c.".".s.".dat"
has(c, s) = int(system("test -s ".f(c, s)." && echo 1 || echo 0"))
ttl(s) = s eq "lat_dkv_put" ? "dramkv put+quiet" : \
           s eq "lat_dkv_get" ? "dramkv get" : \
           s eq "lat_ucx" ? "UCX AM round trip" : \
           s eq "lat_mpi_ob1" ? "MPI_Put+flush (Win_create, ob1: osc rdma/pt2pt)" : \
           s eq "lat_mpi_ucx" ? "MPI_Put+flush (Win_create, osc ucx)" : \
           s eq "lat_redis" ? "Redis SET (1 client)" : \
           s eq "bw_dkv_put" ? "dramkv put (window)" : \
           s eq "bw_dkv_get" ? "dramkv get (window)" : \
           s eq "bw_ucx" ? "UCX AM streaming" : \
           s eq "bw_mpi_ob1" ? "MPI_Put x16+flush (Win_create, ob1: osc rdma/pt2pt)" : \
           s eq "bw_mpi_ucx" ? "MPI_Put x16+flush (Win_create, osc ucx)" : \
           "memcpy, one thread"
# Gnuplot stops on a file without points, so the plot command is built from
# the series that have some.
do for [i = 1:2 * n] {
    c = word(configs, (i - 1) % n + 1)
    list = (i <= n) ? "lat_dkv_put lat_dkv_get lat_ucx lat_mpi_ob1 lat_mpi_ucx lat_redis" \
                    : "bw_dkv_put bw_dkv_get bw_ucx bw_mpi_ob1 bw_mpi_ucx bw_memcpy"
    if (i <= n) {
        set title (c.": latency (lower is better)")
        set ylabel "microseconds"
        set key top left
    } else {
        set title (c.": bandwidth (higher is better)")
        set ylabel "GB/s"
        set key bottom right
    }
    cmd = ""
    k = 0
    do for [s in list] {
        k = k + 1
        if (has(c, s)) {
            cmd = cmd.(strlen(cmd) > 0 ? ", " : "plot ") \
                  .sprintf("'%s' using 1:2 with linespoints lt %d lw 2 title '%s'", \
                           f(c, s), k, ttl(s))
        }
    }
    if (strlen(cmd) > 0) {
        set termoption noenhanced
        eval cmd
    }
}
unset multiplot
