/* Unit tests for util/errbuf: the one line written into a caller's buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/errbuf.h"

static void test_formats_and_fails(void **state)
{
    (void)state;
    char err[64];
    memset(err, 'x', sizeof err);
    assert_false(rg_err(err, sizeof err, "%s: '%.3s' is out of range (%u-%u)", "--ttl", "999x",
                        1u, 255u));
    assert_string_equal(err, "--ttl: '999' is out of range (1-255)");
}

static void test_truncates(void **state)
{
    (void)state;
    char err[8];
    memset(err, 'x', sizeof err);
    assert_false(rg_err(err, 6, "%s", "out of memory"));
    assert_string_equal(err, "out o");
    /* Nothing past the length given is touched. */
    assert_int_equal(err[6], 'x');
    assert_int_equal(err[7], 'x');
}

static void test_no_buffer(void **state)
{
    (void)state;
    char err[4] = "abc";
    /* A caller that wants no text passes no buffer or no room. */
    assert_false(rg_err(NULL, 0, "%s", "ignored"));
    assert_false(rg_err(NULL, 16, "%s", "ignored"));
    assert_false(rg_err(err, 0, "%s", "ignored"));
    assert_string_equal(err, "abc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats_and_fails),
        cmocka_unit_test(test_truncates),
        cmocka_unit_test(test_no_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
