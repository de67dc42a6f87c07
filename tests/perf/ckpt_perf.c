/*
 * ckpt_perf: checkpoint staging - dramkv against writing the checkpoint to
 * the file system, in one job, with the same sizes. Every rank holds a
 * checkpoint of S MiB (--mib, default 64) and, in each repetition:
 *
 *   (a) stage_dkv          dkv_put of its checkpoint as S / shard keys
 *                          ("ckpt/r<rank>/s<i>", --shard-mib, default 4)
 *                          + dkv_fence; from a fence before to the fence's
 *                          return
 *   (d) drain_start        dkv_drain_start of what (a) staged into a fresh
 *       drain              directory, and start + dkv_drain_wait (alone)
 *   (b) posix_fsync        after an MPI_Barrier, its own file:
 *                          open + write() loop + fsync + close
 *   (c) mpiio_collective   after an MPI_Barrier, one shared file:
 *                          MPI_File_open + set_view (displacement rank x S)
 *                          + write_at_all + MPI_File_sync + close
 *   (e) kernel_alone       a memory-bound kernel (3-point stencil over two
 *                          arrays of --kernel-mib, sized at start to take
 *                          about --kernel-s seconds), alone: the mean of a
 *                          run before and one after kernel_during_drain
 *       kernel_during_drain   the same kernel right after dkv_drain_start
 *                          returned (its blocking part is drain_start),
 *                          then dkv_drain_wait
 *       slowdown           (kernel_during_drain / kernel_alone - 1) x 100,
 *                          per repetition
 *       slowdown_best      the same of the two minima over the repetitions
 *                          (one figure): on a busy machine the least
 *                          disturbed runs
 *       drain_during_kernel   from before dkv_drain_start to the return of
 *                          that dkv_drain_wait (at least the kernel's time;
 *                          with --poll-ms, to the first poll that saw the
 *                          drain done)
 *       drain_wait_after_kernel   what dkv_drain_wait still took
 *       drain_test_call    only with --poll-ms P: the kernel also calls
 *                          dkv_drain_test (which asks every holder) at the
 *                          end of a sweep, at most every P ms, as an
 *                          application reporting progress would; this is
 *                          the mean time of one such call, and the kernel's
 *                          time includes them
 *   (f) load_dkv           with --load: the staged keys deleted, then
 *                          dkv_load of the drain of (e); each rank then
 *                          reads its shards back and compares them
 *
 * A repetition's figure is the slowest rank's; the report gives the median
 * and the minimum over --reps repetitions. Between the steps every rank's
 * files are fsynced, so no step leaves dirty pages to the next; a step's
 * files are removed (outside the timing) before it runs again.
 *
 * dramkv's layout is explicit: --holders (default all) and --replicas
 * (default 1) go into dkv_init_params_t and beat DKV_HOLDERS/DKV_REPLICAS.
 * Files go to a new directory under --dir (default /var/tmp), removed at
 * the end; the report names its file system type.
 *
 *   ckpt_perf [--quick] [--mib S] [--shard-mib M] [--reps N] [--dir DIR]
 *             [--holders SPEC] [--replicas R] [--kernel-s T]
 *             [--kernel-mib K] [--poll-ms P] [--load] [--csv FILE]
 *
 * Rank 0 prints a table and, with --csv, appends one CSV line per figure
 * to FILE (header first if FILE is empty; tests/perf/ckpt_report.py turns
 * it into markdown). Any dramkv status other than DKV_OK, or a failed
 * system call, aborts the job with a message; "ckpt_perf: ok" ends a run
 * in which every call succeeded (the perf.ckpt_smoke test looks for it).
 */
#include <dirent.h>
#include <errno.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "ckpt_perf.h"

