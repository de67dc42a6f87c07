/*
 * test_fault: the DKV_FAULT parser accepts every documented item and rejects
 * malformed specs, naming the bad item; an armed die_at point kills the
 * process exactly the N-th time it is reached, on its rank, for its keys.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fault.h"

static void test_empty(void **state)
{
    dkv__fault_t f;
    char         err[128];

    memset(&f, 0x55, sizeof(f));
    assert_int_equal(dkv__fault_parse(NULL, &f, err, sizeof(err)), DKV_OK);
    assert_true(f.kill_after == 0 && f.drop_acks == 0 && f.corrupt == 0);
    assert_int_equal(f.delay_ms, 0);
    assert_int_equal(dkv__fault_parse("", &f, err, sizeof(err)), DKV_OK);
}

static void test_items(void **state)
{
    dkv__fault_t f;
    char         err[128];

    assert_int_equal(dkv__fault_parse("kill_after:10,drop_acks:3,"
                                      "delay_ack:250,corrupt:7",
                                      &f, err, sizeof(err)),
                     DKV_OK);
    assert_int_equal(f.kill_after, 10);
    assert_int_equal(f.drop_acks, 3);
    assert_int_equal(f.delay_ms, 250);
    assert_int_equal(f.corrupt, 7);
    assert_int_equal(dkv__fault_parse("corrupt:1", &f, err, sizeof(err)),
                     DKV_OK);
    assert_int_equal(f.corrupt, 1);
    assert_int_equal(f.kill_after, 0);
}

static void test_die_at(void **state)
{
    dkv__fault_t f;
    char         err[128];

    assert_int_equal(dkv__fault_parse("", &f, err, sizeof(err)), DKV_OK);
    assert_int_equal(f.die_at, DKV__FAULT_NONE);
    assert_int_equal(dkv__fault_parse("die_at:put.holder.before_ack", &f, err,
                                      sizeof(err)),
                     DKV_OK);
    assert_int_equal(f.die_at, DKV__FAULT_PUT_HOLDER_BEFORE_ACK);
    assert_int_equal(f.die_count, 1); /* N omitted */
    assert_int_equal(f.die_rank, -1);
    assert_string_equal(f.die_key, "");
    assert_int_equal(dkv__fault_parse("corrupt:2,die_at:get.client.mid_recv:"
                                      "12@3,die_key:f/x:y",
                                      &f, err, sizeof(err)),
                     DKV_OK);
    assert_int_equal(f.corrupt, 2);
    assert_int_equal(f.die_at, DKV__FAULT_GET_CLIENT_MID_RECV);
    assert_int_equal(f.die_count, 12);
    assert_int_equal(f.die_rank, 3);
    assert_string_equal(f.die_key, "f/x:y");
    assert_int_equal(dkv__fault_parse("die_at:list.client.after_send@0", &f,
                                      err, sizeof(err)),
                     DKV_OK);
    assert_int_equal(f.die_at, DKV__FAULT_LIST_CLIENT_AFTER_SEND);
    assert_int_equal(f.die_count, 1);
    assert_int_equal(f.die_rank, 0);
    assert_int_equal(dkv__fault_parse("die_at:put.client.mid_send:1,"
                                      "die_at:drain.holder.mid_write:4",
                                      &f, err, sizeof(err)),
                     DKV_OK);
    assert_int_equal(f.die_at, DKV__FAULT_DRAIN_HOLDER_MID_WRITE); /* last */
    assert_int_equal(f.die_count, 4);
}

/* Every point of the table parses back to itself by its name. */
static void test_point_names(void **state)
{
    dkv__fault_t f;
    char         spec[128], err[128];
    int          p;

    for (p = DKV__FAULT_NONE + 1; p < DKV__FAULT_NPOINTS; p++) {
        const char *name = dkv__fault_point_name((dkv__fault_point_t)p);

        assert_string_not_equal(name, "none");
        snprintf(spec, sizeof(spec), "die_at:%s:2", name);
        assert_int_equal(dkv__fault_parse(spec, &f, err, sizeof(err)),
                         DKV_OK);
        assert_int_equal(f.die_at, p);
    }
    assert_string_equal(dkv__fault_point_name(DKV__FAULT_NONE), "none");
    assert_string_equal(dkv__fault_point_name(DKV__FAULT_NPOINTS), "none");
}

/*
 * In a child process: arm @p spec for @p rank, reach @p point @p before
 * times with @p key, report that on @p fd, then reach it once more. Returns
 * the child's wait status and how many hits it survived (-1: none).
 */
