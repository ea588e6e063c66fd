/* The country database: its CSV (both families, text and numeric forms,
 * range boundaries, bad and hostile lines), its compiled index (round trip,
 * kind, damage), the data directory, the annotation step (an .mmdb's
 * country wins, the installed data skips special-purpose addresses), the
 * lab's own data, and a few long-stable facts of the real data when it is
 * installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "annotate/annotate.h"
#include "annotate/country.h"

#ifndef RG_SOURCE_ROOT
#define RG_SOURCE_ROOT "."
#endif

static char err[512];
static char tmpdir[64];

static int make_tmpdir(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/rg-test-country.XXXXXX");
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

static void write_text(const char *path, const char *text)
{
    write_file(path, text, strlen(text));
}

/* Loads text as the file tmpdir/name; fails the test when it cannot. */
static rg_country_db *from_text(const char *name, const char *text)
{
    char p[128];
    write_file(tmp_path(name, p, sizeof p), text, strlen(text));
    const char *paths[1] = {p};
    rg_country_db *db = rg_country_load(paths, 1, err, sizeof err);
    if (!db)
        fail_msg("load: %s", err);
    return db;
}

/* The code db gives for addr, "" when none. */
static const char *cc_of(const rg_country_db *db, const char *addr)
{
    static char cc[3];
    rg_addr a;
    if (!rg_addr_parse(addr, &a))
        fail_msg("bad test address %s", addr);
    bool found = rg_country_lookup(db, &a, cc);
    assert_true(found == (cc[0] != '\0'));
    return cc;
}

