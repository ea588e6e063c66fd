/* Addresses: parsing, formatting, ordering, and the lab-range check that
 * keeps test traffic inside the lab. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/addr.h"

static void test_parse_format_round_trip(void **state)
{
    (void)state;
    const char *ok[] = {"198.18.0.1", "2001:db8:310::5", "::1", "255.255.255.255"};
    char buf[RG_ADDR_STRLEN];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        rg_addr a;
        assert_true(rg_addr_parse(ok[i], &a));
        assert_string_equal(rg_addr_format(&a, buf, sizeof buf), ok[i]);
    }
    const char *bad[] = {"", "198.18.0", "198.18.0.256", "2001:db8:::1", "host.lab",
                         " 198.18.0.1", "198.18.0.1/24"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rg_addr a;
        assert_false(rg_addr_parse(bad[i], &a));
        assert_int_equal(a.family, 0);
    }
}

static void test_compare_and_equal(void **state)
{
    (void)state;
    rg_addr a, b, c;
    rg_addr_parse("198.18.0.1", &a);
    rg_addr_parse("198.18.0.2", &b);
    rg_addr_parse("2001:db8::1", &c);
    assert_true(rg_addr_compare(&a, &b) < 0);
    assert_true(rg_addr_compare(&b, &c) < 0); /* IPv4 sorts first */
    assert_false(rg_addr_equal(&a, &b));
    assert_true(rg_addr_equal(&a, &a));
}

static void test_lab_ranges(void **state)
{
    (void)state;
    const char *in[] = {"198.18.0.0", "198.19.255.255", "203.0.113.7", "192.0.2.1",
                        "198.51.100.200", "2001:db8::1", "2001:db8:ffff::1"};
    const char *out[] = {"198.17.255.255", "198.20.0.0", "10.0.0.1", "192.168.1.1",
                         "203.0.114.1", "2001:db9::1", "::1", "fe80::1"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        rg_addr a;
        assert_true(rg_addr_parse(in[i], &a));
        assert_true(rg_addr_is_lab(&a));
    }
    for (size_t i = 0; i < sizeof out / sizeof out[0]; i++) {
        rg_addr a;
        assert_true(rg_addr_parse(out[i], &a));
        assert_false(rg_addr_is_lab(&a));
    }
}

/* --dns-server's syntax. */
static void test_endpoint_syntax(void **state)
{
    (void)state;
    rg_addr a;
    uint16_t port;
    char buf[RG_ADDR_STRLEN];
    assert_true(rg_addr_parse_endpoint("198.18.3.2", 53, &a, &port));
    assert_string_equal(rg_addr_format(&a, buf, sizeof buf), "198.18.3.2");
    assert_int_equal(port, 53);
    assert_true(rg_addr_parse_endpoint("198.18.3.2:5353", 53, &a, &port));
    assert_int_equal(port, 5353);
    assert_true(rg_addr_parse_endpoint("2001:db8:103::2", 53, &a, &port));
    assert_int_equal(a.family, 6);
    assert_int_equal(port, 53);
    assert_true(rg_addr_parse_endpoint("[2001:db8:103::2]:65535", 53, &a, &port));
    assert_string_equal(rg_addr_format(&a, buf, sizeof buf), "2001:db8:103::2");
    assert_int_equal(port, 65535);
    assert_true(rg_addr_parse_endpoint("[::1]", 7, &a, &port));
    assert_int_equal(port, 7);
    const char *bad[] = {"", "dns.example", "198.18.3.2:", "198.18.3.2:0", "198.18.3.2:65536",
                         "198.18.3.2:53a", "198.18.3.2:+53", "[198.18.3.2]:53", "[::1",
                         "[::1]x", "[::1]:", "198.18.3", " 198.18.3.2",
                         "0123456789012345678901234567890123456789012345678901234567890123456789"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (rg_addr_parse_endpoint(bad[i], 53, &a, &port))
            fail_msg("accepted '%s'", bad[i]);
        assert_int_equal(a.family, 0);
        assert_int_equal(port, 53);
    }
    assert_false(rg_addr_parse_endpoint(NULL, 53, &a, &port));
}

/* The formatter is the parser's counterpart: what it writes parses back to
 * the same address and port, IPv6 in brackets, the address canonical. */
static void test_endpoint_format(void **state)
{
    (void)state;
    const char *in[] = {"198.18.3.2:53", "[2001:DB8:103:0::2]:65535", "[::1]:1", "192.0.2.1:8080"};
    const char *out[] = {"198.18.3.2:53", "[2001:db8:103::2]:65535", "[::1]:1", "192.0.2.1:8080"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        rg_addr a, b;
        uint16_t port, port2;
        char buf[RG_ENDPOINT_STRLEN];
        assert_true(rg_addr_parse_endpoint(in[i], 0, &a, &port));
        assert_string_equal(rg_addr_format_endpoint(&a, port, buf, sizeof buf), out[i]);
        assert_true(rg_addr_parse_endpoint(buf, 0, &b, &port2));
        assert_true(rg_addr_equal(&a, &b));
        assert_int_equal(port, port2);
    }
    /* The longest IPv6 text with the longest port fits. */
    rg_addr a;
    uint16_t port;
    char buf[RG_ENDPOINT_STRLEN];
    assert_true(rg_addr_parse_endpoint("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", 0, &a,
                                       &port));
    assert_string_equal(rg_addr_format_endpoint(&a, 65535, buf, sizeof buf),
                        "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_format_round_trip),
        cmocka_unit_test(test_compare_and_equal),
        cmocka_unit_test(test_lab_ranges),
        cmocka_unit_test(test_endpoint_syntax),
        cmocka_unit_test(test_endpoint_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
