/*
 * test_contract_staging: black-box checks of the checkpoint-staging contract
 * (include/dramkv.h and issue 6): replicas, dkv_list, drain, load. Written
 * from the contract only. Every rank prints "PASS rank N" when it is done;
 * a failed check prints "FAIL rank N file:line ..." and exits 1.
 *
 * Modes (argv[1]):
 *   state               list/drain/load before init, on a fresh context,
 *                       with bad arguments, and after finalize.
 *   rep                 every rank writes (blocking and non-blocking), all
 *                       read back exactly; overwrite with other sizes,
 *                       delete, NOT_FOUND, list each key once with its size.
 *   kill NV             the last NV ranks (holders) SIGKILL themselves after
 *                       a fence. NV < DKV_REPLICAS: survivors read every
 *                       fenced key (get and get_nb), deleted keys stay
 *                       deleted, list covers everything, deletes work.
 *                       NV >= DKV_REPLICAS: lost keys give PEER_LOST, the
 *                       list returns PEER_LOST and visits exactly the rest.
 *                       New writes succeed while >= DKV_REPLICAS holders
 *                       live and fail with DKV_ERR_REPLICAS (nothing
 *                       stored) otherwise.
 *   short               more copies than holders: put/put_nb fail with
 *                       DKV_ERR_REPLICAS, nothing is stored.
 *   badinit [N]         dkv_init fails with DKV_ERR_INVALID on every rank
 *                       (DKV_REPLICAS from the environment, or param N).
 *   param N ok|replicas dkv_init with param replicas=N (beats DKV_REPLICAS);
 *                       the put then succeeds / fails with DKV_ERR_REPLICAS.
 *   list                dkv_list: each key once, sizes, byte order, prefixes,
 *                       stop by callback, dkv_get from the callback, after
 *                       overwrite/delete, NULL callback.
 *   drain_errors BASE   drain into a missing dir / a plain file, load of a
 *                       dir with no drain: errors on every rank, detail,
 *                       nothing stored; the context still drains afterwards.
 *   drain_unwritable [DIR]  drain into DIR (default /proc, which not even
 *                       root can write to): DKV_ERR_IO from drain_start.
 *   drain_empty DIR     drain_test before a drain = STATE; drain of an empty
 *                       store completes and loads as empty.
 *   drain BASE          the main staging sequence (3 ranks): history, unfenced
 *                       puts before drain_start, writes right after it,
 *                       compute while it drains, monotone progress, gets
 *                       during the drain, back-to-back drains, two drains
 *                       into one dir, load in the same job; then a 48 MiB
 *                       drain polled without pause (monotone progress).
 *   stage DIR DIR2      stage state 0, drain into DIR; state 1 into DIR2.
 *   load DIR STATE      load a drain (STATE -1: empty drain) into this job
 *                       (any shape) and check every key and the listing.
 *   load_kill DIR STATE load (2+ copies), then the last rank dies: every
 *                       loaded key reads back from the survivors.
 *   load_status DIR ST  the load returns one of ST on every rank (e.g.
 *                       NO_SPACE under a small DKV_HOLD_BYTES).
 *   dedicated DIR       the last rank a dedicated holder: its drain_start =
 *                       STATE; the others drain (writes after the start
 *                       not included) and load through it.
 *   badload DIR ST SUB [GOOD]  a damaged drain: dkv_load returns one of ST
 *                       ("CORRUPT|NOT_FOUND") on every rank, the detail
 *                       names one of SUB ("a|b"), nothing is loaded; then
 *                       GOOD (state 0) loads fine in the same job.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpi_test_util.h"

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static const char *sname(dkv_status_t s)
{
    switch (s) {
#define X_NAME(name, value, text)                                             \
    case name:                                                                \
        return #name;
        DKV_STATUS_MAP(X_NAME)
#undef X_NAME
    }
    return "DKV_(unknown)";
}

/* "CORRUPT|NOT_FOUND" contains the status's short name? */
static int status_in(dkv_status_t s, const char *list)
{
    const char *name = sname(s) + 4; /* skip "DKV_" */
    char        copy[256], *tok, *save = NULL;

    if (strncmp(name, "ERR_", 4) == 0) {
        name += 4;
    }
    snprintf(copy, sizeof(copy), "%s", list);
    for (tok = strtok_r(copy, "|", &save); tok != NULL;
         tok = strtok_r(NULL, "|", &save)) {
        if (strcmp(tok, name) == 0) {
            return 1;
        }
    }
    return 0;
}

static int contains_any(const char *text, const char *alts)
{
    char copy[2048], *tok, *save = NULL;

    snprintf(copy, sizeof(copy), "%s", alts);
    for (tok = strtok_r(copy, "|", &save); tok != NULL;
         tok = strtok_r(NULL, "|", &save)) {
        if (strstr(text, tok) != NULL) {
            return 1;
        }
    }
    return 0;
}

#define T_EXPECT(expected, call)                                              \
    do {                                                                      \
        dkv_status_t t_e_ = (call);                                           \
        if (t_e_ != (expected)) {                                             \
            fprintf(stderr, "rank %d: %s returned %s, expected %s\n", t_rank, \
                    #call, sname(t_e_), sname(expected));                     \
            t_fail(__FILE__, __LINE__, #call, dkv_strerror(t_e_));            \
        }                                                                     \
    } while (0)

static void expect_in(const char *file, int line, const char *what,
                      dkv_status_t s, const char *allowed)
{
    if (!status_in(s, allowed)) {
        fprintf(stderr, "rank %d: %s returned %s, expected one of %s\n",
                t_rank, what, sname(s), allowed);
        t_fail(file, line, what, dkv_strerror(s));
    }
}
#define T_IN(allowed, s, what) expect_in(__FILE__, __LINE__, what, s, allowed)

static void *xmalloc(size_t n)
{
    void *p = malloc(n > 0 ? n : 1);

    if (p == NULL) {
        t_fail(__FILE__, __LINE__, "malloc", NULL);
    }
    return p;
}

/* Put key with t_fill(size, t_seed(key, ver)). */
static dkv_status_t put_ver(dkv_ctx_t *ctx, const char *key, size_t size,
                            uint64_t ver)
{
    uint8_t     *buf = xmalloc(size);
    dkv_status_t s;

    t_fill(buf, size, t_seed(key, ver));
    s = dkv_put(ctx, key, size > 0 ? buf : NULL, size);
    free(buf);
    return s;
}

static void expect_absent(const char *file, int line, dkv_ctx_t *ctx,
                          const char *key)
{
    char         buf[8];
    size_t       got = 12345;
    dkv_status_t s   = dkv_get(ctx, key, buf, sizeof(buf), &got);

    if (s != DKV_ERR_NOT_FOUND) {
        fprintf(stderr, "rank %d: get(%.60s) = %s (size %zu), expected "
                        "DKV_ERR_NOT_FOUND\n", t_rank, key, sname(s), got);
        t_fail(file, line, "key should be absent", dkv_strerror(s));
    }
}
#define T_ABSENT(ctx, key) expect_absent(__FILE__, __LINE__, ctx, key)

static void compute_for(double seconds)
{
    volatile double x  = 1.0;
    double          t0 = t_now();

    while (t_now() - t0 < seconds) {
        int i;

        for (i = 0; i < 10000; i++) {
            x = x * 1.0000001 + 0.5;
        }
    }
}

/*
 * Every rank passes v; all must agree (checked through dramkv itself:
 * put, fence, read every rank's value, then remove the keys again).
 */
static void same_on_all(dkv_ctx_t *ctx, const char *tag, int v)
{
    char key[96];
    int  np = dkv_size(ctx), r, w;

    snprintf(key, sizeof(key), "zz-sync/%s/%d", tag, t_rank);
    T_OK(dkv_put(ctx, key, &v, sizeof(v)));
    T_OK(dkv_fence(ctx));
    for (r = 0; r < np; r++) {
        size_t got = 0;

        snprintf(key, sizeof(key), "zz-sync/%s/%d", tag, r);
        T_OK(dkv_get(ctx, key, &w, sizeof(w), &got));
        T_CHECK(got == sizeof(w));
        if (w != v) {
            fprintf(stderr, "rank %d: %s: rank %d has %d, this rank %d\n",
                    t_rank, tag, r, w, v);
            t_fail(__FILE__, __LINE__, "same status on every rank", tag);
        }
    }
    T_OK(dkv_fence(ctx));
    snprintf(key, sizeof(key), "zz-sync/%s/%d", tag, t_rank);
    T_OK(dkv_delete(ctx, key));
    T_OK(dkv_fence(ctx));
}

static void pass(void)
{
    printf("PASS rank %d\n", t_rank);
    fflush(stdout);
}

/* ------------------------------------------------------------------ */
/* Listing: collect, build expectations, compare                       */
/* ------------------------------------------------------------------ */

typedef struct {
    char  *key;
    size_t size;
} kent_t;

typedef struct {
    kent_t    *v;
    size_t     n, cap;
    size_t     stop_after; /* 0: never stop */
    dkv_ctx_t *ctx;        /* non-NULL: dkv_get each key from the callback */
    int        get_errors;
} klist_t;

static void kl_add(klist_t *l, const char *key, size_t size)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->v   = realloc(l->v, l->cap * sizeof(*l->v));
        T_CHECK(l->v != NULL);
    }
    l->v[l->n].key  = strdup(key);
    l->v[l->n].size = size;
    T_CHECK(l->v[l->n].key != NULL);
    l->n++;
}

