/* The engine's queues: the heap yields deadlines in order, the ring is a
 * FIFO across its wrap; both start small, double as they fill (a wrapped
 * ring keeps its order) and refuse to grow past their bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine/queue.h"

static void test_heap_orders_deadlines(void **state)
{
    (void)state;
    rg_heap h;
    assert_true(rg_heap_init(&h, 1, 1000));
    uint32_t x = 7;
    for (uint32_t i = 0; i < 1000; i++) {
        x = x * 1103515245u + 12345u;
        assert_true(rg_heap_push(&h, (rg_pending){.at = x % 5000, .trace = i}));
    }
    assert_int_equal(h.cap, 1000); /* 1, 2, ... 512, then the bound */
    assert_false(rg_heap_push(&h, (rg_pending){.at = 1}));
    uint64_t last = 0;
    for (int i = 0; i < 1000; i++) {
        const rg_pending *p = rg_heap_peek(&h);
        assert_non_null(p);
        assert_true(p->at >= last);
        last = p->at;
        rg_heap_pop(&h);
    }
    assert_null(rg_heap_peek(&h));
    rg_heap_pop(&h); /* popping an empty heap is harmless */
    rg_heap_free(&h);
}

static void test_ring_is_fifo_and_wraps(void **state)
{
    (void)state;
    rg_ring r;
    assert_true(rg_ring_init(&r, 3, 3));
    uint32_t next_in = 0, next_out = 0;
    for (int round = 0; round < 10; round++) {
        while (rg_ring_push(&r, (rg_pending){.trace = next_in}))
            next_in++;
        assert_int_equal(r.len, 3);
        for (int k = 0; k < 2; k++) {
            assert_int_equal(rg_ring_peek(&r)->trace, next_out++);
            rg_ring_pop(&r);
        }
    }
    rg_ring_free(&r);
}

/* Growing while wrapped: the oldest item still comes out first. */
static void test_ring_grows_in_order(void **state)
{
    (void)state;
    rg_ring r;
    assert_true(rg_ring_init(&r, 4, 64));
    uint32_t next_in = 0, next_out = 0;
    for (int k = 0; k < 3; k++) /* head at 3: the next pushes wrap */
        assert_true(rg_ring_push(&r, (rg_pending){.trace = next_in++}));
    for (int k = 0; k < 3; k++) {
        assert_int_equal(rg_ring_peek(&r)->trace, next_out++);
        rg_ring_pop(&r);
    }
    while (rg_ring_push(&r, (rg_pending){.trace = next_in}))
        next_in++;
    assert_int_equal(r.cap, 64);
    assert_int_equal(r.len, 64);
    while (rg_ring_peek(&r)) {
        assert_int_equal(rg_ring_peek(&r)->trace, next_out++);
        rg_ring_pop(&r);
    }
    assert_int_equal(next_out, next_in);
    rg_ring_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_orders_deadlines),
        cmocka_unit_test(test_ring_is_fifo_and_wraps),
        cmocka_unit_test(test_ring_grows_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
