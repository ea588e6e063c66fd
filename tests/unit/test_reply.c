/* Reply parsing: every reply kind, headers with options and extension
 * headers, and every way a packet can be short or lie about its lengths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/result.h"
#include "probe/probe.h"
#include "probe/reply.h"
#include "probe/wire.h"

#define SEQ_BASE 0x10203040u

static rg_addr addr(const char *s)
{
    rg_addr a;
    assert_true(rg_addr_parse(s, &a));
    return a;
}

/* The probe a reply quotes: prober 198.18.0.2:40000 -> 198.19.0.5:80, TTL 4. */
static size_t probe4(uint8_t *buf)
{
    rg_probe_spec s = {.src = addr("198.18.0.2"), .dst = addr("198.19.0.5"),
                       .flow = 40000, .dport = 80, .ttl = 4,
                       .seq = rg_probe_seq(SEQ_BASE, 4, 1), .ip_id = 7};
    return rg_probe_build(&s, buf, RG_PROBE_MAXLEN);
}

static size_t probe6(uint8_t *buf)
{
    rg_probe_spec s = {.src = addr("2001:db8:100::2"), .dst = addr("2001:db8:310::5"),
                       .flow = 40001, .dport = 443, .ttl = 6,
                       .seq = rg_probe_seq(SEQ_BASE, 6, 0), .flow_label = 9};
    return rg_probe_build(&s, buf, RG_PROBE_MAXLEN);
}

/* Outer IPv4 header of ihl_words 32-bit words (options are NOPs). */
static size_t ip4_header(uint8_t *b, unsigned ihl_words, size_t payload, uint8_t proto,
                         const char *src, const char *dst)
{
    size_t hl = ihl_words * 4;
    memset(b, 0, hl);
    b[0] = (uint8_t)(0x40 | ihl_words);
    rg_put_be16(b + 2, (uint16_t)(hl + payload));
    b[8] = 61;
    b[9] = proto;
    memcpy(b + 12, addr(src).bytes, 4);
    memcpy(b + 16, addr(dst).bytes, 4);
    memset(b + 20, 1, hl - 20);
    rg_put_be16(b + 10, rg_inet_checksum(b, hl));
    return hl;
}

/* ICMPv4 error from `from` quoting the first quote_len bytes of inner. */
static size_t icmp4_error(uint8_t *b, const char *from, uint8_t type, uint8_t code,
                          unsigned ihl_words, const uint8_t *inner, size_t quote_len)
{
    size_t icmp_len = 8 + quote_len;
    size_t hl = ip4_header(b, ihl_words, icmp_len, 1, from, "198.18.0.2");
    uint8_t *m = b + hl;
    memset(m, 0, 8);
    m[0] = type;
    m[1] = code;
    memcpy(m + 8, inner, quote_len);
    rg_put_be16(m + 2, rg_inet_checksum(m, icmp_len));
    return hl + icmp_len;
}

static size_t tcp4_reply(uint8_t *b, uint8_t flags, uint32_t ack)
{
    uint8_t *t = b + 20;
    ip4_header(b, 5, 20, 6, "198.19.0.5", "198.18.0.2");
    memset(t, 0, 20);
    rg_put_be16(t, 80);
    rg_put_be16(t + 2, 40000);
    rg_put_be32(t + 4, 0xdeadbeef);
    rg_put_be32(t + 8, ack);
    t[12] = 5 << 4;
    t[13] = flags;
    rg_addr s = addr("198.19.0.5"), d = addr("198.18.0.2");
    rg_put_be16(t + 16, rg_tcp_checksum(&s, &d, t, 20));
    return 40;
}

static void check_quoted4(const rg_reply *r)
{
    rg_addr ps = addr("198.18.0.2"), pd = addr("198.19.0.5");
    assert_true(rg_addr_equal(&r->probe_src, &ps));
    assert_true(rg_addr_equal(&r->probe_dst, &pd));
    assert_int_equal(r->sport, 40000);
    assert_int_equal(r->dport, 80);
    assert_int_equal(r->seq, rg_probe_seq(SEQ_BASE, 4, 1));
}

