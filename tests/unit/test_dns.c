/* dns: the pure parts of the DNS annotation. Query names, the Cymru TXT
 * formats, DNS response parsing (hand-built messages, hostile ones too) and
 * the --dns-server syntax. Real lookups are tested in the lab. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "annotate/dns.h"

static rg_addr addr(const char *text)
{
    rg_addr a;
    assert_true(rg_addr_parse(text, &a));
    return a;
}

/* ---- query names ---- */

static void test_reverse_names_v4(void **state)
{
    (void)state;
    char buf[RG_DNS_NAME_MAX];
    rg_addr a = addr("198.19.0.5");
    assert_true(rg_dns_ptr_name(&a, buf, sizeof buf));
    assert_string_equal(buf, "5.0.19.198.in-addr.arpa");
    assert_true(rg_cymru_origin_name(&a, buf, sizeof buf));
    assert_string_equal(buf, "5.0.19.198.origin.asn.cymru.com");
    a = addr("255.0.10.1");
    assert_true(rg_cymru_origin_name(&a, buf, sizeof buf));
    assert_string_equal(buf, "1.10.0.255.origin.asn.cymru.com");
}

static void test_reverse_names_v6(void **state)
{
    (void)state;
    char buf[RG_DNS_NAME_MAX];
    rg_addr a = addr("2001:db8:110::66");
    assert_true(rg_dns_ptr_name(&a, buf, sizeof buf));
    assert_string_equal(buf, "6.6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.1.0.8.b.d.0.1.0.0.2.ip6.arpa");
    assert_true(rg_cymru_origin_name(&a, buf, sizeof buf));
    assert_string_equal(buf, "6.6.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.1.0.8.b.d.0.1.0.0.2"
                             ".origin6.asn.cymru.com");
    a = addr("fedc:ba98:7654:3210:0123:4567:89ab:cdef");
    assert_true(rg_dns_ptr_name(&a, buf, sizeof buf));
    assert_string_equal(buf, "f.e.d.c.b.a.9.8.7.6.5.4.3.2.1.0.0.1.2.3.4.5.6.7.8.9.a.b.c.d.e.f.ip6.arpa");
}

static void test_reverse_names_limits(void **state)
{
    (void)state;
    char buf[RG_DNS_NAME_MAX];
    char small[23]; /* "5.0.19.198.in-addr.arpa" needs 24 */
    rg_addr a = addr("198.19.0.5");
    assert_false(rg_dns_ptr_name(&a, small, sizeof small));
    assert_string_equal(small, "");
    char exact[24];
    assert_true(rg_dns_ptr_name(&a, exact, sizeof exact));
    rg_addr unset = {0};
    assert_false(rg_dns_ptr_name(&unset, buf, sizeof buf));
    assert_false(rg_cymru_origin_name(&unset, buf, sizeof buf));
}

static void test_as_query_name(void **state)
{
    (void)state;
    char buf[RG_DNS_NAME_MAX];
    assert_true(rg_cymru_as_name(64502, buf, sizeof buf));
    assert_string_equal(buf, "AS64502.asn.cymru.com");
    assert_true(rg_cymru_as_name(4294967295u, buf, sizeof buf));
    assert_string_equal(buf, "AS4294967295.asn.cymru.com");
    assert_false(rg_cymru_as_name(0, buf, sizeof buf));
    char small[10];
    assert_false(rg_cymru_as_name(64502, small, sizeof small));
}

static void test_cymru_wanted(void **state)
{
    (void)state;
    const char *yes[] = {"198.18.0.1", "198.19.32.66", "8.8.8.8", "172.32.0.1",
                         "100.128.0.1", "2001:db8::1", "2a00::1", "223.255.255.255"};
    const char *no[] = {"10.1.2.3", "192.168.1.1", "172.16.0.1", "172.31.255.255",
                        "127.0.0.1", "169.254.1.1", "100.64.0.1", "0.1.2.3",
                        "224.0.0.1", "255.255.255.255", "::", "::1", "fe80::1",
                        "fd00::1", "ff02::1", "::ffff:1.2.3.4"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        rg_addr a = addr(yes[i]);
        if (!rg_cymru_wanted(&a))
            fail_msg("%s should be asked", yes[i]);
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        rg_addr a = addr(no[i]);
        if (rg_cymru_wanted(&a))
            fail_msg("%s should not be asked", no[i]);
    }
}

