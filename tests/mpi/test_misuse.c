/*
 * test_misuse: bad arguments and calls in the wrong state return a status
 * (never DKV_OK) and never crash; the library keeps working afterwards.
 *
 *   test_misuse calls           NULL context before init, every entry point
 *                               with NULL / empty / 1025-byte keys, NULL
 *                               buffers, bad indexes; then valid put/get;
 *                               a 1024-byte key works.
 *   test_misuse after-finalize  every entry point on a finalized context,
 *                               and a second dkv_finalize.
 *
 * Uses only dramkv (no MPI).
 */
#include "mpi_test_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Any status but DKV_OK; prints what was returned. */
#define T_NOT_OK(call)                                                        \
    do {                                                                      \
        dkv_status_t t_n_ = (call);                                           \
        if (t_n_ == DKV_OK) {                                                 \
            t_fail(__FILE__, __LINE__, #call, "returned DKV_OK");             \
        }                                                                     \
    } while (0)

static char long_key[DKV_KEY_MAX + 2]; /* 1025 characters */
static char max_key[DKV_KEY_MAX + 1];  /* 1024 characters */

static void make_keys(void)
{
    memset(long_key, 'L', DKV_KEY_MAX + 1);
    long_key[DKV_KEY_MAX + 1] = '\0';
    memset(max_key, 'M', DKV_KEY_MAX);
    max_key[DKV_KEY_MAX] = '\0';
}

static void strerror_checks(void)
{
    T_CHECK(dkv_strerror(DKV_OK) != NULL);
    T_CHECK(dkv_strerror(DKV_ERR_CORRUPT) != NULL);
    T_CHECK(dkv_strerror((dkv_status_t)-999) != NULL);
    T_CHECK(dkv_strerror((dkv_status_t)42) != NULL);
}

/* Every entry point with a NULL context (the state before dkv_init). */
static void null_ctx_checks(void)
{
    dkv_request_t *req  = NULL;
    const char    *key  = NULL;
    dkv_status_t   st   = DKV_OK;
    void          *val  = NULL;
    char           buf[8];
    int            done = 0;

    T_NOT_OK(dkv_put(NULL, "k", "v", 1));
    T_NOT_OK(dkv_put(NULL, NULL, NULL, 0));
    T_NOT_OK(dkv_get(NULL, "k", buf, sizeof(buf), NULL));
    T_NOT_OK(dkv_get_alloc(NULL, "k", &val, NULL));
    T_CHECK(val == NULL);
    T_NOT_OK(dkv_delete(NULL, "k"));
    T_NOT_OK(dkv_quiet(NULL));
    T_NOT_OK(dkv_fence(NULL));
    T_NOT_OK(dkv_serve(NULL));
    T_NOT_OK(dkv_put_nb(NULL, "k", "v", 1, &req));
    T_CHECK(req == NULL);
    T_NOT_OK(dkv_get_nb(NULL, "k", buf, sizeof(buf), NULL, &req));
    T_CHECK(req == NULL);
    T_NOT_OK(dkv_test(NULL, &done));
    T_NOT_OK(dkv_test(NULL, NULL));
    T_NOT_OK(dkv_wait(NULL));
    T_NOT_OK(dkv_failed_key(NULL, 0, &key, &st));
    T_CHECK(dkv_failed_count(NULL) == 0);
    T_CHECK(dkv_rank(NULL) == -1);
    T_CHECK(dkv_size(NULL) == -1);
    T_CHECK(dkv_num_holders(NULL) == -1);
    T_CHECK(dkv_is_holder(NULL) == 0);
    T_CHECK(dkv_is_dedicated(NULL) == 0);
    T_OK(dkv_finalize(NULL));
}

static void bad_key_checks(dkv_ctx_t *ctx, const char *bad)
{
    dkv_request_t *req = NULL;
    void          *val = NULL;
    char           buf[8];

    T_STATUS(DKV_ERR_INVALID, dkv_put(ctx, bad, "v", 1));
    /* The detail names the call and what is wrong with the key. */
    T_CHECK(strstr(dkv_error_detail(ctx), "dkv_put") != NULL);
    T_CHECK(strstr(dkv_error_detail(ctx),
                   (bad == NULL)    ? "NULL"
                   : (*bad == '\0') ? "empty"
                                    : "longer than DKV_KEY_MAX") != NULL);
    T_STATUS(DKV_ERR_INVALID, dkv_get(ctx, bad, buf, sizeof(buf), NULL));
    T_CHECK(strstr(dkv_error_detail(ctx), "dkv_get") != NULL);
    T_STATUS(DKV_ERR_INVALID, dkv_get_alloc(ctx, bad, &val, NULL));
    T_CHECK(val == NULL);
    T_STATUS(DKV_ERR_INVALID, dkv_delete(ctx, bad));
    T_STATUS(DKV_ERR_INVALID, dkv_put_nb(ctx, bad, "v", 1, &req));
    T_CHECK(req == NULL);
    T_STATUS(DKV_ERR_INVALID, dkv_get_nb(ctx, bad, buf, sizeof(buf), NULL,
                                         &req));
    T_CHECK(req == NULL);
}

static void bad_arg_checks(dkv_ctx_t *ctx)
{
    dkv_request_t *req = NULL;
    const char    *key = NULL;
    dkv_status_t   st  = DKV_OK;
    char           buf[8];
    size_t         got = 0;
    int            done;

    bad_key_checks(ctx, NULL);
    bad_key_checks(ctx, "");
    bad_key_checks(ctx, long_key);

    /* NULL value with a size, NULL buffer with a size, NULL outputs. */
    T_STATUS(DKV_ERR_INVALID, dkv_put(ctx, "misuse/k", NULL, 5));
    T_CHECK(strstr(dkv_error_detail(ctx), "value is NULL but size is 5") !=
            NULL);
    T_STATUS(DKV_ERR_INVALID, dkv_put_nb(ctx, "misuse/k", NULL, 5, &req));
    T_CHECK(req == NULL);
    T_STATUS(DKV_ERR_INVALID, dkv_put_nb(ctx, "misuse/k", "v", 1, NULL));
    /* Sizes no holder could take (and no buffer could have): rejected
     * before anything is read from the buffer. */
    T_STATUS(DKV_ERR_INVALID, dkv_put(ctx, "misuse/k", "v", SIZE_MAX));
    T_STATUS(DKV_ERR_INVALID, dkv_put(ctx, "misuse/k", "v", 1ull << 63));
    T_STATUS(DKV_ERR_INVALID, dkv_put_nb(ctx, "misuse/k", "v", SIZE_MAX,
                                         &req));
    T_STATUS(DKV_ERR_INVALID, dkv_get(ctx, "misuse/k", NULL, 8, &got));
    T_STATUS(DKV_ERR_INVALID, dkv_get_nb(ctx, "misuse/k", NULL, 8, &got,
                                         &req));
    T_CHECK(req == NULL);
    T_STATUS(DKV_ERR_INVALID, dkv_get_nb(ctx, "misuse/k", buf, sizeof(buf),
                                         &got, NULL));
    T_STATUS(DKV_ERR_INVALID, dkv_get_alloc(ctx, "misuse/k", NULL, &got));
    T_STATUS(DKV_ERR_STATE, dkv_serve(ctx));
    T_CHECK(strstr(dkv_error_detail(ctx), "only a dedicated holder") !=
            NULL);
    /* A success leaves the last failure's reason as it was. */
    T_OK(dkv_quiet(ctx));
    T_CHECK(strstr(dkv_error_detail(ctx), "dkv_serve") != NULL);
    T_STATUS(DKV_ERR_NOT_FOUND, dkv_get(ctx, "misuse/absent", buf,
                                        sizeof(buf), &got));
    T_CHECK(strstr(dkv_error_detail(ctx), "dkv_get(\"misuse/absent\")") !=
            NULL);

    /* No failed writes: index 0 is out of range; NULL outputs. */
    T_OK(dkv_quiet(ctx));
    T_CHECK(dkv_failed_count(ctx) == 0);
    T_STATUS(DKV_ERR_INVALID, dkv_failed_key(ctx, 0, &key, &st));
    T_STATUS(DKV_ERR_INVALID, dkv_failed_key(ctx, 0, NULL, NULL));
    T_STATUS(DKV_ERR_INVALID, dkv_failed_key(ctx, (size_t)-1, &key, &st));

    /* dkv_test with a NULL done pointer on a live request. */
    T_OK(dkv_put_nb(ctx, "misuse/nb", "abc", 3, &req));
    T_STATUS(DKV_ERR_INVALID, dkv_test(req, NULL));
    done = 0;
    while (!done) {
        T_OK(dkv_test(req, &done));
    }
    T_OK(dkv_wait(req));
}

/* The context still works: a 0-byte put from NULL, the longest key. */
static void valid_checks(dkv_ctx_t *ctx)
{
    uint8_t val[300];
    size_t  got = 1;

    T_OK(dkv_put(ctx, "misuse/empty", NULL, 0));
    t_fill(val, sizeof(val), t_seed(max_key, 0));
    T_OK(dkv_put(ctx, max_key, val, sizeof(val)));
    T_OK(dkv_quiet(ctx));
    T_CHECK(dkv_failed_count(ctx) == 0);
    T_OK(dkv_get(ctx, "misuse/empty", NULL, 0, &got));
    T_CHECK(got == 0);
    T_VALUE(ctx, max_key, sizeof(val), t_seed(max_key, 0));
    T_OK(dkv_get(ctx, "misuse/nb", val, sizeof(val), &got));
    T_CHECK((got == 3) && (memcmp(val, "abc", 3) == 0));
}

static void calls_mode(void)
{
    dkv_ctx_t *ctx;

    strerror_checks();
    null_ctx_checks();
    T_NOT_OK(dkv_init(NULL, NULL));
    ctx = t_init();
    bad_arg_checks(ctx);
    valid_checks(ctx);
    T_OK(dkv_fence(ctx));
    T_VALUE(ctx, max_key, 300, t_seed(max_key, 0));
    T_OK(dkv_fence(ctx));
    if (t_rank == 0) {
        T_OK(dkv_delete(ctx, max_key));
    }
    T_OK(dkv_fence(ctx));
    T_STATUS(DKV_ERR_NOT_FOUND, dkv_get(ctx, max_key, NULL, 0, NULL));
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);
    null_ctx_checks();
}

