/**
 * dramkv: job-wide DRAM key/value staging for HPC jobs.
 *
 * This is the only public header. Everything a program needs is declared here;
 * the layout of every object is private.
 *
 * Model: ranks start under mpirun or srun --mpi=pmix. Some ranks are holders:
 * they keep values in their DRAM and serve them from a thread of their own.
 * Every rank may put, get and delete keys. Writes are one-sided: dkv_put()
 * returns when the source buffer may be reused; the write is "outstanding"
 * until its holder acknowledges it. dkv_quiet() waits for this rank's
 * outstanding writes; dkv_fence() is the collective quiet + barrier after
 * which every acknowledged write is visible to every rank.
 *
 * Threading: the API is funneled. One thread at a time may call dramkv for a
 * given context. Calls never invoke user code.
 *
 * Pointer lifetimes (written at each prototype):
 *   borrowed   - read or written only during the call;
 *   held       - must stay valid until the request completes;
 *   returned   - allocated by dramkv, released with the named function.
 */
#ifndef DRAMKV_H
#define DRAMKV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DKV_VERSION_MAJOR 0
#define DKV_VERSION_MINOR 2
#define DKV_VERSION_PATCH 0

#if defined(__GNUC__)
#define DKV_NODISCARD __attribute__((warn_unused_result))
#else
#define DKV_NODISCARD
#endif

#if defined(__GNUC__)
#define DKV_API __attribute__((visibility("default")))
#else
#define DKV_API
#endif

#define DKV_BIT(i) (1ull << (i))

/** Longest key in bytes, not counting the terminating NUL. */
#define DKV_KEY_MAX 1024

/* ------------------------------------------------------------------ */
/* Status codes                                                        */
/* ------------------------------------------------------------------ */

/*
 * name, value, text. Values are never reused.
 *
 * What a status promises about the data (every call, every launcher):
 *  - DKV_OK from a write's completion (dkv_quiet, dkv_fence, dkv_wait): the
 *    value is stored on every copy's holder.
 *  - DKV_ERR_UNKNOWN (writes only): no acknowledgment came in time; the
 *    value may or may not be stored (a later get returns either the new or
 *    the old value, never a mix).
 *  - DKV_ERR_TIMEOUT (reads, listings, fences, drains, init): the call gave
 *    up; it changed no stored data.
 *  - DKV_ERR_PEER_LOST: a process the call needed has died. A write whose
 *    holder died may be stored on the other copies' holders.
 *  - Every other error of a write (NO_SPACE, REPLICAS, CORRUPT, PROTOCOL,
 *    INVALID, STATE): the value was not stored.
 * After any call returns, whatever its status, dramkv never reads or writes
 * the caller's buffers again: a transfer still running at the deadline is
 * cancelled (its endpoint is closed) before the call returns.
 */
#define DKV_STATUS_MAP(X)                                                     \
    X(DKV_OK, 0, "success")                                                   \
    X(DKV_ERR_INVALID, -1, "invalid argument")                                \
    X(DKV_ERR_NO_MEMORY, -2, "out of memory")                                 \
    X(DKV_ERR_NOT_FOUND, -3, "key not found")                                 \
    X(DKV_ERR_TRUNCATED, -4, "value larger than buffer")                      \
    X(DKV_ERR_TIMEOUT, -5, "operation timed out")                             \
    X(DKV_ERR_PEER_LOST, -6, "peer process lost")                             \
    X(DKV_ERR_STATE, -7, "call not valid in current state")                   \
    X(DKV_ERR_WOULD_BLOCK, -8, "blocking call from a callback")               \
    X(DKV_ERR_NO_SPACE, -9, "holder memory limit reached")                    \
    X(DKV_ERR_PROTOCOL, -10, "malformed or unexpected message")               \
    X(DKV_ERR_TRANSPORT, -11, "transport (UCX) error")                        \
    X(DKV_ERR_BOOTSTRAP, -12, "bootstrap (PMIx) error")                       \
    X(DKV_ERR_CORRUPT, -13, "data failed its integrity check")              \
    X(DKV_ERR_REPLICAS, -14, "fewer live holders than DKV_REPLICAS copies")  \
    X(DKV_ERR_IO, -15, "file system error")                                   \
    X(DKV_ERR_UNKNOWN, -16, "outcome unknown: the write may or may not be "  \
                            "stored")                                         \
    X(DKV_ERR_CONFLICT, -17, "condition failed: the key's generation "      \
                             "differs")