static void test_time_exceeded_v4(void **state)
{
    (void)state;
    uint8_t inner[RG_PROBE_MAXLEN], pkt[256];
    probe4(inner);
    size_t n = icmp4_error(pkt, "198.18.1.2", 11, 0, 5, inner, 28);
    rg_reply r;
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_OK);
    assert_int_equal(r.kind, RG_REPLY_TIME_EXCEEDED);
    rg_addr from = addr("198.18.1.2");
    assert_true(rg_addr_equal(&r.from, &from));
    assert_int_equal(r.reply_ttl, 61);
    check_quoted4(&r);
}

static void test_options_in_outer_and_quoted_headers(void **state)
{
    (void)state;
    uint8_t probe[RG_PROBE_MAXLEN], inner[128], pkt[256];
    size_t pl = probe4(probe);
    /* The quoted header grows by 8 bytes of options: IHL 7. */
    memcpy(inner, probe, 20);
    memset(inner + 20, 1, 8);
    memcpy(inner + 28, probe + 20, pl - 20);
    inner[0] = 0x47;
    rg_put_be16(inner + 2, (uint16_t)(pl + 8));
    size_t n = icmp4_error(pkt, "198.18.1.2", 11, 0, 6, inner, 28 + 8);
    rg_reply r;
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_OK);
    check_quoted4(&r);
}

static void test_unreachable_keeps_code(void **state)
{
    (void)state;
    uint8_t inner[RG_PROBE_MAXLEN], pkt[256];
    size_t pl = probe4(inner);
    size_t n = icmp4_error(pkt, "198.18.32.2", 3, 13, 5, inner, pl);
    rg_reply r;
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_OK);
    assert_int_equal(r.kind, RG_REPLY_UNREACHABLE);
    assert_int_equal(r.icmp_type, 3);
    assert_int_equal(r.icmp_code, 13);
    check_quoted4(&r);
}

static void test_every_truncation_is_refused(void **state)
{
    (void)state;
    uint8_t inner[RG_PROBE_MAXLEN], pkt[256];
    probe4(inner);
    size_t n = icmp4_error(pkt, "198.18.1.2", 11, 0, 6, inner, 28);
    rg_reply r;
    for (size_t cut = 0; cut < n; cut++)
        assert_int_not_equal(rg_reply_parse_packet(pkt, cut, &r), RG_PARSE_OK);
}

static void test_quote_too_short_for_seq(void **state)
{
    (void)state;
    uint8_t inner[RG_PROBE_MAXLEN], pkt[256];
    probe4(inner);
    /* A router that quotes the IP header and only 4 bytes of TCP. */
    size_t n = icmp4_error(pkt, "198.18.1.2", 11, 0, 5, inner, 24);
    rg_reply r;
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_MALFORMED);
}

static void test_lying_lengths(void **state)
{
    (void)state;
    uint8_t inner[RG_PROBE_MAXLEN], pkt[256];
    probe4(inner);
    size_t n = icmp4_error(pkt, "198.18.1.2", 11, 0, 5, inner, 28);
    rg_reply r;
    uint8_t bad[256];

    memcpy(bad, pkt, n);
    rg_put_be16(bad + 2, (uint16_t)(n + 1));      /* total length past the end */
    assert_int_equal(rg_reply_parse_packet(bad, n, &r), RG_PARSE_MALFORMED);
    memcpy(bad, pkt, n);
    rg_put_be16(bad + 2, 19);                     /* shorter than its header */
    assert_int_equal(rg_reply_parse_packet(bad, n, &r), RG_PARSE_MALFORMED);
    memcpy(bad, pkt, n);
    bad[0] = 0x44;                                /* IHL below 5 */
    assert_int_equal(rg_reply_parse_packet(bad, n, &r), RG_PARSE_MALFORMED);
    memcpy(bad, pkt, n);
    bad[0] = 0x4f;                                /* IHL past the datagram */
    assert_int_equal(rg_reply_parse_packet(bad, n, &r), RG_PARSE_MALFORMED);
    memcpy(bad, pkt, n);
    bad[28] = 0x4f;                               /* quoted IHL past the quote */
    rg_put_be16(bad + 22, 0);
    rg_put_be16(bad + 22, rg_inet_checksum(bad + 20, n - 20));
    assert_int_equal(rg_reply_parse_packet(bad, n, &r), RG_PARSE_MALFORMED);
    memcpy(bad, pkt, n);
    bad[0] = 0x55;                                /* not IPv4 nor IPv6 */
    assert_int_equal(rg_reply_parse_packet(bad, n, &r), RG_PARSE_MALFORMED);
}

