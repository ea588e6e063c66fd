/* Unit tests for util/utf8: the decoder and the one test of a name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util/utf8.h"

static void test_name_ok(void **state)
{
    (void)state;
    static const char *const good[] = {
        "", "r1-to-prober.lab", "K\xc3\xb6ln", ("a\xc2\xa0" "b"), "\"];<script>'\\",
        "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xbf\xbd", "~",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        if (!rg_utf8_name_ok(good[i], strlen(good[i])))
            fail_msg("refused good name %zu", i);
    static const char *const bad[] = {
        "a\nb", "\x01", "\x1b[2J", "tab\t", "cr\r", "\x1f", "del\x7f",   /* C0, DEL */
        "\xc2\x80", "\xc2\x85", ("\xc2\x9b" "2J"), "\xc2\x9f",           /* C1 */
        "\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", /* not UTF-8 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (rg_utf8_name_ok(bad[i], strlen(bad[i])))
            fail_msg("accepted bad name %zu", i);
    /* A NUL inside the given length is a C0 character too. */
    assert_false(rg_utf8_name_ok("a\0b", 3));
    /* Only n bytes are looked at: a sequence cut by n is invalid. */
    assert_false(rg_utf8_name_ok("\xc3\xb6", 1));
    assert_true(rg_utf8_name_ok("ab\n", 2));
}

static void test_char(void **state)
{
    (void)state;
    uint32_t cp = 0;
    assert_int_equal(rg_utf8_char((const unsigned char *)"\xc3\xb6x", &cp), 2);
    assert_int_equal(cp, 0xf6);
    assert_int_equal(rg_utf8_char((const unsigned char *)"\xf0\x9f\x98\x80", &cp), 4);
    assert_int_equal(cp, 0x1f600);
    assert_int_equal(rg_utf8_char((const unsigned char *)"\xe2\x82", &cp), 0); /* NUL stops it */
    assert_int_equal(rg_utf8_char_n((const unsigned char *)"\xe2\x82\xac", 2, &cp), 0);
    assert_int_equal(rg_utf8_char_n((const unsigned char *)"\xe2\x82\xac", 3, &cp), 3);
    assert_int_equal(cp, 0x20ac);
    assert_int_equal(rg_utf8_char_n((const unsigned char *)"x", 0, &cp), 0);
}

static void test_bom_len(void **state)
{
    (void)state;
    assert_int_equal(rg_utf8_bom_len("\xef\xbb\xbf" "a", 4), 3);
    assert_int_equal(rg_utf8_bom_len("\xef\xbb\xbf", 3), 3);
    /* Only n bytes are looked at: a mark cut by n is not one. */
    assert_int_equal(rg_utf8_bom_len("\xef\xbb\xbf", 2), 0);
    assert_int_equal(rg_utf8_bom_len("\xef\xbb\xbe", 3), 0);
    assert_int_equal(rg_utf8_bom_len("a\xef\xbb\xbf", 4), 0);
    assert_int_equal(rg_utf8_bom_len(NULL, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_ok),
        cmocka_unit_test(test_char),
        cmocka_unit_test(test_bom_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