typedef enum {
#define DKV_X_ENUM(name, value, text) name = value,
    DKV_STATUS_MAP(DKV_X_ENUM)
#undef DKV_X_ENUM
} dkv_status_t;

/**
 * Text for a status. Never NULL; a static string for every input, unknown
 * values included. Safe from any thread.
 */
DKV_API const char *dkv_strerror(dkv_status_t status);

/**
 * The library's version at run time, as major * 10000 + minor * 100 +
 * patch (compare with DKV_VERSION_MAJOR/MINOR/PATCH of the header the
 * program was built with). Any thread, any time.
 */
DKV_API int dkv_version(void);

/* ------------------------------------------------------------------ */
/* Objects                                                             */
/* ------------------------------------------------------------------ */

typedef struct dkv_ctx dkv_ctx_t;         /* one per process */
typedef struct dkv_request dkv_request_t; /* a non-blocking operation */

/* ------------------------------------------------------------------ */
/* Initialisation                                                      */
/* ------------------------------------------------------------------ */

enum {
    DKV_INIT_PARAM_FIELD_TIMEOUT_MS = DKV_BIT(0),
    DKV_INIT_PARAM_FIELD_HOLDERS    = DKV_BIT(1),
    DKV_INIT_PARAM_FIELD_HOLD_BYTES = DKV_BIT(2),
    DKV_INIT_PARAM_FIELD_DEDICATED  = DKV_BIT(3),
    DKV_INIT_PARAM_FIELD_REPLICAS   = DKV_BIT(4)
};

/**
 * Optional settings for dkv_init(). Set the bit of each field you fill in;
 * other fields take their DKV_* environment value, or the default written
 * beside them. A field set here beats the environment (its variable is then
 * not read at all). Fields are only ever appended.
 */
typedef struct dkv_init_params {
    uint64_t field_mask;
    /** Deadline of any blocking call in ms (DKV_TIMEOUT_MS, 60000). */
    unsigned timeout_ms;
    /** Which ranks hold data (DKV_HOLDERS, "node"): node | all | last:K |
     *  every:N | ranks:LIST. Borrowed. Must be the same on every rank. */
    const char *holders;
    /** Bytes a holder may store, keys and values (DKV_HOLD_BYTES; default
     *  half the node's memory shared among its holders). */
    size_t hold_bytes;
    /** Non-zero: holders only serve (call dkv_serve()) and take no part in
     *  fences (DKV_DEDICATED, 0). Must be the same on every rank. */
    int dedicated;
    /** Copies of every key, each on a different holder, on different nodes
     *  whenever the job has enough (DKV_REPLICAS, 1). 1..8. Must be the same
     *  on every rank. */
    unsigned replicas;
} dkv_init_params_t;

/**
 * Start dramkv in this process. Collective over all ranks of the job.
 *
 * Reads rank, size and node layout from PMIx, opens UCX, starts the holder
 * thread if this rank is a holder, and exchanges worker addresses.
 * Works whether or not the program uses MPI (before or after MPI_Init).
 *
 * @param [in]  params  Borrowed; NULL means defaults + DKV_* environment.
 * @param [out] ctx_p   Written only on success.
 *
 * @return DKV_OK, DKV_ERR_INVALID (bad parameter or DKV_* value, e.g. a bad
 *         holder spec; the log names the bad part), DKV_ERR_BOOTSTRAP (not
 *         started by a PMIx launcher), DKV_ERR_TRANSPORT, DKV_ERR_NO_MEMORY,
 *         DKV_ERR_TIMEOUT.
 * @context Any thread; that thread then owns the context.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_init(const dkv_init_params_t *params,
                                    dkv_ctx_t **ctx_p);

/**
 * Stop dramkv. Collective. Waits for a drain this rank started and has not
 * seen end (as dkv_drain_wait()), completes all outstanding writes, then
 * waits for every rank, then releases everything. A non-dedicated rank also
 * tells the dedicated holders it is done. @p ctx must not be used
 * afterwards.
 *
 * @param [in] ctx  NULL: does nothing and returns DKV_OK.
 * @return DKV_OK, the first error of the outstanding writes, or the
 *         running drain's error; resources are released in every case.
 * @context Owner thread of @p ctx.
 */
