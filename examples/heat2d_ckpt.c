/*
 * heat2d_ckpt: heat2d's checkpoints in dramkv - stage, drain, restart.
 *
 * A checkpoint of step S is one key per rank holding its rows as raw
 * doubles, "heat2d/ck/<S>/rows/<first>-<last>" (numbers zero-padded, so a
 * listing comes in row order), then - after a fence, so it is only ever
 * written once every block is visible - the record "heat2d/latest" (step,
 * nx, ny, number of blocks). The previous checkpoint's blocks are deleted
 * after that, so DRAM holds one checkpoint (two for a moment), and a crash
 * at any point leaves "heat2d/latest" naming a complete checkpoint.
 *
 * Every M-th checkpoint (by step / K, so the schedule survives restarts)
 * starts a background drain to --drain-dir; the computation goes on and
 * looks at the drain between steps (dkv_drain_test). A still running drain
 * is waited for before the next one starts and at the end.
 *
 * A restart reads "heat2d/latest" from DRAM, or loads the drain first when
 * DRAM does not have it (a new job). The writing job may have had any number
 * of ranks: each rank lists the checkpoint's blocks and, from each one that
 * overlaps its own rows, reads only those rows (dkv_read of a byte range),
 * straight into its grid.
 *
 * Every function here is called by every computing rank; rank 0 prints.
 */
#include "heat2d.h"

#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LATEST_KEY   "heat2d/latest"
#define LATEST_MAGIC 0x3130443254414548ull /* "HEAT2D01" little-endian */
#define KEY_LEN      96

/* The value of LATEST_KEY. */
typedef struct heat2d_latest {
    uint64_t magic;
    uint64_t step;
    uint64_t nx;
    uint64_t ny;
    uint64_t nblocks;
} heat2d_latest_t;

/* What dkv_list's callback collects. */
typedef struct block_list {
    size_t          prefix_len;
    heat2d_block_t *blocks; /* owned */
    size_t          count;
    size_t          cap;
    char            bad_key[KEY_LEN]; /* a key that did not parse: stop */
    int             no_memory;
} block_list_t;

/* ---- helpers ---------------------------------------------------------- */

static void ckpt_prefix(char *buf, long step)
{
    snprintf(buf, KEY_LEN, "heat2d/ck/%010ld/rows/", step);
}

static void block_key(char *buf, long step, int first, int last)
{
    snprintf(buf, KEY_LEN, "heat2d/ck/%010ld/rows/%09d-%09d", step, first,
             last);
}

static size_t block_bytes(int first, int last, int nx)
{
    return (size_t)(last - first + 1) * (size_t)nx * sizeof(double);
}

static int dkv_failed(const heat2d_ckpt_t *ck, const char *what,
                      dkv_status_t status)
{
    if (status == DKV_OK) {
        return 0;
    }
    fprintf(stderr, "heat2d: rank %d: %s: %s\n", ck->rank, what,
            dkv_strerror(status));
    return -1;
}

/* The same for drain and load calls, which also explain themselves. */
static int stage_failed(const heat2d_ckpt_t *ck, const char *what,
                        dkv_status_t status)
{
    const char *detail;

    if (status == DKV_OK) {
        return 0;
    }
    detail = dkv_error_detail(ck->ctx);
    fprintf(stderr, "heat2d: rank %d: %s: %s%s%s%s\n", ck->rank, what,
            dkv_strerror(status), (detail[0] != '\0') ? " (" : "", detail,
            (detail[0] != '\0') ? ")" : "");
    return -1;
}

static double max_over_ranks(const heat2d_ckpt_t *ck, double t)
{
    double max = t;

    MPI_Reduce(&t, &max, 1, MPI_DOUBLE, MPI_MAX, 0, ck->comm);
    return max;
}

static int verbose(const heat2d_ckpt_t *ck)
{
    return (ck->rank == 0) && !ck->opts->quiet;
}

