/* The progress line: counts, elapsed time, and the time left estimated
 * from the pace traces have finished at. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "output/progress.h"

static void test_line(void **state)
{
    (void)state;
    char buf[256];
    rg_engine_progress pr = {.traces_done = 5, .traces_total = 8, .probes_sent = 60,
                             .replies = 45};
    rg_progress_line(buf, sizeof buf, &pr, 3200000000ull);
    /* 5 traces in 3.2 s: 3 more take about 1.9 s. */
    assert_string_equal(buf, "traces 5/8 done, 60 probes sent, 45 replies, 3.2 s, about 2 s left");
    pr.traces_done = 0;
    rg_progress_line(buf, sizeof buf, &pr, 1500000000ull);
    assert_string_equal(buf, "traces 0/8 done, 60 probes sent, 45 replies, 1.5 s, "
                             "time left not known yet");
    pr.traces_done = 8;
    rg_progress_line(buf, sizeof buf, &pr, 4000000000ull);
    assert_string_equal(buf, "traces 8/8 done, 60 probes sent, 45 replies, 4.0 s");
}

static void test_line_truncates(void **state)
{
    (void)state;
    char buf[20];
    rg_engine_progress pr = {.traces_done = 1, .traces_total = 2};
    size_t n = rg_progress_line(buf, sizeof buf, &pr, 1000000000ull);
    assert_int_equal(n, 19);
    assert_string_equal(buf, "traces 1/2 done, 0 ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_line_truncates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