DKV_API dkv_status_t dkv_finalize(dkv_ctx_t *ctx);

/** This process's rank in the job, or -1 for a NULL context. */
DKV_API int dkv_rank(const dkv_ctx_t *ctx);
/** Number of ranks in the job, or -1 for a NULL context. */
DKV_API int dkv_size(const dkv_ctx_t *ctx);
/** 1 if this rank holds data, 0 if not or for a NULL context. */
DKV_API int dkv_is_holder(const dkv_ctx_t *ctx);
/** Number of holders in the job, or -1 for a NULL context. */
DKV_API int dkv_num_holders(const dkv_ctx_t *ctx);
/** 1 if this rank is a dedicated holder (it should call dkv_serve()). */
DKV_API int dkv_is_dedicated(const dkv_ctx_t *ctx);

/* ------------------------------------------------------------------ */
/* Data                                                                */
/* ------------------------------------------------------------------ */

/**
 * Store @p size bytes under @p key on the key's holder (on each of its
 * DKV_REPLICAS holders; the write is acknowledged when every copy is stored).
 *
 * Returns when @p value may be reused. The write is then outstanding until
 * its holder acknowledges it; its errors (holder full, holder lost, timeout)
 * are reported by dkv_quiet() / dkv_fence(). Puts from one rank to one key are
 * applied in issue order. Other ranks are guaranteed to see the value after
 * dkv_fence(), or after this rank's dkv_quiet() and a synchronisation.
 *
 * @param [in] key    Borrowed; NUL-terminated, 1..DKV_KEY_MAX bytes.
 * @param [in] value  Borrowed; may be NULL when @p size is 0.
 * @param [in] size   Bytes, up to the holder's limit.
 *
 * @return DKV_OK, DKV_ERR_INVALID, DKV_ERR_STATE (before init or after
 *         finalize), DKV_ERR_NO_MEMORY, DKV_ERR_TRANSPORT, DKV_ERR_PEER_LOST,
 *         DKV_ERR_UNKNOWN (the value could not be handed over in time and
 *         the transfer was cancelled: it may or may not be stored),
 *         DKV_ERR_REPLICAS (fewer live holders than DKV_REPLICAS: nothing
 *         is sent). Whatever the status, @p value is not read after the
 *         call returns.
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_put(dkv_ctx_t *ctx, const char *key,
                                   const void *value, size_t size);

/**
 * Read the value of @p key into @p buf. With DKV_REPLICAS > 1 a get whose
 * holder is lost is retried on the key's next copy.
 *
 * @param [in]  key       Borrowed.
 * @param [out] buf       Borrowed; may be NULL when @p buf_size is 0.
 * @param [in]  buf_size  Bytes available at @p buf.
 * @param [out] size_p    Borrowed, may be NULL; receives the value's full
 *                        size on DKV_OK and on DKV_ERR_TRUNCATED.
 *
 * @return DKV_OK, DKV_ERR_NOT_FOUND, DKV_ERR_TRUNCATED (nothing copied),
 *         DKV_ERR_INVALID, DKV_ERR_STATE, DKV_ERR_PEER_LOST, DKV_ERR_TIMEOUT,
 *         DKV_ERR_PROTOCOL, DKV_ERR_TRANSPORT. On any error @p buf holds
 *         no promise, and it is not written after the call returns.
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_get(dkv_ctx_t *ctx, const char *key, void *buf,
                                   size_t buf_size, size_t *size_p);

/**
 * Read the value of @p key into a buffer allocated for it.
 *
 * @param [out] value_p  Returned; release with free(). Written only on
 *                       DKV_OK (a 0-byte value gives a valid 1-byte buffer).
 * @param [out] size_p   Borrowed, may be NULL.
 * @return as dkv_get(), plus DKV_ERR_NO_MEMORY; never DKV_ERR_TRUNCATED.
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_get_alloc(dkv_ctx_t *ctx, const char *key,
                                         void **value_p, size_t *size_p);

/**
 * Remove @p key (every live copy). Like a put, the delete is outstanding
 * until acknowledged;
 * dkv_quiet() reports its result. Deleting a missing key is not an error.
 *
 * @param [in] key  Borrowed.
 * @return DKV_OK, DKV_ERR_INVALID, DKV_ERR_STATE, DKV_ERR_TRANSPORT,
 *         DKV_ERR_PEER_LOST, DKV_ERR_UNKNOWN.
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_delete(dkv_ctx_t *ctx, const char *key);

/* ------------------------------------------------------------------ */
/* Key/value semantics: generations, byte ranges, conditional writes   */
/* ------------------------------------------------------------------ */

