/* Outputs are checked before the first probe: every file -o would write
 * can be made, and nothing is left behind by the check. --graph-level
 * picks the graph the DOT file holds (auto: AS level above 200 traces). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <cmocka.h>

#include "model/result.h"
#include "output/outputs.h"

static size_t entries(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void test_check(void **state)
{
    (void)state;
    char dir[] = "/tmp/rg-test-outputs-XXXXXX", prefix[64], err[256];
    assert_non_null(mkdtemp(dir));
    rg_config cfg = {.formats = RG_FMT_TABLE | RG_FMT_JSON | RG_FMT_SVG};
    assert_true(rg_outputs_check(&cfg, err, sizeof err)); /* stdout: nothing to check */
    snprintf(prefix, sizeof prefix, "%s/run", dir);
    cfg.output = prefix;
    assert_true(rg_outputs_check(&cfg, err, sizeof err));
    assert_int_equal(entries(dir), 0); /* the probe files are gone */
    /* A directory where a file should go names that file. */
    char sub[96];
    snprintf(sub, sizeof sub, "%s/run.json", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_false(rg_outputs_check(&cfg, err, sizeof err));
    char want[160];
    snprintf(want, sizeof want, "%s/run.json: cannot write: Is a directory", dir);
    assert_string_equal(err, want);
    assert_int_equal(rmdir(sub), 0);
    /* A missing directory: the first file's name and the reason. */
    snprintf(prefix, sizeof prefix, "%s/missing/run", dir);
    assert_false(rg_outputs_check(&cfg, err, sizeof err));
    snprintf(want, sizeof want, "%s/missing/run.txt: cannot write: No such file or directory", dir);
    assert_string_equal(err, want);
    assert_int_equal(rmdir(dir), 0);
}

/* n traces to 198.51.100.7, ports 1..n: TTL 1 answered by 192.0.2.1, TTL
 * 2 the destination's SYN-ACK; every host in AS asn (0: none). */
static void small_run(rg_run *run, size_t n, uint32_t asn)
{
    memset(run, 0, sizeof *run);
    run->traces = calloc(n, sizeof *run->traces);
    assert_non_null(run->traces);
    rg_addr dst;
    assert_true(rg_addr_parse("198.51.100.7", &dst));
    for (size_t i = 0; i < n; i++) {
        rg_trace *t = &run->traces[run->ntraces++];
        assert_true(rg_trace_init(t, "198.51.100.7", &dst, (uint16_t)(i + 1), 1, 8, 2));
        for (unsigned ttl = 1; ttl <= 2; ttl++) {
            rg_probe *p = rg_trace_probe(t, ttl, 0);
            assert_non_null(p);
            p->sent.tv_sec = 1795618200;
            p->received = p->sent;
            p->rtt_us = 100 * ttl;
            p->reply_ttl = 62;
            p->kind = ttl == 1 ? RG_REPLY_TIME_EXCEEDED : RG_REPLY_SYNACK;
            p->tcp_flags = 0x12;
            assert_true(rg_addr_parse(ttl == 1 ? "192.0.2.1" : "198.51.100.7", &p->from));
            rg_trace_set_sent(t, ttl, 1);
        }
    }
    rg_run_conclude(run);
    assert_true(rg_run_collect_hosts(run));
    for (size_t i = 0; i < run->nhosts; i++)
        run->hosts[i].asn = asn;
}

/* Whether the DOT written for the run (graph level as asked) is the AS
 * level one. */
static bool dot_is_as_level(const rg_run *run, enum rg_graph_level level)
{
    char dir[] = "/tmp/rg-test-outputs-XXXXXX", prefix[64], path[80];
    assert_non_null(mkdtemp(dir));
    snprintf(prefix, sizeof prefix, "%s/run", dir);
    snprintf(path, sizeof path, "%s.dot", prefix);
    rg_config cfg = {.formats = RG_FMT_DOT, .output = prefix, .graph_level = level, .gap = 5};
    assert_true(rg_outputs_write(run, &cfg, false, NULL));
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char text[8192];
    size_t len = fread(text, 1, sizeof text - 1, f);
    text[len] = '\0';
    fclose(f);
    assert_int_equal(unlink(path), 0);
    assert_int_equal(rmdir(dir), 0);
    assert_non_null(strstr(text, "digraph"));
    bool as = strstr(text, "\"AS64500\" [label=") != NULL;
    /* The router level names the router by its address. */
    assert_int_equal(as, strstr(text, "\"192.0.2.1\" [") == NULL);
    return as;
}

static void test_graph_level(void **state)
{
    (void)state;
    rg_run run;
    small_run(&run, RG_GRAPH_AS_TRACES, 64500);
    assert_false(dot_is_as_level(&run, RG_GLEVEL_AUTO)); /* 200: not above */
    assert_true(dot_is_as_level(&run, RG_GLEVEL_AS));
    rg_run_free(&run);
    small_run(&run, RG_GRAPH_AS_TRACES + 1, 64500);
    assert_true(dot_is_as_level(&run, RG_GLEVEL_AUTO));
    assert_false(dot_is_as_level(&run, RG_GLEVEL_ROUTER));
    rg_run_free(&run);
    small_run(&run, RG_GRAPH_AS_TRACES + 1, 0); /* nothing annotated: router level */
    assert_false(dot_is_as_level(&run, RG_GLEVEL_AUTO));
    rg_run_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_graph_level),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
