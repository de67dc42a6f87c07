/*
 * Unit tests for src/drain_file.c, on real files in a fresh directory under
 * /tmp per test: the file name format; write + check + open + iterate round
 * trips (0-byte value, 1024-byte key, 5 MiB and 64 MiB+ values, zero
 * records, more records than one write batch); progress counters; the
 * manifest round trip, its strict parser and its cleanup of other drains'
 * files; every failure the loader must see (missing, truncated, flipped
 * bytes, a file of another drain) with the file's path in the message;
 * cancel and write errors leaving no file behind; 2000 random corruptions
 * of a small file, all detected; concurrent manifest commits.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "crc32c.h"
#include "drain_file.h"

#define ID 0x0123456789abcdefull
#define MANIFEST_ID "dkv-0123456789abcdef.manifest"
#define OTHER 0xfedcba9876543210ull
#define BIG (5u << 20)
#define NSMALL 300 /* more records than one write batch holds */

typedef struct {
    char dir[64];
    char err[512];
} fixture_t;

/* Keys, values and the items pointing at them. */
typedef struct {
    char keys[NSMALL + 4][DKV_KEY_MAX];
    char *big;
    char medium[100];
    dkv__drain_item_t items[NSMALL + 4];
    size_t n;
} sample_t;

static int setup(void **state)
{
    fixture_t *t = calloc(1, sizeof(*t));

    if (t == NULL) {
        return -1;
    }
    strcpy(t->dir, "/tmp/dkv-drain-test-XXXXXX");
    if (mkdtemp(t->dir) == NULL) {
        free(t);
        return -1;
    }
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *t = *state;
    struct dirent *de;
    DIR *d = opendir(t->dir);

    while ((d != NULL) && ((de = readdir(d)) != NULL)) {
        if (de->d_name[0] != '.') {
            unlinkat(dirfd(d), de->d_name, 0);
        }
    }
    if (d != NULL) {
        closedir(d);
    }
    rmdir(t->dir);
    free(t);
    return 0;
}

static void path_of(const fixture_t *t, const char *name, char *out)
{
    snprintf(out, 256, "%s/%s", t->dir, name);
}

static int exists(const fixture_t *t, const char *name)
{
    char path[256];
    struct stat st;

    path_of(t, name, path);
    return stat(path, &st) == 0;
}

/* Number of entries in the directory (without . and ..). */
static int count_entries(const fixture_t *t)
{
    struct dirent *de;
    DIR *d = opendir(t->dir);
    int n  = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        n += (strcmp(de->d_name, ".") != 0) && (strcmp(de->d_name, "..") != 0);
    }
    closedir(d);
    return n;
}

static void assert_err_names(const fixture_t *t, const char *name)
{
    char path[256];

    path_of(t, name, path);
    if (strstr(t->err, path) == NULL) {
        fail_msg("message '%s' does not name %s", t->err, path);
    }
}

static sample_t *sample_new(int with_big)
{
    sample_t *s = calloc(1, sizeof(*s));
    size_t i, j;

    assert_non_null(s);
    s->items[s->n++] = (dkv__drain_item_t){"alpha", 5, "one", 3, 0, 0};
    s->items[s->n++] = (dkv__drain_item_t){"empty", 5, NULL, 0, 0, 0};
    memset(s->keys[0], 'k', DKV_KEY_MAX);
    memset(s->medium, 'm', sizeof(s->medium));
    s->items[s->n++] = (dkv__drain_item_t){
        s->keys[0], DKV_KEY_MAX, s->medium, sizeof(s->medium), 0, 0};
    if (with_big) {
        s->big = malloc(BIG);
        assert_non_null(s->big);
        for (j = 0; j < BIG; j++) {
            s->big[j] = (char)(j * 7 + 3);
        }
        s->items[s->n++] = (dkv__drain_item_t){"big", 3, s->big, BIG, 0, 0};
    }
    for (i = 1; i <= NSMALL; i++) {
        snprintf(s->keys[i], DKV_KEY_MAX, "key-%zu", i);
        /* Values of 0..16 bytes: every amount of padding. */
        s->items[s->n++] = (dkv__drain_item_t){
            s->keys[i], strlen(s->keys[i]), s->keys[i], i % 17, 0, 0};
    }
    return s;
}

static void sample_free(sample_t *s)
{
    free(s->big);
    free(s);
}

static void write_file(fixture_t *t, uint64_t id, int index,
                       const dkv__drain_item_t *items, size_t n,
                       dkv__drain_file_info_t *info)
{
    assert_int_equal(dkv__drain_file_write(t->dir, id, index, items, n, NULL,
                                           NULL, info, t->err, sizeof(t->err)),
                     DKV_OK);
}

/* Open the file of @p info and compare it with @p items. */
static void assert_contents(fixture_t *t, uint64_t id,
                            const dkv__drain_file_info_t *info,
                            const dkv__drain_item_t *items, size_t n)
{
    dkv__drain_map_t map;
    dkv__drain_item_t got;
    size_t i;

    assert_int_equal(
        dkv__drain_file_open(t->dir, id, info, &map, t->err, sizeof(t->err)),
        DKV_OK);
    assert_int_equal(map.records, n);
    for (i = 0; i < n; i++) {
        assert_int_equal(dkv__drain_map_next(&map, &got), 1);
        assert_int_equal(got.key_len, items[i].key_len);
        assert_memory_equal(got.key, items[i].key, got.key_len);
        assert_int_equal(got.value_len, items[i].value_len);
        if (got.value_len > 0) {
            assert_memory_equal(got.value, items[i].value, got.value_len);
        }
    }
    assert_int_equal(dkv__drain_map_next(&map, &got), 0);
    dkv__drain_map_close(&map);
    dkv__drain_map_close(&map);
    assert_null(map.base);
    assert_int_equal(dkv__drain_map_next(&map, &got), 0);
}