void heat2d_ckpt_init(heat2d_ckpt_t *ck, dkv_ctx_t *ctx,
                      const heat2d_opts_t *opts, MPI_Comm comm)
{
    *ck = (heat2d_ckpt_t){.ctx = ctx, .opts = opts, .comm = comm,
                          .prev_step = -1};
    MPI_Comm_rank(comm, &ck->rank);
}

void heat2d_ckpt_cleanup(heat2d_ckpt_t *ck)
{
    free(ck->prev);
    ck->prev  = NULL;
    ck->nprev = 0;
}

/* ---- drain ------------------------------------------------------------ */

/* Collect a drain's result: wait for it, or just look (0 if still going). */
static int drain_end(heat2d_ckpt_t *ck, int wait)
{
    dkv_drain_progress_t p = {0};
    dkv_status_t         status;
    double               t;

    status = wait ? dkv_drain_wait(ck->ctx, &p) : dkv_drain_test(ck->ctx, &p);
    if (stage_failed(ck, wait ? "dkv_drain_wait" : "dkv_drain_test",
                     status) != 0) {
        return -1;
    }
    if (!wait && !p.done) {
        return 0;
    }
    ck->drain_active = 0;
    t                = heat2d_now() - ck->drain_t0;
    if (verbose(ck)) {
        printf("heat2d: drain of step %ld complete: %.2f MiB, %" PRIu64
               " keys in %.3f s (%.1f MB/s)\n",
               ck->drain_step, (double)p.bytes_total / (1 << 20),
               p.keys_total, t, (double)p.bytes_total / t / 1e6);
    }
    return 0;
}

static int drain_begin(heat2d_ckpt_t *ck, long step)
{
    if (ck->drain_active && (drain_end(ck, 1) != 0)) {
        return -1;
    }
    if (stage_failed(ck, "dkv_drain_start",
                     dkv_drain_start(ck->ctx, ck->opts->drain_dir)) != 0) {
        return -1;
    }
    ck->drain_active = 1;
    ck->drain_step   = step;
    ck->drain_t0     = heat2d_now();
    if (verbose(ck)) {
        printf("heat2d: step %ld: drain to %s started\n", step,
               ck->opts->drain_dir);
    }
    return 0;
}

int heat2d_ckpt_poll(heat2d_ckpt_t *ck)
{
    return ck->drain_active ? drain_end(ck, 0) : 0;
}

int heat2d_ckpt_finish(heat2d_ckpt_t *ck)
{
    return ck->drain_active ? drain_end(ck, 1) : 0;
}

/* ---- save ------------------------------------------------------------- */

static int put_rows(heat2d_ckpt_t *ck, const heat2d_grid_t *g, long step)
{
    char   key[KEY_LEN];
    size_t size  = block_bytes(g->first, g->first + g->nrows - 1, g->nx);
    double total = (double)g->nx * (double)g->ny * sizeof(double);
    double t0    = heat2d_now();
    double t;

    block_key(key, step, g->first, g->first + g->nrows - 1);
    if ((dkv_failed(ck, "dkv_put rows",
                    dkv_put(ck->ctx, key, heat2d_row(g, 1), size)) != 0) ||
        (dkv_failed(ck, "dkv_fence after rows", dkv_fence(ck->ctx)) != 0)) {
        return -1;
    }
    t = max_over_ranks(ck, heat2d_now() - t0);
    if (verbose(ck)) {
        printf("heat2d: step %ld: checkpoint %.2f MiB staged in %.3f ms "
               "(put+fence, %.2f GB/s)\n",
               step, total / (1 << 20), t * 1e3, total / t / 1e9);
    }
    return 0;
}

static int put_latest(heat2d_ckpt_t *ck, const heat2d_grid_t *g, long step)
{
    heat2d_latest_t rec = {.magic   = LATEST_MAGIC,
                           .step    = (uint64_t)step,
                           .nx      = (uint64_t)g->nx,
                           .ny      = (uint64_t)g->ny,
                           .nblocks = (uint64_t)g->nranks};

    if ((g->rank == 0) &&
        (dkv_failed(ck, "dkv_put " LATEST_KEY,
                    dkv_put(ck->ctx, LATEST_KEY, &rec, sizeof(rec))) != 0)) {
        return -1;
    }
    return dkv_failed(ck, "dkv_fence after " LATEST_KEY, dkv_fence(ck->ctx));
}

