/* routegraph lookup's writers: the exact text line per address (order as
 * given, unknowns, hostile names escaped, credits) and the JSON document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annotate/annotate.h"
#include "output/lookup.h"

static rg_addr addrs[4];

static void make_run(rg_run *run)
{
    static const char *const text[4] = {"2001:db8:200::2", "198.18.16.2", "192.0.2.9",
                                        "198.18.0.1"};
    for (int i = 0; i < 4; i++)
        assert_true(rg_addr_parse(text[i], &addrs[i]));
    memset(run, 0, sizeof *run);
    assert_true(rg_run_set_hosts(run, addrs, 4));
    assert_int_equal(run->nhosts, 4);
    rg_host *h = rg_run_host(run, &addrs[1]);
    h->asn = 64501;
    h->as_source = RG_AS_CSV;
    assert_true(rg_host_set(&h->as_org, "RG-LAB-TRANSIT Lab Transit Backbone"));
    assert_true(rg_host_set(&h->ptr, "r3a-to-r2.lab"));
    memcpy(h->country, "DE", 3);
    h->geo_source = RG_AS_CSV;
    h = rg_run_host(run, &addrs[0]);
    memcpy(h->country, "DE", 3);
    h->geo_source = RG_AS_MMDB;
    assert_true(rg_host_set(&h->city, "K\xc3\xb6ln"));
    h = rg_run_host(run, &addrs[3]);
    h->asn = 64500;
    h->as_source = RG_AS_CYMRU;
    assert_true(rg_host_set(&h->as_org, "Evil\x1b[31m Org"));
    assert_true(rg_host_set(&h->ptr, "a\nb.lab"));
}

static char *capture(bool json, const rg_run *run, const rg_lookup_error *e, size_t ne)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_true(json ? rg_lookup_write_json(f, run, addrs, 4, e, ne)
                     : rg_lookup_write_text(f, run, addrs, 4));
    fclose(f);
    return buf;
}

static void test_text(void **state)
{
    (void)state;
    rg_run run;
    make_run(&run);
    char *out = capture(false, &run, NULL, 0);
    assert_string_equal(out, "2001:db8:200::2  -  AS???; K\\xc3\\xb6ln, DE\n"
                             "198.18.16.2  r3a-to-r2.lab  AS64501 RG-LAB-TRANSIT Lab Transit "
                             "Backbone; DE\n"
                             "192.0.2.9  -  AS???\n"
                             "198.18.0.1  a\\x0ab.lab  AS64500 Evil\\x1b[31m Org\n");
    free(out);
    run.as_credit = RG_ANNOTATE_ASN_CREDIT;
    run.country_credit = RG_COUNTRY_CREDIT;
    out = capture(false, &run, NULL, 0);
    assert_non_null(strstr(out, "Org\n\n" RG_ANNOTATE_ASN_CREDIT "\n" RG_COUNTRY_CREDIT "\n"));
    free(out);
    run.as_credit = NULL;
    out = capture(false, &run, NULL, 0);
    assert_non_null(strstr(out, "Org\n\n" RG_COUNTRY_CREDIT "\n"));
    free(out);
    rg_run_free(&run);
}

static void test_json(void **state)
{
    (void)state;
    rg_run run;
    make_run(&run);
    run.country_credit = RG_COUNTRY_CREDIT;
    rg_lookup_error e[2] = {{"nonsense", "not an IPv4 or IPv6 address"},
                            {"bad\xff", "not an IPv4 or IPv6 address"}};
    char *out = capture(true, &run, e, 2);
    json_error_t je;
    json_t *doc = json_loads(out, 0, &je);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "schema")), RG_LOOKUP_SCHEMA);
    json_t *list = json_object_get(doc, "addresses");
    assert_int_equal(json_array_size(list), 4);
    json_t *a = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(a, "address")), "2001:db8:200::2");
    assert_string_equal(json_string_value(json_object_get(a, "country")), "DE");
    assert_string_equal(json_string_value(json_object_get(a, "country_source")), "mmdb");
    assert_string_equal(json_string_value(json_object_get(a, "city")), "K\xc3\xb6ln");
    assert_null(json_object_get(a, "asn"));
    a = json_array_get(list, 1);
    assert_int_equal(json_integer_value(json_object_get(a, "asn")), 64501);
    assert_string_equal(json_string_value(json_object_get(a, "as_source")), "offline");
    assert_string_equal(json_string_value(json_object_get(a, "ptr")), "r3a-to-r2.lab");
    assert_string_equal(json_string_value(json_object_get(a, "country_source")), "offline");
    a = json_array_get(list, 2);
    assert_int_equal(json_object_size(a), 1); /* only the address: nothing known */
    a = json_array_get(list, 3);
    assert_string_equal(json_string_value(json_object_get(a, "as_org")), "Evil\x1b[31m Org");
    json_t *errs = json_object_get(doc, "errors");
    assert_int_equal(json_array_size(errs), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 0), "input")),
                        "nonsense");
    assert_string_equal(json_string_value(json_object_get(json_array_get(errs, 1), "input")),
                        "bad\xef\xbf\xbd");
    json_t *credits = json_object_get(doc, "credits");
    assert_int_equal(json_array_size(credits), 1);
    assert_string_equal(json_string_value(json_array_get(credits, 0)), RG_COUNTRY_CREDIT);
    json_decref(doc);
    free(out);
    rg_run_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text),
        cmocka_unit_test(test_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
