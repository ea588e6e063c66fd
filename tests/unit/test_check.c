/* --check: rules parsed strictly; one status line with performance data;
 * the exit status the worst finding's level. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "model/result.h"
#include "watch/check.h"

static void add(rg_run *run, const char *dst, uint16_t port, enum rg_port_state state,
                unsigned reached)
{
    rg_addr a;
    assert_true(rg_addr_parse(dst, &a));
    rg_trace *ts = realloc(run->traces, (run->ntraces + 1) * sizeof *ts);
    assert_non_null(ts);
    run->traces = ts;
    rg_trace *t = &ts[run->ntraces++];
    assert_true(rg_trace_init(t, dst, &a, port, 1, 4, 1));
    t->state = state;
    t->reached_ttl = reached;
}

static char *report(const rg_check_rules *r, const rg_run *run, json_t *changes, int *status)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    *status = rg_check_report(f, r, run, changes);
    fclose(f);
    return buf;
}

static void test_parse(void **state)
{
    (void)state;
    rg_check_rules r;
    char err[256];
    assert_true(rg_check_parse(NULL, &r, err, sizeof err));
    assert_int_equal(r.level[RG_CHECK_NOT_OPEN], RG_CHECK_CRIT);
    assert_int_equal(r.level[RG_CHECK_PATH], RG_CHECK_WARN);
    assert_true(rg_check_parse("not-open:warn,as-path:ok", &r, err, sizeof err));
    assert_int_equal(r.level[RG_CHECK_NOT_OPEN], RG_CHECK_WARN);
    assert_int_equal(r.level[RG_CHECK_AS_PATH], RG_CHECK_OK);
    assert_int_equal(r.level[RG_CHECK_UNREACHED], RG_CHECK_CRIT);
    const char *bad[] = {"open:crit", "not-open", "not-open:fatal", "not-open:warn,,"};
    for (size_t i = 0; i < 3; i++)
        assert_false(rg_check_parse(bad[i], &r, err, sizeof err));
    assert_true(rg_check_parse("not-open:warn,", &r, err, sizeof err));
    assert_false(rg_check_parse("path:crit,x:ok", &r, err, sizeof err));
    assert_string_equal(err, "--check: 'x:ok' is not KIND:LEVEL (KIND not-open, unreached, "
                             "path or as-path; LEVEL ok, warn or crit)");
}

static void test_levels(void **state)
{
    (void)state;
    rg_run run = {0};
    rg_check_rules r;
    char err[128];
    int status;
    add(&run, "198.19.0.5", 80, RG_PORT_OPEN, 6);
    add(&run, "198.19.16.5", 443, RG_PORT_FILTERED, 0);
    run.stats.probes_sent = 42;
    assert_true(rg_check_parse(NULL, &r, err, sizeof err));
    char *line = report(&r, &run, NULL, &status);
    assert_int_equal(status, RG_CHECK_CRIT);
    assert_string_equal(line, "ROUTEGRAPH CRITICAL - 2 services: 1 not open (198.19.16.5:443 "
                              "filtered), 1 not reached | services=2 open=1;;;0;2 "
                              "reached=1;;;0;2 probes=42\n");
    free(line);
    assert_true(rg_check_parse("not-open:warn,unreached:ok", &r, err, sizeof err));
    free(report(&r, &run, NULL, &status));
    assert_int_equal(status, RG_CHECK_WARN);

    /* Against a baseline: a path change is a warning by default. */
    json_t *ev = json_pack("[{s:s}]", "change", "new-branch");
    assert_true(rg_check_parse("not-open:ok,unreached:ok", &r, err, sizeof err));
    line = report(&r, &run, ev, &status);
    assert_int_equal(status, RG_CHECK_WARN);
    assert_non_null(strstr(line, ", 1 path and 0 AS-path changes against the baseline | "));
    assert_non_null(strstr(line, " path_changes=1 as_path_changes=0 probes=42\n"));
    free(line);
    json_array_append_new(ev, json_pack("{s:s}", "change", "as-path"));
    free(report(&r, &run, ev, &status));
    assert_int_equal(status, RG_CHECK_CRIT);
    json_decref(ev);
    rg_run_free(&run);

    rg_run empty = {0};
    assert_true(rg_check_parse(NULL, &r, err, sizeof err));
    free(report(&r, &empty, NULL, &status));
    assert_int_equal(status, RG_CHECK_UNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_levels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