/* Delete this rank's share of the previous checkpoint. */
static int delete_prev(heat2d_ckpt_t *ck)
{
    char   key[KEY_LEN];
    size_t i;

    if (ck->prev_step < 0) {
        return 0;
    }
    for (i = 0; i < ck->nprev; i++) {
        block_key(key, ck->prev_step, ck->prev[i].first, ck->prev[i].last);
        if (dkv_failed(ck, "dkv_delete", dkv_delete(ck->ctx, key)) != 0) {
            return -1;
        }
    }
    return dkv_failed(ck, "dkv_quiet after deletes", dkv_quiet(ck->ctx));
}

/* From now on this rank's share of the previous checkpoint is its block. */
static int keep_own_block(heat2d_ckpt_t *ck, const heat2d_grid_t *g,
                          long step)
{
    heat2d_block_t *b = realloc(ck->prev, sizeof(*b));

    if (b == NULL) {
        fprintf(stderr, "heat2d: rank %d: out of memory\n", ck->rank);
        return -1;
    }
    b->first      = g->first;
    b->last       = g->first + g->nrows - 1;
    b->size       = block_bytes(b->first, b->last, g->nx);
    ck->prev      = b;
    ck->nprev     = 1;
    ck->prev_step = step;
    return 0;
}

int heat2d_ckpt_save(heat2d_ckpt_t *ck, const heat2d_grid_t *g, long step)
{
    const heat2d_opts_t *o = ck->opts;

    if ((put_rows(ck, g, step) != 0) || (put_latest(ck, g, step) != 0) ||
        (delete_prev(ck) != 0) || (keep_own_block(ck, g, step) != 0)) {
        return -1;
    }
    if ((o->drain_every > 0) &&
        ((step / o->ckpt_every) % o->drain_every == 0)) {
        return drain_begin(ck, step);
    }
    return 0;
}

/* ---- restart: find the checkpoint ------------------------------------- */

/* DKV_OK, DKV_ERR_NOT_FOUND or a failure (printed). */
static dkv_status_t get_latest(heat2d_ckpt_t *ck, heat2d_latest_t *rec)
{
    size_t       size = 0;
    dkv_status_t status;

    status = dkv_get(ck->ctx, LATEST_KEY, rec, sizeof(*rec), &size);
    if ((status == DKV_OK) && (size != sizeof(*rec))) {
        fprintf(stderr, "heat2d: rank %d: %s has %zu bytes, expected %zu\n",
                ck->rank, LATEST_KEY, size, sizeof(*rec));
        return DKV_ERR_CORRUPT;
    }
    if ((status != DKV_OK) && (status != DKV_ERR_NOT_FOUND)) {
        (void)dkv_failed(ck, "dkv_get " LATEST_KEY, status);
    }
    return status;
}

/* Collective: "heat2d/latest" from DRAM, else from the drain. */
static int find_latest(heat2d_ckpt_t *ck, heat2d_latest_t *rec)
{
    dkv_status_t status = get_latest(ck, rec);
    int          found  = (status == DKV_OK);
    int          all;
    double       t0;

    if ((status != DKV_OK) && (status != DKV_ERR_NOT_FOUND)) {
        return -1;
    }
    MPI_Allreduce(&found, &all, 1, MPI_INT, MPI_MIN, ck->comm);
    if (all) {
        if (verbose(ck)) {
            printf("heat2d: restart: checkpoint found in DRAM\n");
        }
        return 0;
    }
    if (ck->opts->drain_dir == NULL) {
        fprintf(stderr, "heat2d: rank %d: --restart: no %s in DRAM and no "
                        "--drain-dir to load\n", ck->rank, LATEST_KEY);
        return -1;
    }
    t0 = heat2d_now();
    if (stage_failed(ck, "dkv_load", dkv_load(ck->ctx,
                                              ck->opts->drain_dir)) != 0) {
        return -1;
    }
    if (verbose(ck)) {
        printf("heat2d: restart: loaded %s in %.3f s\n", ck->opts->drain_dir,
               heat2d_now() - t0);
    }
    status = get_latest(ck, rec);
    if (status == DKV_ERR_NOT_FOUND) {
        fprintf(stderr, "heat2d: rank %d: the drain in %s has no %s\n",
                ck->rank, ck->opts->drain_dir, LATEST_KEY);
    }
    return (status == DKV_OK) ? 0 : -1;
}

