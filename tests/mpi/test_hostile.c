/*
 * test_hostile: a rank that speaks raw UCX to a holder. It has the holder's
 * address (from PMIx, like any rank) but does not use the job secret, and
 * sends malformed and unauthenticated messages: bad magic, wrong version,
 * unknown kind, bad CRC, a key longer than the message, a truncated header,
 * a value length of 2^63, a key without its terminator, nonzero flags, a
 * well-formed PUT and GET without the secret, an empty header. The holder
 * must reject each (answering DKV_ERR_PROTOCOL where it can, never with
 * data), keep serving, and every key it holds must read back intact.
 *
 * 2 ranks, DKV_HOLDERS=ranks:0. Rank 0 uses dramkv; rank 1 is the attacker
 * and takes part in dkv_init's and dkv_finalize's PMIx fences by hand.
 */
#include <pmix.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucp/api/ucp.h>

#include "crc32c.h"
#include "mpi_test_util.h"
#include "wire.h"

#define NKEYS 32

static int replies, protocol_replies, data_replies;

static ucs_status_t on_reply(void *arg, const void *header, size_t hlen,
                             void *data, size_t length,
                             const ucp_am_recv_param_t *param)
{
    dkv__wire_hdr_t h;

    replies++;
    if (hlen >= sizeof(h)) {
        memcpy(&h, header, sizeof(h));
        protocol_replies += (h.status == DKV_ERR_PROTOCOL);
    }
    data_replies += (length > 0);
    return UCS_OK;
}

static void pmix_fence(int collect)
{
    pmix_info_t info;
    bool        flag = (collect != 0);

    PMIX_INFO_LOAD(&info, PMIX_COLLECT_DATA, &flag, PMIX_BOOL);
    T_CHECK(PMIx_Fence(NULL, 0, collect ? &info : NULL, collect ? 1 : 0) ==
            PMIX_SUCCESS);
}

/* A header with valid magic, version and CRC unless the caller breaks it. */
static size_t build(char *buf, uint8_t kind, const char *key, size_t vlen)
{
    dkv__wire_hdr_t h;

    memset(&h, 0, sizeof(h));
    h.kind      = kind;
    h.req_id    = 7;
    h.value_len = vlen;
    h.secret    = 0x1234; /* not the job's */
    return dkv__wire_pack(buf, &h, key, (key != NULL) ? strlen(key) : 0);
}

static void reseal(char *buf)
{
    dkv__wire_hdr_t *h = (dkv__wire_hdr_t *)buf;

    h->crc = dkv__crc32c(0, buf, offsetof(dkv__wire_hdr_t, crc));
}

static void send_am(ucp_worker_h w, ucp_ep_h ep, unsigned id, const void *hdr,
                    size_t hlen, const void *data, size_t dlen)
{
    ucp_request_param_t param;
    void               *req;

    memset(&param, 0, sizeof(param));
    param.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
    param.flags        = UCP_AM_SEND_FLAG_REPLY | UCP_AM_SEND_FLAG_EAGER;
    req = ucp_am_send_nbx(ep, id, hdr, hlen, data, dlen, &param);
    if (UCS_PTR_IS_PTR(req)) {
        while (ucp_request_check_status(req) == UCS_INPROGRESS) {
            ucp_worker_progress(w);
        }
        ucp_request_free(req);
    }
}

