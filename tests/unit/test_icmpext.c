/* ICMP extension parsing (RFC 4884, RFC 4950 MPLS, RFC 5837 interface
 * information): byte vectors laid out as routers send them, checksums
 * computed by hand, then every way they can be broken. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>

#include "../../lab/forge_ext.h"
#include "probe/icmpext.h"
#include "probe/probe.h"
#include "probe/reply.h"
#include "probe/wire.h"

/* IPv4 time exceeded, RFC 4884 length 32 words: MPLS stack 24005 (TC 0, S 0, TTL 1) over 16 (TC 5, S 1, TTL 1) */
static const uint8_t v4_mpls[] = {
    0x0b, 0x00, 0x8f, 0x5c, 0x00, 0x20, 0x00, 0x00, 0x45, 0x00, 0x00, 0x28,
    0x00, 0x07, 0x00, 0x00, 0x01, 0x06, 0x5d, 0x5e, 0xc6, 0x12, 0x00, 0x02,
    0xc6, 0x13, 0x00, 0x05, 0x9c, 0x40, 0x00, 0x50, 0xa1, 0xb2, 0xc3, 0xd4,
    0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0x00, 0x00, 0xe3, 0xa7, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x7e, 0x13, 0x00, 0x0c, 0x01, 0x01,
    0x05, 0xdc, 0x50, 0x01, 0x00, 0x01, 0x0b, 0x01,
};

/* IPv4 time exceeded in the pre-RFC 4884 layout (length 0, fixed 128-byte quote): label 299776 (S 1, TTL 254) */
static const uint8_t v4_mpls_old[] = {
    0x0b, 0x00, 0x8f, 0x7c, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x28,
    0x00, 0x07, 0x00, 0x00, 0x01, 0x06, 0x5d, 0x5e, 0xc6, 0x12, 0x00, 0x02,
    0xc6, 0x13, 0x00, 0x05, 0x9c, 0x40, 0x00, 0x50, 0xa1, 0xb2, 0xc3, 0xd4,
    0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0x00, 0x00, 0xe3, 0xa7, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x93, 0xc8, 0x00, 0x08, 0x01, 0x01,
    0x49, 0x30, 0x01, 0xfe,
};

/* IPv4 host unreachable, length 32: label 17 (TC 2, S 1, TTL 64); incoming interface ifIndex 7, 198.18.1.1, "ge-0/0/1.0", MTU 1500; outgoing ifIndex 12, "xe-1/2/0" */
static const uint8_t v4_unreach_ifinfo[] = {
    0x03, 0x01, 0x97, 0x5b, 0x00, 0x20, 0x00, 0x00, 0x45, 0x00, 0x00, 0x28,
    0x00, 0x07, 0x00, 0x00, 0x01, 0x06, 0x5d, 0x5e, 0xc6, 0x12, 0x00, 0x02,
    0xc6, 0x13, 0x00, 0x05, 0x9c, 0x40, 0x00, 0x50, 0xa1, 0xb2, 0xc3, 0xd4,
    0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0x00, 0x00, 0xe3, 0xa7, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0xbf, 0xbf, 0x00, 0x08, 0x01, 0x01,
    0x00, 0x01, 0x15, 0x40, 0x00, 0x20, 0x02, 0x0f, 0x00, 0x00, 0x00, 0x07,
    0x00, 0x01, 0x00, 0x00, 0xc6, 0x12, 0x01, 0x01, 0x0c, 0x67, 0x65, 0x2d,
    0x30, 0x2f, 0x30, 0x2f, 0x31, 0x2e, 0x30, 0x00, 0x00, 0x00, 0x05, 0xdc,
    0x00, 0x14, 0x02, 0x8a, 0x00, 0x00, 0x00, 0x0c, 0x0c, 0x78, 0x65, 0x2d,
    0x31, 0x2f, 0x32, 0x2f, 0x30, 0x00, 0x00, 0x00,
};

