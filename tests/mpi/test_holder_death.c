/*
 * test_holder_death: a holder that dies (SIGKILL) or hangs (SIGSTOP) turns
 * every operation that needs it into DKV_ERR_PEER_LOST (death) or, for a
 * hang, DKV_ERR_TIMEOUT (reads) and DKV_ERR_UNKNOWN (writes: they may or
 * may not be stored) within the timeout, on every surviving rank, in put,
 * get, quiet, fence and finalize - and never into wrong data.
 *
 * Layout: 4 ranks, holders ranks 1 and 3 (DKV_HOLDERS=ranks:1,3); rank 1 is
 * the victim. Run with `dkvrun --survive` so the job outlives the victim;
 * each survivor prints "PASS rank N" (the test's pass pattern) or FAIL.
 * argv[1]: kill | stop.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpi_test_util.h"

#define NKEYS  64
#define VICTIM 1

static double limit_s; /* an operation must finish within this */

static void timed(const char *what, double t0)
{
    double dt = t_now() - t0;

    printf("rank %d %s took %.3f s\n", t_rank, what, dt);
    if (dt > limit_s) {
        t_fail(__FILE__, __LINE__, what, "took longer than the timeout");
    }
}

/* All ranks of a node share a parent (mpirun's daemon or slurmstepd): the
 * survivors leave a file each, named after it, when they are done. */
static void done_file(char *path, size_t len, pid_t parent, int rank)
{
    snprintf(path, len, "/tmp/dkv_holder_death.%d.%d", (int)parent, rank);
}

static void become_victim(int stop)
{
    pid_t parent = getppid();
    char  path[96];
    int   r, waited;

    if (stop) {
        /* Someone must end the stopped process once the survivors are done
         * (bounded), or the job never ends. */
        if (fork() == 0) {
            for (waited = 0; waited < 600; waited++) {
                int left = 0;

                for (r = 0; r < 4; r++) {
                    done_file(path, sizeof(path), parent, r);
                    left += (r != VICTIM) && (access(path, F_OK) != 0);
                }
                if (left == 0) {
                    break;
                }
                usleep(100000);
            }
            for (r = 0; r < 4; r++) {
                done_file(path, sizeof(path), parent, r);
                unlink(path);
            }
            kill(getppid(), SIGKILL);
            _exit(0);
        }
        raise(SIGSTOP);
    }
    raise(SIGKILL);
    pause();
}

int main(int argc, char **argv)
{
    int          stop   = (argc > 1) && (strcmp(argv[1], "stop") == 0);
    dkv_status_t expect = stop ? DKV_ERR_TIMEOUT : DKV_ERR_PEER_LOST;
    /* A write to a hung holder may or may not have been stored. */
    dkv_status_t wexpect = stop ? DKV_ERR_UNKNOWN : DKV_ERR_PEER_LOST;
    const char  *tmo    = getenv("DKV_TIMEOUT_MS");
    dkv_ctx_t   *ctx;
    char         key[32], val[256];
    size_t       n, i;
    int          ok = 0, lost = 0;
    dkv_status_t s;
    double       t0;

    limit_s = (tmo != NULL ? atof(tmo) / 1000.0 : 60.0) * 1.5 + 1.0;
    T_OK(dkv_init(NULL, &ctx));
    t_rank = dkv_rank(ctx);
    if (t_rank == 0) {
        for (i = 0; i < NKEYS; i++) {
            snprintf(key, sizeof(key), "k%zu", i);
            t_fill(val, sizeof(val), i);
            T_OK(dkv_put(ctx, key, val, sizeof(val)));
        }
    }
    T_OK(dkv_fence(ctx));
    if (t_rank == VICTIM) {
        become_victim(stop);
    }
    usleep(200000);

    /* get: the victim's keys fail with the expected status, the others read
     * back intact. */
    for (i = 0; i < NKEYS; i++) {
        snprintf(key, sizeof(key), "k%zu", i);
        memset(val, 0, sizeof(val));
        t0 = t_now();
        s  = dkv_get(ctx, key, val, sizeof(val), &n);
        timed("get", t0);
        if (s == DKV_OK) {
            T_CHECK(n == sizeof(val) && t_verify(val, n, i));
            ok++;
        } else {
            T_STATUS(expect, s);
            lost++;
            if (stop) {
                break; /* each timed-out get costs a full timeout */
            }
        }
    }
    T_CHECK(lost > 0);
    T_CHECK(stop || (ok > 0));

    /* put + quiet: failures surface at the put or at quiet, with the keys
     * listed. */
    for (i = 0; i < NKEYS; i++) {
        snprintf(key, sizeof(key), "r%d.%zu", t_rank, i);
        t0 = t_now();
        s  = dkv_put(ctx, key, val, sizeof(val));
        timed("put", t0);
        if ((s != DKV_OK) && (s != wexpect)) {
            t_fail(__FILE__, __LINE__, "put", dkv_strerror(s));
        }
        if (stop && (s == wexpect)) {
            break; /* each timed-out put costs a full timeout */
        }
    }
    t0 = t_now();
    s  = dkv_quiet(ctx);
    timed("quiet", t0);
    T_CHECK((s == DKV_OK) || (s == wexpect));
    for (i = 0; i < dkv_failed_count(ctx); i++) {
        const char  *fk;
        dkv_status_t fs;

        T_OK(dkv_failed_key(ctx, i, &fk, &fs));
        T_CHECK(fs == wexpect);
        T_CHECK(strncmp(fk, "r", 1) == 0);
    }

    /* fence: every survivor gets the same verdict. */
    t0 = t_now();
    s  = dkv_fence(ctx);
    timed("fence", t0);
    printf("rank %d fence verdict %s\n", t_rank, dkv_strerror(s));
    T_STATUS(expect, s); /* a stopped member: the barrier times out */

    t0 = t_now();
    s  = dkv_finalize(ctx);
    timed("finalize", t0);
    printf("PASS rank %d (%d keys read, %d lost)\n", t_rank, ok, lost);
    fflush(stdout);
    {
        char  path[96];
        FILE *f;

        done_file(path, sizeof(path), getppid(), t_rank);
        f = fopen(path, "w");
        if (f != NULL) {
            fclose(f);
        }
    }
    return 0;
}