/*
 * Every stored value has a 64-bit generation. A key's generations grow
 * with each value it gets and are never reused for the life of the
 * holders' store, also across a delete; 0 means "absent". All copies of a
 * value written by dkv_put_if() have the same generation. Copies written
 * by plain dkv_put() are stamped by each holder on its own, so with
 * DKV_REPLICAS > 1 their generations may differ (each is still unique and
 * increasing per key on its copy); readers see the first live copy's. A
 * value brought back by dkv_load() gets a new generation.
 */

/**
 * Read bytes [@p offset, @p offset + @p len) of the value of @p key (fewer
 * at its end). Only those bytes travel from the holder. With DKV_REPLICAS >
 * 1 a read whose holder is lost is retried on the key's next copy.
 *
 * @param [in]  key           Borrowed.
 * @param [in]  offset        First byte; at or beyond the end: DKV_OK and
 *                            nothing copied.
 * @param [out] buf           Borrowed; may be NULL when @p len is 0.
 * @param [in]  len           Bytes wanted (and room at @p buf).
 * @param [out] copied_p      Borrowed, may be NULL: bytes stored in @p buf.
 * @param [out] value_size_p  Borrowed, may be NULL: the value's full size.
 * @param [out] generation_p  Borrowed, may be NULL: the generation read.
 *                            The outputs are written only on DKV_OK.
 *
 * @return DKV_OK, DKV_ERR_NOT_FOUND, DKV_ERR_INVALID, DKV_ERR_STATE,
 *         DKV_ERR_PEER_LOST, DKV_ERR_TIMEOUT, DKV_ERR_PROTOCOL,
 *         DKV_ERR_TRANSPORT. On an error @p buf holds no promise, and it
 *         is not written after the call returns.
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_read(dkv_ctx_t *ctx, const char *key,
                                            size_t offset, void *buf,
                                            size_t len, size_t *copied_p,
                                            size_t *value_size_p,
                                            uint64_t *generation_p);

/**
 * Size and generation of the value of @p key; no value bytes travel.
 *
 * @param [out] size_p        Borrowed, may be NULL.
 * @param [out] generation_p  Borrowed, may be NULL. Written only on DKV_OK.
 * @return as dkv_read(); DKV_ERR_NOT_FOUND when the key is absent.
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_stat(dkv_ctx_t *ctx, const char *key,
                                            size_t *size_p,
                                            uint64_t *generation_p);

/**
 * Store @p value under @p key only if the key's generation is
 * @p if_generation now (0: only if the key is absent). Decided by the
 * key's first live holder at one instant, so conditional writes of one key
 * are linearizable, also against plain puts and deletes from other ranks;
 * with DKV_REPLICAS > 1 the other copies take the decided value before the
 * call returns. Unlike dkv_put(), the call returns the decision (it is not
 * left outstanding, and dkv_quiet() does not report it again).
 *
 * @param [in]  key             Borrowed.
 * @param [in]  value           Borrowed; may be NULL when @p size is 0.
 * @param [in]  if_generation   The generation expected; 0: absent.
 * @param [out] generation_p    Borrowed, may be NULL: on DKV_OK the new
 *                              value's generation; on DKV_ERR_CONFLICT the
 *                              key's current one (0: absent).
 *
 * @return DKV_OK (stored on every copy), DKV_ERR_CONFLICT (nothing
 *         stored), DKV_ERR_INVALID, DKV_ERR_STATE, DKV_ERR_NO_SPACE,
 *         DKV_ERR_NO_MEMORY, DKV_ERR_REPLICAS (nothing sent),
 *         DKV_ERR_PEER_LOST or DKV_ERR_TRANSPORT (the first copy was not
 *         reached: nothing stored; or, after the first copy stored it, a
 *         follower was lost: the value is visible on the first copy),
 *         DKV_ERR_UNKNOWN (no answer in time: it may or may not be
 *         stored). @p value is not read after the call returns.
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_put_if(dkv_ctx_t *ctx, const char *key,
                                              const void *value, size_t size,
                                              uint64_t if_generation,
                                              uint64_t *generation_p);

/**
 * Remove @p key only if its generation is @p if_generation now (0: succeed
 * only if the key is absent, removing nothing). Decided like dkv_put_if().
 *
 * @param [out] generation_p  Borrowed, may be NULL: on DKV_ERR_CONFLICT
 *                            the key's current generation; 0 on DKV_OK.
 * @return DKV_OK, DKV_ERR_CONFLICT, DKV_ERR_INVALID, DKV_ERR_STATE,
 *         DKV_ERR_PEER_LOST, DKV_ERR_TRANSPORT, DKV_ERR_UNKNOWN.
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_delete_if(dkv_ctx_t *ctx,
                                                 const char *key,
                                                 uint64_t if_generation,
                                                 uint64_t *generation_p);

/* ------------------------------------------------------------------ */
/* Completion                                                          */
/* ------------------------------------------------------------------ */