static void attack(ucp_worker_h w, ucp_ep_h ep)
{
    char             buf[2048], val[64];
    dkv__wire_hdr_t *h = (dkv__wire_hdr_t *)buf;
    size_t           n;
    double           t0;
    int              sent = 0;

    memset(val, 0x5a, sizeof(val));
    /* Well-formed but without the secret: must not store or leak. */
    n = build(buf, DKV__MSG_PUT, "key0", sizeof(val));
    send_am(w, ep, DKV__MSG_PUT, buf, n, val, sizeof(val)), sent++;
    n = build(buf, DKV__MSG_GET, "key1", 0);
    send_am(w, ep, DKV__MSG_GET, buf, n, NULL, 0), sent++;
    n = build(buf, DKV__MSG_DELETE, "key2", 0);
    send_am(w, ep, DKV__MSG_DELETE, buf, n, NULL, 0), sent++;
    /* Bad magic, version, kind, flags, CRC. */
    n = build(buf, DKV__MSG_PUT, "key3", sizeof(val));
    h->magic ^= 1, reseal(buf);
    send_am(w, ep, DKV__MSG_PUT, buf, n, val, sizeof(val)), sent++;
    n = build(buf, DKV__MSG_PUT, "key3", sizeof(val));
    h->version = 9, reseal(buf);
    send_am(w, ep, DKV__MSG_PUT, buf, n, val, sizeof(val)), sent++;
    n = build(buf, DKV__MSG_PUT, "key3", sizeof(val));
    h->kind = 99, reseal(buf);
    send_am(w, ep, DKV__MSG_PUT, buf, n, val, sizeof(val)), sent++;
    n = build(buf, DKV__MSG_PUT, "key3", sizeof(val));
    h->flags = 4, reseal(buf);
    send_am(w, ep, DKV__MSG_PUT, buf, n, val, sizeof(val)), sent++;
    n = build(buf, DKV__MSG_PUT, "key3", sizeof(val));
    h->crc ^= 0x100;
    send_am(w, ep, DKV__MSG_PUT, buf, n, val, sizeof(val)), sent++;
    /* Lengths: key longer than the message, truncated header, huge value,
     * key without its terminator, empty header. */
    n = build(buf, DKV__MSG_PUT, "key3", sizeof(val));
    h->key_len = 900, reseal(buf);
    send_am(w, ep, DKV__MSG_PUT, buf, n, val, sizeof(val)), sent++;
    n = build(buf, DKV__MSG_GET, "key3", 0);
    send_am(w, ep, DKV__MSG_GET, buf, 20, NULL, 0), sent++;
    n = build(buf, DKV__MSG_PUT, "key3", 1ull << 63);
    send_am(w, ep, DKV__MSG_PUT, buf, n, val, sizeof(val)), sent++;
    n = build(buf, DKV__MSG_PUT, "key3", sizeof(val));
    buf[n - 1] = 'x';
    send_am(w, ep, DKV__MSG_PUT, buf, n, val, sizeof(val)), sent++;
    send_am(w, ep, DKV__MSG_GET, buf, 0, NULL, 0), sent++;
    /* Wait (bounded) for the answers the holder can give. */
    t0 = t_now();
    while ((replies < 6) && (t_now() - t0 < 5.0)) {
        ucp_worker_progress(w);
    }
    printf("attacker sent %d messages, got %d replies (%d PROTOCOL, %d with "
           "data)\n", sent, replies, protocol_replies, data_replies);
    T_CHECK(data_replies == 0);
    T_CHECK(replies == protocol_replies);
    T_CHECK(protocol_replies >= 6);
}

