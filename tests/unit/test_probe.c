/* Probe bytes against vectors computed by an independent implementation
 * (Python struct + RFC 1071 checksum), and the identity encoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "probe/probe.h"

static size_t unhex(const char *h, uint8_t *out, size_t max)
{
    size_t n = 0;
    while (h[0] && h[1] && n < max) {
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (uint8_t)v;
        h += 2;
    }
    return n;
}

static rg_addr addr(const char *s)
{
    rg_addr a;
    assert_true(rg_addr_parse(s, &a));
    return a;
}

static void test_ipv4_syn_vector(void **state)
{
    (void)state;
    static const char *want =
        "4500002cabcd400003063fd2c6120002c61300059c40005012345691000000006002faf0"
        "0bb30000020405b4";
    uint8_t exp[64], got[RG_PROBE_MAXLEN];
    size_t n = unhex(want, exp, sizeof exp);
    rg_probe_spec s = {
        .src = addr("198.18.0.2"), .dst = addr("198.19.0.5"), .flow = 40000,
        .dport = 80, .ttl = 3, .seq = rg_probe_seq(0x12345678, 3, 1), .ip_id = 0xabcd,
    };
    size_t len = rg_probe_build(&s, got, sizeof got);
    assert_int_equal(len, n);
    assert_memory_equal(got, exp, n);
    /* A correct IPv4 header checksum sums to zero over the header. */
    assert_int_equal(rg_inet_checksum(got, 20), 0);
    assert_int_equal(rg_tcp_checksum(&s.src, &s.dst, got + 20, len - 20), 0);
}

static void test_ipv6_syn_vector(void **state)
{
    (void)state;
    static const char *want =
        "600123450018060520010db801000000000000000000000220010db8031000000000000000"
        "0000059c4101bb00000018000000006002faf09f980000020405b4";
    uint8_t exp[96], got[RG_PROBE_MAXLEN];
    size_t n = unhex(want, exp, sizeof exp);
    rg_probe_spec s = {
        .src = addr("2001:db8:100::2"), .dst = addr("2001:db8:310::5"),
        .flow = 40001, .dport = 443, .ttl = 5,
        .seq = rg_probe_seq(0xfffffff0, 5, 0), .flow_label = 0x12345,
    };
    size_t len = rg_probe_build(&s, got, sizeof got);
    assert_int_equal(len, n);
    assert_memory_equal(got, exp, n);
}

static void test_build_refuses_bad_spec(void **state)
{
    (void)state;
    uint8_t buf[RG_PROBE_MAXLEN];
    rg_probe_spec s = {.src = addr("198.18.0.2"), .dst = addr("2001:db8::1"), .ttl = 1};
    assert_int_equal(rg_probe_build(&s, buf, sizeof buf), 0); /* mixed families */
    s.dst = addr("198.18.0.9");
    s.ttl = 0;
    assert_int_equal(rg_probe_build(&s, buf, sizeof buf), 0); /* TTL 0 */
    s.ttl = 1;
    assert_int_equal(rg_probe_build(&s, buf, 20), 0);          /* buffer too small */
}

static void test_identity_round_trip(void **state)
{
    (void)state;
    const uint32_t bases[] = {0, 1, 0x7fffffff, 0xfffffff0, 0xffffffff};
    for (size_t b = 0; b < sizeof bases / sizeof bases[0]; b++)
        for (unsigned ttl = 1; ttl <= 64; ttl++)
            for (unsigned att = 0; att < 6; att++) {
                unsigned t2, a2;
                uint32_t seq = rg_probe_seq(bases[b], ttl, att);
                assert_true(rg_probe_identity(bases[b], seq, &t2, &a2));
                assert_int_equal(t2, ttl);
                assert_int_equal(a2, att);
            }
}

static void test_identity_rejects_foreign_seq(void **state)
{
    (void)state;
    unsigned t, a;
    assert_false(rg_probe_identity(1000, 999, &t, &a));     /* below base */
    /* TTL 0 names a port probe (sent at a high TTL; rg_trace). */
    assert_true(rg_probe_identity(1000, 1000 + 3, &t, &a));
    assert_int_equal(t, 0);
    assert_int_equal(a, 3);
    assert_false(rg_probe_identity(1000, 1000 + (256u << 3), &t, &a));
    assert_false(rg_probe_identity(0x12345678, 0x9abcdef0, &t, &a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_syn_vector),
        cmocka_unit_test(test_ipv6_syn_vector),
        cmocka_unit_test(test_build_refuses_bad_spec),
        cmocka_unit_test(test_identity_round_trip),
        cmocka_unit_test(test_identity_rejects_foreign_seq),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
