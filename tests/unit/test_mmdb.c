/* MaxMind-format databases through libmaxminddb, on the small files that
 * tests/data/make-test-mmdb.pl writes: AS and City fields, hostile values,
 * missing/foreign/truncated/corrupted files; and the annotation stage that
 * layers .mmdb answers over the CSV database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "annotate/annotate.h"
#include "annotate/mmdb.h"
#include "model/result.h"

#ifndef RG_SOURCE_ROOT
#define RG_SOURCE_ROOT "."
#endif

static char err[512];

static const char *data_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/tests/data/%s", RG_SOURCE_ROOT, name);
    return buf[k];
}

static rg_mmdb_set *open_set(const char *const *names, size_t n)
{
    rg_mmdb_set *set = rg_mmdb_set_new();
    assert_non_null(set);
    for (size_t i = 0; i < n; i++)
        if (!rg_mmdb_set_add(set, data_path(names[i]), err, sizeof err))
            fail_msg("%s", err);
    return set;
}

static rg_mmdb_answer ask(const rg_mmdb_set *set, const char *text, bool found)
{
    rg_addr a;
    assert_true(rg_addr_parse(text, &a));
    rg_mmdb_answer ans;
    if (rg_mmdb_lookup(set, &a, &ans) != found)
        fail_msg("%s: expected %s", text, found ? "an answer" : "none");
    return ans;
}

static void test_asn_fields(void **state)
{
    (void)state;
    const char *names[] = {"test-asn.mmdb"};
    rg_mmdb_set *set = open_set(names, 1);
    assert_int_equal(rg_mmdb_set_count(set), 1);
    assert_string_equal(rg_mmdb_set_type(set, 0), "RG-Test-ASN");
    assert_string_equal(rg_mmdb_set_type(set, 1), "");

    rg_mmdb_answer a = ask(set, "198.18.0.5", true);
    assert_int_equal(a.asn, 64510);
    assert_string_equal(a.as_org, "MMDB Test Access, Inc.");
    assert_string_equal(a.country, "");
    assert_string_equal(a.city, "");
    assert_int_equal(a.errors, 0);

    a = ask(set, "2001:db8:1ff:ffff:ffff:ffff:ffff:ffff", true);
    assert_int_equal(a.asn, 64511);
    assert_string_equal(a.as_org, "MMDB Test Six \xc3\xa9");

    /* A control character in the name: the number stays, the name goes. */
    a = ask(set, "198.51.100.1", true);
    assert_int_equal(a.asn, 64512);
    assert_string_equal(a.as_org, "");

    ask(set, "198.18.16.0", false);
    ask(set, "2001:db8:200::", false);
    rg_addr none = {0};
    rg_mmdb_answer z;
    assert_false(rg_mmdb_lookup(set, &none, &z));
    rg_mmdb_set_free(set);
}

static void test_wrong_types(void **state)
{
    (void)state;
    const char *names[] = {"test-asn-text.mmdb"};
    rg_mmdb_set *set = open_set(names, 1);
    /* The record exists, but an AS number stored as text is no AS number,
     * and a name without its number is not used. */
    rg_mmdb_answer a = ask(set, "203.0.113.7", false);
    assert_int_equal(a.asn, 0);
    assert_string_equal(a.as_org, "");
    assert_int_equal(a.errors, 0);
    rg_mmdb_set_free(set);
}

static void test_city_fields(void **state)
{
    (void)state;
    const char *names[] = {"test-city.mmdb"};
    rg_mmdb_set *set = open_set(names, 1);
    rg_mmdb_answer a = ask(set, "198.18.0.5", true);
    assert_string_equal(a.country, "DE");
    assert_string_equal(a.city, "Berlin");
    assert_int_equal(a.asn, 0);
    a = ask(set, "2001:db8:100::5", true);
    assert_string_equal(a.country, "JP"); /* stored as "jp" */
    assert_string_equal(a.city, "Tokyo");
    a = ask(set, "198.18.17.1", true);
    assert_string_equal(a.country, "NL"); /* registered_country only */
    assert_string_equal(a.city, "");
    ask(set, "192.0.2.1", false); /* "X1" is no country code */
    rg_mmdb_set_free(set);
}