/* ---- Cymru TXT ---- */

static bool origin(const char *txt, rg_cymru_origin *o)
{
    return rg_cymru_parse_origin(txt, strlen(txt), o);
}

static bool asrec(const char *txt, rg_cymru_as *a)
{
    return rg_cymru_parse_as(txt, strlen(txt), a);
}

static void test_origin_good(void **state)
{
    (void)state;
    rg_cymru_origin o;
    char buf[RG_ADDR_STRLEN];
    assert_true(origin("64502 | 198.19.0.0/22 | ZZ | lab | 2026-01-01", &o));
    assert_int_equal(o.asn, 64502);
    assert_int_equal(o.nasn, 1);
    assert_string_equal(rg_addr_format(&o.prefix, buf, sizeof buf), "198.19.0.0");
    assert_int_equal(o.prefix_len, 22);
    assert_string_equal(o.country, "ZZ");
    rg_addr in = addr("198.19.3.255"), out = addr("198.19.4.0"), v6 = addr("2001:db8::1");
    assert_true(rg_cymru_origin_covers(&o, &in));
    assert_false(rg_cymru_origin_covers(&o, &out));
    assert_false(rg_cymru_origin_covers(&o, &v6));

    assert_true(origin("15169|8.8.8.0/24|us|arin|2023-12-28", &o)); /* no blanks, lower case */
    assert_int_equal(o.asn, 15169);
    assert_string_equal(o.country, "US");

    assert_true(origin("64500 | 2001:db8:100::/40 | ZZ | lab | 2026-01-01", &o));
    assert_int_equal(o.prefix.family, 6);
    assert_int_equal(o.prefix_len, 40);
    rg_addr h3 = addr("2001:db8:110::66"), other = addr("2001:db8:200::1");
    assert_true(rg_cymru_origin_covers(&o, &h3));
    assert_false(rg_cymru_origin_covers(&o, &other));

    /* Host bits are cleared rather than trusted. */
    assert_true(origin("64502 | 198.19.1.7/22 | ZZ", &o));
    assert_string_equal(rg_addr_format(&o.prefix, buf, sizeof buf), "198.19.0.0");
    assert_true(origin("1 | 0.0.0.0/0", &o));
    assert_int_equal(o.prefix_len, 0);
}

static void test_origin_multiple_asns(void **state)
{
    (void)state;
    rg_cymru_origin o;
    assert_true(origin("64500 64501  64502 | 198.18.0.0/20 | ZZ | lab | 2026-01-01", &o));
    assert_int_equal(o.asn, 64500);
    assert_int_equal(o.nasn, 3);
    assert_false(origin("64500 x64501 | 198.18.0.0/20 | ZZ", &o));
    assert_int_equal(o.asn, 0);
}