static void flip(fixture_t *t, const char *name, off_t off, unsigned char x)
{
    char path[256];
    unsigned char byte;
    int fd;

    path_of(t, name, path);
    fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &byte, 1, off), 1);
    byte ^= x;
    assert_int_equal(pwrite(fd, &byte, 1, off), 1);
    close(fd);
}

static void cut(fixture_t *t, const char *name, off_t len)
{
    char path[256];

    path_of(t, name, path);
    assert_int_equal(truncate(path, len), 0);
}

static void assert_open_fails(fixture_t *t, const dkv__drain_file_info_t *info,
                              dkv_status_t want)
{
    dkv__drain_map_t map = {0};

    t->err[0] = '\0';
    assert_int_equal(
        dkv__drain_file_open(t->dir, ID, info, &map, t->err, sizeof(t->err)),
        want);
    assert_null(map.base);
    assert_err_names(t, info->name);
}

static void assert_check_fails(fixture_t *t, const dkv__drain_file_info_t *info,
                               dkv_status_t want)
{
    t->err[0] = '\0';
    assert_int_equal(
        dkv__drain_file_check(t->dir, ID, info, t->err, sizeof(t->err)), want);
    assert_err_names(t, info->name);
}

static void test_name_format(void **state)
{
    char name[DKV__DRAIN_NAME_MAX];

    (void)state;
    dkv__drain_file_name(name, ID, 7);
    assert_string_equal(name, "dkv-0123456789abcdef-h00007.dat");
    dkv__drain_file_name(name, 1, 123456);
    assert_string_equal(name, "dkv-0000000000000001-h123456.dat");
    assert_string_equal(DKV__DRAIN_MANIFEST, "dramkv-drain.manifest");
}

static void test_round_trip(void **state)
{
    fixture_t *t = *state;
    sample_t *s  = sample_new(1);
    dkv__drain_counters_t ctr;
    dkv__drain_file_info_t info;
    uint64_t payload = 0;
    struct stat st;
    char path[256];
    size_t i;

    atomic_init(&ctr.bytes, 0);
    atomic_init(&ctr.keys, 0);
    atomic_init(&ctr.flushed, 0);
    for (i = 0; i < s->n; i++) {
        payload += s->items[i].key_len + s->items[i].value_len;
    }
    assert_int_equal(dkv__drain_file_write(t->dir, ID, 3, s->items, s->n, &ctr,
                                           NULL, &info, t->err, sizeof(t->err)),
                     DKV_OK);
    assert_string_equal(info.name, "dkv-0123456789abcdef-h00003.dat");
    assert_int_equal(info.records, s->n);
    assert_int_equal(info.payload_bytes, payload);
    assert_int_equal(atomic_load(&ctr.keys), s->n);
    assert_int_equal(atomic_load(&ctr.bytes), payload);
    path_of(t, info.name, path);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, info.file_bytes);
    assert_int_equal(info.file_bytes % 8, 0);
    /* Every byte of the file counted as flushed (the stall detector). */
    assert_int_equal(atomic_load(&ctr.flushed), info.file_bytes);
    assert_int_equal(count_entries(t), 1); /* no temporary file left */
    assert_int_equal(
        dkv__drain_file_check(t->dir, ID, &info, t->err, sizeof(t->err)),
        DKV_OK);
    assert_contents(t, ID, &info, s->items, s->n);
    dkv__drain_map_close(NULL);
    sample_free(s);
}

/* A value larger than one writev (64 MiB) is split and still reads back. */
static void test_value_over_chunk(void **state)
{
    fixture_t *t = *state;
    size_t len   = (64u << 20) + 3;
    char *value  = malloc(len);
    dkv__drain_item_t items[2];
    dkv__drain_file_info_t info;
    size_t i;

    assert_non_null(value);
    for (i = 0; i < len; i++) {
        value[i] = (char)(i ^ (i >> 11));
    }
    items[0] = (dkv__drain_item_t){"huge", 4, value, len, 0, 0};
    items[1] = (dkv__drain_item_t){"after", 5, "x", 1, 0, 0};
    write_file(t, ID, 0, items, 2, &info);
    assert_int_equal(info.file_bytes, (64u << 20) + 128);
    assert_contents(t, ID, &info, items, 2);
    free(value);
}

static void test_zero_records(void **state)
{
    fixture_t *t = *state;
    dkv__drain_file_info_t info;

    write_file(t, ID, 0, NULL, 0, &info);
    assert_int_equal(info.file_bytes, 64);
    assert_int_equal(info.records, 0);
    assert_int_equal(info.payload_bytes, 0);
    assert_int_equal(
        dkv__drain_file_check(t->dir, ID, &info, t->err, sizeof(t->err)),
        DKV_OK);
    assert_contents(t, ID, &info, NULL, 0);
}