static void test_bad_icmp_checksum(void **state)
{
    (void)state;
    uint8_t inner[RG_PROBE_MAXLEN], pkt[256];
    probe4(inner);
    size_t n = icmp4_error(pkt, "198.18.1.2", 11, 0, 5, inner, 28);
    pkt[n - 1] ^= 0x40;
    rg_reply r;
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_MALFORMED);
}

static void test_other_icmp_and_inner_protocol_ignored(void **state)
{
    (void)state;
    uint8_t inner[RG_PROBE_MAXLEN], pkt[256];
    probe4(inner);
    rg_reply r;
    size_t n = icmp4_error(pkt, "198.18.1.2", 5, 0, 5, inner, 28); /* redirect */
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_IGNORE);
    inner[9] = 47; /* GRE: never a probe of ours */
    rg_put_be16(inner + 10, 0);
    rg_put_be16(inner + 10, rg_inet_checksum(inner, 20));
    n = icmp4_error(pkt, "198.18.1.2", 11, 0, 5, inner, 28);
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_IGNORE);
}

static void test_later_fragment_ignored(void **state)
{
    (void)state;
    uint8_t inner[RG_PROBE_MAXLEN], pkt[256];
    probe4(inner);
    rg_put_be16(inner + 6, 0x0010); /* offset 16 * 8 bytes */
    size_t n = icmp4_error(pkt, "198.18.1.2", 11, 0, 5, inner, 28);
    rg_reply r;
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_IGNORE);
}

static void test_tcp_answers_v4(void **state)
{
    (void)state;
    uint8_t pkt[64];
    rg_reply r;
    uint32_t seq = rg_probe_seq(SEQ_BASE, 4, 1);
    size_t n = tcp4_reply(pkt, 0x12, seq + 1); /* SYN-ACK */
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_OK);
    assert_int_equal(r.kind, RG_REPLY_SYNACK);
    assert_int_equal(r.tcp_flags, 0x12);
    check_quoted4(&r);
    n = tcp4_reply(pkt, 0x14, seq + 1); /* RST-ACK */
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_OK);
    assert_int_equal(r.kind, RG_REPLY_RST);
    check_quoted4(&r);
    n = tcp4_reply(pkt, 0x04, seq + 1); /* bare RST names no sequence */
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_IGNORE);
    n = tcp4_reply(pkt, 0x10, seq + 1); /* plain ACK */
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_IGNORE);
    n = tcp4_reply(pkt, 0x12, seq + 1);
    pkt[32] = 4 << 4;                   /* data offset below the header size */
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_MALFORMED);
    n = tcp4_reply(pkt, 0x12, seq + 1);
    pkt[32] = 6 << 4;                   /* header longer than the segment */
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_MALFORMED);
    n = tcp4_reply(pkt, 0x12, seq + 1);
    rg_put_be16(pkt + 2, 39);           /* segment cut inside its header */
    assert_int_equal(rg_reply_parse_packet(pkt, 39, &r), RG_PARSE_MALFORMED);
}

/* IPv6 packet: header + ICMPv6 time exceeded quoting the probe with `ext`
 * inserted as extension headers (first_nh names the first of them). */
