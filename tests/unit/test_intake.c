/* intake: pilots counted per destination prefix, the latest trace per
 * address, across the tables' doublings and a moved trace array; a trace
 * forgotten (dropped once written) is never compared again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/intake.h"

static void test_scope_counts(void **state)
{
    (void)state;
    rg_intake in;
    assert_true(rg_intake_init(&in));
    for (uint32_t s = 0; s < 1000; s++)
        assert_int_equal(rg_intake_count_scope(&in, s * 7919u), 1);
    for (uint32_t s = 0; s < 1000; s++)
        assert_int_equal(rg_intake_count_scope(&in, s * 7919u), 2);
    assert_int_equal(rg_intake_count_scope(&in, 5u * 7919u), 3);
    assert_int_equal(in.nscopes, 1000);
    rg_intake_free(&in);
}

static void test_latest_per_address(void **state)
{
    (void)state;
    size_t n = 3000;
    rg_trace *t = calloc(n, sizeof *t);
    assert_non_null(t);
    for (size_t i = 0; i < n; i++) {
        t[i].dst.family = 4;
        t[i].dst.bytes[0] = 198;
        t[i].dst.bytes[1] = 18;
        t[i].dst.bytes[2] = (uint8_t)((i % 1000) >> 8);
        t[i].dst.bytes[3] = (uint8_t)(i % 1000);
    }
    rg_intake in;
    assert_true(rg_intake_init(&in));
    for (size_t i = 0; i < n; i++) {
        if (i == 1500) { /* the engine's array may move between feeds */
            rg_trace *moved = malloc(n * sizeof *t);
            assert_non_null(moved);
            memcpy(moved, t, n * sizeof *t);
            memset(t, 0xff, n * sizeof *t);
            free(t);
            t = moved;
        }
        uint32_t before = rg_intake_latest(&in, t, (uint32_t)i);
        assert_int_equal(before, i < 1000 ? 0 : i - 1000 + 1);
    }
    assert_int_equal(in.naddrs, 1000);
    rg_intake_free(&in);
    free(t);
}

static void set_addr(rg_trace *t, size_t a)
{
    t->dst.family = 4;
    t->dst.bytes[0] = 198;
    t->dst.bytes[1] = 18;
    t->dst.bytes[2] = (uint8_t)(a >> 8);
    t->dst.bytes[3] = (uint8_t)a;
}

static void test_forgotten_traces_are_not_read(void **state)
{
    (void)state;
    size_t n = 2000; /* addresses i, then (i >= 1000) i again: siblings */
    rg_trace *t = calloc(n, sizeof *t);
    assert_non_null(t);
    for (size_t i = 0; i < n; i++)
        set_addr(&t[i], i % 1000);
    rg_intake in;
    assert_true(rg_intake_init(&in));
    for (uint32_t i = 0; i < 1000; i++)
        assert_int_equal(rg_intake_latest(&in, t, i), 0);
    /* The first 500 forgotten; their records then name addresses still to
     * come (as a dropped record must never be read, its bytes are not its
     * own): were they compared, 1500..1999 would find them. */
    for (uint32_t i = 0; i < 500; i++) {
        size_t pos = rg_intake_position(&in, t, i);
        assert_true(pos != SIZE_MAX);
        rg_intake_forget(&in, pos);
        set_addr(&t[i], 500 + i);
    }
    assert_int_equal(rg_intake_position(&in, t, 1999), SIZE_MAX); /* not indexed */
    rg_intake_forget(&in, SIZE_MAX); /* nothing */
    for (uint32_t i = 1000; i < 2000; i++) { /* doublings on the way */
        uint32_t before = rg_intake_latest(&in, t, i);
        assert_int_equal(before, i < 1500 ? 0 : i - 1000 + 1);
    }
    rg_intake_free(&in);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scope_counts),
        cmocka_unit_test(test_latest_per_address),
        cmocka_unit_test(test_forgotten_traces_are_not_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
