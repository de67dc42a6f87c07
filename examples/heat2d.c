/*
 * heat2d: 2-D heat diffusion with checkpoints staged in dramkv.
 *
 * An explicit Jacobi 5-point stencil on an nx x ny grid of doubles: fixed
 * boundary values (top edge hot, the other edges cold) and a hot square in
 * the middle at step 0. Rows are split across the MPI ranks; each step
 * exchanges one halo row with each neighbour (MPI_Sendrecv), then updates
 * every interior cell from the old grid with the same expression in the same
 * order, so the result is bit for bit the same for any number of ranks.
 *
 * Every --ckpt-every K steps the state is staged in DRAM through dramkv and
 * every --drain-every M checkpoints drained to files in the background
 * (heat2d_ckpt.c). --restart resumes from DRAM or, in a new job, from the
 * drain, with any number of ranks. --kill-after simulates a crash;
 * --lose-at wipes the grid mid-run and resumes from the checkpoint in DRAM
 * within the same job.
 *
 *   launch/dkvrun -n 4 -- heat2d --nx 1024 --ny 1024 --steps 1000 \
 *       --ckpt-every 100 --drain-every 2 --drain-dir /shared/ck
 *   launch/dkvrun -n 2 -- heat2d ... --restart --drain-dir /shared/ck
 *
 * Dedicated holders (DKV_DEDICATED=1) only serve; the others compute.
 */
#include "heat2d.h"

#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ALPHA    0.2   /* diffusion number; explicit scheme needs <= 0.25 */
#define HOT_EDGE 100.0 /* fixed value of row 0 */
#define HOT_CELL 50.0  /* initial value inside the middle square */

double heat2d_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void heat2d_rows_of(int ny, int rank, int nranks, int *first_p, int *nrows_p)
{
    int base = ny / nranks;
    int rem  = ny % nranks;

    *first_p = rank * base + (rank < rem ? rank : rem);
    *nrows_p = base + (rank < rem ? 1 : 0);
}

double *heat2d_row(const heat2d_grid_t *g, int li)
{
    return g->u + (size_t)li * (size_t)g->nx;
}

/* ---- options ---------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: heat2d [--nx N] [--ny N] [--steps N] [--ckpt-every K]\n"
            "              [--drain-every M --drain-dir DIR] [--restart]\n"
            "              [--lose-at STEP]\n"
            "              [--kill-after STEP] [--out FILE] [--quiet]\n"
            "              [--help]\n");
}

/* --help anywhere: the usage and what the options do, exit 0. */
static int help_asked(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            printf(
                "2-D heat diffusion on an NX x NY grid (default 256 x 256, "
                "100 steps),\nrows split across the ranks; run it under "
                "mpirun or srun --mpi=pmix.\n"
                "  --ckpt-every K   stage a checkpoint in DRAM every K "
                "steps\n"
                "  --drain-every M  write every M-th checkpoint to files in "
                "DIR\n"
                "  --restart        resume from DRAM, else from the drain "
                "in DIR\n"
                "  --kill-after S   SIGKILL every rank after step S (a "
                "crash)\n"
                "  --lose-at S      wipe the grid after step S, resume from "
                "DRAM\n"
                "  --out FILE       write the final grid as raw doubles\n");
            return 1;
        }
    }
    return 0;
}

static int parse_long(const char *name, const char *text, long min, long max,
                      long *value_p)
{
    char *end;
    long  v;

    v = strtol(text, &end, 10);
    if ((end == text) || (*end != '\0') || (v < min) || (v > max)) {
        fprintf(stderr, "heat2d: --%s %s: expected %ld..%ld\n", name, text,
                min, max);
        return -1;
    }
    *value_p = v;
    return 0;
}

static int parse_opt(int c, const char *arg, heat2d_opts_t *o)
{
    long v = 0;
    int  rc;

    switch (c) {
    case 'x':
        rc    = parse_long("nx", arg, 3, INT_MAX, &v);
        o->nx = (int)v;
        return rc;
    case 'y':
        rc    = parse_long("ny", arg, 3, INT_MAX, &v);
        o->ny = (int)v;
        return rc;
    case 's':
        return parse_long("steps", arg, 0, LONG_MAX, &o->steps);
    case 'k':
        return parse_long("ckpt-every", arg, 0, LONG_MAX, &o->ckpt_every);
    case 'm':
        return parse_long("drain-every", arg, 0, LONG_MAX, &o->drain_every);
    case 'K':
        return parse_long("kill-after", arg, 1, LONG_MAX, &o->kill_after);
    case 'L':
        return parse_long("lose-at", arg, 1, LONG_MAX, &o->lose_at);
    case 'd':
        o->drain_dir = arg;
        return 0;
    case 'o':
        o->out = arg;
        return 0;
    case 'r':
        o->restart = 1;
        return 0;
    case 'q':
        o->quiet = 1;
        return 0;
    default:
        return -1;
    }
}