static size_t icmp6_error(uint8_t *b, const uint8_t *ext, size_t extlen,
                          uint8_t first_nh, size_t quote_cut)
{
    uint8_t probe[RG_PROBE_MAXLEN], inner[256];
    size_t pl = probe6(probe);
    memcpy(inner, probe, 40);
    memcpy(inner + 40, ext, extlen);
    memcpy(inner + 40 + extlen, probe + 40, pl - 40);
    if (extlen)
        inner[6] = first_nh;
    rg_put_be16(inner + 4, (uint16_t)(pl - 40 + extlen));
    size_t ilen = pl + extlen - quote_cut;
    uint8_t *m = b + 40;
    memset(m, 0, 8);
    m[0] = 3; /* time exceeded */
    memcpy(m + 8, inner, ilen);
    memset(b, 0, 40);
    rg_put_be32(b, 6u << 28);
    rg_put_be16(b + 4, (uint16_t)(8 + ilen));
    b[6] = 58;
    b[7] = 60;
    memcpy(b + 8, addr("2001:db8:101::2").bytes, 16);
    memcpy(b + 24, addr("2001:db8:100::2").bytes, 16);
    return 40 + 8 + ilen;
}

static void check_quoted6(const rg_reply *r)
{
    rg_addr ps = addr("2001:db8:100::2"), pd = addr("2001:db8:310::5");
    assert_true(rg_addr_equal(&r->probe_src, &ps));
    assert_true(rg_addr_equal(&r->probe_dst, &pd));
    assert_int_equal(r->sport, 40001);
    assert_int_equal(r->dport, 443);
    assert_int_equal(r->seq, rg_probe_seq(SEQ_BASE, 6, 0));
}

static void test_time_exceeded_v6_with_ext_headers(void **state)
{
    (void)state;
    uint8_t pkt[512], ext[64];
    /* hop-by-hop (8 bytes) -> destination options (16) -> fragment (8) -> TCP */
    memset(ext, 0, sizeof ext);
    ext[0] = 60; ext[1] = 0;
    ext[8] = 44; ext[9] = 1;
    ext[24] = 6; ext[26] = 0; ext[27] = 1; /* first fragment, more follow */
    size_t n = icmp6_error(pkt, ext, 32, 0, 0);
    rg_reply r;
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_OK);
    assert_int_equal(r.kind, RG_REPLY_TIME_EXCEEDED);
    assert_int_equal(r.icmp_type, 3);
    assert_int_equal(r.reply_ttl, 60);
    rg_addr from = addr("2001:db8:101::2");
    assert_true(rg_addr_equal(&r.from, &from));
    check_quoted6(&r);
    /* Through the IPv6 socket path: payload only, addresses from recvmsg. */
    rg_addr src = addr("2001:db8:101::2"), dst = addr("2001:db8:100::2");
    assert_int_equal(rg_reply_parse_l4(58, pkt + 40, n - 40, &src, &dst, 60, &r),
                     RG_PARSE_OK);
    check_quoted6(&r);
    for (size_t cut = 0; cut < n; cut++)
        assert_int_not_equal(rg_reply_parse_packet(pkt, cut, &r), RG_PARSE_OK);
}

static void test_v6_ext_header_limits(void **state)
{
    (void)state;
    uint8_t pkt[512], ext[128];
    rg_reply r;
    memset(ext, 0, sizeof ext);
    ext[0] = 6; ext[2] = 0; ext[3] = 8;    /* non-first fragment */
    size_t n = icmp6_error(pkt, ext, 8, 44, 0);
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_IGNORE);
    memset(ext, 0, sizeof ext);
    for (int i = 0; i < 9; i++)            /* nine chained destination options */
        ext[i * 8] = i < 8 ? 60 : 6;
    n = icmp6_error(pkt, ext, 72, 60, 0);
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_MALFORMED);
    memset(ext, 0, sizeof ext);
    ext[0] = 6; ext[1] = 200;              /* header longer than the quote */
    n = icmp6_error(pkt, ext, 8, 60, 0);
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_MALFORMED);
}

