/*
 * drain_versions: the several complete drains a directory keeps
 * (DKV_DRAIN_KEEP): listing them newest first from their own manifests
 * ("dkv-<id>.manifest", dkv__drain_versions) and, after a commit, removing
 * the drains beyond the newest few (dkv__drain_versions_prune). Pure: file
 * system calls only. Any thread; no shared state.
 *
 * Order: the manifest file's modification time (the commit's rename),
 * then id, newest first; the format 1 manifest (dramkv-drain.manifest)
 * takes part like the others. A manifest that does not parse is not a
 * version (and is removed by the next prune, as are data files no kept
 * manifest names); dkv__drain_newest still names it, so that a load of a
 * directory whose newest manifest is damaged says so.
 */
#include "drain_file_int.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DKV__DRAIN_VERSION_PATTERN "dkv-????????????????.manifest"

/* 1 if @p name is a manifest file: a version's or the format 1 one. */
static int manifest_name(const char *name)
{
    return (fnmatch(DKV__DRAIN_VERSION_PATTERN, name, 0) == 0) ||
           (strcmp(name, DKV__DRAIN_MANIFEST) == 0);
}

static uint64_t mtime_ns(const struct stat *st)
{
    return (uint64_t)st->st_mtim.tv_sec * 1000000000u +
           (uint64_t)st->st_mtim.tv_nsec;
}

dkv_status_t dkv__drain_newest(const char *dir, char *name, char *err,
                               size_t errlen)
{
    dkv__drain_err_t e = {err, errlen};
    DIR *d             = opendir(dir);
    struct dirent *de;
    struct stat st;
    uint64_t best = 0;
    int found     = 0;

    if (d == NULL) {
        return dkv__drain_fail(
            e, (errno == ENOENT) ? DKV_ERR_NOT_FOUND : DKV_ERR_IO,
            "%s: cannot open: %s", dir, strerror(errno));
    }
    while ((de = readdir(d)) != NULL) {
        if (!manifest_name(de->d_name) ||
            (strnlen(de->d_name, DKV__DRAIN_NAME_MAX) >= DKV__DRAIN_NAME_MAX) ||
            (fstatat(dirfd(d), de->d_name, &st, 0) != 0) ||
            (found && (mtime_ns(&st) < best)) ||
            (found && (mtime_ns(&st) == best) &&
             (strcmp(de->d_name, name) < 0))) {
            continue;
        }
        best  = mtime_ns(&st);
        found = 1;
        memcpy(name, de->d_name, strlen(de->d_name) + 1);
    }
    closedir(d);
    if (!found) {
        return dkv__drain_fail(e, DKV_ERR_NOT_FOUND,
                               "%s/" DKV__DRAIN_VERSION_GLOB
                               ": no manifest: no complete drain",
                               dir);
    }
    return DKV_OK;
}

void dkv__drain_version_name(char *out, uint64_t id)
{
    snprintf(out, DKV__DRAIN_NAME_MAX, "dkv-%016llx.manifest",
             (unsigned long long)id);
}

static int newer_first(const void *a, const void *b)
{
    const dkv__drain_manifest_t *x = a, *y = b;

    if (x->mtime_ns != y->mtime_ns) {
        return (x->mtime_ns < y->mtime_ns) ? 1 : -1;
    }
    return strcmp(y->file, x->file);
}

void dkv__drain_versions_free(dkv__drain_manifest_t *list, size_t n)
{
    size_t i;

    for (i = 0; (list != NULL) && (i < n); i++) {
        dkv__drain_manifest_free(&list[i]);
    }
    free(list);
}

/* Append @p m to the list, growing it. */
static dkv_status_t push(dkv__drain_manifest_t **list, size_t *n, size_t *cap,
                         const dkv__drain_manifest_t *m)
{
    dkv__drain_manifest_t *p;

    if (*n == *cap) {
        *cap = (*cap > 0) ? 2 * *cap : 4;
        p    = realloc(*list, *cap * sizeof(*p));
        if (p == NULL) {
            return DKV_ERR_NO_MEMORY;
        }
        *list = p;
    }
    (*list)[(*n)++] = *m;
    return DKV_OK;
}

