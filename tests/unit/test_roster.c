/* The roster a scheduling pass walks (engine/roster.c): pilots start
 * before the others, each group in trace order; a pass visits each trace in
 * flight once, from where the rate last stopped it; ended traces leave. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "engine/roster.h"

/* The traces one pass over group g visits, in order, into out. */
static size_t walk(const rg_roster *r, enum rg_roster_group g, uint32_t *out)
{
    size_t len = r->list[g].len;
    uint32_t t = rg_roster_first(r, g);
    for (size_t k = 0; k < len; k++) {
        out[k] = t;
        t = rg_roster_after(r, t);
    }
    return len;
}

static void test_start_order_pilots_first(void **state)
{
    (void)state;
    const bool pilot[7] = {false, true, false, false, true, true, false};
    rg_roster r;
    assert_true(rg_roster_init(&r, 7, pilot));
    const uint32_t pilots[] = {1, 4, 5}, others[] = {0, 2, 3, 6};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(rg_roster_waiting(&r, RG_ROSTER_PILOTS), pilots[i]);
        rg_roster_start(&r, RG_ROSTER_PILOTS);
    }
    assert_int_equal(rg_roster_waiting(&r, RG_ROSTER_PILOTS), RG_ROSTER_NONE);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(rg_roster_waiting(&r, RG_ROSTER_OTHERS), others[i]);
        rg_roster_start(&r, RG_ROSTER_OTHERS);
    }
    assert_int_equal(rg_roster_waiting(&r, RG_ROSTER_OTHERS), RG_ROSTER_NONE);
    uint32_t seen[7];
    assert_int_equal(walk(&r, RG_ROSTER_PILOTS, seen), 3);
    assert_memory_equal(seen, pilots, sizeof pilots);
    assert_int_equal(walk(&r, RG_ROSTER_OTHERS, seen), 4);
    assert_memory_equal(seen, others, sizeof others);
    rg_roster_free(&r);
}

static void test_leading_pilots_are_skipped_for_others(void **state)
{
    (void)state;
    const bool pilot[4] = {true, true, false, true};
    rg_roster r;
    assert_true(rg_roster_init(&r, 4, pilot));
    assert_int_equal(rg_roster_waiting(&r, RG_ROSTER_OTHERS), 2);
    rg_roster_start(&r, RG_ROSTER_OTHERS);
    assert_int_equal(rg_roster_waiting(&r, RG_ROSTER_OTHERS), RG_ROSTER_NONE);
    rg_roster_start(&r, RG_ROSTER_OTHERS); /* nothing left: no change */
    assert_int_equal(r.list[RG_ROSTER_OTHERS].len, 1);
    rg_roster_free(&r);
}

static void test_leave_and_resume(void **state)
{
    (void)state;
    bool pilot[5] = {false};
    rg_roster r;
    assert_true(rg_roster_init(&r, 5, pilot));
    for (int i = 0; i < 5; i++)
        rg_roster_start(&r, RG_ROSTER_OTHERS);
    uint32_t seen[5];
    /* The rate stopped the pass at 2: the next one begins at 3 and wraps. */
    rg_roster_resume_after(&r, 2);
    assert_int_equal(walk(&r, RG_ROSTER_OTHERS, seen), 5);
    const uint32_t after2[] = {3, 4, 0, 1, 2};
    assert_memory_equal(seen, after2, sizeof after2);
    /* 3, where the pass begins, ends: it begins at 3's successor. */
    rg_roster_leave(&r, 3);
    assert_int_equal(walk(&r, RG_ROSTER_OTHERS, seen), 4);
    const uint32_t no3[] = {4, 0, 1, 2};
    assert_memory_equal(seen, no3, sizeof no3);
    /* Head and tail leave; stopping at the tail begins at the head. */
    rg_roster_leave(&r, 0);
    rg_roster_leave(&r, 4);
    rg_roster_resume_after(&r, 2);
    assert_int_equal(walk(&r, RG_ROSTER_OTHERS, seen), 2);
    const uint32_t mid[] = {1, 2};
    assert_memory_equal(seen, mid, sizeof mid);
    /* A reopened trace comes back at the tail. */
    rg_roster_rejoin(&r, 3);
    assert_int_equal(walk(&r, RG_ROSTER_OTHERS, seen), 3);
    const uint32_t back[] = {1, 2, 3};
    assert_memory_equal(seen, back, sizeof back);
    rg_roster_leave(&r, 1);
    rg_roster_leave(&r, 2);
    rg_roster_leave(&r, 3);
    assert_int_equal(rg_roster_first(&r, RG_ROSTER_OTHERS), RG_ROSTER_NONE);
    assert_int_equal(r.list[RG_ROSTER_OTHERS].len, 0);
    rg_roster_free(&r);
}

/* Traces taken in while the run goes (lazy targets) wait behind those of
 * their group already waiting, and start even after all earlier ones did. */
static void test_traces_added_later(void **state)
{
    (void)state;
    const bool pilot[2] = {true, false};
    rg_roster r;
    assert_true(rg_roster_init(&r, 2, pilot));
    rg_roster_start(&r, RG_ROSTER_PILOTS);
    rg_roster_start(&r, RG_ROSTER_OTHERS);
    assert_int_equal(rg_roster_waiting(&r, RG_ROSTER_OTHERS), RG_ROSTER_NONE);
    for (int i = 0; i < 100; i++) /* traces 2..101: every tenth a pilot */
        assert_true(rg_roster_add(&r, i % 10 == 0));
    assert_int_equal(r.n, 102);
    assert_int_equal(rg_roster_waiting(&r, RG_ROSTER_PILOTS), 2);
    assert_int_equal(rg_roster_waiting(&r, RG_ROSTER_OTHERS), 3);
    size_t pilots = 0, others = 0;
    while (rg_roster_waiting(&r, RG_ROSTER_PILOTS) != RG_ROSTER_NONE) {
        assert_int_equal(rg_roster_waiting(&r, RG_ROSTER_PILOTS), 2 + 10 * pilots);
        rg_roster_start(&r, RG_ROSTER_PILOTS);
        pilots++;
    }
    uint32_t last = 1;
    while (rg_roster_waiting(&r, RG_ROSTER_OTHERS) != RG_ROSTER_NONE) {
        uint32_t t = rg_roster_waiting(&r, RG_ROSTER_OTHERS);
        assert_true(t > last && (t - 2) % 10 != 0); /* in order, never a pilot */
        last = t;
        rg_roster_start(&r, RG_ROSTER_OTHERS);
        others++;
    }
    assert_int_equal(pilots, 10);
    assert_int_equal(others, 90);
    assert_int_equal(r.list[RG_ROSTER_PILOTS].len, 11);
    assert_int_equal(r.list[RG_ROSTER_OTHERS].len, 91);
    rg_roster_free(&r);
}

static void test_empty_run(void **state)
{
    (void)state;
    rg_roster r;
    assert_true(rg_roster_init(&r, 0, NULL));
    assert_int_equal(rg_roster_waiting(&r, RG_ROSTER_PILOTS), RG_ROSTER_NONE);
    assert_int_equal(rg_roster_waiting(&r, RG_ROSTER_OTHERS), RG_ROSTER_NONE);
    assert_int_equal(rg_roster_first(&r, RG_ROSTER_PILOTS), RG_ROSTER_NONE);
    rg_roster_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_start_order_pilots_first),
        cmocka_unit_test(test_leading_pilots_are_skipped_for_others),
        cmocka_unit_test(test_leave_and_resume),
        cmocka_unit_test(test_traces_added_later),
        cmocka_unit_test(test_empty_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
