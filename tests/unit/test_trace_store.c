/* The trace store (model/trace_store.h): records stay where they are as
 * traces come and go; a dropped trace reads as zeros and owns nothing; a
 * page of records goes back to the kernel (mincore says it is no longer
 * resident) once every trace on it is dropped, and not before; the run
 * frees what is left (valgrind and ASan runs of this test check the leaks). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "model/result.h"
#include "model/trace_store.h"

#define ROOM 2000

static size_t page_size(void)
{
    return (size_t)sysconf(_SC_PAGESIZE);
}

/* Whether the page holding byte p of the mapping is resident. */
static bool resident(const void *p)
{
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)(page_size() - 1);
    unsigned char v = 0;
    assert_int_equal(mincore((void *)a, page_size(), &v), 0);
    return v & 1;
}

static void add(rg_run *run, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "host-%zu.example", run->ntraces);
        rg_addr a = {.family = 4, .bytes = {198, 18, (uint8_t)(run->ntraces >> 8),
                                            (uint8_t)run->ntraces}};
        rg_trace *t = &run->traces[run->ntraces];
        assert_true(rg_trace_init(t, name, &a, 80, 1, 8, 2));
        t->reached_ttl = 5;
        run->ntraces++;
    }
}

static bool all_zero(const rg_trace *t)
{
    static const rg_trace zero;
    return memcmp(t, &zero, sizeof zero) == 0;
}

static void test_indexes_stay_and_dropped_reads_zero(void **state)
{
    (void)state;
    rg_run run = {0};
    assert_true(rg_trace_store_open(&run, ROOM));
    assert_int_equal(rg_trace_store_room(&run), ROOM);
    add(&run, 100);
    rg_trace *first = run.traces;
    add(&run, 900); /* more traces: nothing moves */
    assert_ptr_equal(run.traces, first);
    rg_trace_store_drop(&run, 7);
    rg_trace_store_drop(&run, 7); /* twice: once */
    rg_trace_store_drop(&run, 999);
    assert_int_equal(rg_trace_store_ndropped(&run), 2);
    assert_true(rg_trace_store_dropped(&run, 7));
    assert_false(rg_trace_store_dropped(&run, 8));
    assert_false(rg_trace_store_dropped(&run, ROOM + 5)); /* outside: never */
    assert_true(all_zero(&run.traces[7]));
    assert_true(all_zero(&run.traces[999]));
    assert_int_equal(run.traces[7].dst.family, 0);
    assert_null(run.traces[7].target);
    assert_string_equal(run.traces[8].target, "host-8.example");
    assert_string_equal(run.traces[6].target, "host-6.example");
    assert_int_equal(run.traces[6].reached_ttl, 5);
    assert_non_null(rg_trace_probe(&run.traces[6], 3, 1));
    rg_run_free(&run); /* the 998 left are freed with it */
    assert_null(run.store);
    assert_null(run.traces);
}

static void test_pages_go_back_when_every_trace_on_them_is_dropped(void **state)
{
    (void)state;
    rg_run run = {0};
    assert_true(rg_trace_store_open(&run, ROOM));
    add(&run, ROOM);
    size_t per_page = page_size() / sizeof(rg_trace);
    assert_true(per_page >= 2);
    /* The traces wholly inside the mapping's second page. */
    size_t lo = (page_size() + sizeof(rg_trace) - 1) / sizeof(rg_trace);
    size_t hi = (2 * page_size()) / sizeof(rg_trace); /* first trace reaching page 3 */
    const char *page2 = (const char *)run.traces + page_size();
    assert_true(resident(page2));
    for (size_t i = lo; i < hi; i++) /* the traces wholly on page 2 */
        rg_trace_store_drop(&run, i);
    if (lo * sizeof(rg_trace) > page_size()) { /* trace lo - 1 lies on pages 1 and 2 */
        assert_true(resident(page2));
        char want[32];
        snprintf(want, sizeof want, "host-%zu.example", lo - 1);
        assert_string_equal(run.traces[lo - 1].target, want);
    }
    rg_trace_store_drop(&run, lo - 1);
    if (hi * sizeof(rg_trace) < 2 * page_size()) /* trace hi starts on page 2 too */
        rg_trace_store_drop(&run, hi);
    assert_false(resident(page2));
    assert_true(resident(run.traces)); /* the first page's traces are all there */
    assert_string_equal(run.traces[0].target, "host-0.example");
    /* Every trace dropped: every whole page of records goes. */
    for (size_t i = 0; i < ROOM; i++)
        rg_trace_store_drop(&run, i);
    for (size_t p = 0; (p + 1) * page_size() <= ROOM * sizeof(rg_trace); p++)
        assert_false(resident((const char *)run.traces + p * page_size()));
    /* Read back (mincore now counts the shared zero page, RSS does not). */
    assert_true(all_zero(&run.traces[lo]));
    assert_true(all_zero(&run.traces[ROOM - 1]));
    rg_run_free(&run);
}

static void test_open_refuses_nothing_and_absurd_sizes(void **state)
{
    (void)state;
    rg_run run = {0};
    assert_false(rg_trace_store_open(&run, 0));
    assert_false(rg_trace_store_open(&run, SIZE_MAX / 2));
    assert_null(run.store);
    assert_null(run.traces);
    assert_int_equal(rg_trace_store_room(&run), 0);
    rg_trace_store_drop(&run, 0); /* no store: nothing */
    assert_false(rg_trace_store_dropped(&run, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_indexes_stay_and_dropped_reads_zero),
        cmocka_unit_test(test_pages_go_back_when_every_trace_on_them_is_dropped),
        cmocka_unit_test(test_open_refuses_nothing_and_absurd_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
