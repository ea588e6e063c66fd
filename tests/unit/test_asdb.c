/* The offline AS database: CSV parsing (quoted organisations, IPv6, the
 * numeric variant, hostile lines), lookups at range and bucket boundaries,
 * the overlap rule, the compiled index (round trip and damage), the data
 * directory logic, the lab's own data, and a few long-stable facts from the
 * real ip-location-db data when it is installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "annotate/annotate.h"
#include "annotate/asdb.h"

#ifndef RG_SOURCE_ROOT
#define RG_SOURCE_ROOT "."
#endif

static char err[512];

/* Builds a database from one buffer; fails the test when it cannot. */
static rg_asdb *from_text(const char *text, int hint)
{
    rg_asdb_builder *b = rg_asdb_builder_new();
    assert_non_null(b);
    if (!rg_asdb_builder_add_buffer(b, text, strlen(text), "t.csv", hint, err, sizeof err))
        fail_msg("add_buffer: %s", err);
    rg_asdb *db = rg_asdb_builder_finish(b, err, sizeof err);
    if (!db)
        fail_msg("finish: %s", err);
    return db;
}

/* The AS number db gives for text (0 when none), and its organisation. */
static uint32_t as_of(const rg_asdb *db, const char *text, const char **org)
{
    rg_addr a;
    if (!rg_addr_parse(text, &a))
        fail_msg("bad test address %s", text);
    uint32_t asn = 77;
    const char *o = "unset";
    bool found = rg_asdb_lookup(db, &a, &asn, &o);
    assert_true(found == (asn != 0));
    if (!found)
        assert_null(o);
    if (org)
        *org = o;
    return asn;
}

static void expect(const rg_asdb *db, const char *addr, uint32_t asn, const char *org)
{
    const char *o;
    uint32_t got = as_of(db, addr, &o);
    if (got != asn)
        fail_msg("%s: AS%u, expected AS%u", addr, got, asn);
    if (org)
        assert_string_equal(o, org);
}

static void test_quoted_v4_v6(void **state)
{
    (void)state;
    rg_asdb *db = from_text(
        "\xef\xbb\xbf" "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\r\n"
        "\n"
        "# a comment\n"
        "   \t\n"
        "2.26.200.0,2.26.215.255,201907,\"LLC \"\"SPUTNIK\"\"\"\n"
        "3.0.0.0, 3.0.0.9 ,7, Spaced Org \n"
        "4.0.0.0,4.0.0.0,8\n"
        "5.0.0.0,5.0.0.3,9,\"\"\n"
        "6.0.0.0,6.0.0.3,10,WILLIAN MENDES \xc2\xad ME\n"
        "2001:200::,2001:200:1b9:ffff:ffff:ffff:ffff:ffff,2500,WIDE Project\n"
        "2001:200:1ba::,2001:200:1ba:ffff:ffff:ffff:ffff:ffff,24047,"
        "\"Internet Systems Consortium, Inc.\"", /* no final newline */
        0);
    const rg_asdb_info *i = rg_asdb_get_info(db);
    assert_int_equal(i->skipped, 0);
    assert_int_equal(i->records, 8);
    assert_int_equal(i->ranges4, 6);
    assert_int_equal(i->ranges6, 2);
    expect(db, "1.0.0.77", 13335, "Cloudflare, Inc.");
    expect(db, "2.26.201.1", 201907, "LLC \"SPUTNIK\"");
    expect(db, "3.0.0.5", 7, "Spaced Org");
    const char *org;
    assert_int_equal(as_of(db, "4.0.0.0", &org), 8);
    assert_null(org); /* no organisation field */
    assert_int_equal(as_of(db, "5.0.0.1", &org), 9);
    assert_null(org); /* empty organisation */
    expect(db, "6.0.0.2", 10, "WILLIAN MENDES \xc2\xad ME");
    expect(db, "2001:200:1b9::1", 2500, "WIDE Project");
    expect(db, "2001:200:1ba:ffff::", 24047, "Internet Systems Consortium, Inc.");
    expect(db, "2001:200:1bb::", 0, NULL);
    rg_asdb_free(db);
}

static void test_header_line(void **state)
{
    (void)state;
    rg_asdb *db = from_text("ip_range_start,ip_range_end,autonomous_system_number,"
                            "autonomous_system_organization\n"
                            "9.9.9.0,9.9.9.255,19281,Quad9\n",
                            0);
    assert_int_equal(rg_asdb_get_info(db)->skipped, 0);
    expect(db, "9.9.9.9", 19281, "Quad9");
    rg_asdb_free(db);
    /* Only a first line can be a header. */
    db = from_text("9.9.9.0,9.9.9.255,19281,Quad9\nstart,end,asn,org\n", 0);
    assert_int_equal(rg_asdb_get_info(db)->skipped, 1);
    rg_asdb_free(db);
}