/* ICMPv6 time exceeded, length 16 (64-bit words): incoming interface ifIndex 3, 2001:db8:101::1, MTU 9000; label 1048575 (TC 7, S 1, TTL 0). The ICMPv6 checksum is the kernel's to check, left 0. */
static const uint8_t v6_ifinfo[] = {
    0x03, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x60, 0x00, 0x00, 0x09,
    0x00, 0x14, 0x06, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x20, 0x01, 0x0d, 0xb8,
    0x03, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,
    0x9c, 0x41, 0x01, 0xbb, 0x10, 0x20, 0x30, 0x40, 0x00, 0x00, 0x00, 0x00,
    0x50, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x20, 0x00, 0x8b, 0xe0, 0x00, 0x20, 0x02, 0x0d,
    0x00, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x20, 0x01, 0x0d, 0xb8,
    0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x00, 0x23, 0x28, 0x00, 0x08, 0x01, 0x01, 0xff, 0xff, 0xff, 0x00,
};

#define QUOTE_END 136 /* 8-byte ICMP header + 128-byte quote */

static rg_addr addr(const char *s)
{
    rg_addr a;
    assert_true(rg_addr_parse(s, &a));
    return a;
}

static void assert_lse(const rg_mpls_lse *l, uint32_t label, uint8_t tc, uint8_t s,
                       uint8_t ttl)
{
    assert_int_equal(l->label, label);
    assert_int_equal(l->tc, tc);
    assert_int_equal(l->s, s);
    assert_int_equal(l->ttl, ttl);
}

/* Recomputes the extension checksum after a test changed the structure
 * that starts at off. */
static void fix_sum(uint8_t *m, size_t off, size_t len)
{
    rg_put_be16(m + off + 2, 0);
    rg_put_be16(m + off + 2, rg_inet_checksum(m + off, len - off));
}

static void test_mpls_stack_v4(void **state)
{
    (void)state;
    rg_icmpext e;
    assert_int_equal(rg_icmpext_parse(4, v4_mpls, sizeof v4_mpls, &e), RG_ICMPEXT_OK);
    assert_true(e.compliant);
    assert_int_equal(e.nlabels, 2);
    assert_int_equal(e.nifs, 0);
    assert_int_equal(e.dropped, 0);
    assert_lse(&e.labels[0], 24005, 0, 0, 1);
    assert_lse(&e.labels[1], 16, 5, 1, 1);
}

static void test_pre_rfc4884_layout(void **state)
{
    (void)state;
    rg_icmpext e;
    assert_int_equal(rg_icmpext_parse(4, v4_mpls_old, sizeof v4_mpls_old, &e),
                     RG_ICMPEXT_OK);
    assert_false(e.compliant);
    assert_int_equal(e.nlabels, 1);
    assert_lse(&e.labels[0], 299776, 0, 1, 254);
}

static void test_interface_information_v4(void **state)
{
    (void)state;
    rg_icmpext e;
    assert_int_equal(rg_icmpext_parse(4, v4_unreach_ifinfo, sizeof v4_unreach_ifinfo, &e),
                     RG_ICMPEXT_OK);
    assert_int_equal(e.nlabels, 1);
    assert_lse(&e.labels[0], 17, 2, 1, 64);
    assert_int_equal(e.nifs, 2);
    const rg_ifinfo *in = &e.ifs[0], *out = &e.ifs[1];
    assert_int_equal(in->role, RG_IF_INCOMING);
    assert_int_equal(in->has, RG_IF_HAS_IFINDEX | RG_IF_HAS_ADDR | RG_IF_HAS_NAME | RG_IF_HAS_MTU);
    assert_int_equal(in->ifindex, 7);
    rg_addr a = addr("198.18.1.1");
    assert_true(rg_addr_equal(&in->addr, &a));
    assert_string_equal(in->name, "ge-0/0/1.0");
    assert_int_equal(in->mtu, 1500);
    assert_int_equal(out->role, RG_IF_OUTGOING);
    assert_int_equal(out->has, RG_IF_HAS_IFINDEX | RG_IF_HAS_NAME);
    assert_int_equal(out->ifindex, 12);
    assert_string_equal(out->name, "xe-1/2/0");
    assert_int_equal(out->mtu, 0);
    assert_string_equal(rg_if_role_name(out->role), "outgoing");
}