const ckpt_meas_t ckpt_meas[M_COUNT] = {
    [M_STAGE]       = {"stage_dkv", "s", "(a) dramkv: puts + dkv_fence"},
    [M_DRAIN_START] = {"drain_start", "s", "(d) dkv_drain_start (blocking)"},
    [M_DRAIN]       = {"drain", "s", "(d) drain alone: start + wait"},
    [M_POSIX]       = {"posix_fsync", "s",
                       "(b) POSIX file per rank: write+fsync+close"},
    [M_MPIIO]       = {"mpiio_collective", "s",
                       "(c) MPI-IO shared file: write_at_all+sync+close"},
    [M_KERNEL]      = {"kernel_alone", "s", "(e) kernel alone"},
    [M_KERNEL_BG]   = {"kernel_during_drain", "s", "(e) kernel during a drain"},
    [M_SLOWDOWN]    = {"slowdown", "pct", "(e) kernel slowdown"},
    [M_SLOWDOWN_BEST] = {"slowdown_best", "pct",
                         "(e) slowdown, fastest run vs fastest run"},
    [M_DRAIN_BG] = {"drain_during_kernel", "s", "(e) drain during the kernel"},
    [M_DRAIN_BG_WAIT] = {"drain_wait_after_kernel", "s",
                         "(e) dkv_drain_wait after the kernel"},
    [M_TEST]          = {"drain_test_call", "s",
                         "(e) one dkv_drain_test during the kernel"},
    [M_LOAD]          = {"load_dkv", "s", "(f) dkv_load of the drain"},
};

/* ------------------------------------------------------------------ */
/* Failing loudly                                                      */
/* ------------------------------------------------------------------ */

/* This run's directory once made. A failing rank leaves it as it is (the
 * other ranks may still be writing, and their errors should stay those of
 * the failure) and names it; tests/perf/run_ckpt removes it. */
static const char *top_dir = NULL;

void ckpt_die_now(void)
{
    if (top_dir != NULL) {
        fprintf(stderr, "ckpt_perf: files left in %s\n", top_dir);
    }
    MPI_Abort(MPI_COMM_WORLD, 1);
}

void ckpt_dkv_die(const ckpt_bench_t *b, const char *what, dkv_status_t s)
{
    const char *detail = (b->ctx != NULL) ? dkv_error_detail(b->ctx) : "";

    fprintf(stderr, "ckpt_perf: rank %d: %s: %s%s%s\n", b->rank, what,
            dkv_strerror(s), (detail[0] != '\0') ? ": " : "", detail);
    ckpt_die_now();
}

void ckpt_sys_die(const char *what, const char *path)
{
    int rank = -1;

    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    fprintf(stderr, "ckpt_perf: rank %d: %s %s: %s\n", rank, what, path,
            strerror(errno));
    ckpt_die_now();
}

void ckpt_mpi_die(const char *what, int err)
{
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;

    MPI_Error_string(err, text, &len);
    fprintf(stderr, "ckpt_perf: %s: %s\n", what, text);
    ckpt_die_now();
}

/* ------------------------------------------------------------------ */
/* Options                                                             */
/* ------------------------------------------------------------------ */

static void usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--quick] [--mib S] [--shard-mib M] [--reps N]\n"
            "       [--dir DIR] [--holders SPEC] [--replicas R]\n"
            "       [--kernel-s T] [--kernel-mib K] [--poll-ms P] [--load]\n"
            "       [--csv FILE]\n",
            prog);
    exit(2);
}