static void test_numeric_variant(void **state)
{
    (void)state;
    /* The same rows as ip-location-db's -num files. */
    rg_asdb *db = from_text(
        "16777216,16777471,13335,\"Cloudflare, Inc.\"\n"
        "4294967040,4294967295,65000,Top\n"
        "42540528726795050063891204319802818560,"
        "42540528727329395276160870415022948351,2500,WIDE Project\n"
        "340282366920938463463374607431768211455,340282366920938463463374607431768211455,"
        "65001,Last\n",
        0);
    assert_int_equal(rg_asdb_get_info(db)->skipped, 0);
    expect(db, "1.0.0.255", 13335, "Cloudflare, Inc.");
    expect(db, "255.255.255.255", 65000, "Top");
    expect(db, "2001:200::1", 2500, "WIDE Project");
    expect(db, "2001:200:1b9:ffff:ffff:ffff:ffff:ffff", 2500, NULL);
    expect(db, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65001, "Last");
    expect(db, "::1.0.0.5", 0, NULL); /* small numbers are IPv4 without a hint */
    rg_asdb_free(db);

    /* An IPv6 hint (file name with "ipv6") makes small numbers IPv6. */
    db = from_text("16777216,16777471,1,Low\n", 6);
    expect(db, "::1.0.0.5", 1, "Low");
    expect(db, "1.0.0.5", 0, NULL);
    rg_asdb_free(db);

    /* An IPv4 hint refuses numbers past 32 bits. */
    db = from_text("16777216,16777471,1,Low\n4294967296,4294967297,2,Big\n", 4);
    assert_int_equal(rg_asdb_get_info(db)->skipped, 1);
    assert_non_null(strstr(rg_asdb_get_info(db)->first_skip, "t.csv:2: "));
    rg_asdb_free(db);
}

static void test_hostile_lines(void **state)
{
    (void)state;
    static const char *bad[] = {
        "1.2.3.4,1.2.3.5",                        /* too few fields */
        "1.2.3.4,1.2.3.5,1,Foo, Inc.",            /* unquoted comma */
        "1.2.3.4,1.2.3.5,1,\"unterminated",
        "1.2.3.4,1.2.3.5,1,\"a\"b",
        "1.2.3.4,1.2.3.5,1,a\"b",
        "1.2.3.256,1.2.3.5,1,x",
        "1.2.3,1.2.3.5,1,x",
        "1.2.3.4.5,1.2.3.5,1,x",
        "1.2.3.4,1.2.3.0005,1,x",
        "01.2.3.4x,1.2.3.5,1,x",
        "1.2.3.4,2001:db8::,1,x",                 /* families differ */
        "1.2.3.4,16909061,1,x",                   /* text and number */
        "2001:db8::,2001:db8:::1,1,x",
        "2001:db8::%eth0,2001:db8::1,1,x",
        "::,340282366920938463463374607431768211456,1,x", /* 2^128 */
        "1,99999999999999999999999999999999999999999,1,x",
        "1.2.3.4,1.2.3.5,4294967296,x",
        "1.2.3.4,1.2.3.5,-1,x",
        "1.2.3.4,1.2.3.5,,x",
        "1.2.3.4,1.2.3.5,AS5,x",
        "1.2.3.4,1.2.3.5, 5 5,x",
        "1.2.3.5,1.2.3.4,1,reversed",
        "2001:db8::2,2001:db8::1,1,reversed",
        ("1.2.3.4,1.2.3.5,1,bad\x01" "control"),
        "1.2.3.4,1.2.3.5,1,del\x7f",
        "1.2.3.4,1.2.3.5,1,\xff\xfe",
        "1.2.3.4,1.2.3.5,1,overlong \xc0\xaf",
        "1.2.3.4,1.2.3.5,1,surrogate \xed\xa0\x80",
        "1.2.3.4,1.2.3.5,1,c1 \xc2\x85",
        "1.2.3.4,1.2.3.5,1,cut \xe2\x82",
        ",,,",
        "garbage",
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char text[512];
        snprintf(text, sizeof text, "9.0.0.0,9.0.0.255,9,Good\n%s\n", bad[k]);
        rg_asdb *db = from_text(text, 0);
        const rg_asdb_info *i = rg_asdb_get_info(db);
        if (i->skipped != 1)
            fail_msg("line %zu (%s) not refused", k, bad[k]);
        assert_int_equal(i->records, 1);
        assert_memory_equal(i->first_skip, "t.csv:2: ", 9);
        expect(db, "1.2.3.4", 0, NULL);
        expect(db, "9.0.0.9", 9, "Good");
        rg_asdb_free(db);
    }

    /* A NUL byte inside a line, and a line longer than any valid one. */
    char text[6000] = "9.0.0.0,9.0.0.255,9,Good\n1.2.3.4,1.2.3.5,1,a";
    size_t n = strlen(text);
    text[n++] = '\0';
    memcpy(text + n, "b\n", 2);
    n += 2;
    memcpy(text + n, "1.2.3.4,1.2.3.5,1,", 18);
    n += 18;
    memset(text + n, 'x', 5000);
    n += 5000;
    rg_asdb_builder *b = rg_asdb_builder_new();
    assert_true(rg_asdb_builder_add_buffer(b, text, n, "t.csv", 0, err, sizeof err));
    rg_asdb *db = rg_asdb_builder_finish(b, err, sizeof err);
    assert_non_null(db);
    assert_int_equal(rg_asdb_get_info(db)->skipped, 2);
    assert_string_equal(rg_asdb_get_info(db)->first_skip,
                        "t.csv:2: organisation is not valid UTF-8 or holds a control character");
    expect(db, "1.2.3.4", 0, NULL);
    rg_asdb_free(db);
}