/**
 * Wait until every write and delete this rank issued is acknowledged.
 * Returns the first error among them; dkv_failed_count() and
 * dkv_failed_key() then list each failed key and why, until the next
 * dkv_quiet() or dkv_fence().
 *
 * @return DKV_OK, DKV_ERR_NO_SPACE, DKV_ERR_PEER_LOST, DKV_ERR_UNKNOWN
 *         (a write not acknowledged within DKV_TIMEOUT_MS: it may or may
 *         not be stored), DKV_ERR_PROTOCOL, DKV_ERR_STATE, ...
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_quiet(dkv_ctx_t *ctx);

/**
 * Collective over all non-dedicated ranks (the members): dkv_quiet(), then
 * an agreement on one verdict and on which members are dead. Every member
 * that returns from the same fence (the N-th fence of each rank, counting
 * the fences inside dkv_drain_start() and dkv_load()) returns the same
 * status, in this order of precedence:
 *
 *  - DKV_ERR_TIMEOUT: some live member's part was missing when the
 *    deadline (DKV_TIMEOUT_MS from the call) passed. Its vote did not reach
 *    the fence's coordinator (the lowest live member) by the coordinator's
 *    deadline, or a member's own deadline passed before a decision reached
 *    it. A member that comes to a fence later than that gets
 *    DKV_ERR_TIMEOUT at once, never DKV_OK. The members' quiet results are
 *    not combined into a TIMEOUT, and a loss seen meanwhile is reported by
 *    the next fence that completes.
 *  - DKV_ERR_PEER_LOST: members died that no earlier fence reported. A
 *    member that dies during a fence is reported by that fence, or by the
 *    next one if the fence was already decided when it died. Each loss is
 *    reported by exactly one fence; the fences after it go on among the
 *    survivors (DKV_OK if nothing else failed), and every other call treats
 *    the lost members as dead.
 *  - otherwise the lowest (most negative) status of the members' quiets:
 *    DKV_OK if every member's quiet succeeded (a write to a lost holder
 *    makes its quiet, and so the fence, DKV_ERR_PEER_LOST as well).
 *
 * Unless DKV_ERR_TIMEOUT, afterwards every write a surviving member had
 * acknowledged before its fence is visible to every get. This rank's failed
 * keys stay listed as for dkv_quiet().
 *
 * Every member returns within DKV_TIMEOUT_MS plus at most two grace
 * periods (a grace period: half of DKV_TIMEOUT_MS, within 200 ms..2 s).
 * The verdicts agree whatever members die, at any step of a fence, as long
 * as the coordinator and both of its backups (the next two live members)
 * do not all die during the same fence, and whenever members are late.
 * They can disagree only if a member holding the one undelivered copy of a
 * decision is stalled (stopped, not dead) for longer than a grace period,
 * or if a live member is wrongly found dead - it is then left out: its
 * later fences return DKV_ERR_PEER_LOST at once.
 *
 * @return as above; DKV_ERR_STATE on a dedicated holder.
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_fence(dkv_ctx_t *ctx);

/** Number of writes/deletes that failed at the last quiet or fence. */
DKV_API size_t dkv_failed_count(const dkv_ctx_t *ctx);

