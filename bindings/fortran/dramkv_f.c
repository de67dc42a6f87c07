/*
 * dramkv_f.c: the C half of the Fortran module (dramkv.F90). Turns a
 * Fortran string (a character(len=*) descriptor) into a NUL-terminated one
 * on the stack without its trailing blanks, and an assumed-type,
 * assumed-rank array (a TS 29113 C descriptor) into an address and a byte
 * count, then calls the C API. The module declares these functions as
 * bind(C) interfaces, so the caller's compiler builds the descriptors
 * itself (gfortran 12 loses a string's length when an assumed-type
 * argument passes through a Fortran procedure first). No allocation, no copy of the data: a non-contiguous array is
 * refused with DKV_ERR_INVALID rather than copied.
 *
 * Thread: the caller's, like every dkv_* call (the API is funneled). Only
 * Fortran programs call these, through the module dramkv.
 */
#include <ISO_Fortran_binding.h>
#include <dramkv.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Longest directory name the module passes on (bytes, without NUL). */
#define DKV_F_PATH_MAX 4095

/* Called from Fortran through the module's bind(C) interfaces. */
#define DKV_F_API __attribute__((visibility("default")))

/* The Fortran type(dkv_ctx): a bind(C) type holding the C context. */
typedef struct dkv_f_ctx {
    dkv_ctx_t *p;
} dkv_f_ctx_t;

/*
 * The Fortran string @p str (a character(len=*) descriptor) without its
 * trailing blanks, NUL-terminated, into @p out (at most @p max bytes + NUL).
 */
static dkv_status_t str_copy(char *out, size_t max, const CFI_cdesc_t *str)
{
    const char *in  = str->base_addr;
    size_t      len = str->elem_len;

    while ((len > 0) && (in[len - 1] == ' ')) {
        len--;
    }
    if ((len == 0) || (len > max) || (memchr(in, '\0', len) != NULL)) {
        return DKV_ERR_INVALID;
    }
    memcpy(out, in, len);
    out[len] = '\0';
    return DKV_OK;
}

/*
 * Address and size in bytes of the array (or scalar) described by @p d;
 * DKV_ERR_INVALID if its elements are not contiguous or its size is not
 * known (an assumed-size array).
 */
static dkv_status_t buf_span(const CFI_cdesc_t *d, void **addr_p,
                             size_t *bytes_p)
{
    size_t     bytes = d->elem_len;
    CFI_rank_t r;

    for (r = 0; r < d->rank; r++) {
        if (d->dim[r].extent < 0) {
            return DKV_ERR_INVALID;
        }
        if ((d->dim[r].extent > 1) && (d->dim[r].sm != (CFI_index_t)bytes)) {
            return DKV_ERR_INVALID;
        }
        if (__builtin_mul_overflow(bytes, (size_t)d->dim[r].extent,
                                   &bytes)) {
            return DKV_ERR_INVALID;
        }
    }
    *addr_p  = d->base_addr;
    *bytes_p = bytes;
    return DKV_OK;
}

/* The NUL-terminated key and the buffer's address and bytes. */
static dkv_status_t key_and_span(char *k, const CFI_cdesc_t *key,
                                 const CFI_cdesc_t *buf, void **addr_p,
                                 size_t *bytes_p)
{
    dkv_status_t status = str_copy(k, DKV_KEY_MAX, key);

    return (status == DKV_OK) ? buf_span(buf, addr_p, bytes_p) : status;
}

DKV_F_API void dkv_f_put(const dkv_f_ctx_t *ctx, const CFI_cdesc_t *key,
                         const CFI_cdesc_t *buf, int *ierr)
{
    char         k[DKV_KEY_MAX + 1];
    void        *addr;
    size_t       bytes;
    dkv_status_t status = key_and_span(k, key, buf, &addr, &bytes);

    *ierr = (status == DKV_OK) ? dkv_put(ctx->p, k, addr, bytes) : status;
}

DKV_F_API void dkv_f_get(const dkv_f_ctx_t *ctx, const CFI_cdesc_t *key,
                         const CFI_cdesc_t *buf, size_t *nbytes, int *ierr)
{
    char         k[DKV_KEY_MAX + 1];
    void        *addr;
    size_t       bytes;
    dkv_status_t status = key_and_span(k, key, buf, &addr, &bytes);

    *nbytes = 0;
    *ierr   = (status == DKV_OK) ? dkv_get(ctx->p, k, addr, bytes, nbytes)
                                 : status;
}

DKV_F_API void dkv_f_delete(const dkv_f_ctx_t *ctx, const CFI_cdesc_t *key,
                            int *ierr)
{
    char         k[DKV_KEY_MAX + 1];
    dkv_status_t status = str_copy(k, DKV_KEY_MAX, key);

    *ierr = (status == DKV_OK) ? dkv_delete(ctx->p, k) : status;
}

