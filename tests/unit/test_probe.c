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

/* ---- UDP and ICMP echo: checked by this file's own checksum ---- */

/* RFC 1071 over a pseudo-header (when pseudo) and a segment, written here
 * apart from probe.c so a shared mistake cannot hide. */
static uint16_t indep_sum(const uint8_t *src, const uint8_t *dst, size_t alen, uint8_t proto,
                          const uint8_t *seg, size_t len, int pseudo)
{
    uint8_t buf[128];
    size_t n = 0;
    if (pseudo) {
        memcpy(buf, src, alen);
        memcpy(buf + alen, dst, alen);
        n = 2 * alen;
        if (alen == 4) {
            buf[n++] = 0;
            buf[n++] = proto;
            buf[n++] = (uint8_t)(len >> 8);
            buf[n++] = (uint8_t)len;
        } else {
            uint8_t l[8] = {0, 0, (uint8_t)(len >> 8), (uint8_t)len, 0, 0, 0, proto};
            memcpy(buf + n, l, 8);
            n += 8;
        }
    }
    memcpy(buf + n, seg, len);
    n += len;
    if (n & 1)
        buf[n++] = 0;
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i += 2)
        sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static unsigned be16(const uint8_t *p)
{
    return (unsigned)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

typedef struct built {
    uint8_t pkt[RG_PROBE_MAXLEN];
    size_t len, ip;
} built;

static built build(uint8_t method, const char *src, const char *dst, uint32_t base,
                   unsigned ttl, unsigned attempt)
{
    built b;
    rg_probe_spec s = {
        .src = addr(src), .dst = addr(dst), .method = method, .flow = 40000,
        .dport = 33434, .ttl = 7, .seq = rg_probe_seq(base, ttl, attempt),
        .ident = rg_probe_ident(base, ttl, attempt), .ip_id = 0x1234,
        .flow_label = 0xabcde,
    };
    b.len = rg_probe_build(&s, b.pkt, sizeof b.pkt);
    b.ip = s.dst.family == 6 ? 40 : 20;
    assert_int_equal(b.len, b.ip + 14);
    return b;
}

static void check_valid(const built *b, uint8_t proto)
{
    size_t alen = b->ip == 40 ? 16 : 4;
    const uint8_t *src = b->pkt + (alen == 4 ? 12 : 8), *dst = src + alen;
    int pseudo = !(proto == 1);
    assert_int_equal(b->pkt[alen == 4 ? 9 : 6], proto);
    if (alen == 4)
        assert_int_equal(indep_sum(NULL, NULL, 0, 0, b->pkt, 20, 0), 0);
    assert_int_equal(indep_sum(src, dst, alen, proto, b->pkt + b->ip, b->len - b->ip, pseudo), 0);
}

static const uint32_t BASES[] = {0, 0x12345678, 0xfffe0000, 0xffffffff, 0x7ffff000};

static void test_udp_probes(void **state)
{
    (void)state;
    const char *fam[2][2] = {{"198.18.0.2", "198.19.0.5"}, {"2001:db8:100::2", "2001:db8:310::5"}};
    for (int f = 0; f < 2; f++)
        for (size_t k = 0; k < sizeof BASES / sizeof BASES[0]; k++)
            for (unsigned ttl = 0; ttl <= 255; ttl++)
                for (unsigned att = 0; att < 8; att++) {
                    built b = build(RG_METHOD_UDP, fam[f][0], fam[f][1], BASES[k], ttl, att);
                    check_valid(&b, 17);
                    const uint8_t *u = b.pkt + b.ip;
                    /* Fixed ports and length: the flow never changes. */
                    assert_int_equal(be16(u), 40000);
                    assert_int_equal(be16(u + 2), 33434);
                    assert_int_equal(be16(u + 4), 14);
                    /* The identity is the checksum, never 0 ("none") nor 0xffff. */
                    unsigned ck = be16(u + 6), t2, a2;
                    assert_int_not_equal(ck, 0);
                    assert_int_not_equal(ck, 0xffff);
                    assert_true(rg_probe_identity16(BASES[k], (uint16_t)ck, &t2, &a2));
                    assert_int_equal(t2, ttl);
                    assert_int_equal(a2, att);
                    assert_int_equal(be32(u + 8), rg_probe_seq(BASES[k], ttl, att));
                }
}

static void test_icmp_probes_keep_their_checksum(void **state)
{
    (void)state;
    const char *fam[2][2] = {{"198.18.0.2", "198.19.0.5"}, {"2001:db8:100::2", "2001:db8:310::5"}};
    for (int f = 0; f < 2; f++)
        for (size_t k = 0; k < sizeof BASES / sizeof BASES[0]; k++)
            for (unsigned ttl = 0; ttl <= 255; ttl++)
                for (unsigned att = 0; att < 8; att++) {
                    built b = build(RG_METHOD_ICMP, fam[f][0], fam[f][1], BASES[k], ttl, att);
                    check_valid(&b, f ? 58 : 1);
                    const uint8_t *m = b.pkt + b.ip;
                    assert_int_equal(m[0], f ? 128 : 8); /* echo request */
                    assert_int_equal(m[1], 0);
                    /* What ECMP hashes on (type, code, checksum) is the same
                     * for every probe of the trace: the checksum is the flow id. */
                    assert_int_equal(be16(m + 2), 40000);
                    assert_int_equal(be16(m + 4), 40000); /* identifier */
                    unsigned t2, a2;
                    assert_true(rg_probe_identity16(BASES[k], (uint16_t)be16(m + 6), &t2, &a2));
                    assert_int_equal(t2, ttl);
                    assert_int_equal(a2, att);
                    assert_int_equal(be32(m + 8), rg_probe_seq(BASES[k], ttl, att));
                }
}

/* The header fields around the identity, against bytes written by hand. */
static void test_udp_v4_header_vector(void **state)
{
    (void)state;
    built b = build(RG_METHOD_UDP, "198.18.0.2", "198.19.0.5", 0x12345678, 3, 1);
    static const char *ip =
        "45000022123440000711" /* v4, len 34, id, DF, TTL 7, UDP */;
    uint8_t exp[16];
    size_t n = unhex(ip, exp, sizeof exp);
    assert_memory_equal(b.pkt, exp, n);
    /* ident = 1 + (0x1234 % 63486) + 3 * 8 + 1 */
    assert_int_equal(be16(b.pkt + 26), 1 + 0x1234 + 25);
}

static void test_ident_rejects_foreign(void **state)
{
    (void)state;
    unsigned t, a;
    for (size_t k = 0; k < sizeof BASES / sizeof BASES[0]; k++) {
        uint16_t lo = rg_probe_ident(BASES[k], 0, 0);
        assert_false(rg_probe_identity16(BASES[k], (uint16_t)(lo - 1), &t, &a));
        assert_false(rg_probe_identity16(BASES[k], (uint16_t)(lo + 2048), &t, &a));
        assert_true(rg_probe_identity16(BASES[k], (uint16_t)(lo + 2047), &t, &a));
        assert_int_equal(t, 255);
        assert_int_equal(a, 7);
    }
}

static void test_method_names(void **state)
{
    (void)state;
    uint8_t m = 9;
    assert_true(rg_method_parse("udp", &m));
    assert_int_equal(m, RG_METHOD_UDP);
    assert_true(rg_method_parse("icmp", &m));
    assert_int_equal(m, RG_METHOD_ICMP);
    assert_false(rg_method_parse("UDP", &m));
    assert_false(rg_method_parse("", &m));
    assert_string_equal(rg_method_name(RG_METHOD_TCP), "tcp");
    assert_int_equal(rg_method_proto(RG_METHOD_ICMP, 6), 58);
    assert_int_equal(rg_method_proto(RG_METHOD_ICMP, 4), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4_syn_vector),
        cmocka_unit_test(test_ipv6_syn_vector),
        cmocka_unit_test(test_build_refuses_bad_spec),
        cmocka_unit_test(test_identity_round_trip),
        cmocka_unit_test(test_identity_rejects_foreign_seq),
        cmocka_unit_test(test_udp_probes),
        cmocka_unit_test(test_icmp_probes_keep_their_checksum),
        cmocka_unit_test(test_udp_v4_header_vector),
        cmocka_unit_test(test_ident_rejects_foreign),
        cmocka_unit_test(test_method_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