static void test_bad_item(void **state)
{
    fixture_t *t                   = *state;
    dkv__drain_item_t items[2]     = {{"ok", 2, "v", 1, 0, 0},
                                      {"", 0, "v", 1, 0, 0}};
    char long_key[DKV_KEY_MAX + 1] = {0};
    dkv__drain_file_info_t info;

    assert_int_equal(dkv__drain_file_write(t->dir, ID, 0, items, 2, NULL, NULL,
                                           &info, t->err, sizeof(t->err)),
                     DKV_ERR_INVALID);
    items[1] = (dkv__drain_item_t){long_key, sizeof(long_key), "v", 1, 0, 0};
    assert_int_equal(dkv__drain_file_write(t->dir, ID, 0, items, 2, NULL, NULL,
                                           &info, t->err, sizeof(t->err)),
                     DKV_ERR_INVALID);
    assert_int_equal(dkv__drain_file_write(t->dir, ID, -1, items, 1, NULL, NULL,
                                           &info, t->err, sizeof(t->err)),
                     DKV_ERR_INVALID);
    assert_int_equal(count_entries(t), 0);
}

/* Write two files and their manifest; returns the manifest (caller frees
 * files). */
static dkv__drain_manifest_t write_drain(fixture_t *t, uint64_t id)
{
    dkv__drain_item_t items[2] = {{"a", 1, "1", 1, 0, 0},
                                  {"b", 1, "22", 2, 0, 0}};
    dkv__drain_manifest_t m    = {
           .id = id, .nfiles = 2, .files = calloc(2, sizeof(*m.files))};

    assert_non_null(m.files);
    write_file(t, id, 1, items, 2, &m.files[0]);
    write_file(t, id, 0, items, 1, &m.files[1]);
    assert_int_equal(
        dkv__drain_manifest_write(t->dir, &m, t->err, sizeof(t->err)), DKV_OK);
    return m;
}

static void test_manifest_round_trip(void **state)
{
    fixture_t *t              = *state;
    dkv__drain_manifest_t m   = write_drain(t, ID);
    dkv__drain_manifest_t got = {0};
    size_t i;

    assert_int_equal(
        dkv__drain_manifest_read(t->dir, &got, t->err, sizeof(t->err)), DKV_OK);
    assert_int_equal(got.id, ID);
    assert_int_equal(got.nfiles, 2);
    for (i = 0; i < 2; i++) {
        assert_string_equal(got.files[i].name, m.files[i].name);
        assert_int_equal(got.files[i].file_bytes, m.files[i].file_bytes);
        assert_int_equal(got.files[i].records, m.files[i].records);
        assert_int_equal(got.files[i].payload_bytes, m.files[i].payload_bytes);
        assert_int_equal(dkv__drain_file_check(t->dir, ID, &got.files[i],
                                               t->err, sizeof(t->err)),
                         DKV_OK);
    }
    assert_int_equal(count_entries(t), 3); /* no temporary file left */
    assert_string_equal(got.file, MANIFEST_ID);
    dkv__drain_manifest_free(&got);
    dkv__drain_manifest_free(&got);
    dkv__drain_manifest_free(NULL);
    free(m.files);
}

static void test_manifest_missing(void **state)
{
    fixture_t *t            = *state;
    dkv__drain_manifest_t m = {0};

    assert_int_equal(
        dkv__drain_manifest_read(t->dir, &m, t->err, sizeof(t->err)),
        DKV_ERR_NOT_FOUND);
    assert_err_names(t, "dkv-*.manifest");
    assert_null(m.files);
}

static char *read_all(const char *path, size_t *len_p)
{
    struct stat st;
    char *buf;
    int fd = open(path, O_RDONLY);

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    buf = malloc((size_t)st.st_size + 1);
    assert_non_null(buf);
    assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
    close(fd);
    *len_p = (size_t)st.st_size;
    return buf;
}

static void put_all(const char *path, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, len), (ssize_t)len);
    close(fd);
}

static dkv_status_t read_manifest(fixture_t *t)
{
    dkv__drain_manifest_t m = {0};
    dkv_status_t status;

    t->err[0] = '\0';
    status    = dkv__drain_manifest_read(t->dir, &m, t->err, sizeof(t->err));
    dkv__drain_manifest_free(&m);
    return status;
}

/* Every single flipped byte of the manifest is caught. */
static void test_manifest_flipped(void **state)
{
    fixture_t *t            = *state;
    dkv__drain_manifest_t m = write_drain(t, ID);
    char path[256];
    size_t len, i;
    char *orig;

    path_of(t, MANIFEST_ID, path);
    orig = read_all(path, &len);
    for (i = 0; i < len; i++) {
        orig[i] ^= 0x01;
        put_all(path, orig, len);
        orig[i] ^= 0x01;
        assert_int_equal(read_manifest(t), DKV_ERR_CORRUPT);
        assert_err_names(t, MANIFEST_ID);
    }
    put_all(path, orig, len - 1);
    assert_int_equal(read_manifest(t), DKV_ERR_CORRUPT);
    put_all(path, "", 0);
    assert_int_equal(read_manifest(t), DKV_ERR_CORRUPT);
    put_all(path, orig, len);
    assert_int_equal(read_manifest(t), DKV_OK);
    free(orig);
    free(m.files);
}

/* Write @p body, its correct crc line and @p tail as the manifest and
 * read it. */
