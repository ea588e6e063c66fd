/* The per-router pacing controller: what goes out when, given answers and
 * silences; and against a simulated Linux ICMP limiter, how much of the
 * router's budget it gets and how many probes it wastes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "engine/pace.h"

#define MS 1000000ull
#define S 1000000000ull

static rg_addr router(const char *s)
{
    rg_addr a;
    assert_true(rg_addr_parse(s, &a));
    return a;
}

static void test_fresh_router_bursts_then_paces(void **state)
{
    (void)state;
    rg_pace p;
    assert_true(rg_pace_init(&p, 4));
    rg_addr r = router("198.18.0.1");
    rg_pacer *c = rg_pace_get(&p, &r, 0);
    assert_non_null(c);
    assert_ptr_equal(rg_pace_get(&p, &r, 0), c); /* one pacer per key */
    uint64_t wake = UINT64_MAX;
    for (int i = 0; i < (int)RG_PACE_BURST; i++) {
        assert_true(rg_pace_ready(c, 0, &wake));
        rg_pace_sent(c);
    }
    assert_false(rg_pace_ready(c, 0, &wake));
    /* The next token comes at the start rate: 100 ms at 10/s. */
    assert_in_range(wake, 99 * MS, 101 * MS);
    assert_false(rg_pace_ready(c, 50 * MS, &wake));
    assert_true(rg_pace_ready(c, 101 * MS, &wake));
    rg_pace_free(&p);
}

static void test_position_gets_one_probe_then_a_trickle(void **state)
{
    (void)state;
    rg_pace p;
    assert_true(rg_pace_init(&p, 4));
    rg_addr dst = router("198.19.0.5");
    rg_addr k1 = rg_pace_position_key(1, &dst), k2 = rg_pace_position_key(2, &dst);
    rg_addr other = router("198.19.1.5"); /* another /24 */
    rg_addr k3 = rg_pace_position_key(1, &other);
    rg_pacer *c = rg_pace_get(&p, &k1, 0);
    assert_ptr_not_equal(c, rg_pace_get(&p, &k2, 0));
    assert_ptr_not_equal(c, rg_pace_get(&p, &k3, 0));
    uint64_t wake = UINT64_MAX;
    assert_true(rg_pace_ready(c, 0, &wake));
    rg_pace_sent(c);
    assert_false(rg_pace_ready(c, 0, &wake));
    assert_in_range(wake, 99 * MS, 101 * MS); /* 10 per second, no burst */
    rg_pace_free(&p);
}

static void test_answers_speed_up_losses_slow_down(void **state)
{
    (void)state;
    rg_pace p;
    assert_true(rg_pace_init(&p, 4));
    rg_addr r = router("198.18.1.2");
    rg_pacer *c = rg_pace_get(&p, &r, 0);
    for (int i = 0; i < 6; i++)
        rg_pace_answered(c);
    assert_true(c->rate > RG_PACE_START_RATE * 6);
    double fast = c->rate;
    rg_pace_lost(c);
    assert_true(c->rate < fast / 1.9 && c->rate > fast / 2.1);
    for (int i = 0; i < 40; i++)
        rg_pace_lost(c);
    assert_true(c->rate >= RG_PACE_MIN_RATE && c->rate < RG_PACE_MIN_RATE * 1.01);
    /* After a loss growth is slow: one probe/s per answer. */
    double slow = c->rate;
    rg_pace_answered(c);
    assert_true(c->rate > slow + RG_PACE_INCREASE * 0.99 && c->rate < slow + RG_PACE_INCREASE * 1.01);
    rg_pace_free(&p);
}

static void test_silent_router_is_not_throttled(void **state)
{
    (void)state;
    rg_pace p;
    assert_true(rg_pace_init(&p, 4));
    rg_addr r = router("198.18.20.2");
    rg_pacer *c = rg_pace_get(&p, &r, 0);
    uint64_t wake = UINT64_MAX;
    for (int i = 0; i < (int)RG_PACE_SILENT_AFTER; i++) {
        assert_false(rg_pace_silent(c));
        rg_pace_sent(c);
        rg_pace_lost(c);
        assert_true(c->rate == RG_PACE_START_RATE); /* no answer: not a limiter */
    }
    assert_true(rg_pace_silent(c));
    for (int i = 0; i < 100; i++) { /* never held back */
        assert_true(rg_pace_ready(c, 0, &wake));
        rg_pace_sent(c);
    }
    assert_true(rg_pace_ready(NULL, 0, &wake)); /* no pacer: only --rate */
    rg_pace_free(&p);
}