static void test_tcp_answer_v6(void **state)
{
    (void)state;
    uint8_t t[20];
    rg_addr src = addr("2001:db8:310::5"), dst = addr("2001:db8:100::2");
    memset(t, 0, sizeof t);
    rg_put_be16(t, 443);
    rg_put_be16(t + 2, 40001);
    rg_put_be32(t + 8, rg_probe_seq(SEQ_BASE, 6, 0) + 1);
    t[12] = 5 << 4;
    t[13] = 0x14;
    rg_put_be16(t + 16, rg_tcp_checksum(&src, &dst, t, 20));
    rg_reply r;
    assert_int_equal(rg_reply_parse_l4(6, t, 20, &src, &dst, 58, &r), RG_PARSE_OK);
    assert_int_equal(r.kind, RG_REPLY_RST);
    assert_int_equal(r.reply_ttl, 58);
    check_quoted6(&r);
    assert_int_equal(rg_reply_parse_l4(6, t, 19, &src, &dst, 58, &r), RG_PARSE_MALFORMED);
}

static void test_random_bytes_never_crash(void **state)
{
    (void)state;
    uint8_t pkt[256];
    uint32_t x = 12345;
    rg_reply r;
    for (int i = 0; i < 20000; i++) {
        size_t n = (x >> 8) % sizeof pkt;
        for (size_t k = 0; k < n; k++) {
            x = x * 1103515245u + 12345u;
            pkt[k] = (uint8_t)(x >> 16);
        }
        pkt[0] = (uint8_t)((i & 1 ? 0x45 : 0x60) | (pkt[0] & 0x0f & -(i & 1)));
        x = x * 1103515245u + 12345u;
        (void)rg_reply_parse_packet(pkt, n, &r);
    }
}

/* ---- UDP and ICMP echo probes ---- */

static size_t method_probe4(uint8_t *buf, uint8_t method)
{
    rg_probe_spec s = {.src = addr("198.18.0.2"), .dst = addr("198.19.0.5"),
                       .method = method, .flow = 40000, .dport = method == RG_METHOD_ICMP ? 0 : 80,
                       .ttl = 4, .seq = rg_probe_seq(SEQ_BASE, 4, 1),
                       .ident = rg_probe_ident(SEQ_BASE, 4, 1), .ip_id = 7};
    return rg_probe_build(&s, buf, RG_PROBE_MAXLEN);
}

static void check_ids(const rg_reply *r, uint8_t proto, uint16_t dport, bool seq)
{
    rg_addr ps = addr("198.18.0.2"), pd = addr("198.19.0.5");
    assert_int_equal(r->probe_proto, proto);
    assert_true(rg_addr_equal(&r->probe_src, &ps));
    assert_true(rg_addr_equal(&r->probe_dst, &pd));
    assert_int_equal(r->sport, 40000);
    assert_int_equal(r->dport, dport);
    assert_true(r->has_ident);
    assert_int_equal(r->ident, rg_probe_ident(SEQ_BASE, 4, 1));
    assert_int_equal(r->has_seq, seq);
    if (seq)
        assert_int_equal(r->seq, rg_probe_seq(SEQ_BASE, 4, 1));
}

static void test_udp_quotes(void **state)
{
    (void)state;
    uint8_t inner[RG_PROBE_MAXLEN], pkt[256];
    size_t pl = method_probe4(inner, RG_METHOD_UDP);
    assert_int_equal(pl, 34);
    rg_reply r;
    /* RFC 792's 8 bytes: the ident alone; the whole probe: the seq too. */
    size_t n = icmp4_error(pkt, "198.18.1.2", 11, 0, 5, inner, 28);
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_OK);
    assert_int_equal(r.kind, RG_REPLY_TIME_EXCEEDED);
    check_ids(&r, 17, 80, false);
    n = icmp4_error(pkt, "198.18.1.2", 11, 0, 5, inner, pl);
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_OK);
    check_ids(&r, 17, 80, true);
    /* Port unreachable for a UDP probe is its own kind; other codes not. */
    n = icmp4_error(pkt, "198.19.0.5", 3, 3, 5, inner, pl);
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_OK);
    assert_int_equal(r.kind, RG_REPLY_PORT_UNREACH);
    n = icmp4_error(pkt, "198.19.0.5", 3, 13, 5, inner, pl);
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_OK);
    assert_int_equal(r.kind, RG_REPLY_UNREACHABLE);
    /* Every cut inside the 8 bytes is refused; none crashes. */
    for (size_t cut = 20; cut < 28; cut++) {
        n = icmp4_error(pkt, "198.18.1.2", 11, 0, 5, inner, cut);
        assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_MALFORMED);
    }
}