static void kl_free(klist_t *l)
{
    size_t i;

    for (i = 0; i < l->n; i++) {
        free(l->v[i].key);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static int kent_cmp(const void *a, const void *b)
{
    return strcmp(((const kent_t *)a)->key, ((const kent_t *)b)->key);
}

static void kl_sort(klist_t *l)
{
    if (l->n > 1) {
        qsort(l->v, l->n, sizeof(*l->v), kent_cmp);
    }
}

static int list_cb(const char *key, size_t size, void *arg)
{
    klist_t *l = arg;

    T_CHECK(key != NULL);
    kl_add(l, key, size);
    if (l->ctx != NULL) {
        /* "The callback may call dramkv (e.g. dkv_get())." */
        size_t       got = 0;
        dkv_status_t s   = dkv_get(l->ctx, key, NULL, 0, &got);

        if (!((s == DKV_OK && size == 0) ||
              (s == DKV_ERR_TRUNCATED && size > 0)) || got != size) {
            fprintf(stderr, "rank %d: get from list callback of %.60s: %s, "
                            "size %zu, listed %zu\n", t_rank, key, sname(s),
                    got, size);
            l->get_errors++;
        }
    }
    return (l->stop_after != 0) && (l->n >= l->stop_after);
}

/* dkv_list(prefix) must return DKV_OK and visit exactly `exp` (sorted),
 * in ascending byte order, each key once, with its size. */
static void check_list_full(const char *file, int line, dkv_ctx_t *ctx,
                            const char *prefix, const klist_t *exp,
                            int with_get, dkv_status_t want)
{
    klist_t      got = {0};
    dkv_status_t s;
    size_t       i;
    char         what[160];

    snprintf(what, sizeof(what), "dkv_list(prefix \"%.40s\")",
             prefix ? prefix : "(null)");
    got.ctx = with_get ? ctx : NULL;
    s       = dkv_list(ctx, prefix, list_cb, &got);
    if (s != want) {
        fprintf(stderr, "rank %d: %s = %s\n", t_rank, what, sname(s));
        t_fail(file, line, what, dkv_strerror(s));
    }
    if (got.get_errors) {
        t_fail(file, line, what, "dkv_get from the callback disagreed");
    }
    for (i = 1; i < got.n; i++) {
        if (strcmp(got.v[i - 1].key, got.v[i].key) >= 0) {
            fprintf(stderr, "rank %d: %s: key %zu \"%.60s\" not after "
                            "\"%.60s\"\n", t_rank, what, i, got.v[i].key,
                    got.v[i - 1].key);
            t_fail(file, line, what, "keys not once each in ascending order");
        }
    }
    for (i = 0; i < got.n && i < exp->n; i++) {
        if (strcmp(got.v[i].key, exp->v[i].key) != 0 ||
            got.v[i].size != exp->v[i].size) {
            fprintf(stderr, "rank %d: %s: entry %zu is \"%.60s\" (%zu B), "
                            "expected \"%.60s\" (%zu B)\n", t_rank, what, i,
                    got.v[i].key, got.v[i].size, exp->v[i].key,
                    exp->v[i].size);
            t_fail(file, line, what, "wrong key or size");
        }
    }
    if (got.n != exp->n) {
        fprintf(stderr, "rank %d: %s visited %zu keys, expected %zu%s%.60s\n",
                t_rank, what, got.n, exp->n,
                got.n > exp->n ? "; first extra: " : "",
                got.n > exp->n ? got.v[exp->n].key : "");
        t_fail(file, line, what, "wrong number of keys");
    }
    kl_free(&got);
}
static void check_list(const char *file, int line, dkv_ctx_t *ctx,
                       const char *prefix, const klist_t *exp, int with_get)
{
    check_list_full(file, line, ctx, prefix, exp, with_get, DKV_OK);
}

static void check_list_status(const char *file, int line, dkv_ctx_t *ctx,
                              const char *prefix, const klist_t *exp,
                              dkv_status_t want)
{
    check_list_full(file, line, ctx, prefix, exp, 0, want);
}
#define T_LIST(ctx, prefix, exp) check_list(__FILE__, __LINE__, ctx, prefix, exp, 0)
#define T_LIST_GET(ctx, prefix, exp)                                          \
    check_list(__FILE__, __LINE__, ctx, prefix, exp, 1)

/* Entries of `all` that start with prefix. */
static void kl_filter(const klist_t *all, const char *prefix, klist_t *out)
{
    size_t i;

    for (i = 0; i < all->n; i++) {
        if (strncmp(all->v[i].key, prefix, strlen(prefix)) == 0) {
            kl_add(out, all->v[i].key, all->v[i].size);
        }
    }
}


/* ------------------------------------------------------------------ */
/* state                                                               */
/* ------------------------------------------------------------------ */

static int never_cb(const char *key, size_t size, void *arg)
{
    (void)key;
    (void)size;
    (*(int *)arg)++;
    return 0;
}

static void mode_state(void)
{
    dkv_ctx_t           *ctx;
    dkv_drain_progress_t p;
    int                  calls = 0;

    /* Before dkv_init: the only context there is, is NULL. */
    T_EXPECT(DKV_ERR_STATE, dkv_list(NULL, "", never_cb, &calls));
    T_CHECK(calls == 0);
    T_CHECK(dkv_drain_start(NULL, "/tmp") != DKV_OK);
    T_CHECK(dkv_drain_test(NULL, &p) != DKV_OK);
    T_CHECK(dkv_drain_wait(NULL, &p) != DKV_OK);
    T_CHECK(dkv_load(NULL, "/tmp") != DKV_OK);
    T_CHECK(dkv_error_detail(NULL) != NULL);

    ctx = t_init();
    T_CHECK(dkv_error_detail(ctx) != NULL);
    T_CHECK(strcmp(dkv_error_detail(ctx), "") == 0);
    T_EXPECT(DKV_ERR_STATE, dkv_drain_test(ctx, &p));
    T_EXPECT(DKV_ERR_STATE, dkv_drain_test(ctx, NULL));
    T_EXPECT(DKV_ERR_INVALID, dkv_list(ctx, "", NULL, NULL));
    T_EXPECT(DKV_ERR_INVALID, dkv_list(ctx, NULL, NULL, &calls));
    T_EXPECT(DKV_ERR_INVALID, dkv_drain_start(ctx, NULL));
    T_EXPECT(DKV_ERR_INVALID, dkv_load(ctx, NULL));
    /* The context still works, and an empty store lists nothing. */
    T_EXPECT(DKV_OK, dkv_list(ctx, NULL, never_cb, &calls));
    T_CHECK(calls == 0);
    T_OK(dkv_fence(ctx)); /* every rank listed before anyone writes */
    T_OK(dkv_put(ctx, "st/x", "abc", 3));
    T_OK(dkv_fence(ctx));
    calls = 0;
    T_EXPECT(DKV_OK, dkv_list(ctx, "st/", never_cb, &calls));
    T_CHECK(calls == 1);
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);

    /* After dkv_finalize (the misuse convention of this project). */
    calls = 0;
    T_EXPECT(DKV_ERR_STATE, dkv_list(ctx, "", never_cb, &calls));
    T_CHECK(calls == 0);
    T_CHECK(dkv_drain_start(ctx, "/tmp") != DKV_OK);
    T_CHECK(dkv_drain_test(ctx, &p) != DKV_OK);
    T_CHECK(dkv_load(ctx, "/tmp") != DKV_OK);
    pass();
}

/* ------------------------------------------------------------------ */
/* rep                                                                 */
/* ------------------------------------------------------------------ */

#define REP_K  40
#define REP_NB 8

static size_t rep_size(int r, int i, int ver)
{
    size_t base;

    if (i == 0) {
        base = 0;
    } else if (i == 1) {
        base = 40000; /* rendezvous */
    } else if (i == 2) {
        base = (size_t)1 << 20;
    } else {
        base = (size_t)((i * 53 + r * 7) % 2000);
    }
    return base + (size_t)ver * 333;
}

/* Final version after the overwrite/delete round: -1 absent. */
static int rep_final(int i)
{
    if (i % 3 == 1) {
        return -1;
    }
    return (i % 2 == 0) ? 1 : 0;
}

static void rep_key(char *buf, size_t len, int r, int i)
{
    snprintf(buf, len, "rp/%03d/%03d", r, i);
}

static void mode_rep(void)
{
    dkv_ctx_t     *ctx = t_init();
    int            np  = dkv_size(ctx), r, i;
    char           key[64];
    dkv_request_t *req[REP_NB];
    uint8_t       *nbbuf[REP_NB];
    klist_t        exp = {0}, expnb = {0};

    printf("rank %d: %d ranks, %d holders, DKV_REPLICAS=%s\n", t_rank, np,
           dkv_num_holders(ctx), getenv("DKV_REPLICAS") ? getenv("DKV_REPLICAS") : "-");
    for (i = 0; i < REP_K; i++) {
        rep_key(key, sizeof(key), t_rank, i);
        T_OK(put_ver(ctx, key, rep_size(t_rank, i, 0), 0));
    }
    /* Non-blocking puts: the buffer is held until dkv_wait. */
    for (i = 0; i < REP_NB; i++) {
        size_t n = 5000 + (size_t)i * 7000; /* some above 32 KiB */

        snprintf(key, sizeof(key), "rpnb/%03d/%d", t_rank, i);
        nbbuf[i] = xmalloc(n);
        t_fill(nbbuf[i], n, t_seed(key, 0));
        T_OK(dkv_put_nb(ctx, key, nbbuf[i], n, &req[i]));
    }
    for (i = REP_NB - 1; i >= 0; i--) {
        T_OK(dkv_wait(req[i]));
        free(nbbuf[i]);
    }
    T_OK(dkv_fence(ctx));

    for (r = 0; r < np; r++) {
        for (i = 0; i < REP_K; i++) {
            rep_key(key, sizeof(key), r, i);
            T_VALUE(ctx, key, rep_size(r, i, 0), t_seed(key, 0));
        }
        for (i = 0; i < REP_NB; i++) {
            snprintf(key, sizeof(key), "rpnb/%03d/%d", r, i);
            T_VALUE(ctx, key, 5000 + (size_t)i * 7000, t_seed(key, 0));
            kl_add(&expnb, key, 5000 + (size_t)i * 7000);
        }
    }
    T_OK(dkv_fence(ctx));

    /* Another rank overwrites (other size) and deletes this rank's keys. */
    r = (t_rank + 1) % np;
    for (i = 0; i < REP_K; i++) {
        rep_key(key, sizeof(key), r, i);
        if (i % 2 == 0) {
            T_OK(put_ver(ctx, key, rep_size(r, i, 1), 1));
        }
        if (i % 3 == 1) {
            T_OK(dkv_delete(ctx, key));
        }
    }
    T_OK(dkv_fence(ctx));
    for (r = 0; r < np; r++) {
        for (i = 0; i < REP_K; i++) {
            int v = rep_final(i);

            rep_key(key, sizeof(key), r, i);
            if (v < 0) {
                T_ABSENT(ctx, key);
            } else {
                T_VALUE(ctx, key, rep_size(r, i, v), t_seed(key, (uint64_t)v));
                kl_add(&exp, key, rep_size(r, i, v));
            }
        }
    }
    kl_sort(&exp);
    kl_sort(&expnb);
    T_LIST(ctx, "rp/", &exp);
    T_LIST(ctx, "rpnb/", &expnb);
    T_OK(dkv_fence(ctx));
    kl_free(&exp);
    kl_free(&expnb);
    t_finalize(ctx);
    pass();
}

/* ------------------------------------------------------------------ */
/* kill                                                                */
/* ------------------------------------------------------------------ */

#define KILL_K 60
#define KILL_D 10

/* Poll (up to ms) until key holds t_fill(size, t_seed(key, 0)), or with
 * size (size_t)-1 until it is absent. 1 on success. */
static int poll_value(dkv_ctx_t *ctx, const char *key, size_t size,
                      unsigned ms)
{
    double       t0 = t_now();
    void        *v;
    size_t       got;
    dkv_status_t s;

    for (;;) {
        v = NULL;
        s = dkv_get_alloc(ctx, key, &v, &got);
        if (s == DKV_OK && size != (size_t)-1 && got == size &&
            t_verify(v, size, t_seed(key, 0))) {
            free(v);
            return 1;
        }
        free(v);
        if (s == DKV_ERR_NOT_FOUND && size == (size_t)-1) {
            return 1;
        }
        if ((s != DKV_OK && s != DKV_ERR_NOT_FOUND) ||
            t_now() - t0 > ms / 1000.0) {
            fprintf(stderr, "rank %d: %.60s: %s after %.1f s (want %s)\n",
                    t_rank, key, sname(s), t_now() - t0,
                    size == (size_t)-1 ? "absent" : "the value");
            return 0;
        }
        t_sleep_ms(50);
    }
}

static size_t kill_size(int r, int i)
{
    if (i == 0) {
        return 0;
    }
    if (i == 1) {
        return 50000;
    }
    return (size_t)((i * 31) % 1500 + r);
}

static void mode_kill(int nv)
{
    dkv_ctx_t   *ctx = t_init();
    int          np  = dkv_size(ctx), r, i, victim = (t_rank >= np - nv);
    const char  *rep = getenv("DKV_REPLICAS");
    int          k   = rep ? atoi(rep) : 1;
    int          can_write = (np - nv) >= k;
    int          cover     = nv < k; /* a copy of every key survives */
    char         key[64];
    klist_t      exp = {0};
    dkv_status_t s;

    T_CHECK(dkv_num_holders(ctx) == np); /* DKV_HOLDERS=all */
    T_CHECK(nv >= 1 && nv < np);
    for (i = 0; i < KILL_K; i++) {
        snprintf(key, sizeof(key), "kl/%d/%03d", t_rank, i);
        T_OK(put_ver(ctx, key, kill_size(t_rank, i), 0));
    }
    for (i = 0; i < KILL_D; i++) {
        snprintf(key, sizeof(key), "kd/%d/%03d", t_rank, i);
        T_OK(put_ver(ctx, key, 700 + (size_t)i, 0));
    }
    T_OK(dkv_fence(ctx));
    /* Deleted before the loss: must stay deleted (no copy resurrects). */
    if (t_rank == 0) {
        for (r = 0; r < np; r++) {
            for (i = 0; i < KILL_K; i += 5) {
                snprintf(key, sizeof(key), "kl/%d/%03d", r, i);
                T_OK(dkv_delete(ctx, key));
            }
        }
    }
    T_OK(dkv_fence(ctx));
    if (victim) {
        fflush(stdout);
        raise(SIGKILL);
        pause();
    }
    t_sleep_ms(300);

    if (cover) {
        for (r = 0; r < np; r++) {
            for (i = 0; i < KILL_K; i++) {
                snprintf(key, sizeof(key), "kl/%d/%03d", r, i);
                if (i % 5 == 0) {
                    T_ABSENT(ctx, key);
                } else {
                    T_VALUE(ctx, key, kill_size(r, i), t_seed(key, 0));
                    kl_add(&exp, key, kill_size(r, i));
                }
            }
        }
        printf("rank %d: every fenced key read back after %d of %d holders "
               "died (DKV_REPLICAS=%d)\n", t_rank, nv, np, k);
        /* The victims' keys by non-blocking gets too (they fall back). */
        for (r = np - nv; r < np; r++) {
            for (i = 1; i < KILL_K; i += 5) {
                dkv_request_t *req = NULL;
                size_t         n   = kill_size(r, i), got = 0;
                uint8_t       *buf = xmalloc(n);

                snprintf(key, sizeof(key), "kl/%d/%03d", r, i);
                T_OK(dkv_get_nb(ctx, key, buf, n, &got, &req));
                T_OK(dkv_wait(req));
                T_CHECK(got == n && t_verify(buf, n, t_seed(key, 0)));
                free(buf);
            }
        }
        /* Copies still cover every key: the listing is complete and OK. */
        kl_sort(&exp);
        T_LIST(ctx, "kl/", &exp);
    } else {
        /* Some keys lost every copy: those fail with PEER_LOST, the others
         * read back; the listing says PEER_LOST and visits exactly the
         * keys that are still there. */
        klist_t got = {0};
        int     lost = 0;

        for (r = 0; r < np; r++) {
            for (i = 0; i < KILL_K; i++) {
                snprintf(key, sizeof(key), "kl/%d/%03d", r, i);
                s = dkv_get(ctx, key, NULL, 0, NULL);
                if (i % 5 == 0) {
                    T_IN("NOT_FOUND|PEER_LOST", s, "get of a deleted key");
                } else if (s == DKV_ERR_PEER_LOST) {
                    lost++;
                } else {
                    if (s != DKV_OK && s != DKV_ERR_TRUNCATED) {
                        fprintf(stderr, "rank %d: get(%s) of a fenced, "
                                        "never deleted key = %s\n", t_rank,
                                key, sname(s));
                    }
                    T_IN("OK|TRUNCATED", s, "get of a fenced key");
                    T_VALUE(ctx, key, kill_size(r, i), t_seed(key, 0));
                    kl_add(&exp, key, kill_size(r, i));
                }
            }
        }
        printf("rank %d: %d of %d holders died with DKV_REPLICAS=%d: %zu "
               "keys read back, %d lost\n", t_rank, nv, np, k, exp.n, lost);
        T_CHECK(lost > 0 && exp.n > 0);
        s = dkv_list(ctx, "kl/", list_cb, &got);
        printf("rank %d: list after an uncovered loss: %s, %zu keys\n",
               t_rank, sname(s), got.n);
        T_EXPECT(DKV_ERR_PEER_LOST, s);
        kl_free(&got);
        kl_sort(&exp);
        check_list_status(__FILE__, __LINE__, ctx, "kl/", &exp, DKV_ERR_PEER_LOST);
    }

    /* A delete after the loss removes every live copy (keys kd/ are not
     * looked at by the other survivors until rank 0 is done). */
    if (t_rank == 0 && cover) {
        for (r = 0; r < np; r++) {
            for (i = 0; i < KILL_D; i++) {
                snprintf(key, sizeof(key), "kd/%d/%03d", r, i);
                T_VALUE(ctx, key, 700 + (size_t)i, t_seed(key, 0));
                T_OK(dkv_delete(ctx, key));
            }
        }
        T_OK(dkv_quiet(ctx));
        for (r = 0; r < np; r++) {
            for (i = 0; i < KILL_D; i++) {
                snprintf(key, sizeof(key), "kd/%d/%03d", r, i);
                T_ABSENT(ctx, key);
            }
        }
    }

    /* New writes: accepted while enough holders live, else refused. */
    for (i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "kw/%d/%03d", t_rank, i);
        s = put_ver(ctx, key, 100 + (size_t)i * 3000, 0);
        if (can_write) {
            if (s != DKV_OK) {
                fprintf(stderr, "rank %d: put after loss: %s (%d live "
                                "holders, %d copies)\n", t_rank, sname(s),
                        np - nv, k);
            }
            T_OK(s);
        } else {
            if (s != DKV_ERR_REPLICAS) {
                fprintf(stderr, "rank %d: put with %d live holders < %d "
                                "copies: %s\n", t_rank, np - nv, k, sname(s));
            }
            T_EXPECT(DKV_ERR_REPLICAS, s);
        }
    }
    s = dkv_quiet(ctx);
    if (can_write) {
        T_OK(s);
    }
    for (i = 0; i < 20; i++) {
        snprintf(key, sizeof(key), "kw/%d/%03d", t_rank, i);
        if (can_write) {
            T_VALUE(ctx, key, 100 + (size_t)i * 3000, t_seed(key, 0));
        } else {
            T_ABSENT(ctx, key);
        }
    }

    /* A fence with a dead rank: the same verdict on every survivor. */
    s = dkv_fence(ctx);
    printf("rank %d: fence after the loss: %s\n", t_rank, sname(s));
    T_EXPECT(DKV_ERR_PEER_LOST, s);
    /* What the other survivors wrote and deleted after the loss becomes
     * visible here (polled: a fence with a dead rank is not relied on as a
     * barrier). */
    for (r = 0; r < np - nv; r++) {
        for (i = 0; i < 20; i++) {
            snprintf(key, sizeof(key), "kw/%d/%03d", r, i);
            if (can_write) {
                T_CHECK(poll_value(ctx, key, 100 + (size_t)i * 3000, 8000));
            } else {
                T_ABSENT(ctx, key);
            }
        }
    }
    for (r = 0; r < np && cover; r++) {
        for (i = 0; i < KILL_D; i++) {
            snprintf(key, sizeof(key), "kd/%d/%03d", r, i);
            T_CHECK(poll_value(ctx, key, (size_t)-1, 8000));
        }
    }
    kl_free(&exp);
    s = dkv_finalize(ctx);
    printf("rank %d: finalize %s\n", t_rank, sname(s));
    pass();
}

