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
#define DKV_VERSION_MINOR 1

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

/* name, value, text. Values are never reused. */
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
    X(DKV_ERR_CORRUPT, -13, "data failed its integrity check")

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
    DKV_INIT_PARAM_FIELD_DEDICATED  = DKV_BIT(3)
};

/**
 * Optional settings for dkv_init(). Set the bit of each field you fill in;
 * other fields take their DKV_* environment value, or the default written
 * beside them. A field set here beats the environment. Fields are only ever
 * appended.
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
 * Stop dramkv. Collective. Completes all outstanding writes first, then waits
 * for every rank, then releases everything. A non-dedicated rank also tells
 * the dedicated holders it is done. @p ctx must not be used afterwards.
 *
 * @param [in] ctx  NULL: does nothing and returns DKV_OK.
 * @return DKV_OK or the first error of the outstanding writes; resources
 *         are released in every case.
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
 * Store @p size bytes under @p key on the key's holder.
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
 *         DKV_ERR_TIMEOUT. After DKV_ERR_TIMEOUT the holder never took the
 *         value, but the transport may still read @p value later: keep it
 *         unchanged until dkv_finalize().
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_put(dkv_ctx_t *ctx, const char *key,
                                   const void *value, size_t size);

/**
 * Read the value of @p key into @p buf.
 *
 * @param [in]  key       Borrowed.
 * @param [out] buf       Borrowed; may be NULL when @p buf_size is 0.
 * @param [in]  buf_size  Bytes available at @p buf.
 * @param [out] size_p    Borrowed, may be NULL; receives the value's full
 *                        size on DKV_OK and on DKV_ERR_TRUNCATED.
 *
 * @return DKV_OK, DKV_ERR_NOT_FOUND, DKV_ERR_TRUNCATED (nothing copied),
 *         DKV_ERR_INVALID, DKV_ERR_STATE, DKV_ERR_PEER_LOST, DKV_ERR_TIMEOUT,
 *         DKV_ERR_PROTOCOL, DKV_ERR_TRANSPORT.
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
 * Remove @p key. Like a put, the delete is outstanding until acknowledged;
 * dkv_quiet() reports its result. Deleting a missing key is not an error.
 *
 * @param [in] key  Borrowed.
 * @return DKV_OK, DKV_ERR_INVALID, DKV_ERR_STATE, DKV_ERR_TRANSPORT,
 *         DKV_ERR_TIMEOUT.
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_delete(dkv_ctx_t *ctx, const char *key);

/* ------------------------------------------------------------------ */
/* Completion                                                          */
/* ------------------------------------------------------------------ */

/**
 * Wait until every write and delete this rank issued is acknowledged.
 * Returns the first error among them; dkv_failed_count() and
 * dkv_failed_key() then list each failed key and why, until the next
 * dkv_quiet() or dkv_fence().
 *
 * @return DKV_OK, DKV_ERR_NO_SPACE, DKV_ERR_PEER_LOST, DKV_ERR_TIMEOUT,
 *         DKV_ERR_PROTOCOL, DKV_ERR_STATE, ...
 * @context Owner thread of @p ctx.
 */
DKV_API DKV_NODISCARD dkv_status_t dkv_quiet(dkv_ctx_t *ctx);

/**
 * Collective over all non-dedicated ranks: dkv_quiet(), then a barrier that
 * also combines every rank's result. Every rank returns the same status: DKV_OK
 * if every rank's quiet succeeded, else the lowest (most negative) error code
 * seen on any rank. Afterwards every acknowledged write from any rank is
 * visible to every get. This rank's failed keys stay listed as for
 * dkv_quiet().
 *
 * @return as dkv_quiet(), plus DKV_ERR_STATE on a dedicated holder.
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
 * operation's status. On DKV_ERR_TIMEOUT the request is released too and its
 * buffers are no longer touched.
 */
DKV_API dkv_status_t dkv_wait(dkv_request_t *req);

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