/* Linux's limiter for one destination: a bucket of 6, one token a second. */
typedef struct limiter {
    double tokens;
    uint64_t at;
} limiter;

static bool limiter_answers(limiter *l, uint64_t now)
{
    l->tokens += (double)(now - l->at) / S;
    if (l->tokens > 6)
        l->tokens = 6;
    l->at = now;
    if (l->tokens < 1)
        return false;
    l->tokens -= 1;
    return true;
}

static void test_against_a_linux_limiter(void **state)
{
    (void)state;
    rg_pace p;
    assert_true(rg_pace_init(&p, 4));
    rg_addr r = router("198.18.0.1");
    rg_pacer *c = rg_pace_get(&p, &r, 0);
    limiter l = {6, 0};
    /* A probe is always waiting; its fate is known 100 ms later (the
     * engine's shortest give-up). 60 simulated seconds in 1 ms steps. */
    enum { WINDOW = 100 };
    int fate[WINDOW] = {0}; /* 1 answered, -1 lost, 0 nothing sent */
    unsigned sent = 0, answered = 0;
    for (uint64_t ms = 0; ms < 60000; ms++) {
        uint64_t now = ms * MS, wake = UINT64_MAX;
        int *f = &fate[ms % WINDOW];
        if (*f > 0)
            rg_pace_answered(c);
        else if (*f < 0)
            rg_pace_lost(c);
        *f = 0;
        if (rg_pace_ready(c, now, &wake)) {
            rg_pace_sent(c);
            sent++;
            bool ok = limiter_answers(&l, now);
            answered += ok;
            *f = ok ? 1 : -1;
        }
    }
    /* The ceiling is 6 + 60 answers; the controller gets most of it and
     * sends at most about twice what is answered. */
    assert_true(answered >= 55);
    assert_true(sent <= 2.5 * answered);
    rg_pace_free(&p);
}

/* The table grows with the keys seen, not with what init allowed: pacers
 * never move (pointers and ids stay good across growth), every key finds its
 * own pacer again, and past the bound new keys go unpaced (NULL). */
static void test_table_grows_and_keeps_its_pacers(void **state)
{
    (void)state;
    rg_pace p;
    assert_true(rg_pace_init(&p, 1500));
    assert_int_equal(p.mask + 1, 64); /* starts small whatever the bound */
    enum { N = 3500 };
    rg_pacer *seen[N];
    rg_addr dst = router("198.18.0.1");
    size_t got = 0;
    for (unsigned i = 0; i < N; i++) {
        rg_addr k = rg_pace_position_key(1 + i % 30, &dst);
        k.bytes[5] = (uint8_t)(i / 30); /* another /24 every 30 TTLs */
        k.bytes[6] = (uint8_t)(i / (30 * 256));
        seen[i] = rg_pace_get(&p, &k, 0);
        if (!seen[i])
            break;
        seen[i]->sent = i;
        got++;
    }
    /* Bound: an index of 4096 (the power of two >= 2 x 1500) three
     * quarters full. */
    assert_int_equal(got, 3072);
    assert_int_equal(p.mask + 1, 4096);
    for (unsigned i = 0; i < got; i++) {
        rg_addr k = rg_pace_position_key(1 + i % 30, &dst);
        k.bytes[5] = (uint8_t)(i / 30);
        k.bytes[6] = (uint8_t)(i / (30 * 256));
        assert_ptr_equal(rg_pace_get(&p, &k, 0), seen[i]);
        assert_int_equal(seen[i]->sent, i);
        assert_ptr_equal(rg_pace_by_id(&p, rg_pace_id(&p, seen[i])), seen[i]);
    }
    assert_int_equal(rg_pace_id(&p, NULL), 0);
    assert_null(rg_pace_by_id(&p, 0));
    assert_null(rg_pace_by_id(&p, (uint32_t)got + 1));
    rg_pace_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fresh_router_bursts_then_paces),
        cmocka_unit_test(test_position_gets_one_probe_then_a_trickle),
        cmocka_unit_test(test_answers_speed_up_losses_slow_down),
        cmocka_unit_test(test_silent_router_is_not_throttled),
        cmocka_unit_test(test_against_a_linux_limiter),
        cmocka_unit_test(test_table_grows_and_keeps_its_pacers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