static dkv_status_t try_manifest_tail(fixture_t *t, const char *body,
                                      const char *tail)
{
    char path[256];
    char text[1024];
    size_t len = strlen(body);

    memcpy(text, body, len);
    len += (size_t)snprintf(text + len, sizeof(text) - len, "crc %08x\n%s",
                            (unsigned)dkv__crc32c(0, body, len), tail);
    path_of(t, DKV__DRAIN_MANIFEST, path);
    put_all(path, text, len);
    return read_manifest(t);
}

static dkv_status_t try_manifest(fixture_t *t, const char *body)
{
    return try_manifest_tail(t, body, "");
}

#define HEAD "dramkv-drain 1\nid 0123456789abcdef\n"
#define NAME0 "dkv-0123456789abcdef-h00000.dat"
#define NAME1 "dkv-0123456789abcdef-h00001.dat"

/* Text that only differs from a valid manifest in one way is rejected. */
static void test_manifest_strict(void **state)
{
    static const char *bad[] = {
        HEAD "files 1\nfile " NAME0 " 096 1 4\n", /* leading zero */
        HEAD "files 01\nfile " NAME0 " 96 1 4\n",
        HEAD "files 1\nfile " NAME0 " 96 1 4 \n", /* extra space */
        HEAD "files 1\nfile  " NAME0 " 96 1 4\n",
        HEAD "files 1\nfile " NAME0 " 96 1 4",    /* no newline */
        HEAD "files 1\nfile " NAME0 " 96 1 +4\n", /* sign */
        HEAD "files 1\nfile " NAME0 " 96 1 99999999999999999999\n",
        HEAD "files 1\nfile " NAME0 " 96 1\n",   /* a field missing */
        HEAD "files 2\nfile " NAME0 " 96 1 4\n", /* too few lines */
        HEAD "files 1\nfile " NAME0 " 96 1 4\nfile " NAME1 " 96 1 4\n",
        HEAD "files 1\nfile " NAME1 " 96 1 4\n", /* index >= n */
        HEAD "files 2\nfile " NAME0 " 96 1 4\nfile " NAME0 " 96 1 4\n",
        HEAD "files 1\nfile a/" NAME0 " 96 1 4\n", /* '/' */
        HEAD "files 1\nfile other.dat 96 1 4\n",   /* pattern */
        HEAD "files 1\nfile dkv-0123456789ABCDEF-h00000.dat 96 1 4\n",
        HEAD "files 1\nfile dkv-fedcba9876543210-h00000.dat 96 1 4\n",
        HEAD "files 1\nfile dkv-0123456789abcdef-h0.dat 96 1 4\n",
        HEAD "files 1\nfile " NAME0 " 88 1 4\n", /* sizes do not add up */
        HEAD "files 1\nfile " NAME0 " 104 1 4\n",
        HEAD "files 1\nfile " NAME0 " 97 1 4\n",
        HEAD "files 1\nfile " NAME0 " 96 2 4\n",
        HEAD "files 1\nfile " NAME0 " 96 1 0\n",
        "dramkv-drain 2\nid 0123456789abcdef\nfiles 0\n",
        "dramkv-drain 1\nid 0123456789ABCDEF\nfiles 0\n",
        "dramkv-drain 1\nid 123456789abcdef\nfiles 0\n",
        "dramkv-drain 1\r\nid 0123456789abcdef\nfiles 0\n",
        "id 0123456789abcdef\ndramkv-drain 1\nfiles 0\n",
        HEAD "files 1000000000\n",
        HEAD "files 0\n\n",
        HEAD,
        "",
    };
    fixture_t *t = *state;
    size_t i;

    assert_int_equal(try_manifest(t, HEAD "files 1\nfile " NAME0 " 96 1 4\n"),
                     DKV_OK);
    assert_int_equal(try_manifest(t, HEAD "files 0\n"), DKV_OK);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (try_manifest(t, bad[i]) != DKV_ERR_CORRUPT) {
            fail_msg("accepted manifest %zu:\n%s", i, bad[i]);
        }
        assert_err_names(t, DKV__DRAIN_MANIFEST);
    }
    /* Text after the crc line. */
    assert_int_equal(try_manifest_tail(t, HEAD "files 0\n", "x"),
                     DKV_ERR_CORRUPT);
    assert_int_equal(try_manifest_tail(t, HEAD "files 0\n", "\n"),
                     DKV_ERR_CORRUPT);
}

static void test_manifest_write_invalid(void **state)
{
    fixture_t *t                    = *state;
    dkv__drain_file_info_t files[2] = {{NAME0, 96, 1, 4}, {NAME0, 96, 1, 4}};
    dkv__drain_manifest_t m         = {.id = ID, .nfiles = 2, .files = files};

    assert_int_equal(
        dkv__drain_manifest_write(t->dir, &m, t->err, sizeof(t->err)),
        DKV_ERR_INVALID);
    m.id     = OTHER;
    m.nfiles = 1;
    assert_int_equal(
        dkv__drain_manifest_write(t->dir, &m, t->err, sizeof(t->err)),
        DKV_ERR_INVALID);
    assert_int_equal(count_entries(t), 0);
}

