/* jsonl_names: where a hop's "ptr" goes, and the worker's promise that every
 * line is written once, in the order it came, whatever the batches, also
 * when the server is not there (the lookups then stop after one batch). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "output/jsonl_names.h"

static void test_ptr_where_the_document_has_it(void **state)
{
    (void)state;
    json_t *hop = json_pack("{s:i, s:s, s:i, s:s, s:s, s:s, s:[]}", "ttl", 2, "responder",
                            "198.18.1.1", "asn", 64500, "as_source", "offline", "country",
                            "ZZ", "country_source", "offline", "probes");
    assert_non_null(hop);
    assert_true(rg_jsonl_names_put_ptr(hop, "r2.lab"));
    char *text = json_dumps(hop, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(text, "{\"ttl\":2,\"responder\":\"198.18.1.1\",\"asn\":64500,"
                              "\"as_source\":\"offline\",\"ptr\":\"r2.lab\",\"country\":\"ZZ\","
                              "\"country_source\":\"offline\",\"probes\":[]}");
    free(text);
    json_decref(hop);
    /* A hop with nothing after the name. */
    hop = json_pack("{s:i}", "ttl", 1);
    assert_true(rg_jsonl_names_put_ptr(hop, "a.lab"));
    text = json_dumps(hop, JSON_COMPACT | JSON_PRESERVE_ORDER);
    assert_string_equal(text, "{\"ttl\":1,\"ptr\":\"a.lab\"}");
    free(text);
    json_decref(hop);
}

typedef struct sink {
    long seen[3000];
    size_t n;
    bool named;
} sink;

static void collect(void *ctx, json_t *line)
{
    sink *s = ctx;
    assert_true(s->n < 3000);
    s->seen[s->n++] = (long)json_integer_value(json_object_get(line, "n"));
    json_t *hop;
    size_t i;
    json_array_foreach(json_object_get(line, "hops"), i, hop)
        s->named |= json_object_get(hop, "ptr") != NULL;
    json_decref(line);
}

static void test_every_line_once_in_order(void **state)
{
    (void)state;
    /* A server outside the lab with lab_only: refused before any packet
     * (the lookups of the first batch fail, and stop there). */
    rg_dns_opts o = {.server = "10.0.0.53", .lab_only = true, .deadline_ms = 300,
                     .timeout_ms = 100, .tries = 1};
    sink *s = calloc(1, sizeof *s);
    assert_non_null(s);
    char err[256];
    rg_jsonl_names *n = rg_jsonl_names_start(&o, collect, s, err, sizeof err);
    assert_non_null(n);
    for (long i = 0; i < 2500; i++) {
        char addr[32];
        snprintf(addr, sizeof addr, "198.18.%ld.%ld", i / 250, i % 250 + 1);
        assert_true(rg_jsonl_names_push(
            n, json_pack("{s:i, s:[{s:i, s:s}]}", "n", i, "hops", "ttl", 1, "responder", addr)));
    }
    rg_names_stats st;
    rg_jsonl_names_finish(n, &st);
    assert_int_equal(s->n, 2500);
    for (size_t i = 0; i < s->n; i++)
        assert_int_equal(s->seen[i], (long)i);
    assert_false(s->named);
    assert_int_equal(st.lines, 2500);
    assert_true(st.batches >= 5); /* at most RG_NAMES_BATCH lines each */
    assert_int_equal(st.named, 0);
    assert_true(st.error[0] != '\0'); /* the first batch got nothing: no more lookups */
    assert_int_equal(st.queries, 0);
    assert_non_null(strstr(st.error, "10.0.0.53 is outside the lab"));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ptr_where_the_document_has_it),
        cmocka_unit_test(test_every_line_once_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