/**
 * One failed write or delete from the last quiet or fence.
 *
 * @param [in]  index     0..dkv_failed_count()-1.
 * @param [out] key_p     Returned; valid until the next dkv_quiet(),
 *                        dkv_fence() or dkv_finalize(); do not free.
 * @param [out] status_p  Why it failed.
 * @return DKV_OK or DKV_ERR_INVALID.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_failed_key(const dkv_ctx_t *ctx, size_t index,
                                          const char **key_p,
                                          dkv_status_t *status_p);

/* ------------------------------------------------------------------ */
/* Non-blocking operations                                             */
/* ------------------------------------------------------------------ */

/**
 * Start a put. @p value is held until the request completes, which is when
 * the holder has acknowledged the write. Complete it with dkv_test() /
 * dkv_wait(). It also counts as outstanding for dkv_quiet().
 *
 * @param [out] req_p  Returned; released only by dkv_wait().
 * @return DKV_OK (request started), or an error and no request.
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_put_nb(dkv_ctx_t *ctx, const char *key,
                                      const void *value, size_t size,
                                      dkv_request_t **req_p);

/**
 * Start a get into @p buf (held until completion). @p size_p (held, may be
 * NULL) receives the value's size. The final status, from dkv_wait(), is as
 * for dkv_get().
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_get_nb(dkv_ctx_t *ctx, const char *key,
                                      void *buf, size_t buf_size,
                                      size_t *size_p, dkv_request_t **req_p);

/**
 * Drive progress once and report whether @p req has completed.
 *
 * @param [out] done_p  1 when complete (then call dkv_wait() to collect the
 *                      status and release the request), else 0.
 * @return DKV_OK or DKV_ERR_INVALID.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_test(dkv_request_t *req, int *done_p);

/**
 * Wait for @p req (bounded by the timeout), release it, and return the
 * operation's status: a write that was not acknowledged in time gives
 * DKV_ERR_UNKNOWN, a read DKV_ERR_TIMEOUT. Whatever the status, the
 * request is released and its buffers are no longer touched.
 */
DKV_API dkv_status_t dkv_wait(dkv_request_t *req);

/* ------------------------------------------------------------------ */
/* Listing                                                             */
/* ------------------------------------------------------------------ */

/**
 * Called once per listed key. @p key (borrowed, NUL-terminated) and @p size
 * (the value's bytes) are valid during the call. Return 0 to go on, non-zero
 * to stop the listing. The callback may call dramkv (e.g. dkv_get()).
 */
typedef int (*dkv_list_cb_t)(const char *key, size_t size, void *arg);

/**
 * Visit every stored key that starts with @p prefix, across all holders,
 * each key once (replicas included), in ascending byte order of the keys.
 * What is visible is what a dkv_get() issued now would see. Not collective.
 *
 * @param [in] prefix  Borrowed; NULL or "" lists every key.
 * @param [in] cb      Called from within dkv_list(), on the caller's thread,
 *                     after every holder has answered.
 * @return DKV_OK, DKV_ERR_INVALID, DKV_ERR_STATE, DKV_ERR_NO_MEMORY,
 *         DKV_ERR_PEER_LOST (a holder is lost and DKV_REPLICAS copies can
 *         no longer cover it: keys may be missing; the rest are visited),
 *         DKV_ERR_TIMEOUT.
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_list(dkv_ctx_t *ctx, const char *prefix,
                                    dkv_list_cb_t cb, void *arg);

/* ------------------------------------------------------------------ */
/* Checkpoint staging: drain to files, load back                       */
/* ------------------------------------------------------------------ */

/** Progress of the current drain, summed over every holder. */
typedef struct dkv_drain_progress {
    uint64_t bytes_written; /**< record bytes on disk so far */
    uint64_t bytes_total;   /**< record bytes the drain will write */
    uint64_t keys_written;
    uint64_t keys_total;
    int      done;          /**< 1 once the drain has ended (see status) */
} dkv_drain_progress_t;