static void test_interface_information_v6(void **state)
{
    (void)state;
    rg_icmpext e;
    assert_int_equal(rg_icmpext_parse(6, v6_ifinfo, sizeof v6_ifinfo, &e), RG_ICMPEXT_OK);
    assert_true(e.compliant);
    assert_int_equal(e.nifs, 1);
    assert_int_equal(e.ifs[0].has, RG_IF_HAS_IFINDEX | RG_IF_HAS_ADDR | RG_IF_HAS_MTU);
    assert_int_equal(e.ifs[0].ifindex, 3);
    rg_addr a = addr("2001:db8:101::1");
    assert_true(rg_addr_equal(&e.ifs[0].addr, &a));
    assert_int_equal(e.ifs[0].mtu, 9000);
    assert_string_equal(e.ifs[0].name, "");
    assert_int_equal(e.nlabels, 1);
    assert_lse(&e.labels[0], 1048575, 7, 1, 0);
    /* Read as IPv4 the length is in another byte (0 here): the same
     * structure, found by the old layout's fixed 128-byte quote. */
    assert_int_equal(rg_icmpext_parse(4, v6_ifinfo, sizeof v6_ifinfo, &e), RG_ICMPEXT_OK);
    assert_false(e.compliant);
}

static void test_bad_checksum(void **state)
{
    (void)state;
    uint8_t m[sizeof v4_mpls];
    rg_icmpext e;
    memcpy(m, v4_mpls, sizeof m);
    m[sizeof m - 1] ^= 0x01; /* the bottom label's TTL */
    assert_int_equal(rg_icmpext_parse(4, m, sizeof m, &e), RG_ICMPEXT_BAD_CHECKSUM);
    assert_int_equal(e.nlabels, 0);
    /* Without a length field, a header that does not check out is just
     * more of the quote. */
    uint8_t o[sizeof v4_mpls_old];
    memcpy(o, v4_mpls_old, sizeof o);
    o[sizeof o - 1] ^= 0x01;
    assert_int_equal(rg_icmpext_parse(4, o, sizeof o, &e), RG_ICMPEXT_NONE);
    /* A zero checksum: none sent, allowed where the length field says a
     * structure is there (RFC 4884 §7), not in the old layout. */
    memcpy(m, v4_mpls, sizeof m);
    rg_put_be16(m + QUOTE_END + 2, 0);
    assert_int_equal(rg_icmpext_parse(4, m, sizeof m, &e), RG_ICMPEXT_OK);
    assert_int_equal(e.nlabels, 2);
    memcpy(o, v4_mpls_old, sizeof o);
    rg_put_be16(o + QUOTE_END + 2, 0);
    assert_int_equal(rg_icmpext_parse(4, o, sizeof o, &e), RG_ICMPEXT_NONE);
}

static void test_bad_version(void **state)
{
    (void)state;
    uint8_t m[sizeof v4_mpls];
    rg_icmpext e;
    memcpy(m, v4_mpls, sizeof m);
    m[QUOTE_END] = 0x10;
    fix_sum(m, QUOTE_END, sizeof m);
    assert_int_equal(rg_icmpext_parse(4, m, sizeof m, &e), RG_ICMPEXT_BAD_VERSION);
}

static void test_truncated_object(void **state)
{
    (void)state;
    uint8_t m[sizeof v4_mpls];
    rg_icmpext e;
    memcpy(m, v4_mpls, sizeof m);
    rg_put_be16(m + QUOTE_END + 4, 16); /* the object claims 4 more bytes */
    fix_sum(m, QUOTE_END, sizeof m);
    assert_int_equal(rg_icmpext_parse(4, m, sizeof m, &e), RG_ICMPEXT_MALFORMED);
    assert_int_equal(e.nlabels, 0);
    /* An MPLS object whose entries are not whole words. */
    memcpy(m, v4_mpls, sizeof m);
    rg_put_be16(m + QUOTE_END + 4, 10);
    fix_sum(m, QUOTE_END, sizeof m);
    assert_int_equal(rg_icmpext_parse(4, m, sizeof m, &e), RG_ICMPEXT_MALFORMED);
    /* Every cut of a message with objects: never accepted. */
    for (size_t cut = 0; cut < sizeof v4_unreach_ifinfo; cut++)
        assert_int_not_equal(rg_icmpext_parse(4, v4_unreach_ifinfo, cut, &e), RG_ICMPEXT_OK);
}