static void test_data_missing(void **state)
{
    fixture_t *t            = *state;
    dkv__drain_manifest_t m = write_drain(t, ID);
    char path[256];

    path_of(t, m.files[0].name, path);
    assert_int_equal(unlink(path), 0);
    assert_check_fails(t, &m.files[0], DKV_ERR_NOT_FOUND);
    assert_open_fails(t, &m.files[0], DKV_ERR_NOT_FOUND);
    free(m.files);
}

static void test_truncated(void **state)
{
    fixture_t *t = *state;
    sample_t *s  = sample_new(0);
    dkv__drain_file_info_t info;

    write_file(t, ID, 0, s->items, s->n, &info);
    cut(t, info.name, (off_t)info.file_bytes - 1);
    assert_check_fails(t, &info, DKV_ERR_CORRUPT);
    assert_non_null(strstr(t->err, "truncated"));
    assert_open_fails(t, &info, DKV_ERR_CORRUPT);
    cut(t, info.name, (off_t)info.file_bytes / 2);
    assert_check_fails(t, &info, DKV_ERR_CORRUPT);
    assert_open_fails(t, &info, DKV_ERR_CORRUPT);
    cut(t, info.name, 0);
    assert_check_fails(t, &info, DKV_ERR_CORRUPT);
    assert_open_fails(t, &info, DKV_ERR_CORRUPT);
    sample_free(s);
}

static void test_too_long(void **state)
{
    fixture_t *t = *state;
    sample_t *s  = sample_new(0);
    dkv__drain_file_info_t info;

    write_file(t, ID, 0, s->items, s->n, &info);
    cut(t, info.name, (off_t)info.file_bytes + 8);
    assert_check_fails(t, &info, DKV_ERR_CORRUPT);
    assert_non_null(strstr(t->err, "too long"));
    assert_open_fails(t, &info, DKV_ERR_CORRUPT);
    sample_free(s);
}

static void test_flipped_bytes(void **state)
{
    fixture_t *t               = *state;
    dkv__drain_item_t items[2] = {{"key", 3, "value", 5, 0, 0},
                                  {"k2", 2, "v2", 2, 0, 0}};
    dkv__drain_file_info_t info;
    dkv__drain_map_t map;

    write_file(t, ID, 0, items, 2, &info);
    /* Layout: header 0..31, record 32: header 32..55, key 56..58, value
     * 59..63; record 64: header 64..87, key 88..89, value 90..91, padding
     * 92..95; footer 96..127. */
    assert_int_equal(info.file_bytes, 128);
    flip(t, info.name, 61, 0x01); /* a value byte */
    assert_open_fails(t, &info, DKV_ERR_CORRUPT);
    assert_non_null(strstr(t->err, "data crc"));
    flip(t, info.name, 61, 0x01);
    flip(t, info.name, 36, 0x01); /* key_len of record 0 */
    assert_open_fails(t, &info, DKV_ERR_CORRUPT);
    flip(t, info.name, 36, 0x01);
    flip(t, info.name, 93, 0x80); /* padding */
    assert_open_fails(t, &info, DKV_ERR_CORRUPT);
    flip(t, info.name, 93, 0x80);
    flip(t, info.name, 110, 0x02); /* footer record count */
    assert_open_fails(t, &info, DKV_ERR_CORRUPT);
    assert_check_fails(t, &info, DKV_ERR_CORRUPT);
    flip(t, info.name, 110, 0x02);
    flip(t, info.name, 127, 0x10); /* footer crc */
    assert_open_fails(t, &info, DKV_ERR_CORRUPT);
    assert_check_fails(t, &info, DKV_ERR_CORRUPT);
    flip(t, info.name, 127, 0x10);
    flip(t, info.name, 20, 0x02); /* header version */
    assert_check_fails(t, &info, DKV_ERR_CORRUPT);
    assert_open_fails(t, &info, DKV_ERR_CORRUPT);
    flip(t, info.name, 20, 0x02);
    assert_int_equal(
        dkv__drain_file_open(t->dir, ID, &info, &map, t->err, sizeof(t->err)),
        DKV_OK);
    dkv__drain_map_close(&map);
}

/* A file whose records do not match the manifest's counts. */
static void test_manifest_mismatch(void **state)
{
    fixture_t *t               = *state;
    dkv__drain_item_t items[2] = {{"key", 3, "value", 5, 0, 0},
                                  {"k2", 2, "v2", 2, 0, 0}};
    dkv__drain_file_info_t info, wrong;

    write_file(t, ID, 0, items, 2, &info);
    wrong         = info;
    wrong.records = 1;
    assert_check_fails(t, &wrong, DKV_ERR_CORRUPT);
    assert_open_fails(t, &wrong, DKV_ERR_CORRUPT);
    wrong = info;
    wrong.payload_bytes--;
    assert_check_fails(t, &wrong, DKV_ERR_CORRUPT);
    assert_open_fails(t, &wrong, DKV_ERR_CORRUPT);
}

/* Valid records, footer and sizes, but 8 bytes between the last record and
 * the footer: only the full check sees it. */
