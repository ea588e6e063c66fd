/* history: what `routegraph history` lists, written the way every other
 * output writes a service (192.0.2.1:80, [2001:db8::1]:80), and the filter
 * read with the endpoint parser (canonical IPv6, range-checked port). The
 * rounds are those of a saved run (tests/data/graph-lab.json), stored twice, with change events for
 * an IPv4 and an IPv6 service. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "history/history.h"
#include "input/json_read.h"
#include "output/json.h"

#define DATA RG_SOURCE_ROOT "/tests/data/"

typedef struct fixture {
    char dir[64];
    char path[96];
    rg_history *h;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    strcpy(f->dir, "/tmp/rg-test-history-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/h.db", f->dir);
    char err[512];
    rg_history *w = rg_history_open(f->path, err, sizeof err);
    if (!w)
        fail_msg("%s", err);
    rg_run run;
    if (!rg_json_read_file(DATA "graph-lab.json", &run, err, sizeof err))
        fail_msg("%s", err);
    json_t *doc = rg_json_build(&run, NULL);
    assert_non_null(doc);
    json_t *none = json_array();
    json_t *ev = json_pack("[{s:s,s:i,s:s},{s:s,s:i,s:s},{s:s,s:i,s:s}]", "address",
                           "2001:db8:310::6", "port", 80, "change", "as-path", "address",
                           "198.19.0.5", "port", 443, "change", "port-state", "address",
                           "not an address", "port", 70000, "change", "<b>");
    assert_int_equal(rg_history_add_round(w, &run, doc, none, err, sizeof err), 1);
    assert_int_equal(rg_history_add_round(w, &run, doc, ev, err, sizeof err), 2);
    json_decref(ev);
    json_decref(none);
    json_decref(doc);
    rg_run_free(&run);
    rg_history_close(w);
    f->h = rg_history_open_read(f->path, err, sizeof err);
    if (!f->h)
        fail_msg("%s", err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    rg_history_close(f->h);
    const char *suffixes[] = {"", "-wal", "-shm"};
    char p[128];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

/* rg_history_list's output, with the started times ("round N  TIME  ")
 * cut out, as lines joined by '\n'. */
static char *listed(fixture *f, const char *filter, bool want_ok)
{
    char *text = NULL, err[512] = "";
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    assert_int_equal(rg_history_list(f->h, filter, out, err, sizeof err), want_ok);
    assert_int_equal(fclose(out), 0);
    if (!want_ok) {
        free(text);
        return strdup(err);
    }
    /* Service lines: "round N  TIME  SERVICE  STATE..." -> drop TIME. */
    char *clean = calloc(1, len + 1);
    assert_non_null(clean);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *t = strstr(line, "  20");
        if (t && strncmp(line, "round ", 6) == 0) {
            char *after = strstr(t + 2, "  ");
            strncat(clean, line, (size_t)(t - line));
            strcat(clean, after ? after : "");
        } else
            strcat(clean, line);
        strcat(clean, "\n");
    }
    free(text);
    return clean;
}

static void test_changes_listed_as_endpoints(void **state)
{
    fixture *f = *state;
    char *all = listed(f, NULL, true);
    const char *changes = strstr(all, "changes:\n");
    assert_non_null(changes);
    assert_string_equal(changes, "changes:\n"
                                 "round 2  [2001:db8:310::6]:80  as-path\n"
                                 "round 2  198.19.0.5:443  port-state\n"
                                 "round 2  ?  ?\n");
    free(all);
}

static void test_service_filter_in_every_notation(void **state)
{
    fixture *f = *state;
    const char *want = "round 1  [2001:db8:310::6]:80  open, reached at hop 3, 0.9 ms\n"
                       "round 2  [2001:db8:310::6]:80  open, reached at hop 3, 0.9 ms\n"
                       "changes:\n"
                       "round 2  [2001:db8:310::6]:80  as-path\n";
    /* The IPv6 address in any spelling, with or without its port. */
    const char *filters[] = {"[2001:db8:310::6]:80", "[2001:DB8:310:0::6]:80",
                             "2001:db8:310:0:0:0:0:6", "[2001:db8:310::6]"};
    for (size_t i = 0; i < sizeof filters / sizeof filters[0]; i++) {
        char *got = listed(f, filters[i], true);
        if (strcmp(got, want) != 0)
            fail_msg("%s:\n%s", filters[i], got);
        free(got);
    }
    char *v4 = listed(f, "198.19.0.5:443", true);
    assert_non_null(strstr(v4, "round 1  198.19.0.5:443  closed, reached at hop 6, 1.3 ms\n"));
    assert_non_null(strstr(v4, "changes:\nround 2  198.19.0.5:443  port-state\n"));
    assert_null(strstr(v4, ":80"));
    free(v4);
}

static void test_bad_filters_refused(void **state)
{
    fixture *f = *state;
    const char *bad[] = {"198.19.0.5:0", "198.19.0.5:65536", "198.19.0.5:80x", "[198.19.0.5]:80",
                         "web1.h1.lab", "2001:db8:310::6]:80", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *err = listed(f, bad[i], false);
        if (!strstr(err, "is not ADDRESS or ADDRESS:PORT"))
            fail_msg("%s: %s", bad[i], err);
        free(err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_changes_listed_as_endpoints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_service_filter_in_every_notation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_filters_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
