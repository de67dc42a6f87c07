/*
 * stage_load: dkv_load. Every member reads the manifest, passes a barrier,
 * and reads it again: the barrier puts every first read before every
 * second one, so when no member saw the manifest change between its two
 * reads, there is a moment at which all of them held what was then in the
 * file - the same drain everywhere (drain ids are never reused). When one
 * did see a change (a drain was committed meanwhile), a second barrier
 * tells all, and every member reads again (a few times at most): a load
 * never mixes two drains. Every member then checks every file the
 * manifest names (present, size, header, footer); member i maps and fully
 * verifies files i, i + n, i + 2n, ... (n members no fence reported
 * lost; i its place among them). A third barrier agrees
 * on the verdict, so a bad drain loads nothing anywhere. Only then does
 * each member put the records of its files, straight from the mapping; a
 * fence ends the load. If storing fails somewhere (a holder full or lost),
 * every member deletes what it stored, so no partial drain stays behind.
 */
#define DKV_LOG_MODULE "stage"

#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "ctx.h"
#include "drain_file.h"
#include "log.h"

#define LOAD_ATTEMPTS 4  /* manifest reads before giving up */
#define LOAD_FALLBACKS 8 /* damaged drains passed over for older ones */
/* prepare(): read the manifest again (not a status any call returns). */
#define DKV__LOAD_AGAIN ((dkv_status_t)1)

typedef struct load {
    dkv__drain_manifest_t m;
    dkv__drain_map_t     *maps;   /* [m.nfiles], mapped only for mine */
    size_t               *stored; /* [m.nfiles] puts started per file */
    int                   me, members;
} load_t;

static int mine(const load_t *l, size_t i)
{
    return (int)(i % (size_t)l->members) == l->me;
}

static dkv_status_t barrier(dkv_ctx_t *ctx, dkv_status_t mine)
{
    int32_t      verdict;
    dkv_status_t status;

    status = dkv__barrier_run(&ctx->client, mine, &verdict,
                              dkv__deadline_ms(ctx->cfg.TIMEOUT_MS));
    return (status != DKV_OK) ? status : (dkv_status_t)verdict;
}

/* Manifest files of drains that failed this load (newest first). */
typedef struct skip {
    char names[LOAD_FALLBACKS][DKV__DRAIN_NAME_MAX];
    int n;
    char tried[DKV__DRAIN_NAME_MAX]; /* the one this attempt read */
} skip_t;