static int check_latest(const heat2d_ckpt_t *ck, const heat2d_grid_t *g,
                        const heat2d_latest_t *rec)
{
    if ((rec->magic != LATEST_MAGIC) || (rec->nx != (uint64_t)g->nx) ||
        (rec->ny != (uint64_t)g->ny) || (rec->nblocks == 0) ||
        (rec->nblocks > rec->ny) || (rec->step > (uint64_t)LONG_MAX)) {
        fprintf(stderr, "heat2d: rank %d: %s does not fit: step %" PRIu64
                ", %" PRIu64 " x %" PRIu64 " grid in %" PRIu64 " blocks "
                "(this run: %d x %d)\n", ck->rank, LATEST_KEY, rec->step,
                rec->nx, rec->ny, rec->nblocks, g->nx, g->ny);
        return -1;
    }
    return 0;
}

/* ---- restart: list and check the blocks ------------------------------- */

static int collect_block(const char *key, size_t size, void *arg)
{
    block_list_t   *l = arg;
    heat2d_block_t *b;
    int             first;
    int             last;
    int             end = 0;

    if ((sscanf(key + l->prefix_len, "%d-%d%n", &first, &last, &end) != 2) ||
        (key[l->prefix_len + (size_t)end] != '\0')) {
        snprintf(l->bad_key, sizeof(l->bad_key), "%s", key);
        return 1;
    }
    if (l->count == l->cap) {
        l->cap = (l->cap == 0) ? 16 : 2 * l->cap;
        b      = realloc(l->blocks, l->cap * sizeof(*b));
        if (b == NULL) {
            l->no_memory = 1;
            return 1;
        }
        l->blocks = b;
    }
    l->blocks[l->count++] = (heat2d_block_t){first, last, size};
    return 0;
}

static int list_blocks(heat2d_ckpt_t *ck, long step, block_list_t *l)
{
    char         prefix[KEY_LEN];
    dkv_status_t status;

    ckpt_prefix(prefix, step);
    l->prefix_len = strlen(prefix);
    status        = dkv_list(ck->ctx, prefix, collect_block, l);
    if (l->bad_key[0] != '\0') {
        fprintf(stderr, "heat2d: rank %d: %s is not a row block key\n",
                ck->rank, l->bad_key);
        return -1;
    }
    if (l->no_memory) {
        fprintf(stderr, "heat2d: rank %d: out of memory\n", ck->rank);
        return -1;
    }
    return dkv_failed(ck, "dkv_list", status);
}

static int by_first_row(const void *a, const void *b)
{
    const heat2d_block_t *x = a;
    const heat2d_block_t *y = b;

    return (x->first > y->first) - (x->first < y->first);
}

/* The blocks must tile rows 0..ny-1 exactly, each with its full rows. */
static int check_blocks(const heat2d_ckpt_t *ck, const heat2d_grid_t *g,
                        const heat2d_latest_t *rec, block_list_t *l)
{
    int    next = 0;
    size_t i;

    if (l->count != rec->nblocks) {
        fprintf(stderr, "heat2d: rank %d: checkpoint of step %" PRIu64
                " has %zu row blocks, %s says %" PRIu64 "\n", ck->rank,
                rec->step, l->count, LATEST_KEY, rec->nblocks);
        return -1;
    }
    qsort(l->blocks, l->count, sizeof(*l->blocks), by_first_row);
    for (i = 0; i < l->count; i++) {
        const heat2d_block_t *b = &l->blocks[i];

        if ((b->first != next) || (b->last < b->first) ||
            (b->last >= g->ny) ||
            (b->size != block_bytes(b->first, b->last, g->nx))) {
            fprintf(stderr, "heat2d: rank %d: row block %d-%d (%zu bytes) "
                    "does not fit; expected one from row %d\n", ck->rank,
                    b->first, b->last, b->size, next);
            return -1;
        }
        next = b->last + 1;
    }
    if (next != g->ny) {
        fprintf(stderr, "heat2d: rank %d: row blocks end at row %d of %d\n",
                ck->rank, next, g->ny);
        return -1;
    }
    return 0;
}