/* ------------------------------------------------------------------ */
/* short, badinit, param                                               */
/* ------------------------------------------------------------------ */

static void mode_short(void)
{
    dkv_ctx_t     *ctx = t_init();
    int            np  = dkv_size(ctx), r, calls = 0, sync_put_nb = 1;
    char           key[64];
    dkv_request_t *req = NULL;
    char           val[100000];
    dkv_status_t   s;

    printf("rank %d: %d holders, DKV_REPLICAS=%s\n", t_rank,
           dkv_num_holders(ctx), getenv("DKV_REPLICAS"));
    memset(val, 'v', sizeof(val));
    snprintf(key, sizeof(key), "sh/%d", t_rank);
    T_EXPECT(DKV_ERR_REPLICAS, dkv_put(ctx, key, val, 10));
    T_EXPECT(DKV_ERR_REPLICAS, dkv_put(ctx, key, NULL, 0));
    T_EXPECT(DKV_ERR_REPLICAS, dkv_put(ctx, key, val, sizeof(val)));
    snprintf(key, sizeof(key), "shnb/%d", t_rank);
    s = dkv_put_nb(ctx, key, val, 10, &req);
    if (s == DKV_OK) {
        sync_put_nb = 0;
        T_CHECK(req != NULL);
        T_EXPECT(DKV_ERR_REPLICAS, dkv_wait(req));
    } else {
        T_EXPECT(DKV_ERR_REPLICAS, s);
    }
    s = dkv_fence(ctx);
    printf("rank %d: fence %s\n", t_rank, sname(s));
    if (sync_put_nb) {
        /* Nothing was ever sent: nothing outstanding can have failed. */
        T_OK(s);
    }
    for (r = 0; r < np; r++) {
        snprintf(key, sizeof(key), "sh/%d", r);
        T_ABSENT(ctx, key);
        snprintf(key, sizeof(key), "shnb/%d", r);
        T_ABSENT(ctx, key);
    }
    T_EXPECT(DKV_OK, dkv_list(ctx, NULL, never_cb, &calls));
    T_CHECK(calls == 0);
    T_OK(dkv_delete(ctx, "sh/none"));
    T_OK(dkv_quiet(ctx));
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    pass();
}

