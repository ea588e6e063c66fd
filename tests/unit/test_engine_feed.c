/* The engine's feed hook (lazy targets) against the simulated network
 * (fake_net): traces arrive while the run goes on, one target (its ports)
 * per call, as the window has room. Every trace is handed over exactly
 * once, concluded, with every hop and port state right; the window is
 * never passed by more than the ports of one target; and a port of an
 * address fed after the address's other ports were handed over forms a
 * group of its own (handed once too). Every router answers here, so every
 * hop is measured (the engine skips a hop only at a router that showed its
 * limit).
 *
 * The same run with its traces in a trace store, each dropped as soon as it
 * is handed over (the streamed output alone): every verdict and hop is right
 * when handed, and the engine never reads or writes a dropped record
 * afterwards (the test makes those pages inaccessible, so a touch would
 * crash it): a read would take the page back as surely as a write. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine.h"
#include "fake_net.h"
#include "model/result.h"
#include "model/trace_store.h"

#include <sys/mman.h>
#include <unistd.h>

#define MS 1000000ull
#define NDEST 24
#define WINDOW 4

typedef struct feeder {
    fn_net *net;
    size_t next;          /* destinations fed so far */
    bool late_fed;        /* dest 0's third port, after everything else */
    unsigned calls, waits;
    size_t most_room;
    unsigned handed[3 * NDEST];
    size_t inflight_most; /* traces fed and not handed, at a feed */
    bool drop;            /* the hook checks, then drops (a trace store) */
    unsigned checked;     /* traces the hook found right */
} feeder;

static void add_trace(rg_run *run, const fn_dest *d, uint16_t port)
{
    rg_trace *t = run->traces;
    if (run->store) {
        assert_true(run->ntraces < rg_trace_store_room(run));
    } else {
        t = realloc(run->traces, (run->ntraces + 1) * sizeof *t);
        assert_non_null(t);
    }
    run->traces = t;
    t = &run->traces[run->ntraces];
    char name[RG_ADDR_STRLEN];
    rg_addr_format(&d->addr, name, sizeof name);
    assert_true(rg_trace_init_deferred(t, name, &d->addr, port, 1, 16, rg_attempts_for(1)));
    run->ntraces++;
}

static bool feed(void *ctx, rg_run *run, size_t room)
{
    feeder *f = ctx;
    f->calls++;
    if (room > f->most_room)
        f->most_room = room;
    size_t open = 0;
    for (size_t i = 0; i < run->ntraces; i++)
        open += f->handed[i] == 0;
    if (open > f->inflight_most)
        f->inflight_most = open;
    if (f->calls % 3 == 0) { /* now and then nothing yet, as a pipe */
        f->waits++;
        return true;
    }
    size_t from = run->ntraces;
    if (f->next < NDEST) {
        const fn_dest *d = &f->net->dests[f->next++];
        for (size_t p = 0; p < 2; p++)
            add_trace(run, d, d->port[p]);
    } else if (!f->late_fed) {
        f->late_fed = true;
        add_trace(run, &f->net->dests[0], f->net->dests[0].port[2]);
    }
    for (size_t i = from; i < run->ntraces; i++) {
        rg_trace *t = &run->traces[i];
        t->src = f->net->self;
        t->sport = (uint16_t)(40000 + 37 * i);
        t->seq_base = 0x1000u * (uint32_t)(i + 1) + 0x55000000u;
    }
    return f->next < NDEST || !f->late_fed;
}

/* The trace's port state and every hop as the simulated network has them;
 * the hops inferred (none expected) are counted into *inferred. */
static void check_trace(const fn_net *net, const rg_trace *t, unsigned *inferred)
{
    const fn_dest *d = fn_find_dest(net, &t->dst);
    assert_non_null(d);
    enum rg_port_state want = RG_PORT_UNKNOWN;
    for (size_t p = 0; p < d->nports; p++)
        if (d->port[p] == t->dport)
            want = d->state[p] == FN_OPEN ? RG_PORT_OPEN : RG_PORT_CLOSED;
    if (t->state != want)
        fail_msg("%s:%u is state %d, not %d", t->target, t->dport, (int)t->state, (int)want);
    for (unsigned ttl = 1; ttl <= d->nhops; ttl++) {
        const rg_addr *want_r = &net->routers[fn_route(net, &t->dst, t->sport, t->dport,
                                                       ttl)].addr;
        const rg_probe *p = rg_trace_answer(t, ttl);
        const rg_addr *inf = rg_trace_inferred(t, ttl);
        assert_true(p || inf);
        assert_true(rg_addr_equal(p ? &p->from : inf, want_r));
        *inferred += !p;
    }
}