static void test_origin_missing_fields(void **state)
{
    (void)state;
    rg_cymru_origin o;
    assert_true(origin("64502 | 198.19.0.0/22", &o));
    assert_string_equal(o.country, "");
    assert_true(origin("64502 | 198.19.0.0/22 |  | lab |", &o));
    assert_string_equal(o.country, "");
    assert_true(origin("64502 | 198.19.0.0/22 | ZZZ | lab", &o));
    assert_string_equal(o.country, "");
    assert_true(origin("64502 | 198.19.0.0/22 | Z1", &o));
    assert_string_equal(o.country, "");
    const char *bad[] = {"64502", "64502 |", "| 198.19.0.0/22 | ZZ", " | | | |",
                         "64502 | | ZZ | lab"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (origin(bad[i], &o))
            fail_msg("accepted '%s'", bad[i]);
}

static void test_origin_garbage(void **state)
{
    (void)state;
    rg_cymru_origin o;
    const char *bad[] = {
        "", "abc", "NA | 198.19.0.0/22 | ZZ", "0 | 198.19.0.0/22 | ZZ",
        "-1 | 198.19.0.0/22", "+5 | 198.19.0.0/22", "4294967296 | 198.19.0.0/22",
        "00000000001 | 198.19.0.0/22", "64502 | 198.19.0.0 | ZZ", "64502 | 198.19.0.0/ | ZZ",
        "64502 | 198.19.0.0/33 | ZZ", "64502 | 2001:db8::/129", "64502 | /22",
        "64502 | 198.19.0.0/2x", "64502 | 198.19.0.0/0022", "64502 | 198.19.0.256/22",
        "64502 | host.example/24", "64502 | 198.19.0.0/22/1", "64502 198.19.0.0/22",
        "64502 | 1111:2222:3333:4444:5555:6666:7777:8888:9999/64",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (origin(bad[i], &o))
            fail_msg("accepted '%s'", bad[i]);
        assert_int_equal(o.asn, 0);
    }
    assert_true(origin("4294967295 | 198.19.0.0/22", &o));
    assert_int_equal(o.asn, 4294967295u);
    /* A NUL inside the record is refused, wherever it is. */
    const char nul[] = "64502 | 198.19.0.0/22 | Z\0Z";
    assert_false(rg_cymru_parse_origin(nul, sizeof nul - 1, &o));
    assert_false(rg_cymru_parse_origin(NULL, 0, &o));
}

static void test_origin_overlong(void **state)
{
    (void)state;
    rg_cymru_origin o;
    char *big = malloc(RG_DNS_TXT_MAX + 2);
    assert_non_null(big);
    const char *head = "64502 | 198.19.0.0/22 | ZZ | lab | ";
    size_t hl = strlen(head);
    memcpy(big, head, hl);
    memset(big + hl, 'x', RG_DNS_TXT_MAX + 1 - hl);
    big[RG_DNS_TXT_MAX + 1] = '\0';
    assert_false(rg_cymru_parse_origin(big, RG_DNS_TXT_MAX + 1, &o));
    assert_true(rg_cymru_parse_origin(big, RG_DNS_TXT_MAX, &o)); /* the limit itself is fine */
    free(big);
}

static void test_as_good(void **state)
{
    (void)state;
    rg_cymru_as a;
    assert_true(asrec("64502 | ZZ | lab | 2026-01-01 | RG-LAB-HOSTING Lab Hosting, ZZ", &a));
    assert_int_equal(a.asn, 64502);
    assert_string_equal(a.country, "ZZ");
    assert_string_equal(a.name, "RG-LAB-HOSTING Lab Hosting");
    assert_true(asrec("15169 | US | arin | 2000-03-30 | GOOGLE, US", &a));
    assert_string_equal(a.name, "GOOGLE");
    /* Only a trailing ", CC" goes. */
    assert_true(asrec("1 | ZZ | lab | 2026 | Acme, Inc.", &a));
    assert_string_equal(a.name, "Acme, Inc.");
    assert_true(asrec("1 | ZZ | lab | 2026 | Name | with | bars, ZZ", &a));
    assert_string_equal(a.name, "Name | with | bars");
    assert_true(asrec("1 | FR | ripencc | 2001 | Caf\xc3\xa9 R\xc3\xa9seau, FR", &a));
    assert_string_equal(a.name, "Caf\xc3\xa9 R\xc3\xa9seau");
    assert_true(asrec("1|ZZ|lab|2026|X", &a));
    assert_string_equal(a.name, "X");
}

static void test_as_bad_names_and_fields(void **state)
{
    (void)state;
    rg_cymru_as a;
    assert_true(asrec("64502 | ZZ | lab | 2026-01-01", &a)); /* no name */
    assert_int_equal(a.asn, 64502);
    assert_string_equal(a.name, "");
    assert_true(asrec("64502", &a));
    assert_string_equal(a.country, "");
    assert_true(asrec("64502 | ZZ | lab | 2026 | , ZZ", &a));
    assert_string_equal(a.name, "");
    /* Control characters or broken UTF-8 drop the name, not the record. */
    const char *unusable[] = {"64502 | ZZ | lab | 2026 | Evil\nName",
                              "64502 | ZZ | lab | 2026 | Evil\x1b[31m",
                              "64502 | ZZ | lab | 2026 | Bad \xff byte",
                              "64502 | ZZ | lab | 2026 | Overlong \xc0\xaf",
                              "64502 | ZZ | lab | 2026 | Surrogate \xed\xa0\x80",
                              "64502 | ZZ | lab | 2026 | C1 \xc2\x85 control",
                              "64502 | ZZ | lab | 2026 | Cut \xe2\x82"};
    for (size_t i = 0; i < sizeof unusable / sizeof unusable[0]; i++) {
        assert_true(asrec(unusable[i], &a));
        assert_int_equal(a.asn, 64502);
        if (a.name[0])
            fail_msg("kept the name of '%s'", unusable[i]);
    }
    char longname[400];
    int n = snprintf(longname, sizeof longname, "64502 | ZZ | lab | 2026 | ");
    memset(longname + n, 'N', RG_CYMRU_ORG_MAX + 1);
    longname[n + RG_CYMRU_ORG_MAX + 1] = '\0';
    assert_true(asrec(longname, &a));
    assert_string_equal(a.name, "");
    longname[n + RG_CYMRU_ORG_MAX] = '\0';
    assert_true(asrec(longname, &a));
    assert_int_equal(strlen(a.name), RG_CYMRU_ORG_MAX);

    const char *bad[] = {"", "AS64502 | ZZ", "x | ZZ | lab | 2026 | N", "0 | ZZ",
                         "64502 64503 | ZZ | lab | 2026 | N", "99999999999 | ZZ"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (asrec(bad[i], &a))
            fail_msg("accepted '%s'", bad[i]);
}

/* ---- DNS responses ---- */

typedef struct msg {
    unsigned char b[2048];
    size_t n;
} msg;

static void put(msg *m, const void *p, size_t n)
{
    assert_true(m->n + n <= sizeof m->b);
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void put8(msg *m, unsigned v)
{
    unsigned char c = (unsigned char)v;
    put(m, &c, 1);
}

static void put16(msg *m, unsigned v)
{
    put8(m, v >> 8);
    put8(m, v & 0xff);
}

/* Dotted text name in wire form; labels may hold any byte but '.'. */
static void put_name(msg *m, const char *name)
{
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t l = dot ? (size_t)(dot - name) : strlen(name);
        put8(m, (unsigned)l);
        put(m, name, l);
        name += l + (dot ? 1 : 0);
    }
    put8(m, 0);
}

/* Header and question; the question name starts at offset 12. */
static void start(msg *m, unsigned flags, unsigned ancount, const char *qname, unsigned qtype)
{
    m->n = 0;
    put16(m, 0x1234);
    put16(m, flags);
    put16(m, 1);
    put16(m, ancount);
    put16(m, 0);
    put16(m, 0);
    put_name(m, qname);
    put16(m, qtype);
    put16(m, 1);
}

/* An answer owned by the question name (a pointer to offset 12). */
static void rr_head(msg *m, unsigned type, unsigned rdlen)
{
    put16(m, 0xc00c);
    put16(m, type);
    put16(m, 1);
    put16(m, 0);
    put16(m, 3600);
    put16(m, rdlen);
}

static void rr_ptr(msg *m, const char *name)
{
    msg tmp = {.n = 0};
    put_name(&tmp, name);
    rr_head(m, 12, (unsigned)tmp.n);
    put(m, tmp.b, tmp.n);
}

#define QPTR "5.0.19.198.in-addr.arpa"

static void test_ptr_good(void **state)
{
    (void)state;
    msg m;
    char out[RG_DNS_NAME_MAX];
    start(&m, 0x8180, 1, QPTR, 12);
    rr_ptr(&m, "web1.h1.lab");
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_FOUND);
    assert_string_equal(out, "web1.h1.lab");

    /* A compressed name: "r1" then a pointer to "arpa" in the question. */
    start(&m, 0x8180, 1, QPTR, 12);
    const unsigned char *arpa = memmem(m.b, m.n, "\4arpa", 5);
    assert_non_null(arpa);
    rr_head(&m, 12, 5);
    put8(&m, 2);
    put(&m, "r1", 2);
    put16(&m, 0xc000 | (unsigned)(arpa - m.b));
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_FOUND);
    assert_string_equal(out, "r1.arpa");

    /* A CNAME, then the PTR of the name it points to (as c-ares follows it). */
    start(&m, 0x8180, 2, QPTR, 12);
    msg cn = {.n = 0};
    put_name(&cn, "alias.lab");
    rr_head(&m, 5, (unsigned)cn.n);
    put(&m, cn.b, cn.n);
    msg pt = {.n = 0};
    put_name(&pt, "second.lab");
    put_name(&m, "alias.lab");
    put16(&m, 12);
    put16(&m, 1);
    put16(&m, 0);
    put16(&m, 3600);
    put16(&m, (unsigned)pt.n);
    put(&m, pt.b, pt.n);
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_FOUND);
    assert_string_equal(out, "second.lab");
}

