/*
 * dkv-drain: look into a drain directory without a job.
 *   dkv-drain ls DIR          the drains in DIR (dkv_drain_info)
 *   dkv-drain verify DIR      every record CRC of the complete drain
 *   dkv-drain cat DIR KEY     one key's value from it, to stdout
 * Built on the pure drain modules (drain_file.h); single-threaded.
 * Exit status: 0 good, 1 bad or missing (the message names the file and
 * record), 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "drain_file.h"

static const char usage[] =
    "usage: dkv-drain ls DIR        list the drains in DIR (id, label, "
    "commit time,\n"
    "                               files, keys, bytes, complete or not)\n"
    "       dkv-drain verify DIR    check every CRC of the complete drain; "
    "exit 0 when\n"
    "                               good, 1 naming the first bad file and "
    "record\n"
    "       dkv-drain cat DIR KEY   write KEY's value in the complete drain "
    "to stdout\n"
    "                               (exit 1 if it is not there)\n"
    "       dkv-drain --help\n"
    "The complete drain is the one dkv_load() loads. No job is needed.\n";

static int cmd_ls(const char *dir)
{
    dkv_drain_desc_t *d = NULL;
    size_t n            = 0, i;
    char when[32];
    struct tm tm;
    time_t t;
    dkv_status_t st = dkv_drain_info(dir, NULL, 0, &n);

    if ((st == DKV_OK) && (n > 0)) {
        d  = calloc(n, sizeof(*d));
        st = (d != NULL) ? dkv_drain_info(dir, d, n, &n) : DKV_ERR_NO_MEMORY;
    }
    if (st != DKV_OK) {
        fprintf(stderr, "dkv-drain: %s: %s\n", dir, dkv_strerror(st));
        free(d);
        return 1;
    }
    printf("%-16s %-16s %-20s %6s %10s %14s %s\n", "ID", "LABEL", "TIME",
           "FILES", "KEYS", "BYTES", "STATE");
    for (i = 0; i < n; i++) {
        t = (time_t)d[i].time;
        if ((t == 0) || (gmtime_r(&t, &tm) == NULL) ||
            (strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)) {
            strcpy(when, "-");
        }
        printf("%016llx %-16s %-20s %6llu %10llu %14llu %s\n",
               (unsigned long long)d[i].id,
               (d[i].label[0] != '\0') ? d[i].label : "-", when,
               (unsigned long long)d[i].files, (unsigned long long)d[i].keys,
               (unsigned long long)d[i].bytes,
               d[i].complete
                   ? (d[i].newest ? "complete (loaded first)" : "complete")
                   : "incomplete");
    }
    free(d);
    return 0;
}

/* Read the manifest of @p dir; 0, or 1 with a message. */
static int manifest(const char *dir, dkv__drain_manifest_t *m)
{
    char err[1024]  = "";
    dkv_status_t st = dkv__drain_manifest_read(dir, m, err, sizeof(err));

    if (st == DKV_ERR_NOT_FOUND) {
        fprintf(stderr, "dkv-drain: %s: no complete drain (%s)\n", dir, err);
        return 1;
    }
    if (st != DKV_OK) {
        fprintf(stderr, "dkv-drain: %s\n", err);
        return 1;
    }
    return 0;
}

static int cmd_verify(const char *dir)
{
    dkv__drain_manifest_t m = {0};
    dkv__drain_map_t map    = {0};
    char err[1024]          = "";
    uint64_t keys = 0, bytes = 0;
    size_t i;

    if (manifest(dir, &m) != 0) {
        return 1;
    }
    for (i = 0; i < m.nfiles; i++) {
        if (dkv__drain_file_open(dir, m.id, &m.files[i], &map, err,
                                 sizeof(err)) != DKV_OK) {
            fprintf(stderr, "dkv-drain: verify failed: %s\n", err);
            dkv__drain_manifest_free(&m);
            return 1;
        }
        keys += map.records;
        bytes += m.files[i].payload_bytes;
        dkv__drain_map_close(&map);
    }
    printf("drain %016llx in %s: %zu files, %llu keys, %llu bytes: every "
           "CRC good\n",
           (unsigned long long)m.id, dir, m.nfiles, (unsigned long long)keys,
           (unsigned long long)bytes);
    dkv__drain_manifest_free(&m);
    return 0;
}

static int cmd_cat(const char *dir, const char *key)
{
    dkv__drain_manifest_t m = {0};
    dkv__drain_map_t map    = {0};
    dkv__drain_item_t it;
    char err[1024] = "";
    size_t klen    = strlen(key), i;
    int found = 0, rc = 1;

    if (manifest(dir, &m) != 0) {
        return 1;
    }
    for (i = 0; !found && (i < m.nfiles); i++) {
        if (dkv__drain_file_open(dir, m.id, &m.files[i], &map, err,
                                 sizeof(err)) != DKV_OK) {
            fprintf(stderr, "dkv-drain: %s\n", err);
            goto out;
        }
        while (!found && dkv__drain_map_next(&map, &it)) {
            found = (it.key_len == klen) && (memcmp(it.key, key, klen) == 0);
        }
        if (found && (it.value_len > 0) &&
            (fwrite(it.value, 1, it.value_len, stdout) != it.value_len)) {
            fprintf(stderr, "dkv-drain: write to stdout failed\n");
            dkv__drain_map_close(&map);
            goto out;
        }
        dkv__drain_map_close(&map);
    }
    if (!found) {
        fprintf(stderr, "dkv-drain: key %s is not in drain %016llx in %s\n",
                key, (unsigned long long)m.id, dir);
        goto out;
    }
    rc = (fflush(stdout) == 0) ? 0 : 1;

out:
    dkv__drain_manifest_free(&m);
    return rc;
}

int main(int argc, char **argv)
{
    const char *cmd = (argc > 1) ? argv[1] : "";

    if ((strcmp(cmd, "--help") == 0) || (strcmp(cmd, "-h") == 0)) {
        fputs(usage, stdout);
        return 0;
    }
    if ((strcmp(cmd, "ls") == 0) && (argc == 3)) {
        return cmd_ls(argv[2]);
    }
    if ((strcmp(cmd, "verify") == 0) && (argc == 3)) {
        return cmd_verify(argv[2]);
    }
    if ((strcmp(cmd, "cat") == 0) && (argc == 4)) {
        return cmd_cat(argv[2], argv[3]);
    }
    fputs(usage, stderr);
    return 2;
}