static int parse_opts(int argc, char **argv, heat2d_opts_t *o)
{
    static const struct option longopts[] = {
        {"nx", required_argument, NULL, 'x'},
        {"ny", required_argument, NULL, 'y'},
        {"steps", required_argument, NULL, 's'},
        {"ckpt-every", required_argument, NULL, 'k'},
        {"drain-every", required_argument, NULL, 'm'},
        {"drain-dir", required_argument, NULL, 'd'},
        {"restart", no_argument, NULL, 'r'},
        {"kill-after", required_argument, NULL, 'K'},
        {"lose-at", required_argument, NULL, 'L'},
        {"out", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {NULL, 0, NULL, 0}};
    int c;

    *o = (heat2d_opts_t){.nx = 256, .ny = 256, .steps = 100, .kill_after = -1,
                         .lose_at = -1};
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (parse_opt(c, optarg, o) != 0) {
            usage(stderr);
            return -1;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "heat2d: unexpected argument %s\n", argv[optind]);
        usage(stderr);
        return -1;
    }
    if ((o->drain_every > 0) &&
        ((o->drain_dir == NULL) || (o->ckpt_every == 0))) {
        fprintf(stderr, "heat2d: --drain-every needs --drain-dir and "
                        "--ckpt-every\n");
        return -1;
    }
    return 0;
}

/* ---- grid ------------------------------------------------------------- */

static double initial_value(const heat2d_grid_t *g, int gi, int j)
{
    if (gi == 0) {
        return HOT_EDGE;
    }
    if ((gi == g->ny - 1) || (j == 0) || (j == g->nx - 1)) {
        return 0.0;
    }
    if ((gi >= 3 * (g->ny / 8)) && (gi < 5 * (g->ny / 8)) &&
        (j >= 3 * (g->nx / 8)) && (j < 5 * (g->nx / 8))) {
        return HOT_CELL;
    }
    return 0.0;
}

static int grid_create(heat2d_grid_t *g, const heat2d_opts_t *o,
                       MPI_Comm comm)
{
    size_t cells;

    g->comm = comm;
    g->nx   = o->nx;
    g->ny   = o->ny;
    MPI_Comm_rank(comm, &g->rank);
    MPI_Comm_size(comm, &g->nranks);
    if (g->ny < g->nranks) {
        fprintf(stderr, "heat2d: --ny %d is less than %d ranks\n", g->ny,
                g->nranks);
        return -1;
    }
    heat2d_rows_of(g->ny, g->rank, g->nranks, &g->first, &g->nrows);
    if ((size_t)g->nrows * (size_t)g->nx > INT_MAX) {
        fprintf(stderr, "heat2d: %d x %d rows per rank exceed an MPI count\n",
                g->nrows, g->nx);
        return -1;
    }
    cells = (size_t)(g->nrows + 2) * (size_t)g->nx;
    g->u  = calloc(cells, sizeof(double));
    g->v  = calloc(cells, sizeof(double));
    if ((g->u == NULL) || (g->v == NULL)) {
        fprintf(stderr, "heat2d: rank %d: no memory for %zu cells\n", g->rank,
                cells);
        return -1;
    }
    return 0;
}

static void grid_destroy(heat2d_grid_t *g)
{
    free(g->u);
    free(g->v);
    g->u = NULL;
    g->v = NULL;
}

static void grid_fill_initial(heat2d_grid_t *g)
{
    int li;
    int j;

    for (li = 1; li <= g->nrows; li++) {
        for (j = 0; j < g->nx; j++) {
            heat2d_row(g, li)[j] = initial_value(g, g->first + li - 1, j);
        }
    }
}