static void test_icmp_quotes_and_echo_reply(void **state)
{
    (void)state;
    uint8_t inner[RG_PROBE_MAXLEN], pkt[256];
    size_t pl = method_probe4(inner, RG_METHOD_ICMP);
    rg_reply r;
    size_t n = icmp4_error(pkt, "198.18.1.2", 11, 0, 5, inner, 28);
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_OK);
    check_ids(&r, 1, 0, false);
    n = icmp4_error(pkt, "198.18.1.2", 11, 0, 5, inner, pl);
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_OK);
    check_ids(&r, 1, 0, true);
    /* A quoted echo reply (not our request) is not a probe of ours. */
    inner[20] = 0;
    n = icmp4_error(pkt, "198.18.1.2", 11, 0, 5, inner, pl);
    assert_int_equal(rg_reply_parse_packet(pkt, n, &r), RG_PARSE_IGNORE);
    /* The destination's echo reply: the request's id, seq and payload back. */
    method_probe4(inner, RG_METHOD_ICMP);
    size_t ml = pl - 20;
    size_t hl = ip4_header(pkt, 5, ml, 1, "198.19.0.5", "198.18.0.2");
    memcpy(pkt + hl, inner + 20, ml);
    pkt[hl] = 0; /* echo reply */
    rg_put_be16(pkt + hl + 2, 0);
    rg_put_be16(pkt + hl + 2, rg_inet_checksum(pkt + hl, ml));
    assert_int_equal(rg_reply_parse_packet(pkt, hl + ml, &r), RG_PARSE_OK);
    assert_int_equal(r.kind, RG_REPLY_ECHO);
    check_ids(&r, 1, 0, true);
    rg_addr from = addr("198.19.0.5");
    assert_true(rg_addr_equal(&r.from, &from));
    /* Cut short of the payload: no seq; of the header: refused. */
    rg_put_be16(pkt + 2, (uint16_t)(hl + 8));
    rg_put_be16(pkt + 10, 0);
    rg_put_be16(pkt + 10, rg_inet_checksum(pkt, 20));
    rg_put_be16(pkt + hl + 2, 0);
    rg_put_be16(pkt + hl + 2, rg_inet_checksum(pkt + hl, 8));
    assert_int_equal(rg_reply_parse_packet(pkt, hl + 8, &r), RG_PARSE_OK);
    assert_false(r.has_seq);
    for (size_t cut = 1; cut < 8; cut++)
        assert_int_not_equal(rg_reply_parse_packet(pkt, hl + cut, &r), RG_PARSE_OK);
}