static void test_gap_before_footer(void **state)
{
    fixture_t *t               = *state;
    dkv__drain_item_t items[2] = {{"key", 3, "value", 5, 0, 0},
                                  {"k2", 2, "v2xxxx", 6, 0, 0}};
    dkv__drain_file_info_t info;
    char path[256];
    char *orig, *gap;
    size_t len;

    write_file(t, ID, 0, items, 2, &info);
    path_of(t, info.name, path);
    orig = read_all(path, &len);
    assert_int_equal(len, 128);
    gap = calloc(1, len + 8);
    assert_non_null(gap);
    memcpy(gap, orig, len - 32);
    memcpy(gap + len - 32 + 8, orig + len - 32, 32);
    put_all(path, gap, len + 8);
    info.file_bytes += 8;
    assert_int_equal(
        dkv__drain_file_check(t->dir, ID, &info, t->err, sizeof(t->err)),
        DKV_OK);
    assert_open_fails(t, &info, DKV_ERR_CORRUPT);
    assert_non_null(strstr(t->err, "after the last record"));
    free(gap);
    free(orig);
}

static void test_other_drain(void **state)
{
    fixture_t *t               = *state;
    dkv__drain_item_t items[1] = {{"key", 3, "value", 5, 0, 0}};
    dkv__drain_file_info_t info, other;
    char from[256], to[256];

    write_file(t, OTHER, 0, items, 1, &other);
    info = other;
    dkv__drain_file_name(info.name, ID, 0);
    path_of(t, other.name, from);
    path_of(t, info.name, to);
    assert_int_equal(rename(from, to), 0);
    assert_check_fails(t, &info, DKV_ERR_CORRUPT);
    assert_non_null(strstr(t->err, "fedcba9876543210"));
    assert_open_fails(t, &info, DKV_ERR_CORRUPT);
    /* The manifest's name must be one of its own drain. */
    assert_int_equal(
        dkv__drain_file_check(t->dir, ID, &other, t->err, sizeof(t->err)),
        DKV_ERR_CORRUPT);
    /* Holder 1's file under holder 0's name. */
    write_file(t, ID, 1, items, 1, &other);
    info = other;
    dkv__drain_file_name(info.name, ID, 0);
    path_of(t, other.name, from);
    assert_int_equal(rename(from, to), 0);
    assert_check_fails(t, &info, DKV_ERR_CORRUPT);
    assert_open_fails(t, &info, DKV_ERR_CORRUPT);
}

static void test_cancel(void **state)
{
    fixture_t *t      = *state;
    sample_t *s       = sample_new(1);
    atomic_int cancel = 1;
    dkv__drain_file_info_t info;

    assert_int_equal(dkv__drain_file_write(t->dir, ID, 0, s->items, s->n, NULL,
                                           &cancel, &info, t->err,
                                           sizeof(t->err)),
                     DKV_ERR_STATE);
    assert_int_equal(count_entries(t), 0);
    assert_int_equal(dkv__drain_file_write(t->dir, ID, 0, NULL, 0, NULL,
                                           &cancel, &info, t->err,
                                           sizeof(t->err)),
                     DKV_ERR_STATE);
    assert_int_equal(count_entries(t), 0);
    atomic_store(&cancel, 0);
    write_file(t, ID, 0, s->items, s->n, &info);
    assert_int_equal(count_entries(t), 1);
    sample_free(s);
}

static void test_no_dir(void **state)
{
    fixture_t *t               = *state;
    dkv__drain_item_t items[1] = {{"key", 3, "value", 5, 0, 0}};
    dkv__drain_file_info_t info;
    dkv__drain_manifest_t m = {.id = ID, .nfiles = 1, .files = &info};
    char dir[256];

    path_of(t, "missing", dir);
    assert_int_equal(dkv__drain_file_write(dir, ID, 0, items, 1, NULL, NULL,
                                           &info, t->err, sizeof(t->err)),
                     DKV_ERR_IO);
    assert_non_null(strstr(t->err, dir));
    write_file(t, ID, 0, items, 1, &info);
    assert_int_equal(dkv__drain_manifest_write(dir, &m, t->err, sizeof(t->err)),
                     DKV_ERR_IO);
    assert_non_null(strstr(t->err, dir));
}

static void touch(fixture_t *t, const char *name)
{
    char path[256];

    path_of(t, name, path);
    put_all(path, "x", 1);
}

static void test_manifest_removes_old(void **state)
{
    static const char *kept[] = {
        "notes.txt",
        "dramkv-drain.manifest.tmp.1.2.3",
        "dkv-0123456789abcdef-h00001.dat.tmp.9",
        "dkv.dat",
    };
    fixture_t *t = *state;
    dkv__drain_manifest_t old, cur;
    size_t i;

    old = write_drain(t, OTHER);
    for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        touch(t, kept[i]);
    }
    touch(t, "dkv-junk-hjunk.dat");
    touch(t, "dkv-0123456789abcdef-h00002.dat"); /* index beyond the drain */
    /* A temporary data file of another (killed) drain goes too. */
    touch(t, "dkv-fedcba9876543210-h00000.dat.tmp.123");
    cur = write_drain(t, ID);
    for (i = 0; i < 2; i++) {
        assert_false(exists(t, old.files[i].name));
        assert_true(exists(t, cur.files[i].name));
    }
    for (i = 0; i < sizeof(kept) / sizeof(kept[0]); i++) {
        assert_true(exists(t, kept[i]));
    }
    assert_false(exists(t, "dkv-junk-hjunk.dat"));
    assert_false(exists(t, "dkv-0123456789abcdef-h00002.dat"));
    assert_false(exists(t, "dkv-fedcba9876543210-h00000.dat.tmp.123"));
    assert_int_equal(count_entries(t), 2 + 1 + 4);
    assert_int_equal(read_manifest(t), DKV_OK);
    free(old.files);
    free(cur.files);
}