/* c-ares accepts only host name characters in a PTR answer: a name with
 * quotes, markup, blanks, UTF-8 or control characters (C0, DEL, C1) is
 * refused whole, so none of its bytes can reach an output. */
static void test_ptr_hostile_name_refused(void **state)
{
    (void)state;
    msg m;
    char out[RG_DNS_NAME_MAX];
    static const char *const bad[] = {
        "evil\"];<script>alert(1)</script>'\\\nx.h3.lab",
        "evil\"];<script>alert(1)</script>'\\x.h3.lab",
        "caf\xc3\xa9.lab", "a\xc2\xa0" "b.lab", "a b.lab",
        "r1\xc2\x85x.lab", ("r1\xc2\x9b" "2J.lab"), "\xc2\x80", "del\x7f.lab",
        "star*.lab", "nl\n.lab", "bs\x08.lab", "esc\x1b[2J.lab", "tab\t.lab", "cr\r.lab",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        start(&m, 0x8180, 1, QPTR, 12);
        rr_ptr(&m, bad[i]);
        strcpy(out, "junk");
        assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_BAD);
        assert_string_equal(out, "");
    }
    /* What host names may hold passes as it is. */
    start(&m, 0x8180, 1, QPTR, 12);
    rr_ptr(&m, "a-b_c/d.Lab9");
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_FOUND);
    assert_string_equal(out, "a-b_c/d.Lab9");
}