static void parse_args(int argc, char **argv, ckpt_opts_t *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->parent   = "/var/tmp";
    o->holders  = "all";
    o->replicas = 1;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = (i + 1 < argc) ? argv[i + 1] : NULL;

        if (strcmp(a, "--quick") == 0) {
            o->quick = 1;
            continue;
        }
        if (strcmp(a, "--load") == 0) {
            o->load = 1;
            continue;
        }
        if (v == NULL) {
            usage(argv[0]);
        }
        i++;
        if (strcmp(a, "--mib") == 0) {
            o->mib = strtoull(v, NULL, 10);
        } else if (strcmp(a, "--shard-mib") == 0) {
            o->shard_mib = strtoull(v, NULL, 10);
        } else if (strcmp(a, "--reps") == 0) {
            o->reps = atoi(v);
        } else if (strcmp(a, "--dir") == 0) {
            o->parent = v;
        } else if (strcmp(a, "--holders") == 0) {
            o->holders = v;
        } else if (strcmp(a, "--replicas") == 0) {
            o->replicas = (unsigned)atoi(v);
        } else if (strcmp(a, "--kernel-s") == 0) {
            o->kernel_s = atof(v);
        } else if (strcmp(a, "--poll-ms") == 0) {
            o->poll_ms = atof(v);
        } else if (strcmp(a, "--kernel-mib") == 0) {
            o->kernel_mib = strtoull(v, NULL, 10);
        } else if (strcmp(a, "--csv") == 0) {
            o->csv = v;
        } else {
            usage(argv[0]);
        }
    }
    /* Unset (0) takes the default, small ones with --quick. */
    o->mib        = (o->mib != 0) ? o->mib : o->quick ? 4 : 64;
    o->shard_mib  = (o->shard_mib != 0) ? o->shard_mib : o->quick ? 1 : 4;
    o->shard_mib  = (o->shard_mib > o->mib) ? o->mib : o->shard_mib;
    o->kernel_mib = (o->kernel_mib != 0) ? o->kernel_mib : o->quick ? 8 : 64;
    o->kernel_s   = (o->kernel_s > 0) ? o->kernel_s : o->quick ? 0.2 : 1.0;
    o->poll_ms    = (o->poll_ms > 0) ? o->poll_ms : 0; /* 0: no polls */
    o->reps       = (o->reps > 0) ? o->reps : o->quick ? 1 : 5;
    o->reps       = (o->reps > MAX_REPS) ? MAX_REPS : o->reps;
}

/* ------------------------------------------------------------------ */
/* Directories                                                         */
/* ------------------------------------------------------------------ */

