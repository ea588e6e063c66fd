/* MDA's stopping rule against the published table of probe counts
 * (Augustin et al. for 95%, and the 99% column scamper's tracelb uses). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine/mda_rule.h"

/* n_k for k = 1 .. 16 seen next hops (ruling out k + 1). */
static const unsigned published95[] = {6,  11, 16, 21, 27, 33, 38, 44,
                                       51, 57, 63, 70, 76, 83, 90, 96};
static const unsigned published99[] = {8,  15, 21, 28, 36, 43, 51,  58,
                                       66, 74, 82, 90, 98, 106, 115, 123};

static void test_table_95(void **state)
{
    (void)state;
    for (unsigned k = 1; k <= 16; k++)
        assert_int_equal(rg_mda_probes(k, 95), published95[k - 1]);
}

static void test_table_99(void **state)
{
    (void)state;
    for (unsigned k = 1; k <= 16; k++)
        assert_int_equal(rg_mda_probes(k, 99), published99[k - 1]);
}

static void test_far_entries(void **state)
{
    (void)state;
    /* further along the published table: 40 next hops seen */
    assert_int_equal(rg_mda_probes(40, 95), 271);
    assert_int_equal(rg_mda_probes(40, 99), 337);
}

static void test_miss_probability(void **state)
{
    (void)state;
    /* two next hops: every flow on one side, 2 * 2^-n */
    assert_float_equal(rg_mda_miss(2, 6), 2.0 / 64, 1e-12);
    assert_float_equal(rg_mda_miss(2, 5), 2.0 / 32, 1e-12);
    /* three: 3 (2/3)^n - 3 (1/3)^n by inclusion-exclusion */
    double third = 1.0, twothirds = 1.0;
    for (int i = 0; i < 11; i++) {
        third /= 3;
        twothirds = twothirds * 2 / 3;
    }
    assert_float_equal(rg_mda_miss(3, 11), 3 * twothirds - 3 * third, 1e-12);
    assert_float_equal(rg_mda_miss(4, 0), 1.0, 1e-12); /* nothing seen */
    assert_float_equal(rg_mda_miss(1, 3), 0.0, 1e-12); /* one hop: nothing to miss */
}

static void test_refused(void **state)
{
    (void)state;
    assert_int_equal(rg_mda_probes(0, 95), 0);
    assert_int_equal(rg_mda_probes(1, 90), 0);
    assert_int_equal(rg_mda_probes(1, 100), 0);
    assert_int_equal(rg_mda_probes(RG_MDA_MAX_NEXTHOPS + 1, 95), 0);
    assert_true(rg_mda_confidence_ok(95));
    assert_true(rg_mda_confidence_ok(99));
    assert_false(rg_mda_confidence_ok(98));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_95),  cmocka_unit_test(test_table_99),
        cmocka_unit_test(test_far_entries), cmocka_unit_test(test_miss_probability),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
