/*
 * store_perf: the longest single store operation while a holder's table
 * grows to N keys (default 4M): reserve + publish of each new key, then a
 * lookup and an overwrite of each, timed one by one. Issue 11's target is
 * no operation over 1 ms at 4M keys (the one-step rehash took 371 ms at
 * 2.1M keys). Single process, pure store code: no UCX, no MPI.
 *
 * Each operation is timed by this thread's CPU clock (page faults
 * included, preemption by other processes not), since on a shared test
 * machine the wall clock of any single microsecond operation is at the
 * scheduler's mercy; the wall-clock maximum is printed too.
 *
 *   store_perf [nkeys]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "place.h"
#include "store.h"

static double clock_us(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec * 1e-3;
}

typedef struct {
    double max_us, total_us, wall_max_us, t0, w0;
    size_t n, over_100us, max_at;
    /* The operations that started or finished a grow of the bucket array:
     * where a one-step rehash stalls. */
    double resize_max_us;
    size_t resizes, nb, old_nb;
} stat_t;

static void stat_start(stat_t *st)
{
    st->w0 = clock_us(CLOCK_MONOTONIC);
    st->t0 = clock_us(CLOCK_THREAD_CPUTIME_ID);
}

static void stat_stop(stat_t *st, const dkv__store_t *s)
{
    double us   = clock_us(CLOCK_THREAD_CPUTIME_ID) - st->t0;
    double wall = clock_us(CLOCK_MONOTONIC) - st->w0;

    if ((s->nbuckets != st->nb) || (s->old_nbuckets != st->old_nb)) {
        if ((st->n > 0) && ((s->nbuckets != st->nb) ||
                            (s->old_nbuckets == 0))) {
            st->resizes++;
            st->resize_max_us = (us > st->resize_max_us) ? us
                                                         : st->resize_max_us;
        }
        st->nb     = s->nbuckets;
        st->old_nb = s->old_nbuckets;
    }
    if (wall > st->wall_max_us) {
        st->wall_max_us = wall;
    }
    if (us > st->max_us) {
        st->max_us = us;
        st->max_at = st->n;
    }
    st->over_100us += (us > 100.0);
    st->total_us += us;
    st->n++;
}

static void stat_print(const char *what, const stat_t *st)
{
    printf("%-10s n %zu mean %.2f us max %.1f us cpu (op %zu), %.1f us wall;"
           " over 100 us cpu %zu; %zu grow starts/ends, max %.1f us cpu\n",
           what, st->n, st->total_us / (double)st->n, st->max_us, st->max_at,
           st->wall_max_us, st->over_100us, st->resizes, st->resize_max_us);
}

static int put(dkv__store_t *s, const char *key, size_t len, size_t i,
               stat_t *st)
{
    dkv__store_entry_t *e;
    uint64_t hash = dkv__place_hash(key, len);

    stat_start(st);
    if (dkv__store_reserve(s, key, len, hash, sizeof(i), &e) != DKV_OK) {
        return -1;
    }
    memcpy(dkv__store_value(e), &i, sizeof(i));
    dkv__store_publish(s, e);
    stat_stop(st, s);
    return 0;
}

int main(int argc, char **argv)
{
    size_t n = (argc > 1) ? strtoull(argv[1], NULL, 0) : (4u << 20);
    stat_t ins = {0}, get = {0}, ovw = {0};
    dkv__store_entry_t *e;
    dkv__store_t s;
    char key[32];
    size_t i;
    int len;

    if (dkv__store_init(&s, 0) != DKV_OK) {
        return 1;
    }
    for (i = 0; i < n; i++) {
        len = snprintf(key, sizeof(key), "ckpt/%zu", i);
        if (put(&s, key, (size_t)len, i, &ins) != 0) {
            return 1;
        }
    }
    for (i = 0; i < n; i++) {
        len = snprintf(key, sizeof(key), "ckpt/%zu", i);
        stat_start(&get);
        e = dkv__store_lookup(&s, key, (size_t)len,
                              dkv__place_hash(key, (size_t)len));
        stat_stop(&get, &s);
        if ((e == NULL) || (memcmp(dkv__store_value(e), &i, sizeof(i)) != 0)) {
            fprintf(stderr, "store_perf: key %s lost\n", key);
            return 1;
        }
        if (put(&s, key, (size_t)len, i, &ovw) != 0) {
            return 1;
        }
    }
    printf("store_perf: %zu keys, %zu buckets\n", s.count, s.nbuckets);
    stat_print("insert", &ins);
    stat_print("lookup", &get);
    stat_print("overwrite", &ovw);
    dkv__store_cleanup(&s);
    return 0;
}