static void test_zero_length_object(void **state)
{
    (void)state;
    uint8_t m[sizeof v4_mpls];
    rg_icmpext e;
    memcpy(m, v4_mpls, sizeof m);
    rg_put_be16(m + QUOTE_END + 4, 0);
    fix_sum(m, QUOTE_END, sizeof m);
    assert_int_equal(rg_icmpext_parse(4, m, sizeof m, &e), RG_ICMPEXT_MALFORMED);
}

static void test_length_field(void **state)
{
    (void)state;
    uint8_t m[sizeof v4_mpls];
    rg_icmpext e;
    memcpy(m, v4_mpls, sizeof m);
    m[5] = 40; /* 160 bytes of quote: past the end */
    assert_int_equal(rg_icmpext_parse(4, m, sizeof m, &e), RG_ICMPEXT_MALFORMED);
    m[5] = 10; /* 40 bytes: shorter than the 128 an extension needs */
    assert_int_equal(rg_icmpext_parse(4, m, sizeof m, &e), RG_ICMPEXT_MALFORMED);
    /* A length that covers the whole message: no extension. */
    m[5] = 32;
    assert_int_equal(rg_icmpext_parse(4, m, QUOTE_END, &e), RG_ICMPEXT_NONE);
    /* Only time exceeded and unreachable are extended. */
    memcpy(m, v4_mpls, sizeof m);
    m[0] = 0; /* echo reply */
    assert_int_equal(rg_icmpext_parse(4, m, sizeof m, &e), RG_ICMPEXT_NONE);
    uint8_t v6[sizeof v6_ifinfo];
    memcpy(v6, v6_ifinfo, sizeof v6);
    v6[4] = 17; /* 136 bytes of quote: into the structure, not at its start */
    assert_int_not_equal(rg_icmpext_parse(6, v6, sizeof v6, &e), RG_ICMPEXT_OK);
    v6[4] = 200;
    assert_int_equal(rg_icmpext_parse(6, v6, sizeof v6, &e), RG_ICMPEXT_MALFORMED);
}

/* A structure of n MPLS entries after a compliant 128-byte quote. */
static size_t many_labels(uint8_t *m, unsigned n)
{
    memcpy(m, v4_mpls, QUOTE_END);
    uint8_t *x = m + QUOTE_END;
    x[0] = 0x20;
    x[1] = 0;
    rg_put_be16(x + 4, (uint16_t)(4 + 4 * n));
    x[6] = 1;
    x[7] = 1;
    for (unsigned i = 0; i < n; i++)
        rg_put_be32(x + 8 + 4 * i, (uint32_t)(100 + i) << 12 | (i + 1 == n) << 8 | 255);
    size_t len = QUOTE_END + 8 + 4 * n;
    fix_sum(m, QUOTE_END, len);
    return len;
}

static void test_bounded_labels(void **state)
{
    (void)state;
    uint8_t m[QUOTE_END + 8 + 4 * 12];
    rg_icmpext e;
    size_t n = many_labels(m, 12);
    assert_int_equal(rg_icmpext_parse(4, m, n, &e), RG_ICMPEXT_OK);
    assert_int_equal(e.nlabels, RG_ICMPEXT_MAX_LABELS);
    assert_int_equal(e.dropped, 12 - RG_ICMPEXT_MAX_LABELS);
    assert_lse(&e.labels[0], 100, 0, 0, 255);
    assert_lse(&e.labels[7], 107, 0, 0, 255);
}

/* 300 labels: 8 kept, the count of the rest saturates; 20 objects: the
 * first 16 walked, the rest counted once as left unread. */
