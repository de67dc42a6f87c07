/*
 * shim_fsync_slow: a test-only LD_PRELOAD object that makes every fsync()
 * and fdatasync() sleep SHIM_FSYNC_MS milliseconds before the real call -
 * a slow parallel file system, or one in an OST failover.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

static void slow(void)
{
    const char     *ms = getenv("SHIM_FSYNC_MS");
    long            n  = (ms != NULL) ? atol(ms) : 0;
    struct timespec ts = {.tv_sec = n / 1000, .tv_nsec = (n % 1000) * 1000000};

    if (n > 0) {
        nanosleep(&ts, NULL);
    }
}

int fsync(int fd)
{
    int (*real)(int);

    *(void **)&real = dlsym(RTLD_NEXT, "fsync");
    slow();
    return real(fd);
}

int fdatasync(int fd)
{
    int (*real)(int);

    *(void **)&real = dlsym(RTLD_NEXT, "fdatasync");
    slow();
    return real(fd);
}