/**
 * Collective over all non-dedicated ranks. Start writing the job's keys to
 * files under @p dir, in the background.
 *
 * The call is a dkv_fence() first: every write acknowledged before it is in
 * the drain and no write made after it (on any rank) leaks in: each holder
 * snapshots what it holds before any rank returns. Holders then write their
 * snapshot from a thread of their own while they keep serving and the
 * application computes. Each holder writes one file (temporary name, fsync,
 * rename); the drain is complete only when its manifest
 * (dkv-<id>.manifest) naming every file, with its size and record count,
 * and the commit time, is renamed into place. The newest DKV_DRAIN_KEEP
 * (default 2) complete drains in @p dir are kept; older ones are removed
 * at the commit. Every record carries a CRC32C (with DKV_CHECKSUM=1 the
 * one the value was put with). With DKV_REPLICAS > 1 each key is written
 * once.
 *
 * The holders commit the drain themselves: each holder reports its durable
 * file to the drain's lowest live holder, which writes the manifest once,
 * as soon as every file is durable - whether or not any rank ever calls
 * dkv_drain_test(), dkv_drain_wait() or dkv_finalize(). From then on the
 * drain survives the loss of every process of the job.
 *
 * @param [in] dir  Borrowed; an existing directory, the same path on every
 *                  rank (a shared file system for loads from other nodes).
 * If this rank's previous drain has not ended yet, it is waited for (and
 * committed) first, as by dkv_drain_wait().
 *
 * @return the same on every rank: DKV_OK (started), DKV_ERR_INVALID,
 *         DKV_ERR_IO (dir missing or not writable), DKV_ERR_STATE (an earlier
 *         drain still running on some holder, or called on a dedicated
 *         holder), or the fence's error. A loss that this drain's fence
 *         is the first to see does not stop the drain when every key still
 *         has a live copy (fewer holders lost than DKV_REPLICAS, or only
 *         non-holders lost): the drain starts (DKV_OK) and the next
 *         dkv_fence() reports the loss as DKV_ERR_PEER_LOST instead.
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_drain_start(dkv_ctx_t *ctx, const char *dir);

/**
 * Report the progress of the drain this rank last started, without waiting
 * for it to end. Any rank may call it; it never writes a file (the holders
 * commit). progress_p->done = 1 with DKV_OK promises the manifest is
 * durable in the directory: the drain is loadable even if the job dies now.
 * It asks the holders that are still working and the committer, each at
 * most once (bounded by DKV_TIMEOUT_MS; a holder that does not answer in
 * time keeps its last known progress).
 *
 * @param [out] progress_p  Borrowed, may be NULL.
 * @return DKV_OK (running or complete: see progress_p->done), the drain's
 *         error once it failed (DKV_ERR_IO, DKV_ERR_PEER_LOST, ...),
 *         DKV_ERR_STATE (no drain started).
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_drain_test(dkv_ctx_t *ctx,
                                          dkv_drain_progress_t *progress_p);

/**
 * Wait for the drain this rank last started to be committed by its holders
 * (as dkv_drain_test()). Not collective. Progress is any file byte written
 * and any phase passed (file fsync, rename, directory fsync, the commit);
 * a holder sitting in an fsync is a slow file system, not a stall, however
 * long it takes. Returns DKV_ERR_TIMEOUT only if no holder makes progress
 * for DKV_TIMEOUT_MS outside such a call; the holders go on and may still
 * commit it. dkv_finalize() waits for a running drain the same way.
 *
 * @param [out] progress_p  Borrowed, may be NULL.
 * @return DKV_OK (committed: the manifest is durable), DKV_ERR_PEER_LOST (a
 *         holder or the committer was lost first: no manifest), or the
 *         drain's error (DKV_ERR_IO, ...; no manifest).
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_drain_wait(dkv_ctx_t *ctx,
                                          dkv_drain_progress_t *progress_p);

/**
 * Collective over all non-dedicated ranks. Read the complete drain in
 * @p dir back into this job's holders; the job may have a different number
 * of ranks, holders and replicas than the one that drained. Every file is
 * checked (present, size, record count, every record's CRC32C) before any
 * key is stored, so a bad drain loads nothing. Keys already stored with the
 * same names are overwritten. Ends with a fence: afterwards every loaded key
 * is visible to every rank. Every rank loads the same drain: one committed
 * into @p dir while the load reads it makes every rank read again, so the
 * keys loaded always come from one drain. The newest drain in @p dir is
 * loaded; if it is damaged or incomplete, the newest older complete one
 * (kept by DKV_DRAIN_KEEP) is, and the call returns DKV_OK with
 * dkv_error_detail() saying which drain was loaded and why the newer one
 * was not. Only when no drain is good does it fail, with the newest's
 * error.
 *
 * @param [in] dir  Borrowed.
 * @return the same on every rank: DKV_OK, DKV_ERR_NOT_FOUND (no manifest or
 *         a file it names is missing), DKV_ERR_CORRUPT (a truncated or
 *         damaged file or manifest), DKV_ERR_IO, DKV_ERR_NO_SPACE,
 *         DKV_ERR_STATE (drains kept being committed into @p dir during
 *         the load: nothing loaded), or the fence's error. On error
 *         dkv_error_detail() names the file.
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_load(dkv_ctx_t *ctx, const char *dir);

/** One drain found in a directory by dkv_drain_info(). */
typedef struct dkv_drain_desc {
    uint64_t id;       /**< drain id (its files are dkv-<id in hex>-h*.dat) */
    int64_t  time;     /**< seconds since the epoch: the commit (complete)
                            or the newest file (incomplete) */
    uint64_t files;    /**< data files: the manifest's count (complete) or
                            the finished ones found (incomplete) */
    uint64_t keys;     /**< records; 0 for an incomplete drain */
    uint64_t bytes;    /**< key + value bytes; 0 for an incomplete drain */
    int      complete; /**< 1: the manifest names it and every file it names
                            is there with its size, header and footer (the
                            record CRCs are checked by a load, not here) */
    int      newest;   /**< 1: the drain dkv_load() would load */
    char     label[64]; /**< application label, "" if none */
} dkv_drain_desc_t;