static void test_both_families_and_boundaries(void **state)
{
    (void)state;
    rg_country_db *db = from_text("t.csv",
                                  "ip_range_start,ip_range_end,country_code\n"
                                  "1.0.0.0,1.0.0.255,AU\n"
                                  "1.0.1.0,1.0.3.255,cn\n"
                                  "255.255.255.0,255.255.255.255,ZZ\n"
                                  "2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n"
                                  "::,::ff,AQ\n"
                                  "ffff::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,XK\r\n");
    const rg_asdb_info *i = rg_country_info(db);
    assert_int_equal(i->ranges4, 3);
    assert_int_equal(i->ranges6, 3);
    assert_int_equal(i->skipped, 0);
    assert_int_equal(i->orgs, 0);
    assert_string_equal(cc_of(db, "0.255.255.255"), "");
    assert_string_equal(cc_of(db, "1.0.0.0"), "AU");
    assert_string_equal(cc_of(db, "1.0.0.255"), "AU");
    assert_string_equal(cc_of(db, "1.0.1.0"), "CN"); /* lower case comes out upper */
    assert_string_equal(cc_of(db, "1.0.3.255"), "CN");
    assert_string_equal(cc_of(db, "1.0.4.0"), "");
    assert_string_equal(cc_of(db, "255.255.255.255"), "ZZ");
    assert_string_equal(cc_of(db, "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff"), "");
    assert_string_equal(cc_of(db, "2001:200::"), "JP");
    assert_string_equal(cc_of(db, "2001:200:ffff:ffff:ffff:ffff:ffff:ffff"), "JP");
    assert_string_equal(cc_of(db, "2001:201::"), "");
    assert_string_equal(cc_of(db, "::"), "AQ");
    assert_string_equal(cc_of(db, "::ff"), "AQ");
    assert_string_equal(cc_of(db, "::100"), "");
    assert_string_equal(cc_of(db, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "XK");
    /* An IPv4 address is never answered from IPv6 ranges, nor the reverse. */
    assert_string_equal(cc_of(db, "0.0.0.1"), "");
    rg_country_free(db);
}

static void test_numeric_form(void **state)
{
    (void)state;
    /* The -num files: 1.0.0.0 = 16777216; 2001:200:: = 42540528726795050063891204319802818560. */
    rg_country_db *db = from_text("geo-ipv6-num.csv",
                                  "42540528726795050063891204319802818560,"
                                  "42540528806023212578155541913346768895,JP\n"
                                  "16777216,16777471,AU\n");
    /* With an IPv6 hint from the name, a small number is an IPv6 address. */
    assert_string_equal(cc_of(db, "2001:200::1"), "JP");
    assert_string_equal(cc_of(db, "::100:1"), "AU");
    assert_string_equal(cc_of(db, "1.0.0.1"), "");
    rg_country_free(db);
    db = from_text("geo-num.csv", "16777216,16777471,AU\n");
    assert_string_equal(cc_of(db, "1.0.0.1"), "AU");
    rg_country_free(db);
}

static void test_bad_lines(void **state)
{
    (void)state;
    rg_country_db *db = from_text("bad.csv",
                                  "1.0.0.0,1.0.0.255,AU\n"
                                  "2.0.0.0,2.0.0.255,AUS\n"      /* 3 letters */
                                  "3.0.0.0,3.0.0.255,A\n"        /* 1 letter */
                                  "4.0.0.0,4.0.0.255,\n"         /* empty */
                                  "5.0.0.0,5.0.0.255,1A\n"       /* a digit */
                                  "6.0.0.0,6.0.0.255,NL,extra\n" /* 4 fields */
                                  "7.0.0.255,7.0.0.0,NL\n"       /* reversed */
                                  "8.0.0.0,2001:db8::,NL\n"      /* mixed families */
                                  "9.0.0.0,9.0.0.255,\"N\xc3\x96\"\n" /* not ASCII */
                                  "10.0.0.0,10.0.0.255\n"        /* 2 fields */
                                  "# comment\n\n"
                                  "11.0.0.0,11.0.0.255,\"de\"\n"); /* quoted: fine */
    const rg_asdb_info *i = rg_country_info(db);
    assert_int_equal(i->records, 2);
    assert_int_equal(i->skipped, 9);
    assert_non_null(strstr(i->first_skip, "bad.csv:2: country code is not two letters"));
    assert_string_equal(cc_of(db, "1.0.0.1"), "AU");
    assert_string_equal(cc_of(db, "11.0.0.1"), "DE");
    for (int k = 2; k <= 10; k++) {
        char a[16];
        snprintf(a, sizeof a, "%d.0.0.1", k);
        assert_string_equal(cc_of(db, a), "");
    }
    rg_country_free(db);
}

/* Hostile files: bounded lines, NUL bytes, binary junk, nothing valid. */
static void test_hostile_files(void **state)
{
    (void)state;
    size_t n = 3 * 4096;
    char *big = malloc(n + 64);
    assert_non_null(big);
    memset(big, 'A', n);
    memcpy(big, "1.0.0.0,1.0.0.255,", 18); /* a line far over 4096 bytes */
    memcpy(big + n, "\n2.0.0.0,2.0.0.255,NL\n", 23);
    char p[128];
    write_file(tmp_path("long.csv", p, sizeof p), big, n + 22);
    free(big);
    const char *paths[1] = {p};
    rg_country_db *db = rg_country_load(paths, 1, err, sizeof err);
    assert_non_null(db);
    assert_int_equal(rg_country_info(db)->skipped, 1);
    assert_non_null(strstr(rg_country_info(db)->first_skip, "longer than 4096 bytes"));
    assert_string_equal(cc_of(db, "2.0.0.1"), "NL");
    assert_string_equal(cc_of(db, "1.0.0.1"), "");
    rg_country_free(db);

    static const char nul[] = "3.0.0.0,3.0.0.255,N\0L\n4.0.0.0,4.0.0.255,SE\n";
    write_file(tmp_path("nul.csv", p, sizeof p), nul, sizeof nul - 1);
    db = rg_country_load(paths, 1, err, sizeof err);
    assert_non_null(db);
    assert_int_equal(rg_country_info(db)->skipped, 1);
    assert_string_equal(cc_of(db, "3.0.0.1"), "");
    assert_string_equal(cc_of(db, "4.0.0.1"), "SE");
    rg_country_free(db);

    unsigned char junk[4096];
    for (size_t k = 0; k < sizeof junk; k++)
        junk[k] = (unsigned char)(k * 131 + 7);
    write_file(tmp_path("junk.csv", p, sizeof p), junk, sizeof junk);
    assert_null(rg_country_load(paths, 1, err, sizeof err));
    assert_non_null(strstr(err, "junk.csv: no valid address range"));

    /* An AS file is not a country file. */
    write_text(tmp_path("asn.csv", p, sizeof p), "1.0.0.0,1.0.0.255,13335,Cloudflare\n");
    assert_null(rg_country_load(paths, 1, err, sizeof err));
    assert_non_null(strstr(err, "asn.csv: no valid address range"));
}

static void test_index_round_trip_and_kind(void **state)
{
    (void)state;
    char dir[128], p[256];
    snprintf(dir, sizeof dir, "%s", tmpdir);
    write_text(tmp_path(RG_COUNTRY_CSV4_NAME, p, sizeof p), "1.0.0.0,1.0.0.255,AU\n");
    write_text(tmp_path(RG_COUNTRY_CSV6_NAME, p, sizeof p),
               "2001:200::,2001:200:ffff:ffff:ffff:ffff:ffff:ffff,JP\n");
    rg_country_db *db = rg_country_open_dir(dir, err, sizeof err);
    assert_non_null(db);
    assert_false(rg_country_info(db)->from_index);
    rg_country_free(db);

    rg_asdb_info info;
    assert_true(rg_country_compile_dir(dir, &info, err, sizeof err));
    assert_int_equal(info.ranges4 + info.ranges6, 2);
    db = rg_country_open_dir(dir, err, sizeof err);
    assert_non_null(db);
    assert_true(rg_country_info(db)->from_index);
    assert_string_equal(cc_of(db, "1.0.0.128"), "AU");
    assert_string_equal(cc_of(db, "2001:200::5"), "JP");
    assert_string_equal(cc_of(db, "1.0.1.0"), "");
    rg_country_free(db);

    /* Named directly, the index is mapped too. */
    const char *paths[1] = {tmp_path(RG_COUNTRY_INDEX_NAME, p, sizeof p)};
    db = rg_country_load(paths, 1, err, sizeof err);
    assert_non_null(db);
    assert_string_equal(cc_of(db, "1.0.0.0"), "AU");
    rg_country_free(db);

    /* One kind's index is refused as the other. */
    assert_null(rg_asdb_load(paths, 1, err, sizeof err));
    assert_non_null(strstr(err, "a country index, not an AS index"));
    char asdir[256], csv[300];
    snprintf(asdir, sizeof asdir, "%s/as", tmpdir);
    assert_int_equal(mkdir(asdir, 0700), 0);
    snprintf(csv, sizeof csv, "%s/" RG_ASDB_CSV4_NAME, asdir);
    write_text(csv, "1.0.0.0,1.0.0.255,13335,Cloudflare\n");
    assert_true(rg_asdb_compile_dir(asdir, NULL, err, sizeof err));
    snprintf(csv, sizeof csv, "%s/" RG_ASDB_INDEX_NAME, asdir);
    paths[0] = csv;
    assert_null(rg_country_load(paths, 1, err, sizeof err));
    assert_non_null(strstr(err, "damaged country index: an AS index, not a country index"));

    /* A damaged index is refused, never trusted. */
    paths[0] = tmp_path(RG_COUNTRY_INDEX_NAME, p, sizeof p);
    FILE *f = fopen(p, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, -3, SEEK_END), 0);
    assert_int_equal(fputc('Q', f), 'Q');
    assert_int_equal(fclose(f), 0);
    assert_null(rg_country_load(paths, 1, err, sizeof err));
    assert_non_null(strstr(err, "damaged country index"));
    /* ... and the directory falls back on the CSVs, saying why. */
    db = rg_country_open_dir(dir, err, sizeof err);
    assert_non_null(db);
    assert_false(rg_country_info(db)->from_index);
    assert_non_null(strstr(rg_country_info(db)->note, "damaged country index"));
    rg_country_free(db);
}

