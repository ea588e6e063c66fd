/* The AS-path view: one AS path per trace (ports of a target sharing one
 * merged), the organisations once, then each trace's hops in aligned
 * columns under a header, with the table's symbols for silence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "input/json_read.h"
#include "output/paths.h"

static char *view_of(const char *file, rg_run *run)
{
    char path[4096], err[512];
    json_t *options = NULL;
    snprintf(path, sizeof path, "%s/tests/data/%s", RG_SOURCE_ROOT, file);
    if (!rg_json_read_file_options(path, run, &options, err, sizeof err))
        fail_msg("%s", err);
    json_decref(options);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_true(rg_paths_wanted(run));
    assert_true(rg_paths_write(f, run));
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void test_as_paths_merged(void **state)
{
    (void)state;
    rg_run run;
    char *got = view_of("graph-lab.json", &run);
    static const char want[] =
        "\nAS paths\n"
        "198.19.0.5:80,443              AS64500 -> AS64501 -> AS64502\n"
        "web1.h1.lab:8080 (198.19.0.5)  AS64500 -> AS64501 -> AS64502\n"
        "198.19.16.7:80,443             AS64500 -> AS64501 -> AS64503\n"
        "198.19.0.9:22                  AS64500\n"
        "[2001:db8:310::6]:80           AS64500 -> AS64502\n"
        "198.19.0.11:80                 (no AS known)\n"
        "  AS64500  Lab Access Networks\n"
        "  AS64501  Lab Transit Backbone\n"
        "  AS64502  Lab Hosting\n"
        "  AS64503  Lab Cloud\n";
    assert_memory_equal(got, want, sizeof want - 1);
    uint32_t as[8];
    assert_int_equal(rg_paths_as_path(&run, &run.traces[3], as, 8), 3);
    assert_int_equal(as[2], 64503);
    assert_int_equal(rg_paths_as_path(&run, &run.traces[3], as, 2), 2); /* bounded */
    free(got);
    rg_run_free(&run);
}

static void test_hop_columns(void **state)
{
    (void)state;
    rg_run run;
    char *got = view_of("graph-lab.json", &run);
    static const char want[] =
        "\n198.19.16.7:443\n"
        "  Hop  Address      Name                     AS       Country  RTT\n"
        "    1  198.18.0.1   r1.access.lab.example    AS64500  DE       0.180 ms\n"
        "    2  198.18.1.2   r2.access.lab.example    AS64500  DE       0.320 ms\n"
        "    3  198.18.16.2  r3a.transit.lab.example  AS64501  NL       0.630 ms\n"
        "    4  198.18.18.2  r4.transit.lab.example   AS64501  NL       0.805 ms\n"
        "    5  -                                                       silent\n"
        "    6  198.18.48.2                           AS64503           1.420 ms\n"
        "    7  -                                                       silent\n";
    if (!strstr(got, want))
        fail_msg("missing\n%s\nin\n%s", want, got);
    assert_non_null(strstr(got, "\n    1  ~                           rate-limited\n"));
    assert_null(strstr(got, " *")); /* * means answered a retry, in the table only */
    free(got);
    rg_run_free(&run);
}

/* Each hop's ICMP extensions under its row: labels top first, each
 * interface as sent, its name escaped for the terminal. */
static void test_extensions_under_hops(void **state)
{
    (void)state;
    rg_run run;
    char *got = view_of("icmpext-lab.json", &run);
    static const char want[] =
        "    2  198.18.100.2        AS???           0.070 ms\n"
        "       MPLS label 24005 TC 0 S 0 TTL 1, label 16 TC 5 S 1 TTL 1\n"
        "    3  198.18.100.3        AS???           0.080 ms\n"
        "       MPLS label 299776 TC 0 S 1 TTL 254\n"
        "    4  198.18.100.4        AS???           0.090 ms\n"
        "       incoming interface: ifIndex 7, 198.18.100.4, name ge-0/0/1.0, MTU 1500\n"
        "       outgoing interface: ifIndex 12\n"
        "    5  198.18.100.5        AS???           0.100 ms\n"
        "       MPLS label 17 TC 2 S 1 TTL 64\n"
        "       incoming interface: name ae1.0 \"core\" <&>, MTU 9000\n"
        "    6  198.18.101.6        AS???           0.110 ms\n";
    if (!strstr(got, want))
        fail_msg("missing\n%s\nin\n%s", want, got);
    assert_non_null(strstr(got, "       incoming interface: ifIndex 7, 2001:db8:fa0::4, name "
                                "ge-0/0/1.0, MTU 1500\n"));
    free(got);
    rg_run_free(&run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_as_paths_merged),
        cmocka_unit_test(test_hop_columns),
        cmocka_unit_test(test_extensions_under_hops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