static void mode_badinit(int argc, char **argv)
{
    static char       sentinel;
    dkv_ctx_t        *ctx = (dkv_ctx_t *)&sentinel;
    dkv_init_params_t prm;
    dkv_status_t      s;

    memset(&prm, 0, sizeof(prm));
    if (argc > 2) {
        prm.field_mask = DKV_INIT_PARAM_FIELD_REPLICAS;
        prm.replicas   = (unsigned)strtoul(argv[2], NULL, 10);
    }
    s = dkv_init(argc > 2 ? &prm : NULL, &ctx);
    printf("rank ?: dkv_init with replicas %s = %s\n",
           argc > 2 ? argv[2] : getenv("DKV_REPLICAS"), sname(s));
    if (s == DKV_OK) {
        t_rank = dkv_rank(ctx);
    }
    T_EXPECT(DKV_ERR_INVALID, s);
    T_CHECK(ctx == (dkv_ctx_t *)&sentinel); /* written only on success */
    /* No context, so no dkv_rank: the launcher's (PMIx) rank. */
    printf("PASS rank %s\n",
           getenv("PMIX_RANK") ? getenv("PMIX_RANK") : "(unknown)");
}

static void mode_param(unsigned replicas, const char *expect)
{
    dkv_ctx_t        *ctx = NULL;
    dkv_init_params_t prm;
    char              key[64];
    int               r, np;

    memset(&prm, 0, sizeof(prm));
    prm.field_mask = DKV_INIT_PARAM_FIELD_REPLICAS;
    prm.replicas   = replicas;
    T_OK(dkv_init(&prm, &ctx));
    t_rank = dkv_rank(ctx);
    np     = dkv_size(ctx);
    printf("rank %d: %d holders, param replicas %u, DKV_REPLICAS=%s\n",
           t_rank, dkv_num_holders(ctx), replicas, getenv("DKV_REPLICAS"));
    snprintf(key, sizeof(key), "pr/%d", t_rank);
    if (strcmp(expect, "ok") == 0) {
        T_OK(put_ver(ctx, key, 4000, 0));
        T_OK(dkv_fence(ctx));
        for (r = 0; r < np; r++) {
            snprintf(key, sizeof(key), "pr/%d", r);
            T_VALUE(ctx, key, 4000, t_seed(key, 0));
        }
    } else {
        T_EXPECT(DKV_ERR_REPLICAS, put_ver(ctx, key, 4000, 0));
        T_OK(dkv_fence(ctx));
        T_ABSENT(ctx, key);
    }
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    pass();
}