static int skipped(const skip_t *s, const char *name)
{
    int i;

    for (i = 0; i < s->n; i++) {
        if (strcmp(s->names[i], name) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The drain to try: the newest, or after failures the newest complete
 * one not tried yet (DKV_ERR_NOT_FOUND when none is left). */
static dkv_status_t pick(const char *dir, skip_t *s, dkv__drain_manifest_t *m,
                         char *err, size_t errlen)
{
    dkv__drain_manifest_t *list = NULL;
    dkv_status_t status;
    size_t n = 0, i;

    s->tried[0] = '\0';
    if (s->n == 0) {
        status = dkv__drain_manifest_read(dir, m, err, errlen);
        memcpy(s->tried, m->file, sizeof(s->tried));
        if (status == DKV_ERR_CORRUPT) { /* its name, to pass it over */
            (void)dkv__drain_newest(dir, s->tried, NULL, 0);
        }
        return status;
    }
    status = dkv__drain_versions(dir, &list, &n);
    for (i = 0; (status == DKV_OK) && (i < n); i++) {
        if (!skipped(s, list[i].file)) {
            *m = list[i];
            memset(&list[i], 0, sizeof(list[i])); /* taken */
            memcpy(s->tried, m->file, sizeof(s->tried));
            break;
        }
    }
    dkv__drain_versions_free(list, n);
    if ((status == DKV_OK) && (s->tried[0] == '\0')) {
        snprintf(err, errlen, "%s: no older complete drain", dir);
        status = DKV_ERR_NOT_FOUND;
    }
    return status;
}

/* Read the manifest to try and make room for the maps. */
static dkv_status_t read_manifest(dkv_ctx_t *ctx, const char *dir, load_t *l,
                                  skip_t *s)
{
    char         err[1024] = "";
    dkv_status_t status;

    status = pick(dir, s, &l->m, err, sizeof(err));
    if (status == DKV_OK) {
        l->maps   = calloc((l->m.nfiles > 0) ? l->m.nfiles : 1,
                           sizeof(*l->maps));
        l->stored = calloc((l->m.nfiles > 0) ? l->m.nfiles : 1,
                           sizeof(*l->stored));
        status    = ((l->maps != NULL) && (l->stored != NULL))
                        ? DKV_OK
                        : DKV_ERR_NO_MEMORY;
    }
    if (status != DKV_OK) {
        dkv__stage_detail(ctx, "load: %s", err);
    }
    return status;
}

/* 1 if the manifest to try in @p dir is no longer @p m (or cannot be
 * read). */
static int manifest_changed(const char *dir, const dkv__drain_manifest_t *m,
                            const skip_t *s)
{
    dkv__drain_manifest_t now = {0};
    skip_t again              = *s;
    int                   changed;

    if (pick(dir, &again, &now, NULL, 0) != DKV_OK) {
        return 1;
    }
    changed = (now.id != m->id) || (now.nfiles != m->nfiles) ||
              (memcmp(now.files, m->files, m->nfiles * sizeof(*m->files)) !=
               0);
    dkv__drain_manifest_free(&now);
    return changed;
}

/* Check every file, map and verify this rank's. */
static dkv_status_t check_all(dkv_ctx_t *ctx, const char *dir, load_t *l)
{
    char         err[1024] = "";
    dkv_status_t status    = DKV_OK;
    size_t       i;

    for (i = 0; (status == DKV_OK) && (i < l->m.nfiles); i++) {
        status = dkv__drain_file_check(dir, l->m.id, &l->m.files[i], err,
                                       sizeof(err));
    }
    for (i = 0; (status == DKV_OK) && (i < l->m.nfiles); i++) {
        if (mine(l, i)) {
            status = dkv__drain_file_open(dir, l->m.id, &l->m.files[i],
                                          &l->maps[i], err, sizeof(err));
        }
    }
    if (status != DKV_OK) {
        dkv__stage_detail(ctx, "load: %s", err);
    }
    return status;
}

/*
 * One attempt: read the manifest, make sure every member read the same,
 * check the files. The common verdict; DKV__LOAD_AGAIN when a member saw
 * the manifest change (a drain committed meanwhile): then nobody checked
 * anything. This rank's own status goes to *@p mine_p.
 */
static dkv_status_t prepare(dkv_ctx_t *ctx, const char *dir, load_t *l,
                            skip_t *s, dkv_status_t *mine_p)
{
    dkv_status_t status;

    *mine_p = read_manifest(ctx, dir, l, s);
    status  = barrier(ctx, *mine_p);
    if (status != DKV_OK) {
        return status;
    }
    status =
        barrier(ctx, manifest_changed(dir, &l->m, s) ? DKV_ERR_STATE : DKV_OK);
    if (status == DKV_ERR_STATE) {
        return DKV__LOAD_AGAIN;
    }
    if (status != DKV_OK) {
        return status;
    }
    *mine_p = check_all(ctx, dir, l);
    return barrier(ctx, *mine_p);
}

/* Another rank found a damaged file: find and name it here too (only on
 * this rare path does every rank read every file). */
static void name_bad_file(dkv_ctx_t *ctx, const char *dir, load_t *l)
{
    dkv__drain_map_t map;
    char             err[1024] = "";
    size_t           i;

    for (i = 0; i < l->m.nfiles; i++) {
        if (mine(l, i)) {
            continue;
        }
        memset(&map, 0, sizeof(map));
        if (dkv__drain_file_open(dir, l->m.id, &l->m.files[i], &map, err,
                                 sizeof(err)) != DKV_OK) {
            dkv__stage_detail(ctx, "load: %s", err);
            return;
        }
        dkv__drain_map_close(&map);
    }
    dkv__stage_detail(ctx, "load of %s: a file failed its check on another "
                           "rank", dir);
}

/* Put every record of this rank's files; l->stored[i] counts the puts of
 * file i that were started (they may still fail at the holder). */
static dkv_status_t store_mine(dkv_ctx_t *ctx, load_t *l)
{
    dkv__drain_item_t it;
    char              key[DKV_KEY_MAX + 1];
    dkv_status_t      status = DKV_OK;
    size_t            i;

    for (i = 0; (status == DKV_OK) && (i < l->m.nfiles); i++) {
        if (!mine(l, i)) {
            continue;
        }
        while ((status == DKV_OK) && dkv__drain_map_next(&l->maps[i], &it)) {
            memcpy(key, it.key, it.key_len);
            key[it.key_len] = '\0';
            status = dkv__client_put(&ctx->client, key, it.key_len, it.value,
                                     it.value_len);
            l->stored[i] += (status == DKV_OK);
        }
    }
    return status;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Storing failed somewhere: delete what this rank's load stored - the puts
 * it started and its last quiet did not list as failed - so no part of the
 * drain stays behind. Keys whose put failed were not changed and are left.
 */
static void unstore_mine(dkv_ctx_t *ctx, load_t *l)
{
    const dkv__client_t *c      = &ctx->client;
    const char         **failed = calloc(c->nfailures + 1, sizeof(*failed));
    const char          *k      = NULL;
    dkv__drain_item_t    it;
    char                 key[DKV_KEY_MAX + 1];
    size_t               i, n;

    for (i = 0; (failed != NULL) && (i < c->nfailures); i++) {
        failed[i] = c->failures[i].key;
    }
    if (failed != NULL) {
        qsort(failed, c->nfailures, sizeof(*failed), cmp_str);
    }
    for (i = 0; i < l->m.nfiles; i++) {
        dkv__drain_map_rewind(&l->maps[i]);
        for (n = 0; (n < l->stored[i]) && mine(l, i) &&
                    dkv__drain_map_next(&l->maps[i], &it);
             n++) {
            memcpy(key, it.key, it.key_len);
            key[it.key_len] = '\0';
            k = key;
            if ((failed != NULL) &&
                (bsearch(&k, failed, c->nfailures, sizeof(*failed),
                         cmp_str) != NULL)) {
                continue;
            }
            (void)dkv__client_delete_start(&ctx->client, key, it.key_len);
        }
    }
    free(failed);
}

static void release(load_t *l, int keep_maps)
{
    size_t i;

    for (i = 0; !keep_maps && (l->maps != NULL) && (i < l->m.nfiles); i++) {
        dkv__drain_map_close(&l->maps[i]);
    }
    free(l->maps);
    free(l->stored);
    dkv__drain_manifest_free(&l->m);
}

/* Forget what one attempt read, for the next one. */
static void reset(load_t *l)
{
    release(l, 0);
    *l = (load_t){.me = l->me, .members = l->members};
}

/* Say why an attempt failed (the common @p verdict) in the detail. */
static void explain(dkv_ctx_t *ctx, const char *dir, load_t *l,
                    dkv_status_t verdict, dkv_status_t mine)
{
    if (verdict == DKV__LOAD_AGAIN) {
        dkv__stage_detail(ctx,
                          "load of %s: the drain in it changed %d "
                          "times while loading",
                          dir, LOAD_ATTEMPTS);
    } else if ((verdict == DKV_ERR_CORRUPT) && (mine == DKV_OK)) {
        name_bad_file(ctx, dir, l);
    } else if ((verdict != DKV_OK) && (mine == DKV_OK)) {
        dkv__stage_detail(ctx, "load of %s: failed on another rank: %s", dir,
                          dkv_strerror(verdict));
    }
}

/*
 * Agree on the drain to load and check it: the newest; read again when a
 * drain is committed meanwhile; when it is damaged or incomplete, the
 * newest older one (and say so in the detail). If none is good, the
 * newest's failure. The common verdict; l holds the drain on DKV_OK.
 */
static dkv_status_t choose(dkv_ctx_t *ctx, const char *dir, load_t *l,
                           dkv_status_t *mine_p)
{
    skip_t s                              = {0};
    char first[sizeof(ctx->stage.detail)] = "";
    dkv_status_t verdict, first_st = DKV_OK;
    int again = 0;

    for (;;) {
        verdict = prepare(ctx, dir, l, &s, mine_p);
        if ((verdict == DKV__LOAD_AGAIN) && (++again < LOAD_ATTEMPTS)) {
            DKV_LOG_INFO("load of %s: a drain was committed meanwhile, "
                         "reading the manifest again",
                         dir);
            reset(l);
            continue;
        }
        explain(ctx, dir, l, verdict, *mine_p);
        if (((verdict != DKV_ERR_CORRUPT) && (verdict != DKV_ERR_NOT_FOUND)) ||
            (s.tried[0] == '\0') || (s.n == LOAD_FALLBACKS)) {
            break;
        }
        if (s.n == 0) {
            first_st = verdict;
            memcpy(first, ctx->stage.detail, sizeof(first));
        }
        DKV_LOG_WARN("load of %s: %s; trying the drain before it", dir,
                     ctx->stage.detail);
        memcpy(s.names[s.n++], s.tried, sizeof(s.tried));
        reset(l);
    }
    if ((s.n > 0) && (verdict != DKV_OK)) {
        verdict = first_st;
        memcpy(ctx->stage.detail, first, sizeof(first));
    } else if (s.n > 0) {
        dkv__stage_detail(ctx,
                          "load of %s: loaded the older drain %016llx "
                          "(label \"%s\") because the newest failed: "
                          "%s",
                          dir, (unsigned long long)l->m.id, l->m.label, first);
        DKV_LOG_WARN("%s", ctx->stage.detail);
    }
    return (verdict == DKV__LOAD_AGAIN) ? DKV_ERR_STATE : verdict;
}

dkv_status_t dkv__stage_load(dkv_ctx_t *ctx, const char *dir)
{
    load_t       l = {0};
    dkv_status_t mine_st = DKV_OK, status, quiet = DKV_OK;

    /* The files are shared out over the live members: a member a fence
     * reported lost takes none (its share would silently go missing). */
    l.members = dkv__barrier_live(&ctx->client, &l.me);
    l.members = (l.members > 0) ? l.members : 1; /* (l.me is -1 then) */
    /* A drain of this job still running (maybe into @p dir) first. */
    (void)dkv__stage_settle(ctx);
    ctx->stage.detail[0] = '\0';
    status               = choose(ctx, dir, &l, &mine_st);
    if (status == DKV_OK) {
        mine_st = store_mine(ctx, &l);
        quiet   = dkv__client_quiet(&ctx->client);
        status  = barrier(ctx, (mine_st != DKV_OK) ? mine_st : quiet);
        if (status != DKV_OK) {
            dkv__stage_detail(ctx, "load of %s: storing failed (%s); the "
                                   "keys it stored were removed again", dir,
                              dkv_strerror(status));
            unstore_mine(ctx, &l);
            (void)dkv__client_quiet(&ctx->client);
            (void)barrier(ctx, DKV_OK);
        }
    }
    release(&l, (mine_st == DKV_ERR_TIMEOUT) || (quiet == DKV_ERR_TIMEOUT));
    return status;
}
