/*
 * Unit tests for src/crc32c.c: known CRC-32C vectors (RFC 3720 B.4 and the
 * classic "123456789") through the dispatcher and both implementations,
 * continuation across split buffers, and the instruction path against the
 * table path on random buffers of many lengths and alignments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crc32c.h"
#include "crc32c_impl.h"
#include "unit_rng.h"

typedef uint32_t (*crc_fn_t)(uint32_t crc, const void *buf, size_t len);

static uint64_t rng_state = 0x243F6A8885A308D3ull;

static uint64_t rng_next(void)
{
    return unit_rng_next(&rng_state);
}

static void check_vectors(crc_fn_t crc)
{
    unsigned char buf[32];
    int i;

    assert_int_equal(crc(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(crc(0, "", 0), 0);

    memset(buf, 0, sizeof(buf));
    assert_int_equal(crc(0, buf, sizeof(buf)), 0x8A9136AAu);
    memset(buf, 0xff, sizeof(buf));
    assert_int_equal(crc(0, buf, sizeof(buf)), 0x62A8AB43u);
    for (i = 0; i < 32; i++) {
        buf[i] = (unsigned char)i;
    }
    assert_int_equal(crc(0, buf, sizeof(buf)), 0x46DD794Eu);
    for (i = 0; i < 32; i++) {
        buf[i] = (unsigned char)(31 - i);
    }
    assert_int_equal(crc(0, buf, sizeof(buf)), 0x113FDB5Cu);
}

static void test_vectors_dispatch(void **state)
{
    check_vectors(dkv__crc32c);
}

static void test_vectors_software(void **state)
{
    check_vectors(dkv__crc32c_sw);
}

static void test_vectors_hardware(void **state)
{
    if (!dkv__crc32c_hw_available()) {
        skip();
    }
    check_vectors(dkv__crc32c_hw);
}

/* CRC of a whole buffer equals the CRC continued over any split of it. */
static void check_continuation(crc_fn_t crc)
{
    unsigned char buf[100];
    uint32_t whole;
    size_t split;

    for (split = 0; split < sizeof(buf); split++) {
        buf[split] = (unsigned char)rng_next();
    }
    whole = crc(0, buf, sizeof(buf));
    for (split = 0; split <= sizeof(buf); split++) {
        assert_int_equal(
            crc(crc(0, buf, split), buf + split, sizeof(buf) - split), whole);
    }
}

static void test_continuation(void **state)
{
    check_continuation(dkv__crc32c);
    check_continuation(dkv__crc32c_sw);
    if (dkv__crc32c_hw_available()) {
        check_continuation(dkv__crc32c_hw);
    }
}

static void test_hw_matches_sw(void **state)
{
    static unsigned char buf[4096 + 16];
    size_t offset;
    size_t len;
    size_t i;
    uint32_t seed;

    if (!dkv__crc32c_hw_available()) {
        skip();
    }
    for (i = 0; i < sizeof(buf); i++) {
        buf[i] = (unsigned char)rng_next();
    }
    for (offset = 0; offset < 16; offset++) {
        for (len = 0; len <= 300; len++) {
            seed = (uint32_t)rng_next();
            assert_int_equal(dkv__crc32c_hw(seed, buf + offset, len),
                             dkv__crc32c_sw(seed, buf + offset, len));
        }
    }
    for (i = 0; i < 500; i++) {
        offset = rng_next() % 16;
        len    = rng_next() % 4097;
        assert_int_equal(dkv__crc32c_hw(0, buf + offset, len),
                         dkv__crc32c_sw(0, buf + offset, len));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_dispatch),
        cmocka_unit_test(test_vectors_software),
        cmocka_unit_test(test_vectors_hardware),
        cmocka_unit_test(test_continuation),
        cmocka_unit_test(test_hw_matches_sw),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