static void test_bounds_saturate(void **state)
{
    (void)state;
    static uint8_t m[QUOTE_END + 8 + 4 * 300];
    rg_icmpext e;
    size_t n = many_labels(m, 300);
    assert_int_equal(rg_icmpext_parse(4, m, n, &e), RG_ICMPEXT_OK);
    assert_int_equal(e.nlabels, RG_ICMPEXT_MAX_LABELS);
    assert_int_equal(e.dropped, 255);

    static uint8_t o[QUOTE_END + 4 + 20 * 8];
    memcpy(o, v4_mpls, QUOTE_END);
    uint8_t *x = o + QUOTE_END;
    x[0] = 0x20;
    for (unsigned i = 0; i < 20; i++) {
        uint8_t *obj = x + 4 + 8 * i;
        rg_put_be16(obj, 8);
        obj[2] = 1;
        obj[3] = 1;
        rg_put_be32(obj + 4, (uint32_t)(500 + i) << 12 | 1u << 8 | 9);
    }
    fix_sum(o, QUOTE_END, sizeof o);
    assert_int_equal(rg_icmpext_parse(4, o, sizeof o, &e), RG_ICMPEXT_OK);
    assert_int_equal(e.nlabels, RG_ICMPEXT_MAX_LABELS);
    assert_lse(&e.labels[7], 507, 0, 1, 9);
    assert_int_equal(e.dropped, (RG_ICMPEXT_MAX_OBJECTS - RG_ICMPEXT_MAX_LABELS) + 1);
}

static void test_name_with_control_character_dropped(void **state)
{
    (void)state;
    uint8_t m[sizeof v4_unreach_ifinfo];
    rg_icmpext e;
    memcpy(m, v4_unreach_ifinfo, sizeof m);
    /* "ge-0/0/1.0": its '/' becomes ESC. */
    uint8_t *p = memchr(m + QUOTE_END, 'g', sizeof m - QUOTE_END);
    assert_non_null(p);
    p[4] = 0x1b;
    fix_sum(m, QUOTE_END, sizeof m);
    assert_int_equal(rg_icmpext_parse(4, m, sizeof m, &e), RG_ICMPEXT_OK);
    assert_int_equal(e.ifs[0].has, RG_IF_HAS_IFINDEX | RG_IF_HAS_ADDR | RG_IF_HAS_MTU);
    assert_string_equal(e.ifs[0].name, "");
    assert_int_equal(e.ifs[0].mtu, 1500);
    assert_string_equal(e.ifs[1].name, "xe-1/2/0");
    /* A name length that is not a multiple of 4 breaks the object. */
    memcpy(m, v4_unreach_ifinfo, sizeof m);
    p = memchr(m + QUOTE_END, 'g', sizeof m - QUOTE_END);
    p[-1] = 11;
    fix_sum(m, QUOTE_END, sizeof m);
    assert_int_equal(rg_icmpext_parse(4, m, sizeof m, &e), RG_ICMPEXT_MALFORMED);
}