/* ------------------------------------------------------------------ */
/* list                                                                */
/* ------------------------------------------------------------------ */

#define LIST_K 300

static size_t list_size(int r, int i, int ver)
{
    return (size_t)((i * 13 + r) % 700) + (size_t)ver * 1000;
}

static void mode_list(void)
{
    dkv_ctx_t   *ctx = t_init();
    int          np  = dkv_size(ctx), r, i;
    char         key[DKV_KEY_MAX + 1], longkey[DKV_KEY_MAX + 1];
    klist_t      all = {0}, sub = {0}, got = {0};
    dkv_status_t s;
    /* Specials written by rank 0: byte order, prefixes, sizes. */
    static const struct {
        const char *key;
        size_t      size;
    } sp[] = {{"ls/a", 5},         {"ls/ab", 0},      {"ls/abc", 70000},
              {"ls/\xff\x01", 3},  {"ls/\x7f", 4},    {"ls/\xc3\xa9", 6},
              {"lt/x", 1},         {"ls/ab\x01", 2}};
    size_t nsp = sizeof(sp) / sizeof(sp[0]), j;

    memset(longkey, 0, sizeof(longkey));
    memcpy(longkey, "ls/", 3);
    memset(longkey + 3, 'z', DKV_KEY_MAX - 3);

    for (i = 0; i < LIST_K; i++) {
        snprintf(key, sizeof(key), "ls/%d/%04d", t_rank, i);
        T_OK(put_ver(ctx, key, list_size(t_rank, i, 0), 0));
    }
    if (t_rank == 0) {
        for (j = 0; j < nsp; j++) {
            T_OK(put_ver(ctx, sp[j].key, sp[j].size, 0));
        }
        T_OK(put_ver(ctx, longkey, 2, 0));
    }
    T_OK(dkv_fence(ctx));

    for (r = 0; r < np; r++) {
        for (i = 0; i < LIST_K; i++) {
            snprintf(key, sizeof(key), "ls/%d/%04d", r, i);
            kl_add(&all, key, list_size(r, i, 0));
        }
    }
    for (j = 0; j < nsp; j++) {
        kl_add(&all, sp[j].key, sp[j].size);
    }
    kl_add(&all, longkey, 2);
    kl_sort(&all);

    T_LIST(ctx, NULL, &all);
    T_LIST(ctx, "", &all);
    kl_filter(&all, "ls/", &sub);
    T_LIST_GET(ctx, "ls/", &sub); /* dkv_get from within the callback */
    kl_free(&sub);
    kl_filter(&all, "ls/ab", &sub); /* ls/ab, ls/ab\x01, ls/abc */
    T_CHECK(sub.n == 3);
    T_LIST(ctx, "ls/ab", &sub);
    kl_free(&sub);
    kl_filter(&all, "ls/abc", &sub); /* exact key, nothing longer */
    T_CHECK(sub.n == 1);
    T_LIST(ctx, "ls/abc", &sub);
    kl_free(&sub);
    T_LIST(ctx, "ls/abcd", &sub); /* nothing: empty expectation */
    T_LIST(ctx, "no-such-prefix/", &sub);
    kl_add(&sub, longkey, 2);
    T_LIST(ctx, longkey, &sub); /* a 1024-byte prefix */
    kl_free(&sub);
    snprintf(key, sizeof(key), "ls/%d/", np - 1);
    kl_filter(&all, key, &sub);
    T_CHECK(sub.n == LIST_K);
    T_LIST(ctx, key, &sub);
    kl_free(&sub);

    /* The callback's non-zero return stops the walk. */
    got.stop_after = 5;
    s              = dkv_list(ctx, "", list_cb, &got);
    T_EXPECT(DKV_OK, s);
    T_CHECK(got.n == 5);
    for (j = 0; j < got.n; j++) {
        T_CHECK(strcmp(got.v[j].key, all.v[j].key) == 0);
    }
    kl_free(&got);
    got.stop_after = 1;
    T_EXPECT(DKV_OK, dkv_list(ctx, "ls/", list_cb, &got));
    T_CHECK(got.n == 1);
    kl_free(&got);
    T_EXPECT(DKV_ERR_INVALID, dkv_list(ctx, "ls/", NULL, NULL));
    T_OK(dkv_fence(ctx));

    /* Overwrite with another size, delete; own writes visible after quiet. */
    for (i = 0; i < LIST_K; i++) {
        snprintf(key, sizeof(key), "ls/%d/%04d", t_rank, i);
        if (i % 4 == 0) {
            T_OK(put_ver(ctx, key, list_size(t_rank, i, 1), 1));
        } else if (i % 4 == 1) {
            T_OK(dkv_delete(ctx, key));
        }
    }
    if (t_rank == 0) {
        T_OK(dkv_delete(ctx, "ls/abc"));
        T_OK(put_ver(ctx, "ls/a", 777, 1));
    }
    T_OK(dkv_quiet(ctx));
    kl_free(&all);
    for (i = 0; i < LIST_K; i++) {
        snprintf(key, sizeof(key), "ls/%d/%04d", t_rank, i);
        if (i % 4 == 0) {
            kl_add(&sub, key, list_size(t_rank, i, 1));
        } else if (i % 4 != 1) {
            kl_add(&sub, key, list_size(t_rank, i, 0));
        }
    }
    kl_sort(&sub);
    snprintf(key, sizeof(key), "ls/%d/", t_rank);
    T_LIST(ctx, key, &sub); /* before the fence: this rank's own writes */
    kl_free(&sub);
    T_OK(dkv_fence(ctx));

    for (r = 0; r < np; r++) {
        for (i = 0; i < LIST_K; i++) {
            snprintf(key, sizeof(key), "ls/%d/%04d", r, i);
            if (i % 4 == 0) {
                kl_add(&all, key, list_size(r, i, 1));
            } else if (i % 4 != 1) {
                kl_add(&all, key, list_size(r, i, 0));
            }
        }
    }
    for (j = 0; j < nsp; j++) {
        if (strcmp(sp[j].key, "ls/abc") == 0) {
            continue;
        }
        kl_add(&all, sp[j].key,
               strcmp(sp[j].key, "ls/a") == 0 ? 777 : sp[j].size);
    }
    kl_add(&all, longkey, 2);
    kl_sort(&all);
    T_LIST_GET(ctx, "", &all);
    kl_filter(&all, "ls/ab", &sub);
    T_CHECK(sub.n == 2);
    T_LIST(ctx, "ls/ab", &sub);
    kl_free(&sub);
    T_VALUE(ctx, "ls/a", 777, t_seed("ls/a", 1));
    T_OK(dkv_fence(ctx));
    kl_free(&all);
    t_finalize(ctx);
    pass();
}

/* ------------------------------------------------------------------ */
/* The staged data set: NK keys, written by key index % 3, in states 0..3 */
/* ------------------------------------------------------------------ */

#define NK       240
#define WRITERS  3
#define FOREIGN  77 /* version of the values a load job stores beforehand */
#define PRE_J    7  /* the key index it overwrites */
#define BIG_N    48 /* drain P: BIG_N values of BIG_SIZE */
#define BIG_SIZE ((size_t)1 << 20)

static void ck_key(char *buf, size_t len, int j)
{
    if (j == 3) { /* the longest key */
        memset(buf, 0, len);
        snprintf(buf, len, "ck/0003/");
        memset(buf + 8, 'x', DKV_KEY_MAX - 8);
    } else if (j == 4) { /* bytes above 0x7f */
        snprintf(buf, len, "ck/0004/\xc3\xa9\xff");
    } else {
        snprintf(buf, len, "ck/%04d", j);
    }
}

static size_t ck_size(int j, int v)
{
    switch (j) {
    case 0: return (size_t)v * 17; /* 0 bytes in state 0 */
    case 5: return ((size_t)6 << 20) + (size_t)v * 3;
    case 8: return ((size_t)2 << 20) + (size_t)v * 5;
    case 12: return 100000 + (size_t)v;
    case 6: return 40000 + (size_t)v;
    default: return (size_t)((j * 37 + v * 101) % 3000);
    }
}

/* Version of key j in state st, or -1 when absent. */
static int ck_ver(int st, int j)
{
    int v = (j % 7 == 6 && j % 2 == 1) ? -1 : 0;

    if (st >= 1) {
        if (j % 5 == 0) {
            v = 1;
        } else if (j % 5 == 1) {
            v = -1;
        }
    }
    if (st >= 2) {
        if (j % 5 == 2) {
            v = 2;
        } else if (j % 5 == 3) {
            v = -1;
        }
    }
    if (st >= 3) {
        if (j % 5 == 4 || j % 5 == 1) {
            v = 3;
        } else if (j % 5 == 0) {
            v = -1;
        }
    }
    return v;
}