/* Several processes commit the same manifest at once. */
static void test_manifest_concurrent(void **state)
{
    fixture_t *t            = *state;
    dkv__drain_manifest_t m = write_drain(t, ID);
    pid_t pids[4];
    int i, j, wstatus;

    for (i = 0; i < 4; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            for (j = 0; j < 25; j++) {
                if (dkv__drain_manifest_write(t->dir, &m, NULL, 0) != DKV_OK) {
                    _exit(1);
                }
            }
            _exit(0);
        }
    }
    for (i = 0; i < 4; i++) {
        assert_int_equal(waitpid(pids[i], &wstatus, 0), pids[i]);
        assert_true(WIFEXITED(wstatus));
        assert_int_equal(WEXITSTATUS(wstatus), 0);
    }
    assert_int_equal(read_manifest(t), DKV_OK);
    assert_int_equal(count_entries(t), 3);
    free(m.files);
}

/* Drain @p id of one file, committed at time @p when with @p label, the
 * newest @p keep kept. */
static void commit_at(fixture_t *t, uint64_t id, int64_t when,
                      const char *label, unsigned keep,
                      dkv__drain_file_info_t *info)
{
    dkv__drain_item_t items[1] = {{"k", 1, "v", 1, 0, 0}};
    dkv__drain_manifest_t m    = {
           .id = id, .nfiles = 1, .files = info, .time_s = when};

    snprintf(m.label, sizeof(m.label), "%s", label);
    write_file(t, id, 0, items, 1, info);
    assert_int_equal(
        dkv__drain_manifest_commit(t->dir, &m, keep, t->err, sizeof(t->err)),
        DKV_OK);
}

/* DKV_DRAIN_KEEP=2: three commits keep the newest two, listed newest
 * first with their times and labels; the pointer names the newest. */
static void test_versions_keep(void **state)
{
    fixture_t *t = *state;
    dkv__drain_file_info_t a, b, c;
    dkv__drain_manifest_t *list = NULL, got = {0};
    size_t n = 0;

    commit_at(t, 0x1111, 100, "step-000100", 2, &a);
    commit_at(t, 0x2222, 200, "step-000200", 2, &b);
    assert_true(exists(t, a.name));
    commit_at(t, 0x3333, 300, "", 2, &c);
    assert_false(exists(t, a.name));
    assert_false(exists(t, "dkv-0000000000001111.manifest"));
    assert_true(exists(t, b.name));
    assert_true(exists(t, c.name));
    assert_int_equal(dkv__drain_versions(t->dir, &list, &n), DKV_OK);
    assert_int_equal(n, 2);
    assert_int_equal(list[0].id, 0x3333);
    assert_int_equal(list[0].time_s, 300);
    assert_string_equal(list[0].label, "");
    assert_int_equal(list[1].id, 0x2222);
    assert_string_equal(list[1].label, "step-000200");
    dkv__drain_versions_free(list, n);
    assert_int_equal(
        dkv__drain_manifest_read(t->dir, &got, t->err, sizeof(t->err)), DKV_OK);
    assert_int_equal(got.id, 0x3333);
    dkv__drain_manifest_free(&got);
    /* keep 1: only the newest stays */
    commit_at(t, 0x4444, 400, "x", 1, &a);
    assert_false(exists(t, b.name));
    assert_false(exists(t, c.name));
    assert_int_equal(count_entries(t), 2);
}

/* A format 1 manifest (before versions: no time, no label) still reads;
 * a label with a space is refused when writing. */
static void test_manifest_format1(void **state)
{
    fixture_t *t            = *state;
    dkv__drain_manifest_t m = write_drain(t, ID), got = {0};
    char text[512], path[256];
    int len;

    len = snprintf(text, sizeof(text),
                   "dramkv-drain 1\nid %016llx\nfiles 2\n"
                   "file %s %llu %llu %llu\nfile %s %llu %llu %llu\n",
                   (unsigned long long)ID, m.files[0].name,
                   (unsigned long long)m.files[0].file_bytes,
                   (unsigned long long)m.files[0].records,
                   (unsigned long long)m.files[0].payload_bytes,
                   m.files[1].name, (unsigned long long)m.files[1].file_bytes,
                   (unsigned long long)m.files[1].records,
                   (unsigned long long)m.files[1].payload_bytes);
    snprintf(text + len, sizeof(text) - (size_t)len, "crc %08x\n",
             (unsigned)dkv__crc32c(0, text, (size_t)len));
    path_of(t, MANIFEST_ID, path);
    assert_int_equal(unlink(path), 0);
    path_of(t, DKV__DRAIN_MANIFEST, path);
    put_all(path, text, strlen(text));
    assert_int_equal(
        dkv__drain_manifest_read(t->dir, &got, t->err, sizeof(t->err)), DKV_OK);
    assert_int_equal(got.id, ID);
    assert_int_equal(got.nfiles, 2);
    assert_int_equal(got.time_s, 0);
    assert_string_equal(got.label, "");
    dkv__drain_manifest_free(&got);
    snprintf(m.label, sizeof(m.label), "a b");
    assert_int_equal(
        dkv__drain_manifest_write(t->dir, &m, t->err, sizeof(t->err)),
        DKV_ERR_INVALID);
    free(m.files);
}