/* ---- restart: read ---------------------------------------------------- */

/*
 * Read the rows of block @p b that are this rank's straight into the grid:
 * one dkv_read of just that byte range, so only those rows travel.
 */
static int read_block(heat2d_ckpt_t *ck, heat2d_grid_t *g, long step,
                      const heat2d_block_t *b)
{
    char   key[KEY_LEN];
    int    lo      = (b->first > g->first) ? b->first : g->first;
    int    hi_mine = g->first + g->nrows - 1;
    int    hi      = (b->last < hi_mine) ? b->last : hi_mine;
    size_t row     = (size_t)g->nx * sizeof(double);
    size_t offset  = (size_t)(lo - b->first) * row;
    size_t len     = (size_t)(hi - lo + 1) * row;
    size_t copied  = 0, size = 0;
    int    rc;

    block_key(key, step, b->first, b->last);
    rc = dkv_failed(ck, "dkv_read row block",
                    dkv_read(ck->ctx, key, offset,
                             heat2d_row(g, lo - g->first + 1), len, &copied,
                             &size, NULL));
    if ((rc == 0) && ((size != b->size) || (copied != len))) {
        fprintf(stderr, "heat2d: rank %d: %s has %zu bytes (listed %zu), "
                "%zu of rows %d-%d read\n", ck->rank, key, size, b->size,
                copied, lo, hi);
        rc = -1;
    }
    return rc;
}

static int read_blocks(heat2d_ckpt_t *ck, heat2d_grid_t *g, long step,
                       const block_list_t *l)
{
    int    last_mine = g->first + g->nrows - 1;
    size_t i;

    for (i = 0; i < l->count; i++) {
        const heat2d_block_t *b = &l->blocks[i];

        if ((b->last >= g->first) && (b->first <= last_mine) &&
            (read_block(ck, g, step, b) != 0)) {
            return -1;
        }
    }
    return 0;
}

/* Keep the loaded blocks that start in this rank's rows: it deletes them. */
static void keep_loaded_blocks(heat2d_ckpt_t *ck, const heat2d_grid_t *g,
                               long step, block_list_t *l)
{
    size_t n = 0;
    size_t i;

    for (i = 0; i < l->count; i++) {
        if ((l->blocks[i].first >= g->first) &&
            (l->blocks[i].first < g->first + g->nrows)) {
            l->blocks[n++] = l->blocks[i];
        }
    }
    free(ck->prev);
    ck->prev      = l->blocks;
    ck->nprev     = n;
    ck->prev_step = step;
    l->blocks     = NULL;
}

int heat2d_ckpt_restore(heat2d_ckpt_t *ck, heat2d_grid_t *g, long *step_p)
{
    heat2d_latest_t rec;
    block_list_t    l  = {0};
    double          t0 = heat2d_now();
    long            step;

    if ((find_latest(ck, &rec) != 0) || (check_latest(ck, g, &rec) != 0)) {
        return -1;
    }
    step = (long)rec.step;
    if ((list_blocks(ck, step, &l) != 0) ||
        (check_blocks(ck, g, &rec, &l) != 0) ||
        (read_blocks(ck, g, step, &l) != 0)) {
        free(l.blocks);
        return -1;
    }
    if (verbose(ck)) {
        printf("heat2d: restart from step %ld: %zu row blocks found, this "
               "rank's rows read in %.3f ms\n", step, l.count,
               (heat2d_now() - t0) * 1e3);
    }
    keep_loaded_blocks(ck, g, step, &l);
    *step_p = step;
    return 0;
}