static void test_udp_answer(void **state)
{
    (void)state;
    uint8_t pkt[64];
    size_t hl = ip4_header(pkt, 5, 14, 17, "198.19.0.5", "198.18.0.2");
    uint8_t *u = pkt + hl;
    rg_put_be16(u, 80);
    rg_put_be16(u + 2, 40000);
    rg_put_be16(u + 4, 14);
    rg_put_be16(u + 6, 0);
    rg_put_be32(u + 8, rg_probe_seq(SEQ_BASE, 4, 1));
    rg_put_be16(u + 12, 0);
    rg_reply r;
    assert_int_equal(rg_reply_parse_packet(pkt, hl + 14, &r), RG_PARSE_OK);
    assert_int_equal(r.kind, RG_REPLY_UDP);
    assert_int_equal(r.probe_proto, 17);
    assert_int_equal(r.sport, 40000);
    assert_int_equal(r.dport, 80);
    assert_false(r.has_ident);
    assert_true(r.has_seq);
    assert_int_equal(r.seq, rg_probe_seq(SEQ_BASE, 4, 1));
    rg_put_be16(u + 4, 15); /* longer than the datagram */
    assert_int_equal(rg_reply_parse_packet(pkt, hl + 14, &r), RG_PARSE_MALFORMED);
    rg_put_be16(u + 4, 8); /* no payload: nothing names a probe */
    assert_int_equal(rg_reply_parse_packet(pkt, hl + 14, &r), RG_PARSE_OK);
    assert_false(r.has_seq);
    /* IPv6: the payload as the raw socket gives it. */
    rg_addr src = addr("2001:db8:310::5"), dst = addr("2001:db8:100::2");
    rg_put_be16(u + 4, 14);
    assert_int_equal(rg_reply_parse_l4(17, u, 14, &src, &dst, 60, &r), RG_PARSE_OK);
    assert_int_equal(r.kind, RG_REPLY_UDP);
    assert_true(rg_addr_equal(&r.probe_dst, &src));
    assert_true(rg_addr_equal(&r.from, &src));
    assert_true(rg_addr_equal(&r.probe_src, &dst));
    assert_int_equal(r.reply_ttl, 60);
    assert_int_equal(r.sport, 40000);
    assert_int_equal(r.dport, 80);
    assert_int_equal(rg_reply_parse_l4(17, u, 7, &src, &dst, 60, &r), RG_PARSE_MALFORMED);
}

static void test_echo_reply_v6(void **state)
{
    (void)state;
    rg_probe_spec s = {.src = addr("2001:db8:100::2"), .dst = addr("2001:db8:310::5"),
                       .method = RG_METHOD_ICMP, .flow = 40001, .ttl = 6,
                       .seq = rg_probe_seq(SEQ_BASE, 6, 0),
                       .ident = rg_probe_ident(SEQ_BASE, 6, 0)};
    uint8_t pkt[RG_PROBE_MAXLEN];
    size_t n = rg_probe_build(&s, pkt, sizeof pkt);
    uint8_t *m = pkt + 40;
    m[0] = 129;
    rg_reply r;
    assert_int_equal(rg_reply_parse_l4(58, m, n - 40, &s.dst, &s.src, 60, &r), RG_PARSE_OK);
    assert_int_equal(r.kind, RG_REPLY_ECHO);
    assert_int_equal(r.probe_proto, 58);
    assert_int_equal(r.sport, 40001);
    assert_int_equal(r.ident, rg_probe_ident(SEQ_BASE, 6, 0));
    assert_int_equal(r.seq, rg_probe_seq(SEQ_BASE, 6, 0));
    assert_true(rg_addr_equal(&r.probe_dst, &s.dst));
    m[0] = 128; /* an echo request is no reply */
    assert_int_equal(rg_reply_parse_l4(58, m, n - 40, &s.dst, &s.src, 60, &r), RG_PARSE_IGNORE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_exceeded_v4),
        cmocka_unit_test(test_options_in_outer_and_quoted_headers),
        cmocka_unit_test(test_unreachable_keeps_code),
        cmocka_unit_test(test_every_truncation_is_refused),
        cmocka_unit_test(test_quote_too_short_for_seq),
        cmocka_unit_test(test_lying_lengths),
        cmocka_unit_test(test_bad_icmp_checksum),
        cmocka_unit_test(test_other_icmp_and_inner_protocol_ignored),
        cmocka_unit_test(test_later_fragment_ignored),
        cmocka_unit_test(test_tcp_answers_v4),
        cmocka_unit_test(test_time_exceeded_v6_with_ext_headers),
        cmocka_unit_test(test_v6_ext_header_limits),
        cmocka_unit_test(test_tcp_answer_v6),
        cmocka_unit_test(test_random_bytes_never_crash),
        cmocka_unit_test(test_udp_quotes),
        cmocka_unit_test(test_icmp_quotes_and_echo_reply),
        cmocka_unit_test(test_udp_answer),
        cmocka_unit_test(test_echo_reply_v6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