static void test_ptr_nodata(void **state)
{
    (void)state;
    msg m;
    char out[RG_DNS_NAME_MAX] = "junk";
    start(&m, 0x8183, 0, QPTR, 12); /* NXDOMAIN */
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_NODATA);
    assert_string_equal(out, "");
    start(&m, 0x8180, 0, QPTR, 12);
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_NODATA);
    start(&m, 0x8180, 1, QPTR, 12);
    put16(&m, 0xc00c); /* a TXT record only */
    put16(&m, 16);
    put16(&m, 1);
    put16(&m, 0);
    put16(&m, 0);
    put16(&m, 3);
    put8(&m, 2);
    put(&m, "hi", 2);
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_NODATA);
    /* A PTR of another class does not count. */
    start(&m, 0x8180, 1, QPTR, 12);
    put16(&m, 0xc00c);
    put16(&m, 12);
    put16(&m, 3); /* CH */
    put16(&m, 0);
    put16(&m, 0);
    put16(&m, 4);
    put_name(&m, "ch");
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_NODATA);
}

static void test_ptr_malformed(void **state)
{
    (void)state;
    msg m;
    char out[RG_DNS_NAME_MAX];

    start(&m, 0x0100, 1, QPTR, 12); /* a query, not a response */
    rr_ptr(&m, "x.lab");
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_BAD);

    start(&m, 0x8180, 1, QPTR, 12);
    rr_ptr(&m, "x.lab");
    for (size_t cut = 0; cut < m.n; cut++) /* every truncation */
        assert_int_equal(rg_dns_parse_ptr(m.b, cut, out, sizeof out), RG_DNS_BAD);

    /* A NUL inside a label. */
    start(&m, 0x8180, 1, QPTR, 12);
    rr_head(&m, 12, 9);
    put(&m, "\3a\0b\3lab", 9);
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_BAD);

    /* Not UTF-8. */
    start(&m, 0x8180, 1, QPTR, 12);
    rr_ptr(&m, "bad\xff.lab");
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_BAD);
    assert_string_equal(out, "");

    /* The root name. */
    start(&m, 0x8180, 1, QPTR, 12);
    rr_head(&m, 12, 1);
    put8(&m, 0);
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_BAD);

    /* A pointer to itself loops: refused. (c-ares follows a pointer
     * forwards as long as it stays inside the message and does not loop.) */
    start(&m, 0x8180, 1, QPTR, 12);
    rr_head(&m, 12, 2);
    put16(&m, 0xc000 | (unsigned)m.n);
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_BAD);
    start(&m, 0x8180, 1, QPTR, 12);
    rr_head(&m, 12, 2);
    put16(&m, 0xc000 | (unsigned)(m.n + 2));
    put16(&m, 0xc000 | (unsigned)(m.n - 2));
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_BAD);
    start(&m, 0x8180, 1, QPTR, 12);
    rr_head(&m, 12, 2);
    put16(&m, 0xc000 | (unsigned)(m.n + 40));
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_BAD);

    /* Reserved label type 0x40. */
    start(&m, 0x8180, 1, QPTR, 12);
    rr_head(&m, 12, 3);
    put8(&m, 0x41);
    put8(&m, 'a');
    put8(&m, 0);
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_BAD);

    /* rdlength past the end, and a name running past its rdata. */
    start(&m, 0x8180, 1, QPTR, 12);
    rr_head(&m, 12, 40);
    put_name(&m, "x.lab");
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_BAD);
    start(&m, 0x8180, 2, QPTR, 12);
    rr_head(&m, 12, 3);
    put_name(&m, "x.lab");
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_BAD);
}