static void test_empty_dir(void **state)
{
    (void)state;
    assert_null(rg_country_open_dir(tmpdir, err, sizeof err));
    assert_non_null(strstr(err, "no country database (no " RG_COUNTRY_CSV4_NAME));
    assert_non_null(strstr(err, "--country-db FILE"));
}

static void host_at(rg_run *run, size_t i, const char *addr, const char *cc, uint8_t src)
{
    assert_true(rg_addr_parse(addr, &run->hosts[i].addr));
    snprintf(run->hosts[i].country, 3, "%s", cc);
    run->hosts[i].geo_source = src;
}

static void test_annotate_precedence(void **state)
{
    (void)state;
    rg_country_db *db = from_text("p.csv", "1.0.0.0,1.0.0.255,AU\n198.18.0.0,198.19.255.255,NL\n"
                                           "2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,JP\n");
    rg_run run = {0};
    run.hosts = calloc(4, sizeof *run.hosts);
    assert_non_null(run.hosts);
    run.nhosts = 4;
    host_at(&run, 0, "1.0.0.1", "US", RG_AS_MMDB); /* an .mmdb's country stays */
    host_at(&run, 1, "1.0.0.2", "", RG_AS_NONE);
    host_at(&run, 2, "198.18.0.1", "", RG_AS_NONE);
    host_at(&run, 3, "2001:db8::1", "", RG_AS_NONE);
    rg_annotate_stats st = {0};
    rg_annotate_countries(&run, db, true, &st); /* as for the installed data */
    assert_int_equal(st.country_db, 1);
    assert_string_equal(run.hosts[0].country, "US");
    assert_int_equal(run.hosts[0].geo_source, RG_AS_MMDB);
    assert_string_equal(run.hosts[1].country, "AU");
    assert_int_equal(run.hosts[1].geo_source, RG_AS_CSV);
    assert_string_equal(run.hosts[2].country, ""); /* benchmarking range: no country */
    assert_string_equal(run.hosts[3].country, ""); /* documentation range */
    rg_annotate_countries(&run, db, false, &st); /* a named file: taken as it is */
    assert_int_equal(st.country_db, 3);
    assert_string_equal(run.hosts[2].country, "NL");
    assert_string_equal(run.hosts[3].country, "JP");
    rg_annotate_countries(&run, NULL, false, NULL);
    rg_run_free(&run);
    rg_country_free(db);
}