DKV_F_API void dkv_f_drain_start(const dkv_f_ctx_t *ctx,
                                 const CFI_cdesc_t *dir, int *ierr)
{
    char         d[DKV_F_PATH_MAX + 1];
    dkv_status_t status = str_copy(d, DKV_F_PATH_MAX, dir);

    *ierr = (status == DKV_OK) ? dkv_drain_start(ctx->p, d) : status;
}

DKV_F_API void dkv_f_load(const dkv_f_ctx_t *ctx, const CFI_cdesc_t *dir,
                          int *ierr)
{
    char         d[DKV_F_PATH_MAX + 1];
    dkv_status_t status = str_copy(d, DKV_F_PATH_MAX, dir);

    *ierr = (status == DKV_OK) ? dkv_load(ctx->p, d) : status;
}

/* What dkv_f_list collects: every key, NUL-terminated, one after another. */
typedef struct list_acc {
    char   *keys;  /* malloc'd */
    size_t  len;   /* bytes used in keys */
    size_t  cap;
    size_t *sizes; /* malloc'd, one per key */
    size_t  count;
    size_t  longest;
    int     no_memory;
} list_acc_t;

static int list_visit(const char *key, size_t size, void *arg)
{
    list_acc_t *a = arg;
    size_t      n = strlen(key) + 1;
    void       *p;

    if (a->len + n > a->cap) {
        a->cap = 2 * (a->len + n) + 256;
        p      = realloc(a->keys, a->cap);
        if (p == NULL) {
            a->no_memory = 1;
            return 1;
        }
        a->keys = p;
    }
    p = realloc(a->sizes, (a->count + 1) * sizeof(*a->sizes));
    if (p == NULL) {
        a->no_memory = 1;
        return 1;
    }
    a->sizes = p;
    memcpy(a->keys + a->len, key, n);
    a->len += n;
    a->sizes[a->count++] = size;
    a->longest = (n - 1 > a->longest) ? n - 1 : a->longest;
    return 0;
}

/*
 * dkv_list for the module: the keys with @p prefix (blank: every key) as
 * NUL-separated strings in *keys_p, their sizes in *sizes_p (both malloc'd,
 * released with dkv_f_list_free), their number and the longest key's
 * length. The module copies them into Fortran arrays.
 */
DKV_F_API void dkv_f_list(const dkv_f_ctx_t *ctx, const CFI_cdesc_t *prefix,
                          char **keys_p, size_t **sizes_p, size_t *count_p,
                          size_t *longest_p, int *ierr)
{
    char         pre[DKV_KEY_MAX + 1] = "";
    list_acc_t   a                    = {0};
    dkv_status_t status               = DKV_OK;
    const char  *in                   = prefix->base_addr;
    size_t       i;

    for (i = 0; i < prefix->elem_len; i++) {
        if (in[i] != ' ') {
            status = str_copy(pre, DKV_KEY_MAX, prefix);
            break;
        }
    }
    if (status == DKV_OK) {
        status = dkv_list(ctx->p, pre, list_visit, &a);
    }
    if ((status == DKV_OK) && a.no_memory) {
        status = DKV_ERR_NO_MEMORY;
    }
    *keys_p    = a.keys;
    *sizes_p   = a.sizes;
    *count_p   = (status == DKV_OK) ? a.count : 0;
    *longest_p = a.longest;
    *ierr      = status;
}

DKV_F_API void dkv_f_list_free(char *keys, size_t *sizes)
{
    free(keys);
    free(sizes);
}

DKV_F_API int dkv_f_init(const CFI_cdesc_t *holders, int timeout_ms,
                         long long hold_bytes, int dedicated, int replicas,
                         dkv_ctx_t **ctx_p)
{
    char              h[256];
    dkv_init_params_t p = {0};
    dkv_status_t      status;

    /* A negative number or a blank string: not given, environment or
     * default. */
    if (holders->elem_len > 0) {
        status = str_copy(h, sizeof(h) - 1, holders);
        if (status != DKV_OK) {
            return status;
        }
        p.holders = h;
        p.field_mask |= DKV_INIT_PARAM_FIELD_HOLDERS;
    }
    if (timeout_ms >= 0) {
        p.timeout_ms = (unsigned)timeout_ms;
        p.field_mask |= DKV_INIT_PARAM_FIELD_TIMEOUT_MS;
    }
    if (hold_bytes >= 0) {
        p.hold_bytes = (size_t)hold_bytes;
        p.field_mask |= DKV_INIT_PARAM_FIELD_HOLD_BYTES;
    }
    if (dedicated >= 0) {
        p.dedicated = dedicated;
        p.field_mask |= DKV_INIT_PARAM_FIELD_DEDICATED;
    }
    if (replicas >= 0) {
        p.replicas = (unsigned)replicas;
        p.field_mask |= DKV_INIT_PARAM_FIELD_REPLICAS;
    }
    return dkv_init(&p, ctx_p);
}