/* The parser through rg_reply: a whole IPv4 packet quoting a real probe. */
static void test_reply_carries_extension(void **state)
{
    (void)state;
    uint8_t pkt[20 + sizeof v4_mpls];
    rg_probe_spec s = {.src = addr("198.18.0.2"), .dst = addr("198.19.0.5"),
                       .flow = 40000, .dport = 80, .ttl = 4,
                       .seq = rg_probe_seq(0x10203040u, 4, 1), .ip_id = 7};
    uint8_t *m = pkt + 20;
    memcpy(m, v4_mpls, sizeof v4_mpls);
    memset(m + 8, 0, 128);
    size_t pl = rg_probe_build(&s, m + 8, 128);
    assert_true(pl > 0 && pl <= 128);
    rg_put_be16(m + 2, 0);
    rg_put_be16(m + 2, rg_inet_checksum(m, sizeof v4_mpls));
    memset(pkt, 0, 20);
    pkt[0] = 0x45;
    rg_put_be16(pkt + 2, sizeof pkt);
    pkt[8] = 250;
    pkt[9] = 1;
    rg_addr from = addr("203.0.113.1"), to = addr("198.18.0.2");
    memcpy(pkt + 12, from.bytes, 4);
    memcpy(pkt + 16, to.bytes, 4);
    rg_put_be16(pkt + 10, rg_inet_checksum(pkt, 20));
    rg_reply r;
    assert_int_equal(rg_reply_parse_packet(pkt, sizeof pkt, &r), RG_PARSE_OK);
    assert_int_equal(r.kind, RG_REPLY_TIME_EXCEEDED);
    assert_int_equal(r.seq, s.seq);
    assert_int_equal(r.ext_status, RG_ICMPEXT_OK);
    assert_int_equal(r.ext.nlabels, 2);
    assert_lse(&r.ext.labels[1], 16, 5, 1, 1);

    /* A broken extension leaves the reply itself good. */
    m[sizeof v4_mpls - 1] ^= 1;
    rg_put_be16(m + 2, 0);
    rg_put_be16(m + 2, rg_inet_checksum(m, sizeof v4_mpls));
    assert_int_equal(rg_reply_parse_packet(pkt, sizeof pkt, &r), RG_PARSE_OK);
    assert_int_equal(r.ext_status, RG_ICMPEXT_BAD_CHECKSUM);
    assert_int_equal(r.ext.nlabels, 0);
}

static void test_reply_carries_extension_v6(void **state)
{
    (void)state;
    uint8_t m[sizeof v6_ifinfo];
    rg_probe_spec s = {.src = addr("2001:db8:100::2"), .dst = addr("2001:db8:310::5"),
                       .flow = 40001, .dport = 443, .ttl = 6,
                       .seq = rg_probe_seq(0x10203040u, 6, 0), .flow_label = 9};
    memcpy(m, v6_ifinfo, sizeof m);
    memset(m + 8, 0, 128);
    size_t pl = rg_probe_build(&s, m + 8, 128);
    assert_true(pl > 0 && pl <= 128);
    rg_addr from = addr("2001:db8:101::1"), to = addr("2001:db8:100::2");
    rg_reply r;
    assert_int_equal(rg_reply_parse_l4(58, m, sizeof m, &from, &to, 60, &r), RG_PARSE_OK);
    assert_int_equal(r.kind, RG_REPLY_TIME_EXCEEDED);
    assert_int_equal(r.ext_status, RG_ICMPEXT_OK);
    assert_int_equal(r.ext.nifs, 1);
    assert_int_equal(r.ext.ifs[0].mtu, 9000);
}

/* The lab forger's structures (lab/forge_ext.c), wrapped as it sends them,
 * parse into what lab/topology.json says each hop shows: the ground truth
 * the integration test compares routegraph's JSON with. */
static void check_hop_truth(const rg_icmpext *e, json_t *want, const char *router)
{
    if (json_is_null(want)) {
        assert_false(rg_icmpext_any(e));
        return;
    }
    const char *layout = json_string_value(json_object_get(want, "layout"));
    assert_string_equal(layout, e->compliant ? "rfc4884" : "pre-rfc4884");
    json_t *mpls = json_object_get(want, "mpls"), *ifs = json_object_get(want, "interfaces");
    assert_int_equal(e->nlabels, json_array_size(mpls));
    for (unsigned i = 0; i < e->nlabels; i++) {
        json_t *l = json_array_get(mpls, i);
        assert_lse(&e->labels[i], (uint32_t)json_integer_value(json_object_get(l, "label")),
                   (uint8_t)json_integer_value(json_object_get(l, "tc")),
                   (uint8_t)json_integer_value(json_object_get(l, "s")),
                   (uint8_t)json_integer_value(json_object_get(l, "ttl")));
    }
    assert_int_equal(e->nifs, json_array_size(ifs));
    for (unsigned i = 0; i < e->nifs; i++) {
        json_t *f = json_array_get(ifs, i);
        const rg_ifinfo *x = &e->ifs[i];
        assert_string_equal(rg_if_role_name(x->role),
                            json_string_value(json_object_get(f, "role")));
        json_t *v = json_object_get(f, "ifindex");
        assert_int_equal(!!(x->has & RG_IF_HAS_IFINDEX), v != NULL);
        assert_int_equal(x->ifindex, v ? json_integer_value(v) : 0);
        v = json_object_get(f, "mtu");
        assert_int_equal(!!(x->has & RG_IF_HAS_MTU), v != NULL);
        assert_int_equal(x->mtu, v ? json_integer_value(v) : 0);
        v = json_object_get(f, "name");
        assert_int_equal(!!(x->has & RG_IF_HAS_NAME), v != NULL);
        assert_string_equal(x->name, v ? json_string_value(v) : "");
        v = json_object_get(f, "address");
        assert_int_equal(!!(x->has & RG_IF_HAS_ADDR), v != NULL);
        if (v) {
            assert_string_equal(json_string_value(v), "ROUTER");
            rg_addr a = addr(router);
            assert_true(rg_addr_equal(&x->addr, &a));
        }
    }
}