/* text plus, when padded, 4500 ranges per family elsewhere (100.0.0.0/10, 3000::/16),
 * so the lookups also run through the bucket index big tables get. */
static rg_asdb *with_filler(const char *text, bool padded)
{
    size_t cap = strlen(text) + 4500 * 90, n = strlen(text);
    char *buf = malloc(cap);
    assert_non_null(buf);
    memcpy(buf, text, n);
    for (unsigned k = 0; padded && k < 4500; k++) {
        n += (size_t)snprintf(buf + n, cap - n, "100.%u.%u.0,100.%u.%u.127,999,Filler\n",
                              k / 256, k % 256, k / 256, k % 256);
        n += (size_t)snprintf(buf + n, cap - n, "3000:%x::,3000:%x::ffff,999,Filler\n", k, k);
    }
    buf[n] = '\0';
    rg_asdb *db = from_text(buf, 0);
    free(buf);
    return db;
}

static void test_boundaries_v4(void **state)
{
    (void)state;
    for (int padded = 0; padded < 2; padded++) {
    rg_asdb *db = with_filler("0.0.0.0,0.0.0.255,1,Zero\n"
                              "10.0.0.10,10.0.0.20,2,A\n"
                              "10.0.0.21,10.0.0.30,3,B\n"
                              "10.0.0.40,10.0.0.50,4,C\n"
                              "10.0.255.0,10.1.0.255,5,Across a /16\n"
                              "255.255.255.0,255.255.255.255,6,Top\n",
                              padded);
    assert_int_equal(rg_asdb_get_info(db)->ranges4, padded ? 4506 : 6);
    static const struct {
        const char *a;
        uint32_t asn;
    } cases[] = {
        {"0.0.0.0", 1},      {"0.0.0.255", 1},     {"0.0.1.0", 0},
        {"10.0.0.9", 0},     {"10.0.0.10", 2},     {"10.0.0.20", 2},
        {"10.0.0.21", 3},    {"10.0.0.30", 3},     {"10.0.0.31", 0},
        {"10.0.0.39", 0},    {"10.0.0.40", 4},     {"10.0.0.50", 4},
        {"10.0.0.51", 0},    {"10.0.254.255", 0},  {"10.0.255.0", 5},
        {"10.1.0.0", 5},     {"10.1.0.255", 5},    {"10.1.1.0", 0},
        {"255.255.254.255", 0}, {"255.255.255.0", 6}, {"255.255.255.255", 6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t got = as_of(db, cases[i].a, NULL);
        if (got != cases[i].asn)
            fail_msg("%s: AS%u, expected AS%u", cases[i].a, got, cases[i].asn);
    }
    rg_addr none = {0};
    uint32_t asn = 5;
    const char *org = "x";
    assert_false(rg_asdb_lookup(db, &none, &asn, &org));
    assert_int_equal(asn, 0);
    assert_null(org);
    assert_false(rg_asdb_lookup(NULL, &none, NULL, NULL));
    rg_asdb_free(db);
    }
}

static void test_boundaries_v6(void **state)
{
    (void)state;
    for (int padded = 0; padded < 2; padded++) {
    rg_asdb *db = with_filler("::,::ff,1,Zero\n"
                              "2001:db8::,2001:db8::ffff,2,A\n"
                              "2001:db8::1:0,2001:db8::1:0,3,One\n"
                              "2001:ffff:ffff:ffff::,2002:0:0:1::,4,Across\n"
                              "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00,"
                              "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,5,Top\n",
                              padded);
    assert_int_equal(rg_asdb_get_info(db)->ranges6, padded ? 4505 : 5);
    static const struct {
        const char *a;
        uint32_t asn;
    } cases[] = {
        {"::", 1},
        {"::ff", 1},
        {"::100", 0},
        {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", 0},
        {"2001:db8::", 2},
        {"2001:db8::ffff", 2},
        {"2001:db8::1:0", 3},
        {"2001:db8::1:1", 0},
        {"2001:ffff:ffff:fffe:ffff:ffff:ffff:ffff", 0},
        {"2001:ffff:ffff:ffff::", 4},
        {"2002::", 4},
        {"2002:0:0:1::", 4},
        {"2002:0:0:1::1", 0},
        {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:feff", 0},
        {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00", 5},
        {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 5},
        {"1.0.0.0", 0}, /* IPv4 is a separate table */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t got = as_of(db, cases[i].a, NULL);
        if (got != cases[i].asn)
            fail_msg("%s: AS%u, expected AS%u", cases[i].a, got, cases[i].asn);
    }
    rg_asdb_free(db);
    }
}

static void test_overlap_rule(void **state)
{
    (void)state;
    /* Nested: the smaller range wins inside it, the larger one around it;
     * input order does not matter. */
    rg_asdb *db = from_text("10.1.0.0,10.1.255.255,2,Inner\n"
                            "10.0.0.0,10.255.255.255,1,Outer\n"
                            "10.1.2.0,10.1.2.255,3,Innermost\n"
                            "10.3.0.0,10.3.255.255,0,Not announced\n",
                            0);
    const rg_asdb_info *i = rg_asdb_get_info(db);
    assert_int_equal(i->overlaps, 3);
    assert_int_equal(i->skipped, 0);
    assert_non_null(strstr(i->first_overlap, "the smaller range wins"));
    assert_memory_equal(i->first_overlap, "t.csv:", 6);
    expect(db, "10.0.255.255", 1, "Outer");
    expect(db, "10.1.0.0", 2, "Inner");
    expect(db, "10.1.2.0", 3, "Innermost");
    expect(db, "10.1.2.255", 3, NULL);
    expect(db, "10.1.3.0", 2, NULL);
    expect(db, "10.1.255.255", 2, NULL);
    expect(db, "10.2.0.0", 1, "Outer");
    expect(db, "10.3.1.1", 0, NULL); /* AS 0 masks its part of the outer range */
    expect(db, "10.4.0.0", 1, "Outer");
    expect(db, "10.255.255.255", 1, NULL);
    expect(db, "11.0.0.0", 0, NULL);
    /* Outer's pieces are one range again where nothing cuts them. */
    assert_int_equal(i->ranges4, 6);
    rg_asdb_free(db);

    /* Partial overlap (as once in the real data): the smaller range keeps
     * all of itself, the larger one keeps the rest. */
    db = from_text("214.95.0.0,215.0.255.255,749,DoD\n"
                   "215.0.0.0,215.1.3.255,721,DoD NIC\n",
                   4);
    assert_int_equal(rg_asdb_get_info(db)->overlaps, 1);
    assert_string_equal(rg_asdb_get_info(db)->first_overlap,
                        "t.csv:2: overlaps t.csv:1; the smaller range wins");
    expect(db, "214.255.255.255", 749, "DoD");
    expect(db, "215.0.0.0", 721, "DoD NIC");
    expect(db, "215.0.255.255", 721, NULL);
    expect(db, "215.1.3.255", 721, NULL);
    expect(db, "215.1.4.0", 0, NULL);
    rg_asdb_free(db);

    /* Equal ranges: the one loaded first wins, across sources too. */
    rg_asdb_builder *b = rg_asdb_builder_new();
    const char *one = "2001:db8::,2001:db8::ff,64500,First\n";
    const char *two = "2001:db8::,2001:db8::ff,64501,Second\n2001:db8::,2001:db8::ff,64502,Third\n";
    assert_true(rg_asdb_builder_add_buffer(b, one, strlen(one), "a.csv", 0, err, sizeof err));
    assert_true(rg_asdb_builder_add_buffer(b, two, strlen(two), "b.csv", 0, err, sizeof err));
    db = rg_asdb_builder_finish(b, err, sizeof err);
    assert_non_null(db);
    assert_int_equal(rg_asdb_get_info(db)->overlaps, 2);
    expect(db, "2001:db8::7", 64500, "First");
    rg_asdb_free(db);

    /* A deep pile of nested ranges is resolved in O(n log n), correctly. */
    char *text = malloc(200 * 1000);
    assert_non_null(text);
    size_t n = 0;
    for (unsigned k = 0; k < 4000; k++)
        n += (size_t)sprintf(text + n, "%u,%u,%u,\n", 1000000u - k, 1000000u + k, k + 1);
    db = from_text(text, 4);
    free(text);
    assert_int_equal(rg_asdb_get_info(db)->overlaps, 3999);
    rg_addr a = {.family = 4, .bytes = {0, 0x0f, 0x42, 0x40}}; /* 1000000 */
    uint32_t asn;
    assert_true(rg_asdb_lookup(db, &a, &asn, NULL));
    assert_int_equal(asn, 1);
    a.bytes[3] = 0x40 + 100; /* 1000100: inside ranges k >= 100 */
    assert_true(rg_asdb_lookup(db, &a, &asn, NULL));
    assert_int_equal(asn, 101);
    rg_asdb_free(db);
}

static void test_interned(void **state)
{
    (void)state;
    rg_asdb *db = from_text("1.0.0.0,1.0.0.255,1,Same Org\n"
                            "3.0.0.0,3.0.0.255,2,Other\n"
                            "5.0.0.0,5.0.0.255,1,Same Org\n"
                            "2001:db8::,2001:db8::ff,1,Same Org\n",
                            0);
    const char *a, *b, *c, *d;
    as_of(db, "1.0.0.1", &a);
    as_of(db, "3.0.0.1", &b);
    as_of(db, "5.0.0.1", &c);
    as_of(db, "2001:db8::1", &d);
    assert_ptr_equal(a, c);
    assert_ptr_equal(a, d);
    assert_ptr_not_equal(a, b);
    assert_int_equal(rg_asdb_get_info(db)->orgs, 2);
    rg_asdb_free(db);
}

static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/rg-test-asdb.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp_path(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", tmpdir, name);
    return buf;
}

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long len = ftell(f);
    assert_true(len > 0);
    rewind(f);
    void *p = malloc((size_t)len);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return p;
}

static void test_file_errors(void **state)
{
    (void)state;
    char p[256];
    const char *paths[1] = {tmp_path("missing.csv", p, sizeof p)};
    assert_null(rg_asdb_load(paths, 1, err, sizeof err));
    assert_non_null(strstr(err, "missing.csv: No such file or directory"));

    paths[0] = tmpdir;
    assert_null(rg_asdb_load(paths, 1, err, sizeof err));
    assert_non_null(strstr(err, "is a directory"));

    paths[0] = tmp_path("empty.csv", p, sizeof p);
    write_file(p, "", 0);
    assert_null(rg_asdb_load(paths, 1, err, sizeof err));
    assert_non_null(strstr(err, "empty.csv: no address ranges"));

    paths[0] = tmp_path("junk.csv", p, sizeof p);
    const char *junk = "1.0.0.0,bad,1,x\nof,ranges,at all\n";
    write_file(p, junk, strlen(junk));
    assert_null(rg_asdb_load(paths, 1, err, sizeof err));
    assert_non_null(strstr(err, "junk.csv: no valid address range (2 lines skipped; first: "));
    assert_non_null(strstr(err, "junk.csv:1: range end is not"));

    if (geteuid() != 0) { /* root reads anything */
        paths[0] = tmp_path("unreadable.csv", p, sizeof p);
        write_file(p, "1.0.0.0,1.0.0.1,1,x\n", 20);
        chmod(p, 0);
        assert_null(rg_asdb_load(paths, 1, err, sizeof err));
        assert_non_null(strstr(err, "Permission denied"));
    }

    assert_null(rg_asdb_load(paths, 0, err, sizeof err));
    assert_string_equal(err, "AS database: no files given");
    assert_null(rg_asdb_builder_finish(rg_asdb_builder_new(), err, sizeof err));
    assert_string_equal(err, "AS database: no address ranges loaded");

    /* One good file and one missing: the whole load fails, naming the missing one. */
    char lab[512];
    snprintf(lab, sizeof lab, "%s/lab/asn.csv", RG_SOURCE_ROOT);
    const char *two[2] = {lab, tmp_path("missing.csv", p, sizeof p)};
    assert_null(rg_asdb_load(two, 2, err, sizeof err));
    assert_non_null(strstr(err, "missing.csv"));
}

static void test_file_chunks(void **state)
{
    (void)state;
    /* More than one read chunk (1 MiB), with a line over the limit in
     * between, and lines straddling chunk borders. */
    char p[256];
    tmp_path("big-ipv4.csv", p, sizeof p);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    unsigned lines = 0;
    for (unsigned k = 0; k < 60000; k++, lines++) {
        fprintf(f, "%u.%u.%u.0,%u.%u.%u.255,%u,\"Org %u, Ltd.\"\n", 1 + k / 65536,
                (k / 256) % 256, k % 256, 1 + k / 65536, (k / 256) % 256, k % 256, k + 1, k % 5000);
        if (k == 30000) {
            for (int i = 0; i < 10000; i++)
                fputc('y', f);
            fputc('\n', f);
            lines++;
        }
    }
    assert_int_equal(fclose(f), 0);
    const char *paths[1] = {p};
    rg_asdb *db = rg_asdb_load(paths, 1, err, sizeof err);
    assert_non_null(db);
    const rg_asdb_info *i = rg_asdb_get_info(db);
    assert_int_equal(i->records, 60000);
    assert_int_equal(i->skipped, 1);
    assert_non_null(strstr(i->first_skip, "big-ipv4.csv:30002: line longer than 4096 bytes"));
    assert_int_equal(i->orgs, 5000);
    expect(db, "1.0.0.1", 1, "Org 0, Ltd.");
    expect(db, "1.117.48.200", 30001, "Org 0, Ltd.");
    expect(db, "1.234.95.255", 60000, "Org 4999, Ltd.");
    rg_asdb_free(db);
}

static rg_asdb *load_lab(void)
{
    char lab[512];
    snprintf(lab, sizeof lab, "%s/lab/asn.csv", RG_SOURCE_ROOT);
    const char *paths[1] = {lab};
    rg_asdb *db = rg_asdb_load(paths, 1, err, sizeof err);
    if (!db)
        fail_msg("%s", err);
    return db;
}

static void check_lab(const rg_asdb *db)
{
    expect(db, "198.18.0.1", 64500, "RG-LAB-ACCESS Lab Access Networks");
    expect(db, "198.18.15.255", 64500, NULL);
    expect(db, "198.18.16.0", 64501, "RG-LAB-TRANSIT Lab Transit Backbone");
    expect(db, "198.18.33.1", 64502, "RG-LAB-HOSTING Lab Hosting");
    expect(db, "198.18.49.2", 64503, "RG-LAB-CLOUD, Lab Cloud");
    expect(db, "198.18.64.0", 0, NULL);
    expect(db, "198.19.0.7", 64502, NULL);
    expect(db, "198.19.4.0", 0, NULL);
    expect(db, "198.19.17.5", 64503, NULL);
    expect(db, "198.19.35.255", 64500, NULL);
    expect(db, "198.19.36.0", 0, NULL);
    expect(db, "2001:db8:110::1", 64500, NULL);
    expect(db, "2001:db8:201::2", 64501, NULL);
    expect(db, "2001:db8:310::3", 64502, NULL);
    expect(db, "2001:db8:4ff:ffff:ffff:ffff:ffff:ffff", 64503, "RG-LAB-CLOUD, Lab Cloud");
    expect(db, "2001:db8:500::", 0, NULL);
    expect(db, "2001:db8::1", 0, NULL);
}

static void test_lab_data(void **state)
{
    (void)state;
    rg_asdb *db = load_lab();
    const rg_asdb_info *i = rg_asdb_get_info(db);
    assert_int_equal(i->skipped, 0);
    assert_int_equal(i->overlaps, 0);
    assert_int_equal(i->orgs, 4);
    check_lab(db);
    rg_asdb_free(db);
}

static void test_index_round_trip(void **state)
{
    (void)state;
    rg_asdb *db = load_lab();
    char p[256];
    tmp_path("lab.rgidx", p, sizeof p);
    assert_true(rg_asdb_write_index(db, p, err, sizeof err));
    rg_asdb_free(db);
    db = rg_asdb_open_index(p, err, sizeof err);
    assert_non_null(db);
    assert_true(rg_asdb_get_info(db)->from_index);
    assert_int_equal(rg_asdb_get_info(db)->orgs, 4);
    check_lab(db);
    rg_asdb_free(db);
    /* rg_asdb_load recognises an index alone, and refuses it among CSVs. */
    const char *one[1] = {p};
    db = rg_asdb_load(one, 1, err, sizeof err);
    assert_non_null(db);
    check_lab(db);
    rg_asdb_free(db);
    char lab[512];
    snprintf(lab, sizeof lab, "%s/lab/asn.csv", RG_SOURCE_ROOT);
    const char *two[2] = {lab, p};
    assert_null(rg_asdb_load(two, 2, err, sizeof err));
    assert_non_null(strstr(err, "a compiled AS index can only be used alone"));
}

static void expect_refused(const char *path, const void *data, size_t n, const char *why)
{
    write_file(path, data, n);
    rg_asdb *db = rg_asdb_open_index(path, err, sizeof err);
    if (db)
        fail_msg("damaged index accepted (%s)", why);
    if (!strstr(err, why))
        fail_msg("'%s' does not say '%s'", err, why);
}

static void test_index_damage(void **state)
{
    (void)state;
    rg_asdb *db = load_lab();
    char good[256], bad[256];
    tmp_path("good.rgidx", good, sizeof good);
    tmp_path("bad.rgidx", bad, sizeof bad);
    assert_true(rg_asdb_write_index(db, good, err, sizeof err));
    rg_asdb_free(db);
    size_t n;
    uint8_t *img = read_file(good, &n);
    uint8_t *copy = malloc(n + 8);
    assert_non_null(copy);

    expect_refused(bad, img, 0, "size does not match");
    expect_refused(bad, img, 50, "size does not match");
    expect_refused(bad, img, n - 1, "size does not match");
    memcpy(copy, img, n);
    memset(copy + n, 0, 8);
    expect_refused(bad, copy, n + 8, "size does not match");
    memcpy(copy, img, n);
    copy[0] ^= 1;
    expect_refused(bad, copy, n, "not a routegraph AS index");
    memcpy(copy, img, n);
    copy[8] ^= 0x7f; /* version */
    expect_refused(bad, copy, n, "unsupported index version");
    memcpy(copy, img, n);
    copy[12] ^= 0xff; /* byte order */
    expect_refused(bad, copy, n, "byte order");
    memcpy(copy, img, n);
    copy[16] ^= 0x10; /* IPv4 range count */
    expect_refused(bad, copy, n, "size does not match");
    /* Every single body byte flipped is caught (by the checksum). */
    for (size_t off = 96; off < n; off++) {
        memcpy(copy, img, n);
        copy[off] ^= 0x01;
        expect_refused(bad, copy, n, "damaged AS index");
    }
    free(copy);
    free(img);
    assert_null(rg_asdb_open_index(tmpdir, err, sizeof err));
    assert_non_null(strstr(err, "not a regular file"));
}

static void copy_lab_family(const char *dst, bool v6)
{
    char lab[512];
    snprintf(lab, sizeof lab, "%s/lab/asn.csv", RG_SOURCE_ROOT);
    FILE *in = fopen(lab, "r"), *out = fopen(dst, "w");
    assert_non_null(in);
    assert_non_null(out);
    char line[512];
    while (fgets(line, sizeof line, in))
        if (line[0] != '#' && (strchr(line, ':') != NULL) == v6)
            fputs(line, out);
    fclose(in);
    assert_int_equal(fclose(out), 0);
}

static void test_data_dir(void **state)
{
    (void)state;
    char dir[128], p4[256], p6[256], idx[256];
    snprintf(dir, sizeof dir, "%s/data", tmpdir);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(p4, sizeof p4, "%s/%s", dir, RG_ASDB_CSV4_NAME);
    snprintf(p6, sizeof p6, "%s/%s", dir, RG_ASDB_CSV6_NAME);
    snprintf(idx, sizeof idx, "%s/%s", dir, RG_ASDB_INDEX_NAME);

    assert_null(rg_asdb_open_dir(dir, err, sizeof err));
    assert_non_null(strstr(err, "no AS database"));
    assert_false(rg_asdb_compile_dir(dir, NULL, err, sizeof err));

    copy_lab_family(p4, false);
    copy_lab_family(p6, true);
    rg_asdb *db = rg_asdb_open_dir(dir, err, sizeof err);
    assert_non_null(db);
    assert_false(rg_asdb_get_info(db)->from_index);
    assert_string_equal(rg_asdb_get_info(db)->note, "");
    check_lab(db);
    rg_asdb_free(db);

    rg_asdb_info info;
    assert_true(rg_asdb_compile_dir(dir, &info, err, sizeof err));
    assert_int_equal(info.ranges4, 10); /* lab/asn.csv: 7 + the three wide networks */
    assert_int_equal(info.ranges6, 4);
    db = rg_asdb_open_dir(dir, err, sizeof err);
    assert_non_null(db);
    assert_true(rg_asdb_get_info(db)->from_index);
    check_lab(db);
    rg_asdb_free(db);

    /* A changed CSV makes the index stale: parsed again, and said so. */
    FILE *f = fopen(p4, "a");
    assert_non_null(f);
    fputs("203.0.113.0,203.0.113.255,64999,Added Later\n", f);
    fclose(f);
    db = rg_asdb_open_dir(dir, err, sizeof err);
    assert_non_null(db);
    assert_false(rg_asdb_get_info(db)->from_index);
    assert_non_null(strstr(rg_asdb_get_info(db)->note, "older than the CSVs"));
    expect(db, "203.0.113.9", 64999, "Added Later");
    rg_asdb_free(db);

    /* A damaged index is not used either. */
    write_file(idx, "RGASIDX\njunk", 12);
    db = rg_asdb_open_dir(dir, err, sizeof err);
    assert_non_null(db);
    assert_false(rg_asdb_get_info(db)->from_index);
    assert_non_null(strstr(rg_asdb_get_info(db)->note, "damaged AS index"));
    rg_asdb_free(db);

    /* An index without its CSVs is still the data. */
    assert_true(rg_asdb_compile_dir(dir, NULL, err, sizeof err));
    unlink(p4);
    unlink(p6);
    db = rg_asdb_open_dir(dir, err, sizeof err);
    assert_non_null(db);
    assert_true(rg_asdb_get_info(db)->from_index);
    expect(db, "203.0.113.9", 64999, "Added Later");
    rg_asdb_free(db);
    /* ... and when it is damaged, that is the error. */
    write_file(idx, "RGASIDX\njunk", 12);
    assert_null(rg_asdb_open_dir(dir, err, sizeof err));
    assert_non_null(strstr(err, "asn.rgidx: damaged AS index"));
}

static void test_default_dir(void **state)
{
    (void)state;
    char buf[256];
    setenv("RG_DATA_DIR", "/srv/rg", 1);
    assert_string_equal(rg_annotate_asn_dir(buf, sizeof buf), "/srv/rg/asn");
    assert_null(rg_annotate_asn_dir(buf, 5));
    setenv("RG_DATA_DIR", "", 1);
    assert_string_equal(rg_annotate_asn_dir(buf, sizeof buf), RG_DEFAULT_DATA_DIR "/asn");
    unsetenv("RG_DATA_DIR");
    assert_string_equal(rg_annotate_asn_dir(buf, sizeof buf), RG_DEFAULT_DATA_DIR "/asn");
}

/* Registered only when the data is there (cmocka's skip() reads as a
 * failure in TAP); main() says when it is not. */
static void test_real_data(void **state)
{
    (void)state;
    char dir[4096];
    assert_non_null(rg_annotate_asn_dir(dir, sizeof dir));
    rg_asdb *db = rg_asdb_open_dir(dir, err, sizeof err);
    if (!db)
        fail_msg("%s", err);
    const rg_asdb_info *i = rg_asdb_get_info(db);
    print_message("# real AS data in %s: %zu IPv4 + %zu IPv6 ranges%s\n", dir, i->ranges4,
                  i->ranges6, i->from_index ? " (compiled index)" : " (CSV)");
    assert_true(i->ranges4 > 100000);
    assert_true(i->ranges6 > 10000);
    expect(db, "8.8.8.8", 15169, "Google LLC");
    expect(db, "2001:4860:4860::8888", 15169, "Google LLC");
    const char *org;
    assert_int_equal(as_of(db, "1.1.1.1", &org), 13335);
    assert_non_null(org);
    assert_memory_equal(org, "Cloudflare", 10);
    assert_int_equal(as_of(db, "2606:4700:4700::1111", &org), 13335);
    expect(db, "198.18.0.1", 0, NULL); /* benchmarking space: nobody's */
    rg_asdb_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quoted_v4_v6),
        cmocka_unit_test(test_header_line),
        cmocka_unit_test(test_numeric_variant),
        cmocka_unit_test(test_hostile_lines),
        cmocka_unit_test(test_boundaries_v4),
        cmocka_unit_test(test_boundaries_v6),
        cmocka_unit_test(test_overlap_rule),
        cmocka_unit_test(test_interned),
        cmocka_unit_test_setup_teardown(test_file_errors, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_file_chunks, make_tmpdir, remove_tmpdir),
        cmocka_unit_test(test_lab_data),
        cmocka_unit_test_setup_teardown(test_index_round_trip, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_index_damage, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_data_dir, make_tmpdir, remove_tmpdir),
        cmocka_unit_test(test_default_dir),
        cmocka_unit_test(test_real_data),
    };
    size_t n = sizeof tests / sizeof tests[0];
    char dir[4096], p4[4200], p6[4200], idx[4200];
    const char *d = rg_annotate_asn_dir(dir, sizeof dir);
    snprintf(p4, sizeof p4, "%s/" RG_ASDB_CSV4_NAME, d ? d : "");
    snprintf(p6, sizeof p6, "%s/" RG_ASDB_CSV6_NAME, d ? d : "");
    snprintf(idx, sizeof idx, "%s/" RG_ASDB_INDEX_NAME, d ? d : "");
    if (access(p4, R_OK) != 0 && access(p6, R_OK) != 0 && access(idx, R_OK) != 0) {
        printf("# SKIP test_real_data: no real AS data in %s "
               "(scripts/fetch-asn-data.sh installs it)\n", d ? d : "$RG_DATA_DIR");
        n--;
    }
    return _cmocka_run_group_tests("tests", tests, n, NULL, NULL);
}
