/* The in-flight window (--max-inflight) and the slots a trace gets only
 * when it starts (rg_trace_init_deferred / rg_trace_alloc / release). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/window.h"
#include "model/result.h"

static void test_bound_is_kept(void **state)
{
    (void)state;
    rg_window w = {.limit = 3};
    assert_true(rg_window_enter(&w));
    assert_true(rg_window_enter(&w));
    assert_true(rg_window_enter(&w));
    assert_false(rg_window_enter(&w)); /* full: nothing taken */
    assert_int_equal(w.active, 3);
    rg_window_leave(&w);
    assert_int_equal(w.active, 2);
    assert_true(rg_window_enter(&w)); /* the next starts when one ends */
    assert_false(rg_window_enter(&w));
}

static void test_no_bound(void **state)
{
    (void)state;
    rg_window w = {.limit = 0};
    for (int i = 0; i < 100000; i++)
        assert_true(rg_window_enter(&w));
    assert_int_equal(w.active, 100000);
}

static void test_leave_never_underflows_and_return_ignores_the_bound(void **state)
{
    (void)state;
    rg_window w = {.limit = 1};
    rg_window_leave(&w);
    assert_int_equal(w.active, 0);
    assert_true(rg_window_enter(&w));
    rg_window_return(&w); /* a reopened trace comes back in */
    assert_int_equal(w.active, 2);
    assert_false(rg_window_enter(&w));
    rg_window_leave(&w);
    rg_window_leave(&w);
    assert_true(rg_window_enter(&w));
}

static void test_slots_come_with_the_start(void **state)
{
    (void)state;
    rg_addr a;
    assert_true(rg_addr_parse("198.51.100.9", &a));
    rg_trace t;
    assert_true(rg_trace_init_deferred(&t, "198.51.100.9", &a, 443, 2, 9, 4));
    /* Planned: its name and geometry, no slots. */
    assert_null(t.probes);
    assert_string_equal(t.target, "198.51.100.9");
    assert_int_equal(rg_trace_slots(&t), 0);
    assert_int_equal(rg_trace_planned_slots(&t), (9 - 2 + 2) * 4);
    assert_null(rg_trace_probe(&t, 2, 0));
    assert_int_equal(rg_trace_sent(&t, 2), 0);
    /* Started: every slot, empty. */
    assert_true(rg_trace_alloc(&t));
    assert_int_equal(rg_trace_slots(&t), rg_trace_planned_slots(&t));
    rg_probe *p = rg_trace_probe(&t, 9, 3);
    assert_non_null(p);
    assert_int_equal(p->kind, RG_REPLY_NONE);
    rg_trace_set_sent(&t, 9, 1);
    const rg_probe *kept = t.probes;
    assert_true(rg_trace_alloc(&t)); /* allocated already: untouched */
    assert_ptr_equal(t.probes, kept);
    assert_int_equal(rg_trace_sent(&t, 9), 1);
    /* Written and released: the conclusions stay, the slots go. */
    t.state = RG_PORT_CLOSED;
    rg_trace_release(&t);
    assert_null(t.probes);
    assert_null(t.nsent);
    assert_null(rg_trace_inferred(&t, 3));
    assert_int_equal(t.state, RG_PORT_CLOSED);
    assert_int_equal(t.dport, 443);
    rg_trace_free(&t);
}

static void test_deferred_init_refuses_what_init_refuses(void **state)
{
    (void)state;
    rg_addr a;
    assert_true(rg_addr_parse("2001:db8::9", &a));
    rg_trace t;
    assert_false(rg_trace_init_deferred(&t, "x", &a, 80, 0, 9, 4));
    assert_false(rg_trace_init_deferred(&t, "x", &a, 80, 9, 8, 4));
    assert_false(rg_trace_init_deferred(&t, "x", &a, 80, 1, 9, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bound_is_kept),
        cmocka_unit_test(test_no_bound),
        cmocka_unit_test(test_leave_never_underflows_and_return_ignores_the_bound),
        cmocka_unit_test(test_slots_come_with_the_start),
        cmocka_unit_test(test_deferred_init_refuses_what_init_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