static void test_ptr_name_length(void **state)
{
    (void)state;
    msg m;
    char out[RG_DNS_NAME_MAX];
    char name[300];
    /* 4 labels of 63 + 1 of 1: wire 4*64 + 2 + 1 = 259 > 255. */
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        memset(name + n, 'a' + i, 63);
        n += 63;
        name[n++] = '.';
    }
    name[n++] = 'z';
    name[n] = '\0';
    start(&m, 0x8180, 1, QPTR, 12);
    rr_ptr(&m, name);
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_BAD);
    /* 3 x 63 + 61: wire 3*64 + 62 + 1 = 255, the largest legal name. */
    n = 3 * 64;
    memset(name + n, 'z', 61);
    name[n + 61] = '\0';
    start(&m, 0x8180, 1, QPTR, 12);
    rr_ptr(&m, name);
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_FOUND);
    assert_string_equal(out, name);
    assert_int_equal(strlen(out), 253);
    /* A small output buffer refuses rather than cuts. */
    char small[16];
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, small, sizeof small), RG_DNS_BAD);
}

/* c-ares refuses a reply with one refused name in it whole. */
static void test_ptr_one_bad_record_spoils_the_answer(void **state)
{
    (void)state;
    msg m;
    char out[RG_DNS_NAME_MAX];
    start(&m, 0x8180, 2, QPTR, 12);
    rr_ptr(&m, "bad\xfe.lab");
    rr_ptr(&m, "good.lab");
    assert_int_equal(rg_dns_parse_ptr(m.b, m.n, out, sizeof out), RG_DNS_BAD);
    assert_string_equal(out, "");
}

typedef struct txts {
    char v[4][RG_DNS_TXT_MAX + 1];
    size_t n;
} txts;

static void collect(const char *txt, size_t len, void *arg)
{
    txts *t = arg;
    assert_true(t->n < 4);
    memcpy(t->v[t->n], txt, len);
    t->v[t->n][len] = '\0';
    t->n++;
}

static void rr_txt(msg *m, const char *const *strings, size_t n)
{
    msg tmp = {.n = 0};
    for (size_t i = 0; i < n; i++) {
        put8(&tmp, (unsigned)strlen(strings[i]));
        put(&tmp, strings[i], strlen(strings[i]));
    }
    rr_head(m, 16, (unsigned)tmp.n);
    put(m, tmp.b, tmp.n);
}

#define QTXT "5.0.19.198.origin.asn.cymru.com"