/* Random flips and truncations of a small file: never a crash, always
 * DKV_ERR_CORRUPT from _open (and from _check for truncations). */
static void test_random_corruption(void **state)
{
    fixture_t *t               = *state;
    dkv__drain_item_t items[5] = {{"a", 1, NULL, 0, 0, 0},
                                  {"bb", 2, "1", 1, 0, 0},
                                  {"ccc", 3, "1234567", 7, 0, 0},
                                  {"dddd", 4, "0123456789abc", 13, 0, 0},
                                  {"e", 1, "xy", 2, 0, 0}};
    dkv__drain_file_info_t info;
    dkv__drain_map_t map = {0};
    char path[256];
    size_t len, off, i;
    char *orig, *copy;

    write_file(t, ID, 0, items, 5, &info);
    path_of(t, info.name, path);
    orig = read_all(path, &len);
    copy = malloc(len);
    assert_non_null(copy);
    srand(20240611);
    for (i = 0; i < 2000; i++) {
        memcpy(copy, orig, len);
        if (rand() % 2) {
            off = (size_t)rand() % len;
            copy[off] ^= (char)(1 + rand() % 255);
            put_all(path, copy, len);
        } else {
            put_all(path, copy, (size_t)rand() % len);
            assert_int_equal(dkv__drain_file_check(t->dir, ID, &info, NULL, 0),
                             DKV_ERR_CORRUPT);
        }
        if (dkv__drain_file_open(t->dir, ID, &info, &map, t->err,
                                 sizeof(t->err)) != DKV_ERR_CORRUPT) {
            fail_msg("corruption %zu not detected", i);
        }
    }
    put_all(path, orig, len);
    assert_contents(t, ID, &info, items, 5);
    free(copy);
    free(orig);
}

/* The CRC a value was put with travels to the file: a value changed in
 * memory since (DRAM corruption) fails the load instead of being written
 * with a fresh CRC (issue 12 item 4). */
static void test_issue12_put_crc_travels(void **state)
{
    fixture_t *t              = *state;
    uint32_t crc              = dkv__crc32c(0, "value", 5);
    dkv__drain_item_t good[1] = {{"key", 3, "value", 5, crc, 1}};
    dkv__drain_item_t bad[1]  = {{"key", 3, "valuE", 5, crc, 1}};
    dkv__drain_file_info_t info;

    write_file(t, ID, 0, good, 1, &info);
    assert_contents(t, ID, &info, good, 1);
    write_file(t, ID, 0, bad, 1, &info);
    assert_open_fails(t, &info, DKV_ERR_CORRUPT);
    assert_non_null(strstr(t->err, "record 0"));
    assert_non_null(strstr(t->err, "data crc"));
}

static void put_u32(fixture_t *t, const char *name, off_t off, uint32_t v)
{
    char path[256];
    int fd;

    path_of(t, name, path);
    fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, &v, sizeof(v), off), (ssize_t)sizeof(v));
    close(fd);
}

/* A file of format version 1 (data CRC over the key, then the value), as
 * written before the put CRC travelled, still loads. */
static void test_version1_reads(void **state)
{
    fixture_t *t               = *state;
    dkv__drain_item_t items[1] = {{"key", 3, "value", 5, 0, 0}};
    dkv__drain_file_info_t info;
    unsigned char head[32], rec[24];
    char path[256];
    int fd;

    write_file(t, ID, 0, items, 1, &info);
    /* Header 0..31 (version at 20, crc at 28), record header 32..55 (data
     * crc at 48, crc at 52). */
    put_u32(t, info.name, 20, 1);
    put_u32(t, info.name, 48,
            dkv__crc32c(dkv__crc32c(0, "key", 3), "value", 5));
    path_of(t, info.name, path);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, head, 32, 0), 32);
    assert_int_equal(pread(fd, rec, 24, 32), 24);
    close(fd);
    put_u32(t, info.name, 28, dkv__crc32c(0, head, 28));
    put_u32(t, info.name, 52, dkv__crc32c(0, rec, 20));
    assert_contents(t, ID, &info, items, 1);
    put_u32(t, info.name, 48, dkv__crc32c(0, "valuekey", 8)); /* v2 CRC */
    path_of(t, info.name, path);
    fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, rec, 24, 32), 24);
    close(fd);
    put_u32(t, info.name, 52, dkv__crc32c(0, rec, 20));
    assert_open_fails(t, &info, DKV_ERR_CORRUPT);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_name_format),
        T(test_round_trip),
        T(test_value_over_chunk),
        T(test_zero_records),
        T(test_bad_item),
        T(test_manifest_round_trip),
        T(test_manifest_missing),
        T(test_manifest_flipped),
        T(test_manifest_strict),
        T(test_manifest_write_invalid),
        T(test_data_missing),
        T(test_truncated),
        T(test_too_long),
        T(test_flipped_bytes),
        T(test_manifest_mismatch),
        T(test_gap_before_footer),
        T(test_other_drain),
        T(test_cancel),
        T(test_no_dir),
        T(test_manifest_removes_old),
        T(test_manifest_concurrent),
        T(test_random_corruption),
        T(test_issue12_put_crc_travels),
        T(test_version1_reads),
        T(test_versions_keep),
        T(test_manifest_format1),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
