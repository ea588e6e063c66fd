/* graph/keymap: every key put is found with its value, through the
 * doublings; a key never put, or differing in one part, is not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "graph/graph.h"
#include "graph/keymap.h"

static void test_put_get_through_growth(void **state)
{
    (void)state;
    rg_keymap m;
    assert_true(rg_keymap_init(&m, 0));
    assert_int_equal(m.cap, 16);
    enum { N = 5000 };
    for (size_t i = 0; i < N; i++) {
        size_t key[4] = {i % 7, i / 7, i, 1};
        assert_int_equal(rg_keymap_get(&m, key), RG_GRAPH_NONE);
        assert_true(rg_keymap_put(&m, key, 3 * i));
    }
    assert_int_equal(m.used, N);
    assert_true(2 * m.used <= m.cap); /* at most half full */
    for (size_t i = 0; i < N; i++) {
        size_t key[4] = {i % 7, i / 7, i, 1};
        assert_int_equal(rg_keymap_get(&m, key), 3 * i);
        key[3] = 0; /* one part differs */
        assert_int_equal(rg_keymap_get(&m, key), RG_GRAPH_NONE);
    }
    size_t again[4] = {0, 0, 0, 1};
    assert_true(rg_keymap_put(&m, again, 42)); /* a key put again: its value replaced */
    assert_int_equal(rg_keymap_get(&m, again), 42);
    assert_int_equal(m.used, N);
    rg_keymap_free(&m);
}

static void test_sized_for_expected(void **state)
{
    (void)state;
    rg_keymap m;
    assert_true(rg_keymap_init(&m, 100));
    assert_int_equal(m.cap, 256);
    size_t cap = m.cap;
    for (size_t i = 0; i < 100; i++) {
        size_t key[4] = {i, i, i, i};
        assert_true(rg_keymap_put(&m, key, i));
    }
    assert_int_equal(m.cap, cap); /* room for what it expected: no doubling */
    rg_keymap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_through_growth),
        cmocka_unit_test(test_sized_for_expected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