static void after_finalize_mode(void)
{
    dkv_ctx_t     *ctx = t_init();
    dkv_request_t *req = NULL;
    const char    *key = NULL;
    dkv_status_t   st  = DKV_OK;
    void          *val = NULL;
    char           buf[8];

    T_OK(dkv_put(ctx, "misuse/k", "v", 1));
    T_OK(dkv_fence(ctx));
    t_finalize(ctx);

    T_NOT_OK(dkv_put(ctx, "misuse/k", "v", 1));
    T_NOT_OK(dkv_get(ctx, "misuse/k", buf, sizeof(buf), NULL));
    T_NOT_OK(dkv_get_alloc(ctx, "misuse/k", &val, NULL));
    T_CHECK(val == NULL);
    T_NOT_OK(dkv_delete(ctx, "misuse/k"));
    T_NOT_OK(dkv_quiet(ctx));
    T_NOT_OK(dkv_fence(ctx));
    T_NOT_OK(dkv_serve(ctx));
    T_NOT_OK(dkv_put_nb(ctx, "misuse/k", "v", 1, &req));
    T_CHECK(req == NULL);
    T_NOT_OK(dkv_get_nb(ctx, "misuse/k", buf, sizeof(buf), NULL, &req));
    T_CHECK(req == NULL);
    T_NOT_OK(dkv_failed_key(ctx, 0, &key, &st));
    T_NOT_OK(dkv_finalize(ctx));
    T_CHECK(strstr(dkv_error_detail(ctx), "finalized") != NULL);
    printf("rank %d: calls after dkv_finalize refused\n", t_rank);
}

int main(int argc, char **argv)
{
    make_keys();
    T_CHECK(argc == 2);
    if (strcmp(argv[1], "calls") == 0) {
        calls_mode();
    } else if (strcmp(argv[1], "after-finalize") == 0) {
        after_finalize_mode();
    } else {
        T_CHECK(!"mode is calls or after-finalize");
    }
    return 0;
}
