/*
 * proc_alive: a process counts as gone when kill(pid, 0) says ESRCH or
 * /proc/<pid>/stat shows it as a zombie (Z) or dead (X): a killed rank
 * stays a zombie until its launcher reaps it, and it must count as dead
 * then already.
 */
#include "proc_alive.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

int dkv__proc_gone(int32_t pid)
{
    char  path[64];
    char  buf[256];
    char *state;
    FILE *f;
    int   gone = 0;

    if (pid <= 0) {
        return 0;
    }
    if ((kill(pid, 0) != 0) && (errno == ESRCH)) {
        return 1;
    }
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return errno == ENOENT;
    }
    if (fgets(buf, sizeof(buf), f) != NULL) {
        state = strrchr(buf, ')'); /* "pid (comm) S ..." */
        gone  = (state != NULL) && ((state[2] == 'Z') || (state[2] == 'X'));
    }
    fclose(f);
    return gone;
}