/* Remove @p path and, if it is a directory, everything below it. */
static void remove_tree(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;

    if (lstat(path, &st) != 0) {
        return;
    }
    if (S_ISDIR(st.st_mode) && ((d = opendir(path)) != NULL)) {
        while ((e = readdir(d)) != NULL) {
            char sub[PATH_MAX];

            if ((strcmp(e->d_name, ".") == 0) ||
                (strcmp(e->d_name, "..") == 0)) {
                continue;
            }
            snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Collective: rank 0 removes @p sub of the run's directory (and, with
 * @p create, makes it again, empty) and flushes the file system; the
 * others wait. */
void ckpt_reset_path(const ckpt_bench_t *b, const char *sub, int create,
                     char *out, size_t out_len)
{
    snprintf(out, out_len, "%s/%s", b->top, sub);
    if (b->rank == 0) {
        remove_tree(out);
        if (create && (mkdir(out, 0700) != 0)) {
            ckpt_sys_die("mkdir", out);
        }
        sync();
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

static void make_top(ckpt_bench_t *b)
{
    if (b->rank == 0) {
        snprintf(b->top, sizeof(b->top), "%s/dkv-ckpt.XXXXXX", b->o.parent);
        if (mkdtemp(b->top) == NULL) {
            ckpt_sys_die("mkdtemp", b->top);
        }
    }
    MPI_Bcast(b->top, (int)sizeof(b->top), MPI_CHAR, 0, MPI_COMM_WORLD);
    top_dir = b->top;
}

static const char *fs_name(const char *path)
{
    struct statfs s;

    if (statfs(path, &s) != 0) {
        return "unknown";
    }
    switch ((unsigned long)s.f_type) {
    case 0xEF53UL:
        return "ext4";
    case 0x58465342UL:
        return "xfs";
    case 0x9123683EUL:
        return "btrfs";
    case 0x01021994UL:
        return "tmpfs";
    case 0x794C7630UL:
        return "overlayfs";
    case 0x6969UL:
        return "nfs";
    case 0x0BD00BD0UL:
        return "lustre";
    case 0x47504653UL:
        return "gpfs";
    case 0x19830326UL:
        return "beegfs";
    case 0x2FC12FC1UL:
        return "zfs";
    default:
        return "other";
    }
}

/* ------------------------------------------------------------------ */
/* One repetition                                                      */
/* ------------------------------------------------------------------ */

static void one_rep(ckpt_bench_t *b, int rep)
{
    double v[M_COUNT];
    char dir[PATH_MAX];
    int m;

    memset(v, 0, sizeof(v));
    ckpt_stage(b, rep);
    ckpt_drain_alone(b, rep);
    ckpt_posix_write(b, rep);
    ckpt_mpiio_write(b, rep);
    ckpt_kernel_runs(b, rep);
    if (b->o.load) {
        ckpt_load_and_check(b, rep);
    }
    ckpt_unstage(b);
    ckpt_reset_path(b, "drain-e", 0, dir, sizeof(dir));
    /* The slowest rank's figure, per repetition. */
    for (m = 0; m < M_COUNT; m++) {
        v[m] = b->t[m][rep];
    }
    MPI_Allreduce(MPI_IN_PLACE, v, M_COUNT, MPI_DOUBLE, MPI_MAX,
                  MPI_COMM_WORLD);
    for (m = 0; m < M_COUNT; m++) {
        b->t[m][rep] = v[m];
    }
    b->t[M_SLOWDOWN][rep] = (v[M_KERNEL_BG] / v[M_KERNEL] - 1.0) * 100.0;
}

static void best_slowdown(ckpt_bench_t *b)
{
    double alone = b->t[M_KERNEL][0], during = b->t[M_KERNEL_BG][0];
    int rep;

    for (rep = 1; rep < b->o.reps; rep++) {
        alone = (b->t[M_KERNEL][rep] < alone) ? b->t[M_KERNEL][rep] : alone;
        during =
            (b->t[M_KERNEL_BG][rep] < during) ? b->t[M_KERNEL_BG][rep] : during;
    }
    for (rep = 0; rep < b->o.reps; rep++) {
        b->t[M_SLOWDOWN_BEST][rep] = (during / alone - 1.0) * 100.0;
    }
}

/* ------------------------------------------------------------------ */
/* Output                                                              */
/* ------------------------------------------------------------------ */

static int skipped(const ckpt_bench_t *b, int m)
{
    return ((m == M_LOAD) && !b->o.load) ||
           ((m == M_TEST) && (b->o.poll_ms <= 0));
}

static void stats(const ckpt_bench_t *b, int m, double *med, double *min,
                  double *max)
{
    double v[MAX_REPS];

    memcpy(v, b->t[m], sizeof(double) * (size_t)b->o.reps);
    *med = perf_median(v, b->o.reps); /* sorts v */
    *min = v[0];
    *max = v[b->o.reps - 1];
}

static void print_table(const ckpt_bench_t *b)
{
    int m;

    printf("ckpt_perf: %d ranks x %zu MiB (%d keys of %zu MiB), "
           "holders %s -> %d holder(s), replicas %u, %d reps\n",
           b->size, b->o.mib, b->nshards, b->o.shard_mib, b->o.holders,
           dkv_num_holders(b->ctx), b->o.replicas, b->o.reps);
    printf("ckpt_perf: files in %s (%s), MPI-IO by %s; kernel: 3-point "
           "stencil over 2 x %zu MiB per rank, %d sweeps\n",
           b->top, fs_name(b->top), b->io, b->o.kernel_mib, b->sweeps);
    printf("%-50s %10s %10s %10s %10s\n", "step (slowest rank)", "median",
           "min", "GB/s med", "GB/s best");
    for (m = 0; m < M_COUNT; m++) {
        int pct          = (strcmp(ckpt_meas[m].unit, "pct") == 0);
        double scale     = pct ? 1 : 1e3; /* times in ms */
        const char *unit = pct ? " %" : " ms";
        double med, min, max;

        if (skipped(b, m)) {
            continue;
        }
        stats(b, m, &med, &min, &max);
        printf("%-50s %7.4g%-3s %7.4g%-3s", ckpt_meas[m].label, med * scale,
               unit, min * scale, unit);
        /* drain_during_kernel lasts at least the kernel: no rate. */
        if ((b->moved[m] > 0) && (med > 0) && (min > 0) && (m != M_DRAIN_BG)) {
            printf(" %10.3g %10.3g\n", b->moved[m] / med / 1e9,
                   b->moved[m] / min / 1e9);
        } else {
            printf(" %10s %10s\n", "-", "-");
        }
    }
    fflush(stdout);
}

static void write_csv(const ckpt_bench_t *b)
{
    FILE *f = fopen(b->o.csv, "a");
    char date[32];
    time_t now = time(NULL);
    int m, i;

    if (f == NULL) {
        ckpt_sys_die("fopen", b->o.csv);
    }
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    if (ftell(f) == 0) {
        fprintf(f, "date,ranks,holders,num_holders,replicas,mib_per_rank,"
                   "shard_mib,fs,mpi_io,kernel_sweeps,measurement,unit,"
                   "median,min,max,reps,bytes,values\n");
    }
    for (m = 0; m < M_COUNT; m++) {
        double med, min, max;

        if (skipped(b, m)) {
            continue;
        }
        stats(b, m, &med, &min, &max);
        /* A holder spec may hold commas ("ranks:1,3"): quoted. */
        fprintf(f,
                "%s,%d,\"%s\",%d,%u,%zu,%zu,%s,%s,%d,%s,%s,%.6g,%.6g,%.6g,%d,"
                "%.0f,",
                date, b->size, b->o.holders, dkv_num_holders(b->ctx),
                b->o.replicas, b->o.mib, b->o.shard_mib, fs_name(b->top), b->io,
                b->sweeps, ckpt_meas[m].name, ckpt_meas[m].unit, med, min, max,
                b->o.reps, b->moved[m]);
        for (i = 0; i < b->o.reps; i++) {
            fprintf(f, "%s%.6g", (i > 0) ? ";" : "", b->t[m][i]);
        }
        fprintf(f, "\n");
    }
    if (fclose(f) != 0) {
        ckpt_sys_die("fclose", b->o.csv);
    }
}

/* ------------------------------------------------------------------ */

static void setup(ckpt_bench_t *b, int argc, char **argv)
{
    dkv_init_params_t params;
    size_t i;

    parse_args(argc, argv, &b->o);
    memset(&params, 0, sizeof(params));
    params.field_mask =
        DKV_INIT_PARAM_FIELD_HOLDERS | DKV_INIT_PARAM_FIELD_REPLICAS;
    params.holders  = b->o.holders;
    params.replicas = b->o.replicas;
    b->rank         = -1;
    CKPT_CHECK(b, "dkv_init", dkv_init(&params, &b->ctx));
    b->rank    = dkv_rank(b->ctx);
    b->size    = dkv_size(b->ctx);
    b->bytes   = b->o.mib * MIB;
    b->nshards = (int)((b->o.mib + b->o.shard_mib - 1) / b->o.shard_mib);
    b->ckpt    = malloc(b->bytes);
    b->io      = "unknown";
    if (b->ckpt == NULL) {
        ckpt_sys_die("malloc", "checkpoint");
    }
    /* A pattern unique to each rank and word, every page touched. */
    for (i = 0; i < b->bytes / sizeof(uint64_t); i++) {
        ((uint64_t *)b->ckpt)[i] =
            ((uint64_t)b->rank << 48) ^ (i * 0x9E3779B97F4A7C15ull);
    }
    b->moved[M_STAGE] = b->moved[M_POSIX] = b->moved[M_MPIIO] =
        b->moved[M_LOAD]                  = (double)b->bytes * b->size;
    make_top(b);
    ckpt_kernel_setup(b);
}

int main(int argc, char **argv)
{
    static ckpt_bench_t b;
    dkv_status_t s;
    int rep;

    MPI_Init(&argc, &argv);
    setup(&b, argc, argv);
    for (rep = 0; rep < b.o.reps; rep++) {
        one_rep(&b, rep);
    }
    best_slowdown(&b);
    if (b.rank == 0) {
        print_table(&b);
        if (b.o.csv != NULL) {
            write_csv(&b);
        }
        remove_tree(b.top);
    }
    top_dir = NULL;
    fprintf(stderr, "ckpt_perf: rank %d: kernel checksum %g\n", b.rank, b.sink);
    s = dkv_finalize(b.ctx);
    if (s != DKV_OK) {
        fprintf(stderr, "ckpt_perf: dkv_finalize: %s\n", dkv_strerror(s));
        ckpt_die_now();
    }
    if (b.rank == 0) {
        printf("ckpt_perf: ok\n");
    }
    free(b.ckpt);
    free(b.ka);
    free(b.kb);
    MPI_Finalize();
    return 0;
}
