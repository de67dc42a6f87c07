/*
 * heat2d.h: what the two files of the heat2d example share. heat2d.c owns
 * the grid, the stencil and the options; heat2d_ckpt.c owns everything that
 * talks to dramkv (checkpoint, drain, restart).
 */
#ifndef HEAT2D_H
#define HEAT2D_H

#include <dramkv.h>
#include <mpi.h>
#include <stddef.h>

/* Command line. Counts are long so that a large --steps still fits. */
typedef struct heat2d_opts {
    int         nx;          /* columns */
    int         ny;          /* rows, split across ranks */
    long        steps;       /* run until this step */
    long        ckpt_every;  /* K: checkpoint every K steps, 0 = never */
    long        drain_every; /* M: drain every M checkpoints, 0 = never */
    const char *drain_dir;   /* borrowed from argv */
    int         restart;     /* resume from DRAM or from drain_dir */
    long        kill_after;  /* SIGKILL after this step, -1 = never */
    long        lose_at;     /* lose the grid after this step and resume
                                from the checkpoint in DRAM, -1 = never */
    const char *out;         /* final grid as raw doubles, NULL = none */
    int         quiet;       /* no progress lines */
} heat2d_opts_t;

/*
 * This rank's rows. u holds the current state, v the next one; both are
 * (nrows + 2) x nx doubles: row 0 and row nrows + 1 are halo copies of the
 * neighbours' rows, rows 1..nrows are global rows first..first + nrows - 1.
 */
typedef struct heat2d_grid {
    MPI_Comm comm; /* the computing ranks (dedicated holders excluded) */
    int     nx;
    int     ny;
    int     rank;
    int     nranks;
    int     first;
    int     nrows;
    double *u;
    double *v;
} heat2d_grid_t;

/* A block of stored rows: global rows first..last, inclusive. */
typedef struct heat2d_block {
    int    first;
    int    last;
    size_t size; /* bytes of the stored value */
} heat2d_block_t;

/*
 * Checkpoint state of one rank. The previous checkpoint's blocks that this
 * rank deletes once the next one is in place: its own block, or after a
 * restart the loaded blocks whose first row is one of this rank's rows.
 */
typedef struct heat2d_ckpt {
    dkv_ctx_t           *ctx;
    MPI_Comm             comm;
    int                  rank; /* in comm; rank 0 prints */
    const heat2d_opts_t *opts;
    long                 prev_step; /* -1: nothing to delete */
    heat2d_block_t      *prev;      /* owned */
    size_t               nprev;
    int                  drain_active;
    long                 drain_step;
    double               drain_t0;
} heat2d_ckpt_t;

/* Seconds on a monotonic clock. */
double heat2d_now(void);

/* The first row and number of rows of @p rank among @p nranks. */
void heat2d_rows_of(int ny, int rank, int nranks, int *first_p, int *nrows_p);

/* Pointer to local row li (0 = upper halo, 1..nrows owned, nrows+1 lower). */
double *heat2d_row(const heat2d_grid_t *g, int li);

/*
 * Checkpoint module (heat2d_ckpt.c). Every function returns 0, or -1 after
 * printing why; a -1 from a collective call should end the job.
 */
void heat2d_ckpt_init(heat2d_ckpt_t *ck, dkv_ctx_t *ctx,
                      const heat2d_opts_t *opts, MPI_Comm comm);
void heat2d_ckpt_cleanup(heat2d_ckpt_t *ck);
/* Collective: stage the state after @p step, start a drain when due. */
int heat2d_ckpt_save(heat2d_ckpt_t *ck, const heat2d_grid_t *g, long step);
/* Non-blocking look at a running drain; reports it when it has ended. */
int heat2d_ckpt_poll(heat2d_ckpt_t *ck);
/* Wait for a running drain (at the end of the run). */
int heat2d_ckpt_finish(heat2d_ckpt_t *ck);
/* Collective: fill this rank's rows from the latest checkpoint. */
int heat2d_ckpt_restore(heat2d_ckpt_t *ck, heat2d_grid_t *g, long *step_p);

#endif /* HEAT2D_H */