static int ck_writer(dkv_ctx_t *ctx, int j)
{
    return j % dkv_size(ctx) == t_rank;
}

/* Write state 0 with some history: earlier values (version 9, another
 * size), keys deleted again; all fenced, except the keys j % 11 == 10
 * which are put right before the caller's dkv_drain_start. */
static void stage_state0(dkv_ctx_t *ctx)
{
    char key[DKV_KEY_MAX + 1];
    int  j;

    for (j = 0; j < NK; j++) {
        int v0 = ck_ver(0, j);

        if (!ck_writer(ctx, j) || j % 11 == 10) {
            continue;
        }
        ck_key(key, sizeof(key), j);
        if (j % 3 == 0 || v0 < 0) {
            T_OK(put_ver(ctx, key, ck_size(j, 9) + 11, 9));
        }
        if (v0 < 0) {
            T_OK(dkv_delete(ctx, key));
        } else {
            T_OK(put_ver(ctx, key, ck_size(j, v0), (uint64_t)v0));
        }
    }
    T_OK(dkv_fence(ctx));
    for (j = 10; j < NK; j += 11) {
        if (ck_writer(ctx, j) && ck_ver(0, j) >= 0) {
            ck_key(key, sizeof(key), j);
            T_OK(put_ver(ctx, key, ck_size(j, 0), 0));
        }
    }
}

/* Puts and deletes that turn state `from` into state `to`, then a fence. */
static void apply_diff(dkv_ctx_t *ctx, int from, int to)
{
    char key[DKV_KEY_MAX + 1];
    int  j;

    for (j = 0; j < NK; j++) {
        int vf = ck_ver(from, j), vt = ck_ver(to, j);

        if (!ck_writer(ctx, j) || vf == vt) {
            continue;
        }
        ck_key(key, sizeof(key), j);
        if (vt < 0) {
            T_OK(dkv_delete(ctx, key));
        } else {
            T_OK(put_ver(ctx, key, ck_size(j, vt), (uint64_t)vt));
        }
    }
    T_OK(dkv_fence(ctx));
}

static uint64_t state_count(int st, uint64_t *bytes)
{
    char     key[DKV_KEY_MAX + 1];
    uint64_t n = 0;
    int      j;

    *bytes = 0;
    for (j = 0; j < NK; j++) {
        int v = ck_ver(st, j);

        if (v >= 0) {
            ck_key(key, sizeof(key), j);
            n++;
            *bytes += strlen(key) + ck_size(j, v);
        }
    }
    return n;
}

/* exp[j]: version expected of key j (-1 absent). Checks every key by get
 * and the "ck/" listing; pre != 0: also the foreign pre-load keys. */
static void verify_ck(dkv_ctx_t *ctx, const int *exp, int pre)
{
    char    key[DKV_KEY_MAX + 1];
    klist_t want = {0};
    int     j;

    for (j = 0; j < NK; j++) {
        ck_key(key, sizeof(key), j);
        if (exp[j] < 0) {
            T_ABSENT(ctx, key);
        } else {
            T_VALUE(ctx, key, ck_size(j, exp[j]), t_seed(key, (uint64_t)exp[j]));
            kl_add(&want, key, ck_size(j, exp[j]));
        }
    }
    kl_sort(&want);
    T_LIST(ctx, "ck/", &want);
    if (pre) {
        kl_add(&want, "pre/keep", 123);
        kl_sort(&want);
        T_LIST(ctx, NULL, &want);
        T_VALUE(ctx, "pre/keep", 123, t_seed("pre/keep", 0));
    }
    kl_free(&want);
}

static void state_exp(int st, int *exp)
{
    int j;

    for (j = 0; j < NK; j++) {
        exp[j] = st >= 0 ? ck_ver(st, j) : -1;
    }
}

/* Progress sanity between two reports of one drain. */
static void check_progress(const dkv_drain_progress_t *prev,
                           const dkv_drain_progress_t *cur)
{
    if (cur->bytes_written < prev->bytes_written ||
        cur->keys_written < prev->keys_written ||
        (prev->done && !cur->done) ||
        (cur->bytes_total != 0 && cur->bytes_written > cur->bytes_total) ||
        (cur->keys_total != 0 && cur->keys_written > cur->keys_total) ||
        (prev->done && (cur->bytes_total != prev->bytes_total))) {
        fprintf(stderr, "rank %d: progress went from %llu/%llu B %llu/%llu "
                        "keys done %d to %llu/%llu B %llu/%llu keys done %d\n",
                t_rank, (unsigned long long)prev->bytes_written,
                (unsigned long long)prev->bytes_total,
                (unsigned long long)prev->keys_written,
                (unsigned long long)prev->keys_total, prev->done,
                (unsigned long long)cur->bytes_written,
                (unsigned long long)cur->bytes_total,
                (unsigned long long)cur->keys_written,
                (unsigned long long)cur->keys_total, cur->done);
        t_fail(__FILE__, __LINE__, "drain progress not monotone", NULL);
    }
}

static void check_final(const char *what, const dkv_drain_progress_t *p,
                        uint64_t keys, uint64_t min_bytes)
{
    printf("rank %d: %s: %llu/%llu B, %llu/%llu keys, done %d\n", t_rank,
           what, (unsigned long long)p->bytes_written,
           (unsigned long long)p->bytes_total,
           (unsigned long long)p->keys_written,
           (unsigned long long)p->keys_total, p->done);
    if (!(p->done == 1 && p->bytes_written == p->bytes_total &&
          p->keys_written == p->keys_total && p->keys_total == keys &&
          p->bytes_total >= min_bytes)) {
        fprintf(stderr, "rank %d: %s: expected done, %llu keys, >= %llu B\n",
                t_rank, what, (unsigned long long)keys,
                (unsigned long long)min_bytes);
        t_fail(__FILE__, __LINE__, what, "final drain progress");
    }
}

/* ------------------------------------------------------------------ */
/* drain modes                                                         */
/* ------------------------------------------------------------------ */

static void mode_drain_errors(const char *base)
{
    dkv_ctx_t           *ctx = t_init();
    dkv_drain_progress_t p;
    char                 missing[512], afile[512], empty[512], ok[512];
    klist_t              none = {0};
    const char          *d;
    dkv_status_t         s;

    snprintf(missing, sizeof(missing), "%s/missing", base);
    snprintf(afile, sizeof(afile), "%s/afile", base);
    snprintf(empty, sizeof(empty), "%s/empty", base);
    snprintf(ok, sizeof(ok), "%s/ok", base);
    T_EXPECT(DKV_ERR_STATE, dkv_drain_test(ctx, &p));

    /* A directory that does not exist. */
    s = dkv_drain_start(ctx, missing);
    d = dkv_error_detail(ctx);
    printf("rank %d: drain into a missing dir: %s, detail \"%s\"\n", t_rank,
           sname(s), d);
    T_EXPECT(DKV_ERR_IO, s);
    T_CHECK(d != NULL && d[0] != '\0');
    T_CHECK(strstr(d, "missing") != NULL); /* names the directory */

    /* A plain file where the directory should be. */
    s = dkv_drain_start(ctx, afile);
    d = dkv_error_detail(ctx);
    printf("rank %d: drain into a plain file: %s, detail \"%s\"\n", t_rank,
           sname(s), d);
    T_IN("IO|INVALID", s, "dkv_drain_start(plain file)");
    T_CHECK(d[0] != '\0');
    same_on_all(ctx, "drain-file", (int)s);

    /* A directory with no drain in it, and one that does not exist. */
    s = dkv_load(ctx, empty);
    d = dkv_error_detail(ctx);
    printf("rank %d: load of a dir without drain: %s, detail \"%s\"\n",
           t_rank, sname(s), d);
    T_EXPECT(DKV_ERR_NOT_FOUND, s);
    T_CHECK(d[0] != '\0');
    T_CHECK(strstr(d, empty) != NULL);
    T_LIST(ctx, NULL, &none);
    T_OK(dkv_fence(ctx));
    s = dkv_load(ctx, missing);
    d = dkv_error_detail(ctx);
    printf("rank %d: load of a missing dir: %s, detail \"%s\"\n", t_rank,
           sname(s), d);
    T_IN("NOT_FOUND|IO", s, "dkv_load(missing dir)");
    T_CHECK(d[0] != '\0');
    same_on_all(ctx, "load-missing", (int)s);
    s = dkv_load(ctx, afile);
    printf("rank %d: load of a plain file: %s, detail \"%s\"\n", t_rank,
           sname(s), dkv_error_detail(ctx));
    T_IN("NOT_FOUND|IO|INVALID", s, "dkv_load(plain file)");
    same_on_all(ctx, "load-file", (int)s);
    T_LIST(ctx, NULL, &none);
    T_OK(dkv_fence(ctx)); /* everyone listed before anyone writes on */

    /* After all that, the context still stages, drains and loads. */
    T_OK(put_ver(ctx, t_rank == 0 ? "after/0" : "after/x", 1000, 0));
    T_OK(dkv_fence(ctx));
    T_OK(dkv_drain_start(ctx, ok));
    T_OK(dkv_drain_wait(ctx, &p));
    T_CHECK(p.done == 1 && p.keys_total == (dkv_size(ctx) > 1 ? 2u : 1u));
    T_OK(dkv_load(ctx, ok));
    T_VALUE(ctx, "after/0", 1000, t_seed("after/0", 0));
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    pass();
}