static void test_order_and_ipv4_only(void **state)
{
    (void)state;
    const char *names[] = {"test-asn-v4.mmdb", "test-city.mmdb", "test-asn.mmdb"};
    rg_mmdb_set *set = open_set(names, 3);
    rg_mmdb_answer a = ask(set, "198.18.0.5", true);
    assert_int_equal(a.asn, 64510);
    assert_string_equal(a.country, "DE");
    a = ask(set, "198.19.1.1", true);
    assert_int_equal(a.asn, 64514);
    assert_string_equal(a.as_org, "Four Only");
    /* IPv6 in an IPv4-only file is unknown there, not an error. */
    a = ask(set, "2001:db8:100::1", true);
    assert_int_equal(a.asn, 64511);
    assert_int_equal(a.errors, 0);
    rg_mmdb_set_free(set);
    assert_false(rg_mmdb_lookup(NULL, NULL, &a));
    assert_int_equal(rg_mmdb_set_count(NULL), 0);
}

static void expect_open_error(const char *path, const char *why)
{
    rg_mmdb_set *set = rg_mmdb_set_new();
    assert_non_null(set);
    if (rg_mmdb_set_add(set, path, err, sizeof err))
        fail_msg("%s opened", path);
    assert_int_equal(rg_mmdb_set_count(set), 0);
    if (strncmp(err, path, strlen(path)) != 0 || !strstr(err, why))
        fail_msg("'%s' does not name %s or say '%s'", err, path, why);
    assert_null(strchr(err, '\n'));
    rg_mmdb_set_free(set);
}

static void *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t buf[1 << 16];
    *n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(*n > 0 && *n < sizeof buf);
    void *p = malloc(*n);
    assert_non_null(p);
    memcpy(p, buf, *n);
    return p;
}

