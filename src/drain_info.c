/*
 * drain_info: dkv_drain_info, a description of the drains in a directory
 * for people and tools (dkv-drain ls) without a job. Pure: reads the
 * manifest, lists the directory and reads file headers and footers
 * through drain_file; writes nothing. Any thread; no shared state.
 *
 * The complete drain is the one the manifest names when every file it
 * names passes dkv__drain_file_check. Every other id found in a data file
 * name ("dkv-<id>-h<index>.dat", temporaries not counted) is an incomplete
 * drain: files counted, time of the newest one.
 */
#include "drain_file_int.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* The id in a data file name "dkv-<16 hex>-h<5 digits>.dat"; 0 if none. */
static uint64_t name_id(const char *name)
{
    uint64_t id = 0;
    int i;
    char c;

    if ((fnmatch(DKV__DRAIN_PATTERN, name, 0) != 0) ||
        (strlen(name) != 4 + 16 + 2 + 5 + 4)) {
        return 0;
    }
    for (i = 4; i < 4 + 16; i++) {
        c = name[i];
        if ((c >= '0') && (c <= '9')) {
            id = (id << 4) | (uint64_t)(c - '0');
        } else if ((c >= 'a') && (c <= 'f')) {
            id = (id << 4) | (uint64_t)(c - 'a' + 10);
        } else {
            return 0;
        }
    }
    return (dkv__drain_name_index(name, id, 100000) >= 0) ? id : 0;
}

/* The complete drain of @p dir into @p d; 0 if there is none. */
static int complete_drain(const char *dir, dkv_drain_desc_t *d)
{
    dkv__drain_manifest_t m = {0};
    char path[PATH_MAX];
    struct stat st;
    size_t i;
    int ok;

    if (dkv__drain_manifest_read(dir, &m, NULL, 0) != DKV_OK) {
        return 0;
    }
    memset(d, 0, sizeof(*d));
    d->id       = m.id;
    d->files    = m.nfiles;
    d->complete = 1;
    d->newest   = 1;
    ok          = 1;
    for (i = 0; ok && (i < m.nfiles); i++) {
        ok = (dkv__drain_file_check(dir, m.id, &m.files[i], NULL, 0) == DKV_OK);
        d->keys += m.files[i].records;
        d->bytes += m.files[i].payload_bytes;
    }
    if ((dkv__drain_join((dkv__drain_err_t){NULL, 0}, path, dir,
                         DKV__DRAIN_MANIFEST) == DKV_OK) &&
        (stat(path, &st) == 0)) {
        d->time = (int64_t)st.st_mtime;
    }
    dkv__drain_manifest_free(&m);
    return ok;
}

/* Count data file @p name of drain @p id among the incomplete ones. */
static dkv_status_t add_file(dkv_drain_desc_t **all, size_t *n, size_t *cap,
                             uint64_t id, int64_t mtime)
{
    dkv_drain_desc_t *d = NULL;
    size_t i;

    for (i = 0; (i < *n) && (d == NULL); i++) {
        d = ((*all)[i].id == id) ? &(*all)[i] : NULL;
    }
    if (d == NULL) {
        if (*n == *cap) {
            size_t ncap         = (*cap > 0) ? 2 * *cap : 8;
            dkv_drain_desc_t *p = realloc(*all, ncap * sizeof(*p));

            if (p == NULL) {
                return DKV_ERR_NO_MEMORY;
            }
            *all = p;
            *cap = ncap;
        }
        d = &(*all)[(*n)++];
        memset(d, 0, sizeof(*d));
        d->id = id;
    }
    d->files++;
    d->time = (mtime > d->time) ? mtime : d->time;
    return DKV_OK;
}

static int newer_first(const void *a, const void *b)
{
    const dkv_drain_desc_t *x = a, *y = b;

    if (x->complete != y->complete) {
        return y->complete - x->complete;
    }
    return (x->time < y->time) ? 1 : (x->time > y->time) ? -1 : 0;
}

/* Every drain of @p dir, malloc'd, sorted (complete first, then newest). */
static dkv_status_t scan(const char *dir, dkv_drain_desc_t **all_p, size_t *n_p)
{
    dkv_drain_desc_t done, *all = NULL;
    size_t n = 0, cap = 0;
    int have            = complete_drain(dir, &done);
    dkv_status_t status = DKV_OK;
    DIR *d              = opendir(dir);
    struct dirent *de;
    struct stat st;
    uint64_t id;

    if (d == NULL) {
        return (errno == ENOENT) ? DKV_ERR_NOT_FOUND : DKV_ERR_IO;
    }
    if (have) {
        status = add_file(&all, &n, &cap, done.id, 0);
    }
    while ((status == DKV_OK) && ((de = readdir(d)) != NULL)) {
        id = name_id(de->d_name);
        if ((id == 0) || (have && (id == done.id)) ||
            (fstatat(dirfd(d), de->d_name, &st, 0) != 0)) {
            continue;
        }
        status = add_file(&all, &n, &cap, id, (int64_t)st.st_mtime);
    }
    closedir(d);
    if (status != DKV_OK) {
        free(all);
        return status;
    }
    if (have) {
        all[0] = done;
    }
    if (n > 1) {
        qsort(all, n, sizeof(*all), newer_first);
    }
    *all_p = all;
    *n_p   = n;
    return DKV_OK;
}

dkv_status_t dkv_drain_info(const char *dir, dkv_drain_desc_t *descs,
                            size_t max, size_t *count_p)
{
    dkv_drain_desc_t *all = NULL;
    size_t n              = 0;
    dkv_status_t status;

    if ((dir == NULL) || (count_p == NULL) || ((descs == NULL) && (max > 0))) {
        return DKV_ERR_INVALID;
    }
    status = scan(dir, &all, &n);
    if (status != DKV_OK) {
        return status;
    }
    if ((n > 0) && (max > 0)) {
        memcpy(descs, all, ((n < max) ? n : max) * sizeof(*all));
    }
    free(all);
    *count_p = n;
    return DKV_OK;
}