static void mode_drain_unwritable(const char *dir)
{
    dkv_ctx_t           *ctx = t_init();
    dkv_drain_progress_t p;
    dkv_status_t         s;

    T_OK(put_ver(ctx, "uw/x", 100, 0));
    T_OK(dkv_fence(ctx));
    s = dkv_drain_start(ctx, dir);
    printf("rank %d: drain into %s: %s, detail \"%s\"\n", t_rank, dir,
           sname(s), dkv_error_detail(ctx));
    if (s == DKV_OK) {
        s = dkv_drain_wait(ctx, &p);
        printf("rank %d: ... and its wait: %s, detail \"%s\"\n", t_rank,
               sname(s), dkv_error_detail(ctx));
        T_CHECK(!"dkv_drain_start(unwritable dir) returned DKV_OK");
    }
    T_EXPECT(DKV_ERR_IO, s);
    T_CHECK(dkv_error_detail(ctx)[0] != '\0');
    T_CHECK(strstr(dkv_error_detail(ctx), dir) != NULL);
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    pass();
}

static void mode_drain_empty(const char *dir)
{
    dkv_ctx_t           *ctx = t_init();
    dkv_drain_progress_t p, q;
    klist_t              none = {0};

    T_EXPECT(DKV_ERR_STATE, dkv_drain_test(ctx, &p));
    T_OK(dkv_drain_start(ctx, dir));
    memset(&p, 0xab, sizeof(p));
    T_OK(dkv_drain_wait(ctx, &p));
    check_final("empty drain", &p, 0, 0);
    T_OK(dkv_drain_test(ctx, &q));
    T_CHECK(q.done == 1 && q.keys_total == 0);
    T_OK(dkv_drain_wait(ctx, NULL)); /* again: still complete */
    T_OK(dkv_load(ctx, dir));
    T_LIST(ctx, NULL, &none);
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    pass();
}

/* The main sequence; see the header comment. BASE has subdirs A B C. */
static void mode_drain(const char *base)
{
    dkv_ctx_t           *ctx = t_init();
    dkv_drain_progress_t p, prev;
    char                 A[512], B[512], C[512], key[DKV_KEY_MAX + 1];
    int                  exp[NK], j, polls = 0, gets = 0;
    uint64_t             keys0, bytes0;
    double               t0, t_start;

    T_CHECK(dkv_size(ctx) == WRITERS);
    snprintf(A, sizeof(A), "%s/A", base);
    snprintf(B, sizeof(B), "%s/B", base);
    snprintf(C, sizeof(C), "%s/C", base);
    keys0 = state_count(0, &bytes0);

    stage_state0(ctx); /* ends with unfenced puts: drain_start fences */
    t0 = t_now();
    T_OK(dkv_drain_start(ctx, A));
    t_start = t_now() - t0;
    /* Right after it returns: overwrites, deletes, new keys (state 1). */
    apply_diff(ctx, 0, 1);
    /* The application computes without calling dramkv; holders drain. */
    compute_for(1.0);
    T_OK(dkv_drain_test(ctx, &p));
    printf("rank %d: drain_start took %.3f s; after 1 s of compute: "
           "%llu/%llu B, %llu/%llu keys, done %d\n", t_rank, t_start,
           (unsigned long long)p.bytes_written,
           (unsigned long long)p.bytes_total,
           (unsigned long long)p.keys_written,
           (unsigned long long)p.keys_total, p.done);
    T_CHECK(p.bytes_written > 0);
    prev = p;
    /* Polls while serving gets of the current (state 1) values. */
    t0 = t_now();
    while (t_now() - t0 < 0.4 || polls < 3) {
        j = (polls * 7 + t_rank) % NK;
        ck_key(key, sizeof(key), j);
        if (ck_ver(1, j) >= 0 && ck_size(j, ck_ver(1, j)) < 200000) {
            T_VALUE(ctx, key, ck_size(j, ck_ver(1, j)), t_seed(key, (uint64_t)ck_ver(1, j)));
            gets++;
        }
        compute_for(0.02);
        T_OK(dkv_drain_test(ctx, &p));
        check_progress(&prev, &p);
        prev = p;
        polls++;
    }
    T_OK(dkv_drain_wait(ctx, &p));
    check_progress(&prev, &p);
    check_final("drain A (state 0)", &p, keys0, bytes0);
    if (t_rank == 0) {
        printf("DRAINSTAT A bytes_total=%llu keys_total=%llu\n",
               (unsigned long long)p.bytes_total,
               (unsigned long long)p.keys_total);
    }
    prev = p;
    T_OK(dkv_drain_test(ctx, &p));
    T_CHECK(p.done == 1 && p.bytes_total == prev.bytes_total &&
            p.keys_total == prev.keys_total);
    state_exp(1, exp);
    verify_ck(ctx, exp, 0);
    T_OK(dkv_fence(ctx));

    /* Back to back: B (state 1) not waited for, C (state 2), then B again
     * (state 3): the later drain into B is the one that loads. */
    T_OK(dkv_drain_start(ctx, B));
    apply_diff(ctx, 1, 2);
    T_OK(dkv_drain_start(ctx, C));
    apply_diff(ctx, 2, 3);
    T_OK(dkv_drain_start(ctx, B));
    T_OK(dkv_drain_wait(ctx, &p));
    keys0 = state_count(3, &bytes0);
    check_final("drain B (state 3)", &p, keys0, bytes0);

    /* Load A into the same job: A's keys overwrite, the others stay. */
    T_OK(dkv_load(ctx, A));
    for (j = 0; j < NK; j++) {
        exp[j] = ck_ver(0, j) >= 0 ? ck_ver(0, j) : ck_ver(3, j);
    }
    verify_ck(ctx, exp, 0);
    printf("rank %d: %d progress polls, %d gets during the drain\n", t_rank,
           polls, gets);
    T_OK(dkv_fence(ctx));

    /* A bigger drain (P), polled without pause: progress is monotone, the
     * totals are right, and it ends complete. */
    {
        char     P[512];
        int      i, states = 0, running = 0;
        uint64_t nbig = 0, bbig = 0;

        snprintf(P, sizeof(P), "%s/P", base);
        for (i = 0; i < BIG_N; i++) {
            snprintf(key, sizeof(key), "big/%03d", i);
            if (i % dkv_size(ctx) == t_rank) {
                T_OK(put_ver(ctx, key, BIG_SIZE, 0));
            }
            nbig++;
            bbig += strlen(key) + BIG_SIZE;
        }
        T_OK(dkv_fence(ctx));
        for (j = 0; j < NK; j++) { /* what is stored besides big/ */
            ck_key(key, sizeof(key), j);
            if (exp[j] >= 0) {
                nbig++;
                bbig += strlen(key) + ck_size(j, exp[j]);
            }
        }
        T_OK(dkv_drain_start(ctx, P));
        memset(&prev, 0, sizeof(prev));
        t0 = t_now();
        do {
            T_OK(dkv_drain_test(ctx, &p));
            check_progress(&prev, &p);
            if (memcmp(&p, &prev, sizeof(p)) != 0) {
                states++;
            }
            running += !p.done;
            prev = p;
            T_CHECK(t_now() - t0 < 30.0);
        } while (!p.done);
        T_OK(dkv_drain_wait(ctx, &p));
        check_progress(&prev, &p);
        check_final("drain P", &p, nbig, bbig);
        printf("rank %d: drain P: %d distinct progress reports, %d while "
               "running, %.3f s\n", t_rank, states, running, t_now() - t0);
    }
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    pass();
}

static void mode_stage(const char *dir, const char *dir2)
{
    dkv_ctx_t           *ctx = t_init();
    dkv_drain_progress_t p;
    uint64_t             keys0, bytes0;

    keys0 = state_count(0, &bytes0);
    stage_state0(ctx);
    T_OK(dkv_drain_start(ctx, dir));
    T_OK(dkv_drain_wait(ctx, &p));
    check_final("stage", &p, keys0, bytes0);
    apply_diff(ctx, 0, 1);
    T_OK(dkv_drain_start(ctx, dir2));
    T_OK(dkv_drain_wait(ctx, &p));
    keys0 = state_count(1, &bytes0);
    check_final("stage (state 1)", &p, keys0, bytes0);
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    pass();
}