dkv_status_t dkv__drain_versions(const char *dir,
                                 dkv__drain_manifest_t **list_p, size_t *n_p)
{
    dkv__drain_manifest_t *list = NULL, m;
    size_t n = 0, cap = 0;
    dkv_status_t status = DKV_OK;
    char want[DKV__DRAIN_NAME_MAX];
    struct dirent *de;
    struct stat st;
    DIR *d = opendir(dir);
    int named;

    if (d == NULL) {
        return (errno == ENOENT) ? DKV_ERR_NOT_FOUND : DKV_ERR_IO;
    }
    while ((status == DKV_OK) && ((de = readdir(d)) != NULL)) {
        if (!manifest_name(de->d_name) ||
            (fstatat(dirfd(d), de->d_name, &st, 0) != 0) ||
            (dkv__drain_manifest_read_file(dir, de->d_name, &m, NULL, 0) !=
             DKV_OK)) {
            continue;
        }
        /* A version's manifest must be named after its drain. */
        dkv__drain_version_name(want, m.id);
        named = (strcmp(de->d_name, DKV__DRAIN_MANIFEST) == 0) ||
                (strcmp(want, de->d_name) == 0);
        m.mtime_ns = mtime_ns(&st);
        status     = named ? push(&list, &n, &cap, &m) : DKV_OK;
        if ((status != DKV_OK) || !named) {
            dkv__drain_manifest_free(&m);
        }
    }
    closedir(d);
    if (status != DKV_OK) {
        dkv__drain_versions_free(list, n);
        return status;
    }
    if (n > 1) {
        qsort(list, n, sizeof(*list), newer_first);
    }
    *list_p = list;
    *n_p    = n;
    return DKV_OK;
}

/* 1 if @p name is a data file of a drain in @p kept[0..n). */
static int kept_file(const char *name, const dkv__drain_manifest_t *kept,
                     size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (dkv__drain_name_index(name, kept[i].id, kept[i].nfiles) >= 0) {
            return 1;
        }
    }
    return 0;
}

/* 1 if @p name is the manifest of a drain in @p kept[0..n). */
static int kept_manifest(const char *name, const dkv__drain_manifest_t *kept,
                         size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(kept[i].file, name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Whether @p name goes: in the first pass the manifests of drains not
 * kept (so a drain is never listed without its files), in the second
 * their data files and the temporaries of killed drains (any id but the
 * newest's). */
static int stale(const char *name, const dkv__drain_manifest_t *kept, size_t n,
                 int pass)
{
    char newest[32];

    if (pass == 0) {
        return manifest_name(name) && !kept_manifest(name, kept, n);
    }
    if (fnmatch(DKV__DRAIN_PATTERN, name, 0) == 0) {
        return !kept_file(name, kept, n);
    }
    snprintf(newest, sizeof(newest), "dkv-%016llx-",
             (unsigned long long)kept[0].id);
    return (fnmatch(DKV__DRAIN_PATTERN ".tmp.*", name, 0) == 0) &&
           (strncmp(name, newest, strlen(newest)) != 0);
}

void dkv__drain_versions_prune(const char *dir,
                               const dkv__drain_manifest_t *newest,
                               unsigned keep)
{
    dkv__drain_manifest_t *list = NULL, *kept;
    size_t n = 0, nkept = 1, i;
    struct dirent *de;
    DIR *d;
    int pass;

    if (dkv__drain_versions(dir, &list, &n) != DKV_OK) {
        return;
    }
    kept = calloc(((keep > 0) ? keep : 1), sizeof(*kept));
    if (kept == NULL) {
        dkv__drain_versions_free(list, n);
        return;
    }
    kept[0] = *newest; /* borrowed, as the list's entries */
    for (i = 0; (i < n) && (nkept < keep); i++) {
        if (list[i].id != newest->id) {
            kept[nkept++] = list[i];
        }
    }
    for (pass = 0; pass < 2; pass++) {
        d = opendir(dir);
        while ((d != NULL) && ((de = readdir(d)) != NULL)) {
            if (stale(de->d_name, kept, nkept, pass)) {
                (void)unlinkat(dirfd(d), de->d_name, 0);
            }
        }
        if (d != NULL) {
            closedir(d);
        }
    }
    free(kept);
    dkv__drain_versions_free(list, n);
}