static void test_special_addresses(void **state)
{
    (void)state;
    static const char *const special[] = {
        "0.1.2.3", "10.0.0.1", "100.64.0.1", "127.0.0.1", "169.254.1.1", "172.31.255.255",
        "192.0.0.8", "192.0.2.1", "192.168.1.1", "198.18.0.1", "198.19.255.255",
        "198.51.100.7", "203.0.113.9", "224.0.0.1", "255.255.255.255", "::", "::1",
        "fc00::1", "fdff::1", "fe80::1", "febf::1", "2001:db8::1", "3fff::1", "ff02::1"};
    static const char *const public[] = {"1.1.1.1", "8.8.8.8", "100.63.255.255",
                                         "100.128.0.0", "172.32.0.0", "198.17.255.255",
                                         "198.20.0.0", "223.255.255.255", "::2",
                                         "2001:db9::1", "2a00::1", "fec0::1"};
    rg_addr a;
    for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) {
        assert_true(rg_addr_parse(special[i], &a));
        if (!rg_addr_is_special(&a))
            fail_msg("%s should be special", special[i]);
    }
    for (size_t i = 0; i < sizeof public / sizeof public[0]; i++) {
        assert_true(rg_addr_parse(public[i], &a));
        if (rg_addr_is_special(&a))
            fail_msg("%s should be public", public[i]);
    }
}

