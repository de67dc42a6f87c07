/*
 * ckpt_perf_steps: the timed steps of ckpt_perf (see ckpt_perf.c for what
 * each figure means): dramkv staging and draining, the POSIX and MPI-IO
 * writes of the same checkpoint, the compute kernel alone and during a
 * drain, and loading a drain back. Every rank runs every step; ranks meet
 * in dkv_fence() (which sleeps) before dramkv steps and in MPI_Barrier
 * before file steps.
 */
#include <errno.h>
#include <fcntl.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckpt_perf.h"

/* ------------------------------------------------------------------ */
/* (a) staging and (d) draining with dramkv                            */
/* ------------------------------------------------------------------ */

static void shard_key(const ckpt_bench_t *b, int i, char *key, size_t len)
{
    snprintf(key, len, "ckpt/r%05d/s%05d", b->rank, i);
}

static size_t shard_len(const ckpt_bench_t *b, int i)
{
    size_t off = (size_t)i * b->o.shard_mib * MIB;
    size_t len = b->o.shard_mib * MIB;

    return (off + len > b->bytes) ? b->bytes - off : len;
}

void ckpt_stage(ckpt_bench_t *b, int rep)
{
    double t0;
    int i;

    CKPT_CHECK(b, "dkv_fence", dkv_fence(b->ctx)); /* start together */
    t0 = perf_now();
    for (i = 0; i < b->nshards; i++) {
        char key[64];

        shard_key(b, i, key, sizeof(key));
        CKPT_CHECK(b, "dkv_put",
                   dkv_put(b->ctx, key,
                           b->ckpt + (size_t)i * b->o.shard_mib * MIB,
                           shard_len(b, i)));
    }
    CKPT_CHECK(b, "dkv_fence", dkv_fence(b->ctx));
    b->t[M_STAGE][rep] = perf_now() - t0;
}

void ckpt_unstage(ckpt_bench_t *b)
{
    int i;

    for (i = 0; i < b->nshards; i++) {
        char key[64];

        shard_key(b, i, key, sizeof(key));
        CKPT_CHECK(b, "dkv_delete", dkv_delete(b->ctx, key));
    }
    CKPT_CHECK(b, "dkv_fence", dkv_fence(b->ctx));
}

/* (d): start + wait, alone. */
void ckpt_drain_alone(ckpt_bench_t *b, int rep)
{
    char dir[PATH_MAX];
    dkv_drain_progress_t p;
    double t0, t1;

    ckpt_reset_path(b, "drain-d", 1, dir, sizeof(dir));
    CKPT_CHECK(b, "dkv_fence", dkv_fence(b->ctx));
    t0 = perf_now();
    CKPT_CHECK(b, "dkv_drain_start", dkv_drain_start(b->ctx, dir));
    t1 = perf_now();
    CKPT_CHECK(b, "dkv_drain_wait", dkv_drain_wait(b->ctx, &p));
    b->t[M_DRAIN][rep]       = perf_now() - t0;
    b->t[M_DRAIN_START][rep] = t1 - t0;
    b->moved[M_DRAIN]        = (double)p.bytes_total;
    b->moved[M_DRAIN_BG]     = (double)p.bytes_total;
    /* Every shard of every rank, each once, whatever DKV_REPLICAS. */
    if ((p.done != 1) || (p.keys_written != p.keys_total) ||
        (p.keys_total != (uint64_t)b->nshards * (uint64_t)b->size) ||
        (p.bytes_written != p.bytes_total)) {
        fprintf(stderr,
                "ckpt_perf: rank %d: dkv_drain_wait returned DKV_OK with "
                "done %d, keys %llu of %llu (expected %d), bytes %llu of "
                "%llu\n",
                b->rank, p.done, (unsigned long long)p.keys_written,
                (unsigned long long)p.keys_total, b->nshards * b->size,
                (unsigned long long)p.bytes_written,
                (unsigned long long)p.bytes_total);
        ckpt_die_now();
    }
    MPI_Barrier(MPI_COMM_WORLD); /* every rank's wait is over */
    ckpt_reset_path(b, "drain-d", 0, dir, sizeof(dir));
}

/* ------------------------------------------------------------------ */
/* (b) POSIX and (c) MPI-IO                                            */
/* ------------------------------------------------------------------ */