static void halo_exchange(heat2d_grid_t *g)
{
    int up   = (g->rank > 0) ? g->rank - 1 : MPI_PROC_NULL;
    int down = (g->rank < g->nranks - 1) ? g->rank + 1 : MPI_PROC_NULL;

    /* My first row goes up while the row below mine comes up to me... */
    MPI_Sendrecv(heat2d_row(g, 1), g->nx, MPI_DOUBLE, up, 0,
                 heat2d_row(g, g->nrows + 1), g->nx, MPI_DOUBLE, down, 0,
                 g->comm, MPI_STATUS_IGNORE);
    /* ...then my last row goes down while the row above mine comes down. */
    MPI_Sendrecv(heat2d_row(g, g->nrows), g->nx, MPI_DOUBLE, down, 1,
                 heat2d_row(g, 0), g->nx, MPI_DOUBLE, up, 1, g->comm,
                 MPI_STATUS_IGNORE);
}

/* One row of the new grid from three rows of the old one. */
static void update_row(const double *n, const double *c, const double *s,
                       double *out, int nx)
{
    int j;

    out[0]      = c[0];
    out[nx - 1] = c[nx - 1];
    for (j = 1; j < nx - 1; j++) {
        out[j] = c[j] + ALPHA * ((n[j] + s[j]) + (c[j - 1] + c[j + 1]) -
                                 4.0 * c[j]);
    }
}

static void grid_step(heat2d_grid_t *g)
{
    size_t  nx = (size_t)g->nx;
    double *tmp;
    int     li;
    int     gi;

    halo_exchange(g);
    for (li = 1; li <= g->nrows; li++) {
        gi = g->first + li - 1;
        if ((gi == 0) || (gi == g->ny - 1)) {
            memcpy(g->v + li * nx, g->u + li * nx, nx * sizeof(double));
        } else {
            update_row(g->u + (li - 1) * nx, g->u + li * nx,
                       g->u + (li + 1) * nx, g->v + li * nx, g->nx);
        }
    }
    tmp  = g->u;
    g->u = g->v;
    g->v = tmp;
}

/* ---- output ----------------------------------------------------------- */

static int write_file(const char *path, const double *cells, size_t n)
{
    FILE *f = fopen(path, "wb");

    if (f == NULL) {
        perror(path);
        return -1;
    }
    if (fwrite(cells, sizeof(double), n, f) != n) {
        perror(path);
        fclose(f);
        return -1;
    }
    if (fclose(f) != 0) {
        perror(path);
        return -1;
    }
    return 0;
}

/* Collective: gather every rank's rows on rank 0, which writes them. */
static int grid_write(const heat2d_grid_t *g, const char *path)
{
    size_t  total  = (size_t)g->nx * (size_t)g->ny;
    double *full   = NULL;
    int    *counts = NULL;
    int    *displs = NULL;
    int     rc     = 0;
    int     r;
    int     first;
    int     nrows;

    if (g->rank == 0) {
        full   = malloc(total * sizeof(double));
        counts = malloc((size_t)g->nranks * sizeof(int));
        displs = malloc((size_t)g->nranks * sizeof(int));
        if ((full == NULL) || (counts == NULL) || (displs == NULL) ||
            (total > INT_MAX)) {
            fprintf(stderr, "heat2d: cannot gather %zu cells\n", total);
            MPI_Abort(g->comm, 1);
        }
        for (r = 0; r < g->nranks; r++) {
            heat2d_rows_of(g->ny, r, g->nranks, &first, &nrows);
            counts[r] = nrows * g->nx;
            displs[r] = first * g->nx;
        }
    }
    MPI_Gatherv(heat2d_row(g, 1), g->nrows * g->nx, MPI_DOUBLE, full, counts,
                displs, MPI_DOUBLE, 0, g->comm);
    if (g->rank == 0) {
        rc = write_file(path, full, total);
    }
    free(full);
    free(counts);
    free(displs);
    MPI_Bcast(&rc, 1, MPI_INT, 0, g->comm);
    return rc;
}

/* ---- main ------------------------------------------------------------- */

/* Simulated crash: every rank finishes the step, then kills itself. */
static void crash(const heat2d_grid_t *g, long step)
{
    MPI_Barrier(g->comm);
    if (g->rank == 0) {
        printf("heat2d: step %ld: --kill-after: raising SIGKILL\n", step);
    }
    fflush(stdout);
    fflush(stderr);
    raise(SIGKILL);
}

/*
 * Simulated loss inside the job (--lose-at): every rank's grid is wiped
 * (NaN) and the run resumes from the checkpoint still in DRAM, as a code
 * would after losing a rank's state without losing the job. Returns the
 * step resumed from, or -1.
 */