/* lab/country.csv: the lab's AS blocks, one country each, as
 * lab/topology.json says (ases[].country). */
static void test_lab_data(void **state)
{
    (void)state;
    const char *paths[1] = {RG_SOURCE_ROOT "/lab/country.csv"};
    rg_country_db *db = rg_country_load(paths, 1, err, sizeof err);
    if (!db)
        fail_msg("%s", err);
    assert_int_equal(rg_country_info(db)->skipped, 0);
    assert_string_equal(cc_of(db, "198.18.0.1"), "NL");
    assert_string_equal(cc_of(db, "198.18.16.2"), "DE");
    assert_string_equal(cc_of(db, "198.18.32.2"), "US");
    assert_string_equal(cc_of(db, "198.18.48.2"), "JP");
    assert_string_equal(cc_of(db, "198.19.0.5"), "US");
    assert_string_equal(cc_of(db, "198.19.16.1"), "JP");
    assert_string_equal(cc_of(db, "198.19.32.66"), "NL");
    assert_string_equal(cc_of(db, "2001:db8:100::1"), "NL");
    assert_string_equal(cc_of(db, "2001:db8:2ff:ffff:ffff:ffff:ffff:ffff"), "DE");
    assert_string_equal(cc_of(db, "2001:db8:310::5"), "US");
    assert_string_equal(cc_of(db, "2001:db8:400::2"), "JP");
    assert_string_equal(cc_of(db, "198.18.64.1"), "");
    rg_country_free(db);
}

/* Long-stable facts of the installed data: registries' own blocks. */
static void test_real_data(void **state)
{
    (void)state;
    rg_country_db *db = rg_annotate_open_default_country(err, sizeof err);
    if (!db)
        fail_msg("%s", err);
    assert_true(rg_country_info(db)->ranges4 > 100000);
    assert_true(rg_country_info(db)->ranges6 > 50000);
    assert_string_equal(cc_of(db, "193.0.6.139"), "NL");   /* RIPE NCC, Amsterdam */
    assert_string_equal(cc_of(db, "202.12.27.33"), "JP");  /* WIDE, M-root */
    assert_string_equal(cc_of(db, "2001:67c:2e8:22::c100:68b"), "NL"); /* RIPE NCC */
    assert_string_equal(cc_of(db, "8.8.8.8"), "US");
    rg_country_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_both_families_and_boundaries, make_tmpdir,
                                        remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_numeric_form, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_bad_lines, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_hostile_files, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_index_round_trip_and_kind, make_tmpdir,
                                        remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_empty_dir, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_annotate_precedence, make_tmpdir, remove_tmpdir),
        cmocka_unit_test(test_special_addresses),
        cmocka_unit_test(test_lab_data),
        cmocka_unit_test(test_real_data),
    };
    size_t n = sizeof tests / sizeof tests[0];
    char dir[4096], p4[4200], idx[4200];
    const char *d = rg_annotate_country_dir(dir, sizeof dir);
    snprintf(p4, sizeof p4, "%s/" RG_COUNTRY_CSV4_NAME, d ? d : "");
    snprintf(idx, sizeof idx, "%s/" RG_COUNTRY_INDEX_NAME, d ? d : "");
    if (access(p4, R_OK) != 0 && access(idx, R_OK) != 0) {
        printf("# SKIP test_real_data: no real country data in %s "
               "(scripts/fetch-asn-data.sh installs it)\n", d ? d : "$RG_DATA_DIR");
        n--;
    }
    return _cmocka_run_group_tests("tests", tests, n, NULL, NULL);
}