void ckpt_posix_write(ckpt_bench_t *b, int rep)
{
    char dir[PATH_MAX], path[PATH_MAX + 32];
    size_t done = 0;
    double t0;
    int fd;

    ckpt_reset_path(b, "posix", 1, dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/ckpt.%05d", dir, b->rank);
    MPI_Barrier(MPI_COMM_WORLD);
    t0 = perf_now();
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        ckpt_sys_die("open", path);
    }
    while (done < b->bytes) {
        ssize_t n = write(fd, b->ckpt + done, b->bytes - done);

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            ckpt_sys_die("write", path);
        }
        done += (size_t)n;
    }
    if ((fsync(fd) != 0) || (close(fd) != 0)) {
        ckpt_sys_die("fsync/close", path);
    }
    b->t[M_POSIX][rep] = perf_now() - t0;
}

/* Which MPI-IO component opens the file: Open MPI chooses by MCA parameter
 * "io" (OMPI_MCA_io), and by default ompio (priority 30 against romio321's
 * 10 on local and NFS file systems); other MPIs use ROMIO. The file's info
 * does not say (Open MPI 4.1 returns none of either's hints). */
static const char *io_component(void)
{
    const char *io = getenv("OMPI_MCA_io");

    if ((io != NULL) && (io[0] != '\0')) {
        return io;
    }
#ifdef OMPI_MAJOR_VERSION
    return "ompio";
#else
    return "romio";
#endif
}

void ckpt_mpiio_write(ckpt_bench_t *b, int rep)
{
    char path[PATH_MAX];
    MPI_Datatype mib_type;
    MPI_File fh;
    double t0;
    int err;

    /* Counts in MiB elements: no int overflow for large checkpoints. */
    MPI_Type_contiguous((int)MIB, MPI_BYTE, &mib_type);
    MPI_Type_commit(&mib_type);
    ckpt_reset_path(b, "mpiio.dat", 0, path, sizeof(path));
    MPI_Barrier(MPI_COMM_WORLD);
    t0  = perf_now();
    err = MPI_File_open(MPI_COMM_WORLD, path, MPI_MODE_CREATE | MPI_MODE_WRONLY,
                        MPI_INFO_NULL, &fh);
    if (err != MPI_SUCCESS) {
        ckpt_mpi_die("MPI_File_open", err);
    }
    err = MPI_File_set_view(fh, (MPI_Offset)b->rank * (MPI_Offset)b->bytes,
                            MPI_BYTE, MPI_BYTE, "native", MPI_INFO_NULL);
    if (err == MPI_SUCCESS) {
        err = MPI_File_write_at_all(fh, 0, b->ckpt, (int)b->o.mib, mib_type,
                                    MPI_STATUS_IGNORE);
    }
    if (err == MPI_SUCCESS) {
        err = MPI_File_sync(fh);
    }
    if (err != MPI_SUCCESS) {
        ckpt_mpi_die("MPI_File_set_view/write_at_all/sync", err);
    }
    b->io = io_component();
    err   = MPI_File_close(&fh);
    if (err != MPI_SUCCESS) {
        ckpt_mpi_die("MPI_File_close", err);
    }
    b->t[M_MPIIO][rep] = perf_now() - t0;
    MPI_Type_free(&mib_type);
}

/* ------------------------------------------------------------------ */
/* (e) the application kernel, alone and during a drain                */
/* ------------------------------------------------------------------ */

static void sweep(double *dst, const double *src, size_t n)
{
    size_t i;

    dst[0]     = src[0];
    dst[n - 1] = src[n - 1];
    for (i = 1; i + 1 < n; i++) {
        dst[i] = (src[i - 1] + src[i] + src[i + 1]) * (1.0 / 3.0);
    }
}

/* Run the kernel. With @p poll, ask at the end of a sweep, at most every
 * o.poll_ms, whether the drain is done; write the time it was first seen
 * done (or 0) to @p done_at_p, and add the time spent in dkv_drain_test
 * and the number of calls to b->test_s / b->tests. */
static double kernel(ckpt_bench_t *b, int poll, double *done_at_p)
{
    double t0   = perf_now();
    double next = t0 + b->o.poll_ms * 1e-3;
    double *src = b->ka;
    double *dst = b->kb;
    double *tmp;
    int s;

    *done_at_p = 0;
    for (s = 0; s < b->sweeps; s++) {
        sweep(dst, src, b->n);
        tmp = src;
        src = dst;
        dst = tmp;
        if (poll && (*done_at_p == 0) && (perf_now() >= next)) {
            dkv_drain_progress_t p;
            double t1 = perf_now();

            CKPT_CHECK(b, "dkv_drain_test", dkv_drain_test(b->ctx, &p));
            next = perf_now();
            b->test_s += next - t1;
            b->tests++;
            if (p.done) {
                *done_at_p = next;
            }
            next += b->o.poll_ms * 1e-3;
        }
    }
    b->sink += src[b->n / 2];
    return perf_now() - t0;
}