static long lose_and_resume(heat2d_grid_t *g, heat2d_ckpt_t *ck, long step)
{
    size_t i, n = (size_t)(g->nrows + 2) * (size_t)g->nx;
    long   from = -1;

    for (i = 0; i < n; i++) {
        g->u[i] = NAN;
        g->v[i] = NAN;
    }
    if (g->rank == 0) {
        printf("heat2d: step %ld: --lose-at: grid lost, resuming from "
               "DRAM\n", step);
    }
    return (heat2d_ckpt_restore(ck, g, &from) == 0) ? from : -1;
}

static int run(const heat2d_opts_t *o, heat2d_grid_t *g, heat2d_ckpt_t *ck,
               long step)
{
    long s, lose_at = o->lose_at;

    for (s = step + 1; s <= o->steps; s++) {
        if (s - 1 == lose_at) {
            lose_at = -1; /* once */
            if ((s = lose_and_resume(g, ck, s - 1)) < 0) {
                return -1;
            }
            s++;
        }
        grid_step(g);
        if (heat2d_ckpt_poll(ck) != 0) {
            return -1;
        }
        if ((o->ckpt_every > 0) && (s % o->ckpt_every == 0) &&
            (heat2d_ckpt_save(ck, g, s) != 0)) {
            return -1;
        }
        if (s == o->kill_after) {
            crash(g, s);
        }
    }
    return heat2d_ckpt_finish(ck);
}

static int simulate(const heat2d_opts_t *o, dkv_ctx_t *ctx, MPI_Comm comm)
{
    heat2d_grid_t g    = {0};
    heat2d_ckpt_t ck;
    long          step = 0;
    double        t0   = heat2d_now();
    int           rc   = -1;

    heat2d_ckpt_init(&ck, ctx, o, comm);
    if (grid_create(&g, o, comm) != 0) {
        goto out;
    }
    if ((g.rank == 0) && !o->quiet) {
        printf("heat2d: %d x %d grid on %d ranks (%d holders), steps %ld, "
               "checkpoint every %ld, drain every %ld checkpoints\n",
               g.nx, g.ny, g.nranks, dkv_num_holders(ctx), o->steps,
               o->ckpt_every, o->drain_every);
    }
    if (o->restart) {
        rc = heat2d_ckpt_restore(&ck, &g, &step);
    } else {
        grid_fill_initial(&g);
        rc = 0;
    }
    if ((rc == 0) && ((rc = run(o, &g, &ck, step)) == 0) && (o->out != NULL)) {
        rc = grid_write(&g, o->out);
    }
    if ((rc == 0) && (g.rank == 0)) {
        printf("heat2d: done: step %ld in %.3f s%s%s\n",
               (o->steps > step) ? o->steps : step, heat2d_now() - t0,
               (o->out != NULL) ? ", grid written to " : "",
               (o->out != NULL) ? o->out : "");
    }
out:
    heat2d_ckpt_cleanup(&ck);
    grid_destroy(&g);
    return rc;
}

static int serve(dkv_ctx_t *ctx)
{
    dkv_status_t status = dkv_serve(ctx);

    if (status != DKV_OK) {
        fprintf(stderr, "heat2d: rank %d: dkv_serve: %s\n", dkv_rank(ctx),
                dkv_strerror(status));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    heat2d_opts_t opts;
    dkv_ctx_t    *ctx;
    dkv_status_t  status;
    MPI_Comm      comm;
    int           dedicated;
    int           rc;

    if (help_asked(argc, argv)) {
        return 0;
    }
    MPI_Init(&argc, &argv);
    /* Progress lines should show up as they happen, also through a pipe. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (parse_opts(argc, argv, &opts) != 0) {
        MPI_Finalize();
        return 2;
    }
    status = dkv_init(NULL, &ctx);
    if (status != DKV_OK) {
        fprintf(stderr, "heat2d: dkv_init: %s\n", dkv_strerror(status));
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    /* Dedicated holders only serve; the fences are among the others. */
    dedicated = dkv_is_dedicated(ctx);
    MPI_Comm_split(MPI_COMM_WORLD, dedicated, dkv_rank(ctx), &comm);
    rc = dedicated ? serve(ctx) : simulate(&opts, ctx, comm);
    if (rc != 0) {
        /* Other ranks may wait in a collective call: end the whole job. */
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    status = dkv_finalize(ctx);
    if (status != DKV_OK) {
        fprintf(stderr, "heat2d: dkv_finalize: %s\n", dkv_strerror(status));
        rc = 1;
    }
    MPI_Comm_free(&comm);
    MPI_Finalize();
    return (rc == 0) ? 0 : 1;
}