/* Hop ttl of the forger's path: the routers' base, ttl its last byte. */
static void router_addr(const char *base, int fam, unsigned ttl, char *out, size_t len)
{
    if (fam == 4)
        snprintf(out, len, "%.*s%u", (int)(strrchr(base, '.') - base + 1), base, ttl);
    else
        snprintf(out, len, "%s%x", base, ttl);
}

static void test_lab_forger_matches_topology(void **state)
{
    (void)state;
    json_error_t err;
    json_t *topo = json_load_file(RG_SOURCE_ROOT "/lab/topology.json", 0, &err);
    assert_non_null(topo);
    json_t *path = json_object_get(json_object_get(topo, "forger"), "extension_path");
    json_t *hops = json_object_get(path, "hops");
    assert_int_equal(json_integer_value(json_object_get(path, "depth")), RG_FORGE_EXT_DEPTH);
    assert_int_equal(json_array_size(hops), RG_FORGE_EXT_DEPTH - 1);
    for (int fam = 4; fam <= 6; fam += 2) {
        const char *base = json_string_value(
            json_object_get(json_object_get(path, "routers"), fam == 4 ? "4" : "6"));
        for (unsigned ttl = 1; ttl < RG_FORGE_EXT_DEPTH; ttl++) {
            char router[64];
            router_addr(base, fam, ttl, router, sizeof router);
            rg_addr r = addr(router);
            uint8_t m[8 + 128 + RG_FORGE_EXT_MAX] = {0};
            bool compliant = true;
            size_t n = rg_forge_ext_hop(fam, ttl, r.bytes, m + 8 + 128, &compliant);
            m[0] = fam == 4 ? 11 : 3;
            if (n && compliant)
                m[fam == 4 ? 5 : 4] = fam == 4 ? 32 : 16;
            rg_icmpext e;
            enum rg_icmpext_status st = rg_icmpext_parse((uint8_t)fam, m, 8 + 128 + n, &e);
            assert_int_equal(st, n ? RG_ICMPEXT_OK : RG_ICMPEXT_NONE);
            json_t *hop = json_array_get(hops, ttl - 1);
            assert_int_equal(json_integer_value(json_object_get(hop, "ttl")), ttl);
            check_hop_truth(&e, json_object_get(hop, "extensions"), router);
        }
    }
    json_decref(topo);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mpls_stack_v4),
        cmocka_unit_test(test_pre_rfc4884_layout),
        cmocka_unit_test(test_interface_information_v4),
        cmocka_unit_test(test_interface_information_v6),
        cmocka_unit_test(test_bad_checksum),
        cmocka_unit_test(test_bad_version),
        cmocka_unit_test(test_truncated_object),
        cmocka_unit_test(test_zero_length_object),
        cmocka_unit_test(test_length_field),
        cmocka_unit_test(test_bounded_labels),
        cmocka_unit_test(test_bounds_saturate),
        cmocka_unit_test(test_name_with_control_character_dropped),
        cmocka_unit_test(test_reply_carries_extension),
        cmocka_unit_test(test_reply_carries_extension_v6),
        cmocka_unit_test(test_lab_forger_matches_topology),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