static void spill(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

static void test_bad_files(void **state)
{
    (void)state;
    expect_open_error("/nonexistent/GeoLite2-ASN.mmdb", "No such file or directory");
    char lab[512];
    snprintf(lab, sizeof lab, "%s/lab/asn.csv", RG_SOURCE_ROOT);
    expect_open_error(lab, "invalid metadata");

    char tmp[] = "/tmp/rg-test-mmdb.XXXXXX";
    int fd = mkstemp(tmp);
    assert_true(fd >= 0);
    close(fd);
    size_t n;
    uint8_t *img = slurp(data_path("test-asn.mmdb"), &n);
    /* Truncated anywhere: refused with one line. */
    size_t cuts[] = {0, 1, 16, n / 2, n - 40, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        spill(tmp, img, cuts[i]);
        expect_open_error(tmp, "");
    }

    /* Each byte of the file damaged in turn: opening refuses it, or lookups
     * report errors or answer; nothing crashes (the ASan build checks). */
    uint8_t *copy = malloc(n);
    assert_non_null(copy);
    const char *probe[] = {"198.18.0.5", "2001:db8:100::1", "198.51.100.1", "10.0.0.1"};
    size_t refused = 0, errors = 0, opened = 0;
    for (size_t off = 0; off < n; off++) {
        memcpy(copy, img, n);
        copy[off] ^= 0xa5;
        spill(tmp, copy, n);
        rg_mmdb_set *set = rg_mmdb_set_new();
        if (!rg_mmdb_set_add(set, tmp, err, sizeof err)) {
            refused++;
            assert_non_null(strstr(err, tmp));
            rg_mmdb_set_free(set);
            continue;
        }
        opened++;
        for (size_t k = 0; k < sizeof probe / sizeof probe[0]; k++) {
            rg_addr a;
            rg_mmdb_answer ans;
            assert_true(rg_addr_parse(probe[k], &a));
            rg_mmdb_lookup(set, &a, &ans);
            errors += ans.errors;
            assert_true(strlen(ans.as_org) < sizeof ans.as_org);
            assert_true(strlen(ans.country) == 0 || strlen(ans.country) == 2);
        }
        rg_mmdb_set_free(set);
    }
    print_message("# %zu single-byte corruptions: %zu refused at open, %zu opened "
                  "(%zu lookup errors caught)\n", n, refused, opened, errors);
    assert_true(refused > 0);
    assert_true(errors > 0);
    free(copy);
    free(img);
    unlink(tmp);

    rg_mmdb_set *set = rg_mmdb_set_new();
    for (int i = 0; i < RG_MMDB_MAX_FILES; i++)
        assert_true(rg_mmdb_set_add(set, data_path("test-asn.mmdb"), err, sizeof err));
    assert_false(rg_mmdb_set_add(set, data_path("test-asn.mmdb"), err, sizeof err));
    assert_non_null(strstr(err, "too many .mmdb files"));
    rg_mmdb_set_free(set);
}

/* A run with one trace: destination dst, responders at TTL 1.. as given. */
static void make_run(rg_run *run, const char *dst, const char *const *hops, size_t nhops)
{
    memset(run, 0, sizeof *run);
    run->traces = calloc(1, sizeof *run->traces);
    assert_non_null(run->traces);
    run->ntraces = 1;
    rg_addr d;
    assert_true(rg_addr_parse(dst, &d));
    assert_true(rg_trace_init(&run->traces[0], dst, &d, 443, 1, 8, 1));
    for (size_t i = 0; i < nhops; i++) {
        rg_probe *p = rg_trace_probe(&run->traces[0], (unsigned)i + 1, 0);
        assert_non_null(p);
        p->kind = RG_REPLY_TIME_EXCEEDED;
        assert_true(rg_addr_parse(hops[i], &p->from));
    }
}

static const rg_host *host(const rg_run *run, const char *text)
{
    rg_addr a;
    assert_true(rg_addr_parse(text, &a));
    const rg_host *h = rg_run_host(run, &a);
    if (!h)
        fail_msg("no host %s", text);
    return h;
}

static void test_annotate(void **state)
{
    (void)state;
    char lab[512];
    snprintf(lab, sizeof lab, "%s/lab/asn.csv", RG_SOURCE_ROOT);
    const char *paths[] = {lab};
    rg_asdb *db = rg_asdb_load(paths, 1, err, sizeof err);
    assert_non_null(db);
    const char *names[] = {"test-asn.mmdb", "test-city.mmdb"};
    rg_mmdb_set *set = open_set(names, 2);

    rg_run run;
    const char *hops[] = {"198.18.0.1", "198.18.17.2", "203.0.113.50"};
    make_run(&run, "198.19.17.5", hops, 3);
    rg_annotate_stats st;
    assert_true(rg_annotate_offline(&run, db, set, &st, err, sizeof err));
    assert_int_equal(run.nhosts, 4);
    assert_int_equal(st.hosts, 4);
    assert_int_equal(st.as_mmdb, 1);
    assert_int_equal(st.as_csv, 2);
    assert_int_equal(st.geo, 2);

    /* The .mmdb answers first where it knows the address ... */
    const rg_host *h = host(&run, "198.18.0.1");
    assert_int_equal(h->asn, 64510);
    assert_string_equal(h->as_org, "MMDB Test Access, Inc.");
    assert_int_equal(h->as_source, RG_AS_MMDB);
    assert_string_equal(h->country, "DE");
    assert_string_equal(h->city, "Berlin");
    assert_int_equal(h->geo_source, RG_AS_MMDB);
    /* ... the CSV for the rest. */
    h = host(&run, "198.18.17.2");
    assert_int_equal(h->asn, 64501);
    assert_string_equal(h->as_org, "RG-LAB-TRANSIT Lab Transit Backbone");
    assert_int_equal(h->as_source, RG_AS_CSV);
    assert_string_equal(h->country, "NL");
    assert_null(h->city);
    h = host(&run, "198.19.17.5");
    assert_int_equal(h->asn, 64503);
    assert_string_equal(h->as_org, "RG-LAB-CLOUD, Lab Cloud");
    h = host(&run, "203.0.113.50");
    assert_int_equal(h->asn, 0);
    assert_int_equal(h->as_source, RG_AS_NONE);
    assert_null(h->as_org);
    assert_string_equal(h->country, "");
    assert_int_equal(h->geo_source, RG_AS_NONE);

    /* Known fields are kept: a second pass with other sources changes nothing. */
    assert_true(rg_annotate_offline(&run, db, NULL, &st, err, sizeof err));
    assert_int_equal(st.as_csv, 0);
    assert_int_equal(host(&run, "198.18.0.1")->asn, 64510);
    rg_run_free(&run);

    /* IPv6, CSV only, NULL stats. */
    const char *hops6[] = {"2001:db8:100::1", "2001:db8:202::2"};
    make_run(&run, "2001:db8:410::9", hops6, 2);
    assert_true(rg_annotate_offline(&run, db, NULL, NULL, err, sizeof err));
    assert_int_equal(host(&run, "2001:db8:100::1")->asn, 64500);
    assert_int_equal(host(&run, "2001:db8:202::2")->asn, 64501);
    assert_int_equal(host(&run, "2001:db8:410::9")->asn, 64503);
    rg_run_free(&run);

    /* No sources at all: hosts collected, nothing known. */
    make_run(&run, "198.19.0.1", hops, 1);
    assert_true(rg_annotate_offline(&run, NULL, NULL, NULL, err, sizeof err));
    assert_int_equal(run.nhosts, 2);
    assert_int_equal(host(&run, "198.19.0.1")->asn, 0);
    rg_run_free(&run);

    rg_mmdb_set_free(set);
    rg_asdb_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_asn_fields),
        cmocka_unit_test(test_wrong_types),
        cmocka_unit_test(test_city_fields),
        cmocka_unit_test(test_order_and_ipv4_only),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_annotate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