static void attacker(void)
{
    pmix_proc_t         me, holder;
    pmix_value_t       *val = NULL;
    ucp_params_t        params;
    ucp_config_t       *cfg;
    ucp_context_h       ucp;
    ucp_worker_params_t wp;
    ucp_worker_h        w;
    ucp_ep_params_t     ep_params;
    ucp_ep_h            ep;
    unsigned            id;

    T_CHECK(PMIx_Init(&me, NULL, 0) == PMIX_SUCCESS);
    t_rank = (int)me.rank;
    pmix_fence(1); /* dkv_init's address exchange */
    PMIX_LOAD_PROCID(&holder, me.nspace, 0);
    T_CHECK(PMIx_Get(&holder, "dkv.saddr", NULL, 0, &val) == PMIX_SUCCESS);

    memset(&params, 0, sizeof(params));
    params.field_mask = UCP_PARAM_FIELD_FEATURES;
    params.features   = UCP_FEATURE_AM;
    T_CHECK(ucp_config_read(NULL, NULL, &cfg) == UCS_OK);
    T_CHECK(ucp_init(&params, cfg, &ucp) == UCS_OK);
    ucp_config_release(cfg);
    memset(&wp, 0, sizeof(wp));
    T_CHECK(ucp_worker_create(ucp, &wp, &w) == UCS_OK);
    for (id = DKV__MSG_PUT_ACK; id <= DKV__MSG_DELETE_ACK; id += 2) {
        ucp_am_handler_param_t hp;

        memset(&hp, 0, sizeof(hp));
        hp.field_mask = UCP_AM_HANDLER_PARAM_FIELD_ID |
                        UCP_AM_HANDLER_PARAM_FIELD_CB;
        hp.id         = id;
        hp.cb         = on_reply;
        T_CHECK(ucp_worker_set_am_recv_handler(w, &hp) == UCS_OK);
    }
    memset(&ep_params, 0, sizeof(ep_params));
    ep_params.field_mask = UCP_EP_PARAM_FIELD_REMOTE_ADDRESS;
    ep_params.address    = (const ucp_address_t *)val->data.bo.bytes;
    T_CHECK(ucp_ep_create(w, &ep_params, &ep) == UCS_OK);

    pmix_fence(0); /* rank 0 has stored its keys */
    attack(w, ep);
    pmix_fence(0); /* attack over */
    {
        ucp_request_param_t cp;
        void               *req;

        memset(&cp, 0, sizeof(cp));
        cp.op_attr_mask = UCP_OP_ATTR_FIELD_FLAGS;
        cp.flags        = UCP_EP_CLOSE_FLAG_FORCE;
        req = ucp_ep_close_nbx(ep, &cp);
        while (UCS_PTR_IS_PTR(req) &&
               (ucp_request_check_status(req) == UCS_INPROGRESS)) {
            ucp_worker_progress(w);
        }
        if (UCS_PTR_IS_PTR(req)) {
            ucp_request_free(req);
        }
    }
    ucp_worker_destroy(w);
    ucp_cleanup(ucp);
    PMIX_VALUE_RELEASE(val);
    PMIx_Finalize(NULL, 0);
    printf("PASS attacker\n");
}

static void victim(void)
{
    pmix_proc_t me;
    dkv_ctx_t  *ctx;
    char        key[32], buf[256];
    size_t      n;
    int         i;

    /* For the fences; before dkv_init, which ends its own PMIx use. */
    T_CHECK(PMIx_Init(&me, NULL, 0) == PMIX_SUCCESS);
    T_OK(dkv_init(NULL, &ctx));
    t_rank = dkv_rank(ctx);
    for (i = 0; i < NKEYS; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        t_fill(buf, sizeof(buf), (uint64_t)i);
        T_OK(dkv_put(ctx, key, buf, sizeof(buf)));
    }
    T_OK(dkv_quiet(ctx));
    pmix_fence(0);
    pmix_fence(0); /* the attack happens in between */
    for (i = 0; i < NKEYS; i++) {
        snprintf(key, sizeof(key), "key%d", i);
        memset(buf, 0, sizeof(buf));
        T_OK(dkv_get(ctx, key, buf, sizeof(buf), &n));
        T_CHECK((n == sizeof(buf)) && t_verify(buf, n, (uint64_t)i));
    }
    /* Still serving new writes. */
    T_OK(dkv_put(ctx, "after", "ok", 3));
    T_OK(dkv_quiet(ctx));
    T_OK(dkv_get(ctx, "after", buf, sizeof(buf), &n));
    T_CHECK((n == 3) && (strcmp(buf, "ok") == 0));
    /* The attacker is not a dramkv rank and never joins finalize's
     * barrier: finalize gives up on it after DKV_FINALIZE_TIMEOUT_MS. */
    {
        double       t0 = t_now();
        dkv_status_t st = dkv_finalize(ctx);

        T_CHECK((st == DKV_OK) || (st == DKV_ERR_TIMEOUT));
        T_CHECK(t_now() - t0 < 10.0);
    }
    PMIx_Finalize(NULL, 0);
    printf("PASS victim: %d keys intact\n", NKEYS);
}

int main(void)
{
    const char *r = getenv("OMPI_COMM_WORLD_RANK");

    if (r == NULL) {
        r = getenv("SLURM_PROCID");
    }
    if ((r != NULL) && (atoi(r) == 1)) {
        attacker();
    } else {
        victim();
    }
    return 0;
}