static void test_txt_records(void **state)
{
    (void)state;
    msg m;
    txts t = {.n = 0};
    const char *one[] = {"64502 | 198.19.0.0/22 | ZZ | lab | 2026-01-01"};
    const char *split[] = {"64500 | 198.18.0.0/20 ", "| ZZ | lab | 2026-01-01"};
    start(&m, 0x8580, 2, QTXT, 16);
    rr_txt(&m, one, 1);
    rr_txt(&m, split, 2);
    assert_int_equal(rg_dns_parse_txt(m.b, m.n, collect, &t), 2);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.v[0], one[0]);
    assert_string_equal(t.v[1], "64500 | 198.18.0.0/20 | ZZ | lab | 2026-01-01");

    /* Over-long records are skipped (a lone one makes the answer bad). */
    static char big[256];
    memset(big, 'x', 255);
    const char *many[] = {big, big, big, big, big};
    start(&m, 0x8180, 1, QTXT, 16);
    rr_txt(&m, many, 4); /* 1020 bytes: fits */
    t.n = 0;
    assert_int_equal(rg_dns_parse_txt(m.b, m.n, collect, &t), 1);
    assert_int_equal(strlen(t.v[0]), 1020);
    start(&m, 0x8180, 1, QTXT, 16);
    rr_txt(&m, many, 5); /* 1275 bytes */
    t.n = 0;
    assert_int_equal(rg_dns_parse_txt(m.b, m.n, collect, &t), RG_DNS_BAD);
    assert_int_equal(t.n, 0);
    start(&m, 0x8180, 2, QTXT, 16);
    rr_txt(&m, many, 5);
    rr_txt(&m, one, 1);
    t.n = 0;
    assert_int_equal(rg_dns_parse_txt(m.b, m.n, collect, &t), 1);
    assert_string_equal(t.v[0], one[0]);

    /* A string longer than its record. */
    start(&m, 0x8180, 1, QTXT, 16);
    rr_head(&m, 16, 4);
    put8(&m, 9); /* says 9, has 3 */
    put(&m, "abc", 3);
    t.n = 0;
    assert_int_equal(rg_dns_parse_txt(m.b, m.n, collect, &t), RG_DNS_BAD);
    assert_int_equal(t.n, 0);

    start(&m, 0x8183, 0, QTXT, 16);
    assert_int_equal(rg_dns_parse_txt(m.b, m.n, collect, &t), RG_DNS_NODATA);
}

/* ---- rg_dns_annotate without sending anything ---- */

static void test_annotate_nothing_to_ask(void **state)
{
    (void)state;
    rg_run run;
    memset(&run, 0, sizeof run);
    run.hosts = calloc(2, sizeof *run.hosts);
    assert_non_null(run.hosts);
    run.nhosts = 2;
    run.hosts[0].addr = addr("10.0.0.1");
    run.hosts[1].addr = addr("fe80::1");
    rg_dns_stats st;
    rg_dns_opts o = {.cymru = RG_CYMRU_ALL, .stats = &st};
    char err[RG_DNS_MSGLEN];
    assert_true(rg_dns_annotate(&run, &o, err, sizeof err));
    assert_int_equal(st.queries, 0);
    assert_int_equal(run.hosts[0].asn, 0);
    assert_null(run.hosts[0].ptr);

    /* Already annotated hosts are not asked again in fallback mode. */
    run.hosts[0].addr = addr("198.18.0.1");
    run.hosts[0].asn = 64500;
    o.cymru = RG_CYMRU_MISSING;
    assert_true(rg_dns_annotate(&run, &o, err, sizeof err));
    assert_int_equal(st.queries, 0);
    assert_int_equal(run.hosts[0].asn, 64500);

    o.server = "not-an-address";
    assert_false(rg_dns_annotate(&run, &o, err, sizeof err));
    assert_non_null(strstr(err, "bad DNS server 'not-an-address'"));
    rg_run_free(&run);

    /* An empty run collects its (no) hosts and is done. */
    memset(&run, 0, sizeof run);
    o = (rg_dns_opts){.do_ptr = true, .cymru = RG_CYMRU_ALL, .stats = &st};
    assert_true(rg_dns_annotate(&run, &o, err, sizeof err));
    assert_int_equal(st.queries, 0);
    rg_run_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reverse_names_v4),
        cmocka_unit_test(test_reverse_names_v6),
        cmocka_unit_test(test_reverse_names_limits),
        cmocka_unit_test(test_as_query_name),
        cmocka_unit_test(test_cymru_wanted),
        cmocka_unit_test(test_origin_good),
        cmocka_unit_test(test_origin_multiple_asns),
        cmocka_unit_test(test_origin_missing_fields),
        cmocka_unit_test(test_origin_garbage),
        cmocka_unit_test(test_origin_overlong),
        cmocka_unit_test(test_as_good),
        cmocka_unit_test(test_as_bad_names_and_fields),
        cmocka_unit_test(test_ptr_good),
        cmocka_unit_test(test_ptr_hostile_name_refused),
        cmocka_unit_test(test_ptr_nodata),
        cmocka_unit_test(test_ptr_malformed),
        cmocka_unit_test(test_ptr_name_length),
        cmocka_unit_test(test_ptr_one_bad_record_spoils_the_answer),
        cmocka_unit_test(test_txt_records),
        cmocka_unit_test(test_annotate_nothing_to_ask),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
