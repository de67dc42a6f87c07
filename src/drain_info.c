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

/* @p m as a description: complete if every file passes its check. */
static void describe(const char *dir, const dkv__drain_manifest_t *m,
                     uint64_t newest, dkv_drain_desc_t *d)
{
    size_t i;

    memset(d, 0, sizeof(*d));
    d->id       = m->id;
    d->time     = m->time_s;
    d->files    = m->nfiles;
    d->complete = 1;
    d->newest   = (m->id == newest);
    memcpy(d->label, m->label, sizeof(d->label));
    for (i = 0; d->complete && (i < m->nfiles); i++) {
        d->complete = (dkv__drain_file_check(dir, m->id, &m->files[i], NULL,
                                             0) == DKV_OK);
        d->keys += m->files[i].records;
        d->bytes += m->files[i].payload_bytes;
    }
    if (!d->complete) {
        d->newest = 0;
        d->keys   = 0;
        d->bytes  = 0;
    }
}

/* The drains with a manifest: every version, and the newest pointer's
 * drain if it has none of its own (a format 1 directory). */
static dkv_status_t committed(const char *dir, dkv_drain_desc_t **all,
                              size_t *n)
{
    dkv__drain_manifest_t *list = NULL, ptr = {0};
    size_t nv       = 0, i;
    uint64_t newest = 0;
    int have_ptr, in_list = 0;
    char path[PATH_MAX];
    struct stat st;
    dkv_status_t status;

    status = dkv__drain_versions(dir, &list, &nv);
    if (status != DKV_OK) {
        return status;
    }
    have_ptr = (dkv__drain_manifest_read(dir, &ptr, NULL, 0) == DKV_OK);
    newest   = have_ptr ? ptr.id : 0;
    *all     = calloc(nv + 1, sizeof(**all));
    if (*all == NULL) {
        status = DKV_ERR_NO_MEMORY;
        goto out;
    }
    for (i = 0; i < nv; i++) {
        describe(dir, &list[i], newest, &(*all)[i]);
        in_list |= (list[i].id == newest);
    }
    *n = nv;
    if (have_ptr && !in_list) {
        describe(dir, &ptr, newest, &(*all)[nv]);
        if ((ptr.time_s == 0) &&
            (dkv__drain_join((dkv__drain_err_t){NULL, 0}, path, dir,
                             DKV__DRAIN_MANIFEST) == DKV_OK) &&
            (stat(path, &st) == 0)) {
            (*all)[nv].time = (int64_t)st.st_mtime;
        }
        (*n)++;
    }

out:
    dkv__drain_manifest_free(&ptr);
    dkv__drain_versions_free(list, nv);
    return status;
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

/* The drain a load takes first, then complete ones, then incomplete;
 * newest first in each group. */
static int newer_first(const void *a, const void *b)
{
    const dkv_drain_desc_t *x = a, *y = b;

    if (x->newest != y->newest) {
        return y->newest - x->newest;
    }
    if (x->complete != y->complete) {
        return y->complete - x->complete;
    }
    return (x->time < y->time) ? 1 : (x->time > y->time) ? -1 : 0;
}

/* 1 if @p id is among the first @p n of @p all. */
static int known(const dkv_drain_desc_t *all, size_t n, uint64_t id)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (all[i].id == id) {
            return 1;
        }
    }
    return 0;
}

/* Every drain of @p dir, malloc'd, sorted. */
static dkv_status_t scan(const char *dir, dkv_drain_desc_t **all_p, size_t *n_p)
{
    dkv_drain_desc_t *all = NULL;
    size_t n = 0, ncommitted = 0, cap;
    dkv_status_t status;
    DIR *d;
    struct dirent *de;
    struct stat st;
    uint64_t id;

    status = committed(dir, &all, &ncommitted);
    if (status != DKV_OK) {
        return status;
    }
    n   = ncommitted;
    cap = ncommitted; /* committed() allocated at least this many */
    d   = opendir(dir);
    if (d == NULL) {
        free(all);
        return (errno == ENOENT) ? DKV_ERR_NOT_FOUND : DKV_ERR_IO;
    }
    while ((status == DKV_OK) && ((de = readdir(d)) != NULL)) {
        id = name_id(de->d_name);
        if ((id == 0) || known(all, ncommitted, id) ||
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