/* Keys stored before a load: one the drain does not have, and one the
 * drain has (PRE_J) with another value. */
static void pre_load(dkv_ctx_t *ctx)
{
    char key[DKV_KEY_MAX + 1];

    if (t_rank == 0) {
        T_OK(put_ver(ctx, "pre/keep", 123, 0));
        ck_key(key, sizeof(key), PRE_J);
        T_OK(put_ver(ctx, key, ck_size(PRE_J, FOREIGN), FOREIGN));
    }
    T_OK(dkv_fence(ctx));
}

static void mode_load(const char *dir, int st)
{
    dkv_ctx_t *ctx = t_init();
    int        exp[NK];

    printf("rank %d: load %s (state %d) into %d ranks, %d holders, "
           "DKV_REPLICAS=%s\n", t_rank, dir, st, dkv_size(ctx),
           dkv_num_holders(ctx),
           getenv("DKV_REPLICAS") ? getenv("DKV_REPLICAS") : "-");
    pre_load(ctx);
    T_OK(dkv_load(ctx, dir));
    state_exp(st, exp);
    if (exp[PRE_J] < 0) {
        exp[PRE_J] = FOREIGN; /* not in the drain: stays */
    }
    verify_ck(ctx, exp, 1);
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    pass();
}

static void mode_badload(const char *dir, const char *statuses,
                         const char *names, const char *good)
{
    dkv_ctx_t   *ctx = t_init();
    int          exp[NK];
    const char  *d;
    dkv_status_t s;

    pre_load(ctx);
    s = dkv_load(ctx, dir);
    d = dkv_error_detail(ctx);
    printf("rank %d: load of %s: %s, detail \"%s\"\n", t_rank, dir, sname(s),
           d);
    T_IN(statuses, s, "dkv_load(damaged drain)");
    T_CHECK(d != NULL && d[0] != '\0');
    if (!contains_any(d, names)) {
        fprintf(stderr, "rank %d: detail \"%s\" names none of \"%s\"\n",
                t_rank, d, names);
        t_fail(__FILE__, __LINE__, "dkv_error_detail names the file", NULL);
    }
    /* Nothing loaded: only what was there before. */
    state_exp(-1, exp);
    exp[PRE_J] = FOREIGN;
    verify_ck(ctx, exp, 1);
    T_OK(dkv_fence(ctx)); /* everyone checked before the next writes */
    same_on_all(ctx, "badload", (int)s);
    if (good != NULL) {
        T_OK(dkv_load(ctx, good));
        state_exp(0, exp);
        verify_ck(ctx, exp, 1);
    }
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    pass();
}

/* Load a drain into a job with 2+ copies, then a holder dies: every key
 * loaded is still there (the load stored every copy). */
static void mode_load_kill(const char *dir, int st)
{
    dkv_ctx_t *ctx = t_init();
    int        exp[NK];

    T_OK(dkv_load(ctx, dir));
    T_OK(dkv_fence(ctx));
    if (t_rank == dkv_size(ctx) - 1) {
        fflush(stdout);
        raise(SIGKILL);
        pause();
    }
    t_sleep_ms(300);
    state_exp(st, exp);
    verify_ck(ctx, exp, 0);
    printf("rank %d: every loaded key read back after a holder died\n",
           t_rank);
    (void)dkv_finalize(ctx);
    pass();
}

/* A load whose drain does not fit (DKV_HOLD_BYTES): ST on every rank. */
static void mode_load_status(const char *dir, const char *statuses)
{
    dkv_ctx_t   *ctx = t_init();
    dkv_status_t s   = dkv_load(ctx, dir);

    printf("rank %d: load of %s: %s, detail \"%s\"\n", t_rank, dir, sname(s),
           dkv_error_detail(ctx));
    T_IN(statuses, s, "dkv_load");
    T_CHECK(dkv_error_detail(ctx)[0] != '\0');
    T_OK(dkv_fence(ctx));
    same_on_all(ctx, "load-status", (int)s);
    t_finalize(ctx);
    pass();
}

/* Dedicated holder (the last rank): it may not start a drain (STATE) and
 * serves; the other ranks drain and load through it. */
static void mode_dedicated(const char *dir)
{
    dkv_ctx_t           *ctx = t_init();
    dkv_drain_progress_t p;
    int                  np  = dkv_size(ctx), nd = np - 1, r, i;
    char                 key[64];
    klist_t              want = {0};
    uint64_t             bytes = 0;

    T_CHECK(dkv_is_dedicated(ctx) == (t_rank == np - 1));
    if (dkv_is_dedicated(ctx)) {
        T_EXPECT(DKV_ERR_STATE, dkv_drain_start(ctx, dir));
        T_OK(dkv_serve(ctx));
        t_finalize(ctx);
        pass();
        return;
    }
    for (i = 0; i < 50; i++) {
        snprintf(key, sizeof(key), "dd/%d/%02d", t_rank, i);
        T_OK(put_ver(ctx, key, (size_t)(i * 97) % 5000 + 1, 0));
    }
    T_OK(dkv_fence(ctx));
    T_OK(dkv_drain_start(ctx, dir));
    for (i = 0; i < 50; i += 2) { /* after the snapshot: not drained */
        snprintf(key, sizeof(key), "dd/%d/%02d", t_rank, i);
        T_OK(put_ver(ctx, key, (size_t)(i * 97) % 5000 + 8, 1));
    }
    T_OK(dkv_fence(ctx));
    for (r = 0; r < nd; r++) {
        for (i = 0; i < 50; i++) {
            snprintf(key, sizeof(key), "dd/%d/%02d", r, i);
            kl_add(&want, key, (size_t)(i * 97) % 5000 + 1);
            bytes += strlen(key) + (size_t)(i * 97) % 5000 + 1;
        }
    }
    T_OK(dkv_drain_wait(ctx, &p));
    check_final("drain with a dedicated holder", &p, (uint64_t)(50 * nd),
                bytes);
    T_OK(dkv_load(ctx, dir));
    for (r = 0; r < nd; r++) {
        for (i = 0; i < 50; i++) {
            snprintf(key, sizeof(key), "dd/%d/%02d", r, i);
            T_VALUE(ctx, key, (size_t)(i * 97) % 5000 + 1, t_seed(key, 0));
        }
    }
    kl_sort(&want);
    T_LIST(ctx, "dd/", &want);
    kl_free(&want);
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    pass();
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODE ...\n", argv[0]);
        return 2;
    }
#define ARGS(n) T_CHECK(argc >= (n))
    if (strcmp(argv[1], "state") == 0) {
        mode_state();
    } else if (strcmp(argv[1], "rep") == 0) {
        mode_rep();
    } else if (strcmp(argv[1], "kill") == 0) {
        ARGS(3);
        mode_kill(atoi(argv[2]));
    } else if (strcmp(argv[1], "short") == 0) {
        mode_short();
    } else if (strcmp(argv[1], "badinit") == 0) {
        mode_badinit(argc, argv);
    } else if (strcmp(argv[1], "param") == 0) {
        ARGS(4);
        mode_param((unsigned)atoi(argv[2]), argv[3]);
    } else if (strcmp(argv[1], "list") == 0) {
        mode_list();
    } else if (strcmp(argv[1], "drain_errors") == 0) {
        ARGS(3);
        mode_drain_errors(argv[2]);
    } else if (strcmp(argv[1], "drain_unwritable") == 0) {
        mode_drain_unwritable(argc > 2 ? argv[2] : "/proc");
    } else if (strcmp(argv[1], "drain_empty") == 0) {
        ARGS(3);
        mode_drain_empty(argv[2]);
    } else if (strcmp(argv[1], "drain") == 0) {
        ARGS(3);
        mode_drain(argv[2]);
    } else if (strcmp(argv[1], "stage") == 0) {
        ARGS(4);
        mode_stage(argv[2], argv[3]);
    } else if (strcmp(argv[1], "load") == 0) {
        ARGS(4);
        mode_load(argv[2], atoi(argv[3]));
    } else if (strcmp(argv[1], "load_kill") == 0) {
        ARGS(4);
        mode_load_kill(argv[2], atoi(argv[3]));
    } else if (strcmp(argv[1], "load_status") == 0) {
        ARGS(4);
        mode_load_status(argv[2], argv[3]);
    } else if (strcmp(argv[1], "dedicated") == 0) {
        ARGS(3);
        mode_dedicated(argv[2]);
    } else if (strcmp(argv[1], "badload") == 0) {
        ARGS(5);
        mode_badload(argv[2], argv[3], argv[4], argc > 5 ? argv[5] : NULL);
    } else {
        fprintf(stderr, "unknown mode %s\n", argv[1]);
        return 2;
    }
    return 0;
}