/* Size the kernel: about o.kernel_s seconds alone on the slowest rank. */
void ckpt_kernel_setup(ckpt_bench_t *b)
{
    double unused, t0, one, t[200];
    size_t i;
    int k;

    b->n  = b->o.kernel_mib * MIB / sizeof(double);
    b->ka = malloc(b->n * sizeof(double));
    b->kb = malloc(b->n * sizeof(double));
    if ((b->ka == NULL) || (b->kb == NULL)) {
        ckpt_sys_die("malloc", "kernel arrays");
    }
    for (i = 0; i < b->n; i++) {
        b->ka[i] = (double)(i % 1000);
        b->kb[i] = 0;
    }
    /* The median sweep over a tenth of the target, after a warm-up: a
     * sweep stretched by another process does not shrink the kernel. */
    b->sweeps = 1;
    (void)kernel(b, 0, &unused);
    t0 = perf_now();
    for (k = 0;
         (k < 200) && ((k < 5) || (perf_now() - t0 < b->o.kernel_s / 10));
         k++) {
        t[k] = kernel(b, 0, &unused);
    }
    one = perf_median(t, k);
    MPI_Allreduce(MPI_IN_PLACE, &one, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
    b->sweeps = (int)(b->o.kernel_s / one + 0.5);
    b->sweeps = (b->sweeps < 3) ? 3 : b->sweeps;
}

/* The kernel alone before and after the one during a drain: their mean is
 * the baseline of the slowdown, so slow drift of the machine cancels. */
void ckpt_kernel_runs(ckpt_bench_t *b, int rep)
{
    char dir[PATH_MAX];
    double t0, done_at, tk, t2, before, after;

    ckpt_reset_path(b, "drain-e", 1, dir, sizeof(dir));
    CKPT_CHECK(b, "dkv_fence", dkv_fence(b->ctx));
    before = kernel(b, 0, &done_at);
    CKPT_CHECK(b, "dkv_fence", dkv_fence(b->ctx));
    t0 = perf_now();
    CKPT_CHECK(b, "dkv_drain_start", dkv_drain_start(b->ctx, dir));
    b->test_s = 0;
    b->tests  = 0;
    tk        = kernel(b, b->o.poll_ms > 0, &done_at);
    t2        = perf_now();
    CKPT_CHECK(b, "dkv_drain_wait", dkv_drain_wait(b->ctx, NULL));
    b->t[M_KERNEL_BG][rep]     = tk;
    b->t[M_DRAIN_BG_WAIT][rep] = perf_now() - t2;
    b->t[M_DRAIN_BG][rep]      = ((done_at > 0) ? done_at : perf_now()) - t0;
    b->t[M_TEST][rep]          = (b->tests > 0) ? b->test_s / b->tests : 0;
    CKPT_CHECK(b, "dkv_fence", dkv_fence(b->ctx));
    after               = kernel(b, 0, &done_at);
    b->t[M_KERNEL][rep] = (before + after) / 2;
}

/* ------------------------------------------------------------------ */
/* (f) loading the drain back                                          */
/* ------------------------------------------------------------------ */

void ckpt_load_and_check(ckpt_bench_t *b, int rep)
{
    char dir[PATH_MAX], key[64];
    size_t got = 0;
    char *buf  = malloc(b->o.shard_mib * MIB);
    double t0;
    int i;

    if (buf == NULL) {
        ckpt_sys_die("malloc", "load buffer");
    }
    snprintf(dir, sizeof(dir), "%s/drain-e", b->top);
    ckpt_unstage(b);
    t0 = perf_now();
    CKPT_CHECK(b, "dkv_load", dkv_load(b->ctx, dir));
    b->t[M_LOAD][rep] = perf_now() - t0;
    for (i = 0; i < b->nshards; i++) {
        shard_key(b, i, key, sizeof(key));
        CKPT_CHECK(b, "dkv_get (after dkv_load)",
                   dkv_get(b->ctx, key, buf, b->o.shard_mib * MIB, &got));
        if ((got != shard_len(b, i)) ||
            (memcmp(buf, b->ckpt + (size_t)i * b->o.shard_mib * MIB, got) !=
             0)) {
            fprintf(stderr,
                    "ckpt_perf: rank %d: key %s differs after "
                    "dkv_load (%zu bytes)\n",
                    b->rank, key, got);
            ckpt_die_now();
        }
    }
    free(buf);
}