/**
 * Describe the drains in directory @p dir without a context (no job, no
 * dkv_init needed): the complete one a load would take first, then
 * incomplete ones (data files no manifest names: a drain that failed or
 * was killed, or is being written), newest first. Reads the manifest and
 * the header and footer of each file; never writes.
 *
 * @param [in]  dir      Borrowed.
 * @param [out] descs    Borrowed, room for @p max entries (may be NULL if
 *                       @p max is 0); the first min(max, count) are filled.
 * @param [in]  max      Entries at @p descs.
 * @param [out] count_p  Borrowed: how many drains there are in all.
 * @return DKV_OK (also when there are none, or the manifest is damaged:
 *         then no drain is complete), DKV_ERR_INVALID (NULL arguments),
 *         DKV_ERR_NOT_FOUND (no such directory), DKV_ERR_IO,
 *         DKV_ERR_NO_MEMORY.
 * @context Any thread.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_drain_info(const char *dir,
                                          dkv_drain_desc_t *descs,
                                          size_t max, size_t *count_p);

/**
 * A one-line description of why this rank's last failed call failed, or ""
 * if none failed yet: the call, the key, and what was wrong - "dkv_put:
 * the key is empty (keys are 1..1024 bytes)", "dkv_get(\"ck/u\"): peer
 * process lost", "dkv_fence(): this rank is a dedicated holder ...",
 * "dkv_load: ... (which file, what was wrong)"; after a dkv_load() that
 * fell back to an older drain, which one and why. A call that succeeds leaves
 * it as it was. Works on a finalized context too (says so). Valid until the
 * next failing call. Never NULL; "" for a NULL or foreign @p ctx.
 * @context Owner thread of @p ctx.
 */
DKV_API const char *dkv_error_detail(const dkv_ctx_t *ctx);

/* ------------------------------------------------------------------ */
/* Dedicated holders                                                   */
/* ------------------------------------------------------------------ */

/**
 * On a dedicated holder: serve until every non-dedicated rank has called
 * dkv_finalize(), then return DKV_OK. The caller then calls dkv_finalize().
 * Sleeps while idle. Returns DKV_ERR_STATE on a rank that is not a dedicated
 * holder.
 *
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_serve(dkv_ctx_t *ctx);

#ifdef __cplusplus
}
#endif

#endif /* DRAMKV_H */