static int run_child(const char *spec, int rank, dkv__fault_point_t point,
                     const char *key, int before, int *survived_p)
{
    dkv__fault_t f;
    char         err[128];
    int          fds[2], status, i, n = -1;
    pid_t        pid;

    assert_int_equal(dkv__fault_parse(spec, &f, err, sizeof(err)), DKV_OK);
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        dkv__fault_arm(&f, rank);
        for (i = 0; i < before; i++) {
            dkv__fault_hit(point, key);
            dkv__fault_hit(DKV__FAULT_NONE, key); /* never counts */
        }
        if (write(fds[1], &before, sizeof(before)) != sizeof(before)) {
            _exit(2);
        }
        dkv__fault_hit(point, key);
        _exit(0);
    }
    close(fds[1]);
    if (read(fds[0], &n, sizeof(n)) != sizeof(n)) {
        n = -1;
    }
    close(fds[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    *survived_p = n;
    return status;
}

static int killed(int status)
{
    return WIFSIGNALED(status) && (WTERMSIG(status) == SIGKILL);
}

static int exited(int status)
{
    return WIFEXITED(status) && (WEXITSTATUS(status) == 0);
}

static void test_die_at_counts(void **state)
{
    const dkv__fault_point_t p = DKV__FAULT_PUT_HOLDER_BEFORE_ACK;
    int                      n;

    /* The 3rd time: survives two, dies at the third. */
    assert_true(killed(run_child("die_at:put.holder.before_ack:3", 0, p, "k",
                                 2, &n)));
    assert_int_equal(n, 2);
    /* Not yet the 4th time. */
    assert_true(exited(run_child("die_at:put.holder.before_ack:4", 0, p, "k",
                                 2, &n)));
    /* N omitted: the first time. */
    assert_true(killed(run_child("die_at:put.holder.before_ack", 0, p, "k", 0,
                                 &n)));
    assert_int_equal(n, 0);
    /* Another point is never counted. */
    assert_true(exited(run_child("die_at:put.holder.mid_recv", 0, p, "k", 5,
                                 &n)));
    /* Another rank is not armed; the right one is. */
    assert_true(exited(run_child("die_at:put.holder.before_ack@1", 0, p, "k",
                                 3, &n)));
    assert_true(killed(run_child("die_at:put.holder.before_ack@1", 1, p, "k",
                                 0, &n)));
    /* die_key: other keys do not count; keyless steps always do. */
    assert_true(exited(run_child("die_at:put.holder.before_ack,die_key:f/",
                                 0, p, "g/1", 5, &n)));
    assert_true(killed(run_child("die_at:put.holder.before_ack:2,die_key:f/",
                                 0, p, "f/1", 1, &n)));
    assert_int_equal(n, 1);
    assert_true(killed(run_child("die_at:list.holder.before_reply,die_key:f/",
                                 0, DKV__FAULT_LIST_HOLDER_BEFORE_REPLY, NULL,
                                 0, &n)));
    /* Nothing armed: nothing happens. */
    assert_true(exited(run_child("corrupt:1", 0, p, "k", 3, &n)));
}

static void test_rejects(void **state)
{
    static const char *bad[] = {"kill", "kill_after", "kill_after:",
                                "kill_after:x", "kill_after:-1", "nope:3",
                                "corrupt:3,", ",corrupt:3", "delay_ack:9999999",
                                "corrupt:3 ", "corrupt:99999999999999999999",
                                "die_at", "die_at:", "die_at:put",
                                "die_at:put.holder.nope", "die_at::1",
                                "die_at:put.holder.before_ack:",
                                "die_at:put.holder.before_ack:0",
                                "die_at:put.holder.before_ack:x",
                                "die_at:put.holder.before_ack:1:2",
                                "die_at:put.holder.before_ack:-1",
                                "die_at:put.holder.before_ack@",
                                "die_at:put.holder.before_ack@x",
                                "die_at:put.holder.before_ack@-1",
                                "die_at:put.holder.before_ack:1@99999999999",
                                "die_at:put.holder.before_ack@1@2",
                                "die_at:PUT.HOLDER.BEFORE_ACK",
                                "die_at: put.holder.before_ack",
                                "die_at:none", "die_key:f/", "die_key:",
                                "die_at:put.holder.before_ack,die_key:",
                                "die_at:put.holder.before_ack,die_key:"
                                "0123456789012345678901234567890123456789"
                                "0123456789012345678901234"};
    dkv__fault_t f;
    char         err[128];
    size_t       i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        f.corrupt = 42;
        assert_int_equal(dkv__fault_parse(bad[i], &f, err, sizeof(err)),
                         DKV_ERR_INVALID);
        assert_non_null(strstr(err, "DKV_FAULT"));
        assert_int_equal(f.corrupt, 42); /* untouched on error */
    }
    dkv__fault_parse("corrupt:2,bogus:1", &f, err, sizeof(err));
    assert_non_null(strstr(err, "'bogus:1'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_die_at),
        cmocka_unit_test(test_point_names),
        cmocka_unit_test(test_die_at_counts),
        cmocka_unit_test(test_rejects),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