/* Inaccessible from now: the whole pages of records every trace on which
 * is dropped (the store gave them back; nothing may touch them again). */
static void protect_dropped(rg_run *run, size_t ti)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), sz = sizeof(rg_trace);
    size_t first = ti * sz / page, last = ((ti + 1) * sz - 1) / page;
    for (size_t p = first; p <= last; p++) {
        size_t lo = p * page / sz, hi = ((p + 1) * page - 1) / sz;
        if (hi >= rg_trace_store_room(run))
            continue; /* the mapping's last page: room the run never fills */
        bool all = true;
        for (size_t i = lo; all && i <= hi; i++)
            all = rg_trace_store_dropped(run, i);
        if (all)
            assert_int_equal(mprotect((char *)run->traces + p * page, page, PROT_NONE), 0);
    }
}

static void done(void *ctx, rg_run *run, size_t ti)
{
    feeder *f = ctx;
    assert_true(ti < run->ntraces);
    f->handed[ti]++;
    /* Concluded before it is handed: every port here answers. */
    enum rg_port_state st = run->traces[ti].state;
    assert_true(st == RG_PORT_OPEN || st == RG_PORT_CLOSED);
    if (!f->drop)
        return;
    unsigned inferred = 0;
    check_trace(f->net, &run->traces[ti], &inferred);
    assert_int_equal(inferred, 0);
    f->checked++;
    rg_trace_store_drop(run, ti);
    protect_dropped(run, ti);
}

/* One fed run; with a store, each trace is checked and dropped when handed. */
static void fed_run(bool store)
{
    fn_net net;
    assert_true(fn_net_init(&net, "192.0.2.1"));
    net.delay_ns = 2 * MS;
    int hops[4];
    char a[32];
    for (int i = 0; i < 4; i++) {
        snprintf(a, sizeof a, "198.18.%d.1", i + 1);
        hops[i] = fn_router_add(&net, a, false, false);
    }
    for (int i = 0; i < NDEST; i++) {
        snprintf(a, sizeof a, "203.0.113.%d", i + 10);
        fn_dest *d = fn_dest_add(&net, a, hops, NULL, 4);
        fn_dest_port(d, 80, FN_OPEN);
        fn_dest_port(d, 443, i % 2 ? FN_CLOSED : FN_OPEN);
        if (i == 0)
            fn_dest_port(d, 8080, FN_CLOSED);
    }
    feeder f = {.net = &net, .drop = store};
    rg_run run = {0};
    if (store)
        assert_true(rg_trace_store_open(&run, 3 * NDEST));
    rg_sockets socks;
    fn_net_sockets(&net, &socks);
    rg_engine_opts o = {.rate = 5000, .timeout = 0.5, .gap = 5, .retries = 1,
                        .max_inflight = WINDOW, .trace_done = done, .trace_done_ctx = &f,
                        .feed = feed, .feed_ctx = &f, .feed_max = 3 * NDEST};
    char err[256] = "";
    if (!rg_engine_run(&run, &socks, &o, NULL, NULL, NULL, err, sizeof err))
        fail_msg("engine: %s", err);
    assert_false(run.stats.idle_stop);
    assert_int_equal(net.unknown_sends, 0);
    assert_int_equal(run.ntraces, 2 * NDEST + 1);
    assert_true(f.waits > 0);
    assert_true(f.most_room <= WINDOW);
    /* Fed and not handed: the window's traces, and ended ones waiting for
     * their address's other ports (all started, so in the window) to be
     * handed with them: at most one a trace in the window, two for the
     * address with three ports. */
    if (f.inflight_most > 2 * WINDOW + 1)
        fail_msg("%zu traces fed and not handed, window %d", f.inflight_most, WINDOW);
    unsigned inferred = 0;
    for (size_t i = 0; i < run.ntraces; i++) {
        assert_int_equal(f.handed[i], 1);
        if (!store)
            check_trace(&net, &run.traces[i], &inferred);
    }
    if (store) { /* each checked when handed, then dropped */
        assert_int_equal(f.checked, run.ntraces);
        assert_int_equal(rg_trace_store_ndropped(&run), run.ntraces);
    }
    assert_int_equal(inferred, 0);
    assert_int_equal(run.stats.hops_inferred, 0);
    rg_run_free(&run);
    fn_net_free(&net);
}

static void test_fed_traces_right_and_handed_once(void **state)
{
    (void)state;
    fed_run(false);
}

static void test_fed_traces_dropped_once_written_never_touched_again(void **state)
{
    (void)state;
    fed_run(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fed_traces_right_and_handed_once),
        cmocka_unit_test(test_fed_traces_dropped_once_written_never_touched_again),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
