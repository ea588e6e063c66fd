/* The scheduler against a simulated network (fake_net): what goes out when,
 * given routers that answer, rate-limit or stay silent, and destinations
 * whose ports are open, closed or filtered, probed with TCP SYNs (most
 * scenarios), UDP or ICMP echo (scenarios 5 and 6). Each scenario checks exact
 * outcomes against the simulated topology (every hop, every port state,
 * every label) and counts, never wall times: speed belongs to benchmarks.
 * Time is real (the engine reads the clock), so limiter rates are scaled up
 * and bounds are generous where timing enters; each scenario takes a few
 * seconds at most, and a run that ends on the engine's 5 s idle safety net
 * fails (rg_run_stats.idle_stop). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine.h"
#include "model/infer.h"
#include "fake_net.h"
#include "model/result.h"

#define MS 1000000ull

static const char *const SELF = "192.0.2.1";

/* One trace per (destination, port), with fixed source ports and sequence
 * bases, so the ECMP branch each flow takes is the same on every run. */
static void plan(rg_run *run, const fn_net *net, unsigned max_ttl, unsigned retries,
                 unsigned salt)
{
    memset(run, 0, sizeof *run);
    size_t n = 0;
    for (size_t i = 0; i < net->ndests; i++)
        n += net->dests[i].nports;
    run->traces = calloc(n, sizeof *run->traces);
    assert_non_null(run->traces);
    for (size_t i = 0; i < net->ndests; i++) {
        const fn_dest *d = &net->dests[i];
        for (size_t p = 0; p < d->nports; p++) {
            rg_trace *t = &run->traces[run->ntraces];
            char name[RG_ADDR_STRLEN];
            rg_addr_format(&d->addr, name, sizeof name);
            assert_true(rg_trace_init(t, name, &d->addr, d->port[p], 1, max_ttl,
                                      rg_attempts_for(retries)));
            t->src = net->self;
            t->sport = (uint16_t)(40000 + 37 * run->ntraces + 1009 * salt);
            t->seq_base = 0x1000u * (uint32_t)(run->ntraces + 1) + 0x55000000u;
            run->ntraces++;
        }
    }
}

/* As a run from main: every trace compacted when it ends (expanded again
 * if probed once more), so each scenario's ground truth holds for the
 * compact form too. */
static void run_engine(fn_net *net, rg_run *run, const rg_engine_opts *o)
{
    rg_sockets socks;
    fn_net_sockets(net, &socks);
    char err[256] = "";
    rg_engine_opts co = *o;
    co.compact = true;
    bool ok = rg_engine_run(run, &socks, &co, NULL, NULL, NULL, err, sizeof err);
    if (!ok)
        fail_msg("engine: %s", err);
    assert_int_equal(net->unknown_sends, 0);
    assert_int_equal(net->bad_checksums, 0); /* every UDP/ICMP probe valid */
    assert_false(run->stats.idle_stop); /* every trace ended by the engine */
    for (size_t i = 0; i < run->ntraces; i++)
        assert_true(rg_trace_is_compact(&run->traces[i]));
}

static enum rg_port_state expected_state(const fn_dest *d, uint16_t port)
{
    for (size_t i = 0; i < d->nports; i++)
        if (d->port[i] == port)
            return d->state[i] == FN_OPEN     ? RG_PORT_OPEN
                   : d->state[i] == FN_CLOSED ? RG_PORT_CLOSED
                                              : RG_PORT_FILTERED;
    return RG_PORT_UNKNOWN;
}

static bool any_answer(const rg_trace *t)
{
    for (size_t k = 0; k < rg_trace_slots(t); k++)
        if (t->probes[k].kind != RG_REPLY_NONE)
            return true;
    return false;
}

/* Why a silent port is unknown rather than filtered (RG_WHY_NONE: it is
 * filtered): a trace that got no answer at all has no sign its probes got
 * anywhere (RG_WHY_NO_ANSWER); UDP silence where they did arrive may be an
 * open port whose service ignores our payload (RG_WHY_OPEN_FILTERED). */
static enum rg_unknown_why silence_why(const rg_trace *t)
{
    if (!any_answer(t))
        return RG_WHY_NO_ANSWER;
    return t->method == RG_METHOD_UDP ? RG_WHY_OPEN_FILTERED : RG_WHY_NONE;
}

/* A filtered port is said filtered when something of its trace answered
 * (the probes got somewhere), except with UDP (open-or-filtered); a trace
 * that got no answer at all is unknown, as result.h defines it. ICMP
 * traces' "port" is 0, open when the echo reply comes. */
static void assert_port_states(const fn_net *net, const rg_run *run)
{
    for (size_t i = 0; i < run->ntraces; i++) {
        const rg_trace *t = &run->traces[i];
        const fn_dest *d = fn_find_dest(net, &t->dst);
        assert_non_null(d);
        enum rg_port_state want = expected_state(d, t->dport);
        enum rg_unknown_why why = want == RG_PORT_FILTERED ? silence_why(t) : RG_WHY_NONE;
        if (why != RG_WHY_NONE) {
            want = RG_PORT_UNKNOWN;
            if (t->state == want && t->unknown_why != why)
                fail_msg("%s:%u unknown for reason %d, not %d", t->target, t->dport,
                         (int)t->unknown_why, (int)why);
        }
        if (t->state != want)
            fail_msg("%s:%u is state %d, not %d", t->target, t->dport,
                     (int)t->state, (int)want);
    }
}

typedef struct hop_count {
    unsigned measured, inferred, rate_limited, silent, unlabelled;
} hop_count;

/* Every hop below the destination: a measured or inferred responder must
 * be the router the trace's own flow meets there; a hop with neither is
 * counted by its label. */
static hop_count check_hops(const fn_net *net, const rg_run *run)
{
    hop_count c = {0};
    for (size_t i = 0; i < run->ntraces; i++) {
        const rg_trace *t = &run->traces[i];
        const fn_dest *d = fn_find_dest(net, &t->dst);
        for (unsigned ttl = 1; ttl <= d->nhops; ttl++) {
            int r = fn_route(net, &t->dst, t->sport, t->dport, ttl);
            assert_true(r >= 0);
            const rg_addr *want = &net->routers[r].addr;
            const rg_probe *p = rg_trace_answer(t, ttl);
            const rg_addr *inf = rg_trace_inferred(t, ttl);
            char got[RG_ADDR_STRLEN], exp[RG_ADDR_STRLEN];
            rg_addr_format(want, exp, sizeof exp);
            if (p) {
                assert_int_equal(p->kind, RG_REPLY_TIME_EXCEEDED);
                if (!rg_addr_equal(&p->from, want))
                    fail_msg("%s:%u TTL %u measured %s, not %s", t->target, t->dport, ttl,
                             rg_addr_format(&p->from, got, sizeof got), exp);
                assert_null(inf); /* never both */
                c.measured++;
            } else if (inf) {
                if (!rg_addr_equal(inf, want))
                    fail_msg("%s:%u TTL %u inferred %s, not %s", t->target, t->dport, ttl,
                             rg_addr_format(inf, got, sizeof got), exp);
                c.inferred++;
            } else if (rg_trace_silence(t, ttl) == RG_SILENCE_RATE_LIMITED) {
                c.rate_limited++;
            } else if (rg_trace_silence(t, ttl) == RG_SILENCE_SILENT) {
                c.silent++;
            } else {
                c.unlabelled++;
            }
        }
    }
    return c;
}

static fn_log *first_send(const fn_net *net, const rg_trace *t, unsigned ttl, size_t *at)
{
    for (size_t i = 0; i < net->nlog; i++) {
        fn_log *e = &net->log[i];
        if (e->event == FN_SENT && e->sport == t->sport && e->dport == t->dport &&
            e->ttl == ttl && rg_addr_equal(&e->dst, &t->dst)) {
            *at = i;
            return e;
        }
    }
    return NULL;
}

/* Runs the engine (run_engine's checks), then checks every port state and
 * every hop against the network: fails on any wrong one. */
static hop_count run_checked(fn_net *net, rg_run *run, const rg_engine_opts *o)
{
    run_engine(net, run, o);
    assert_port_states(net, run);
    return check_hops(net, run);
}

/* The line every scenario prints of its hops (what, then the counts of
 * nhops hops per trace). */
static void print_hops(const char *what, const hop_count *c, const rg_run *run, unsigned nhops)
{
    print_message("# %s: %u hops measured, %u inferred, %u rate-limited, %u silent of %zu; "
                  "%llu probes\n", what, c->measured, c->inferred, c->rate_limited, c->silent,
                  run->ntraces * nhops, (unsigned long long)run->stats.probes_sent);
}

/* A line of n routers, 198.18.0.1 first, answering after 2 ms each; router
 * i is silent when bit i of silent is set. */
static void line_net(fn_net *net, int *hops, int n, unsigned silent)
{
    assert_true(fn_net_init(net, SELF));
    net->delay_ns = 2 * MS;
    char a[32];
    for (int i = 0; i < n; i++) {
        snprintf(a, sizeof a, "198.18.0.%d", i + 1);
        hops[i] = fn_router_add(net, a, (silent >> i) & 1u, false);
    }
}

/* 1. No router ever answers: the ports' states come from the port probes
 * alone (open, closed; a filtered port, whose trace got no answer at all,
 * unknown for want of any sign its probes arrived), nothing is inferred,
 * and every hop probed is labelled silent. */
static void test_silent_routers_ports_from_port_probes(void **state)
{
    (void)state;
    fn_net net;
    int hops[4];
    line_net(&net, hops, 4, 0xfu);
    fn_dest *d1 = fn_dest_add(&net, "203.0.113.10", hops, NULL, 4);
    fn_dest_port(d1, 80, FN_OPEN);
    fn_dest_port(d1, 443, FN_CLOSED);
    fn_dest *d2 = fn_dest_add(&net, "203.0.113.20", hops, NULL, 4);
    fn_dest_port(d2, 80, FN_OPEN);
    fn_dest_port(d2, 443, FN_FILTERED);
    fn_dest *d3 = fn_dest_add(&net, "203.0.113.30", hops, NULL, 3);
    fn_dest_port(d3, 80, FN_FILTERED);
    rg_run run;
    plan(&run, &net, 16, 1, 0);
    rg_engine_opts o = {.rate = 5000, .timeout = 0.5, .gap = 5, .retries = 1};
    hop_count c = run_checked(&net, &run, &o);
    assert_int_equal(c.measured, 0);
    assert_int_equal(c.inferred, 0);
    assert_int_equal(c.rate_limited, 0);
    assert_int_equal(c.unlabelled, 0);
    /* Every hop of every trace was probed (the port probes showed how far
     * each destination is; the filtered one was probed up to --gap). */
    assert_int_equal(c.silent, 4 * 4 + 3);
    for (size_t i = 0; i < net.nrouters; i++)
        assert_int_equal(net.routers[i].answered, 0);
    assert_int_equal(run.stats.hops_inferred, 0);
    rg_run_free(&run);
    fn_net_free(&net);
}

/* The network of scenarios 2 to 6, no router yet: answers after 2 ms plus
 * 1 ms a hop, every limiter a bucket of burst tokens refilled at rate per
 * second. */
static void limits_net(fn_net *net, double rate, double burst)
{
    assert_true(fn_net_init(net, SELF));
    net->delay_ns = 2 * MS;
    net->per_hop_ns = 1 * MS;
    net->limit_rate = rate;
    net->limit_burst = burst;
}

/* limits_net with a shared path R1 R2 {R3a | R3b} R4 (its routers limited
 * or not) for the destinations to sit behind. */
static void limited_net(fn_net *net, int *hops, int *twin, double rate, double burst,
                        bool limited)
{
    limits_net(net, rate, burst);
    char a[32];
    for (int i = 0; i < 4; i++) {
        snprintf(a, sizeof a, "198.18.%d.1", i + 1);
        hops[i] = fn_router_add(net, a, false, limited);
        twin[i] = FN_NONE;
    }
    twin[2] = fn_router_add(net, "198.18.30.1", false, limited);
}

/* Sixteen destinations behind the shared path, in one /24 (203.0.113.10
 * to .25) or spread over eight (198.51.100.x to 198.51.107.x), two ports
 * each by the method's numbers (ICMP: its one "port", 0): the first open
 * but every fourth destination's filtered, the second closed and filtered
 * in turn. Each is limited, as its routers are. */
static void sixteen_dests(fn_net *net, const int *hops, const int *twin, bool spread,
                          uint8_t method)
{
    char a[32];
    for (int i = 0; i < 16; i++) {
        if (spread)
            snprintf(a, sizeof a, "198.51.%d.%d", 100 + i % 8, 10 + i);
        else
            snprintf(a, sizeof a, "203.0.113.%d", 10 + i);
        fn_dest *d = fn_dest_add(net, a, hops, twin, 4);
        assert_true(d->limited);
        enum fn_port_state first = i % 4 == 3 ? FN_FILTERED : FN_OPEN;
        if (method == RG_METHOD_ICMP) {
            fn_dest_port(d, 0, first);
            continue;
        }
        bool udp = method == RG_METHOD_UDP;
        fn_dest_port(d, udp ? 53 : 80, first);
        fn_dest_port(d, udp ? 33434 : 443, i % 2 ? FN_CLOSED : FN_FILTERED);
    }
}

/* The pacer's promise: every router answered some, and none was asked more
 * than about twice what its limiter let through, plus a start-up
 * allowance. */
static void assert_routers_paced(const fn_net *net)
{
    for (size_t i = 0; i < net->nrouters; i++) {
        const fn_router *r = &net->routers[i];
        print_message("# router %zu: asked %u, answered %u\n", i, r->reached, r->answered);
        assert_true(r->answered > 0);
        assert_true(r->reached <= 2 * r->answered + 12);
    }
}

/* Whether the first RG_INFER_WITNESSES traces (the pilots: every
 * trace here is in one /24) cross both branches of the pair at TTL 3.
 * These scenarios test the engine's pace and labels on flows that give the
 * pilots both branches, and say so by asserting it; the pilots' bad luck
 * has its own scenario (test_pilots_all_on_one_branch). */
static bool pilots_cross_both(fn_net *net, const rg_run *run, int twin)
{
    unsigned on_twin = 0, n = 0;
    for (size_t i = 0; i < run->ntraces && n < RG_INFER_WITNESSES; i++, n++)
        on_twin += fn_route(net, &run->traces[i].dst, run->traces[i].sport,
                            run->traces[i].dport, 3) == twin;
    return on_twin > 0 && on_twin < n;
}

/* 2. Every router rate-limited (Linux's limiter, scaled to 20/s after a
 * burst of 6) and 32 traces across an ECMP pair: no hop wrong, measured or
 * inferred; every port state right; hops without a responder labelled
 * rate-limited; and each router asked within a bound of what it answered. */
static void test_rate_limited_shared_path(void **state)
{
    (void)state;
    fn_net net;
    int hops[4], twin[4];
    limited_net(&net, hops, twin, 20.0, 6.0, true);
    sixteen_dests(&net, hops, twin, false, RG_METHOD_TCP);
    rg_run run;
    plan(&run, &net, 16, 1, 0);
    /* Both branches of the pair carry some of the flows. */
    unsigned on_twin = 0;
    for (size_t i = 0; i < run.ntraces; i++)
        on_twin += fn_route(&net, &run.traces[i].dst, run.traces[i].sport,
                            run.traces[i].dport, 3) == twin[2];
    assert_true(on_twin > 0 && on_twin < run.ntraces);
    assert_true(pilots_cross_both(&net, &run, twin[2]));
    rg_engine_opts o = {.rate = 2000, .timeout = 1.0, .gap = 5, .retries = 1};
    hop_count c = run_checked(&net, &run, &o);
    print_hops("rate-limited", &c, &run, 4);
    assert_int_equal(c.silent, 0);      /* every router answers some */
    assert_int_equal(c.unlabelled, 0);
    assert_routers_paced(&net);
    rg_run_free(&run);
    fn_net_free(&net);
}

/* 2b. The same path with a stingy limiter (a burst of 3, then 4/s) and
 * --retries 0, the destinations spread over eight /24s (every trace a
 * pilot of its prefix): routers run out for good, so hops stay without a
 * responder. Still no hop wrong and every port state right; every such
 * hop is labelled, some rate-limited. Not all: towards a prefix none of
 * whose traces got an answer at that TTL, a rationed router reads as
 * silent (ARCHITECTURE.md, known limits), a third or more of them here, so
 * silent labels are counted, not forbidden. */
static void test_rationed_routers_across_prefixes(void **state)
{
    (void)state;
    fn_net net;
    int hops[4], twin[4];
    limited_net(&net, hops, twin, 4.0, 3.0, true);
    sixteen_dests(&net, hops, twin, true, RG_METHOD_TCP);
    rg_run run;
    plan(&run, &net, 16, 0, 0);
    rg_engine_opts o = {.rate = 2000, .timeout = 1.0, .gap = 5, .retries = 0};
    hop_count c = run_checked(&net, &run, &o);
    print_hops("rationed", &c, &run, 4);
    /* Over repeated runs 46-63 of these hops were labelled rate-limited
     * and 21-35 silent; on a loaded machine (answers read late) 21 and 38.
     * The counts follow the clock, so only their existence is asserted. */
    assert_true(c.rate_limited > 0);
    assert_int_equal(c.unlabelled, 0);
    for (size_t i = 0; i < net.nrouters; i++)
        assert_true(net.routers[i].answered > 0);
    rg_run_free(&run);
    fn_net_free(&net);
}

/* 3. Port 80 open and 443 filtered behind rate-limited routers, an ECMP
 * pair on the way: inferred hops are rechecked when traces end and once
 * more when all have, and a hop the recheck requeued was skipped again as
 * inferable, for ever (a filtered port had no distance of its own), so
 * runs ended on the idle safety net. Every trace must end by the engine's
 * own rules (run_engine asserts idle_stop is false). Whether the loop
 * formed depended on which flows the limiter starved (about three runs in
 * four against the engine before the fix), so three sets of flows run. */
static void filtered_port_round(unsigned salt)
{
    fn_net net;
    int hops[4], twin[4];
    limited_net(&net, hops, twin, 20.0, 6.0, true);
    char a[32];
    for (int i = 0; i < 16; i++) {
        snprintf(a, sizeof a, "203.0.113.%d", 100 + i);
        fn_dest *d = fn_dest_add(&net, a, hops, twin, 4);
        fn_dest_port(d, 80, FN_OPEN);
        fn_dest_port(d, 443, FN_FILTERED);
    }
    rg_run run;
    plan(&run, &net, 16, 1, salt);
    assert_true(pilots_cross_both(&net, &run, twin[2]));
    rg_engine_opts o = {.rate = 2000, .timeout = 1.0, .gap = 5, .retries = 1};
    hop_count c = run_checked(&net, &run, &o);
    assert_int_equal(c.unlabelled, 0);
    assert_int_equal(c.silent, 0);
    rg_run_free(&run);
    fn_net_free(&net);
}

static void test_filtered_port_run_ends(void **state)
{
    (void)state;
    /* (Salt 1 gives all six pilots one branch: see pilots_cross_both.) */
    for (unsigned salt = 2; salt <= 4; salt++)
        filtered_port_round(salt);
}

/* Gives trace t a source port whose flow takes the pair's first branch
 * (other == false) or its second at TTL 3. */
static void force_branch(const fn_net *net, rg_trace *t, int twin, bool other)
{
    for (unsigned sport = 30000; sport < 40000; sport++) {
        if ((fn_route(net, &t->dst, (uint16_t)sport, t->dport, 3) == twin) == other) {
            t->sport = (uint16_t)sport;
            return;
        }
    }
    fail_msg("no source port takes the %s branch", other ? "second" : "first");
}

/* 3b. The witnesses' bad luck, made certain: the first six traces of the
 * prefix take the first branch of a pair whose routers answer from their
 * own addresses at TTLs 3 and 4 (both hops name the branch), every other
 * trace the second. Six flows agree, none against, and are wrong for every
 * other flow: a hop shown for those must be the second branch's router,
 * measured, or none (labelled). When six pilots and six witnesses were the
 * rule, each of these went wrong (the first branch's routers shown at TTLs
 * 3 and 4 for the others): routers that answer everything, as in the plain
 * lab, the others holding back while the pilots' answers came in;
 * rate-limited routers and four other traces; the second branch's routers
 * silent (two traces there), so no other trace could ever disagree. */
static void one_branch_round(bool limited, bool twin_silent, int ndests)
{
    fn_net net;
    limits_net(&net, 20.0, 6.0);
    int hops[5], twin[5];
    char a[32];
    for (int i = 0; i < 5; i++) {
        snprintf(a, sizeof a, "198.18.%d.1", i + 1);
        hops[i] = fn_router_add(&net, a, false, limited);
        twin[i] = FN_NONE;
    }
    twin[2] = fn_router_add(&net, "198.18.30.1", twin_silent, limited);
    twin[3] = fn_router_add(&net, "198.18.40.1", twin_silent, limited);
    for (int i = 0; i < ndests; i++) {
        snprintf(a, sizeof a, "203.0.113.%d", 150 + i);
        fn_dest *d = fn_dest_add(&net, a, hops, twin, 5);
        fn_dest_port(d, 80, FN_OPEN);
        fn_dest_port(d, 443, i % 2 ? FN_CLOSED : FN_OPEN);
    }
    rg_run run;
    plan(&run, &net, 16, 1, 0);
    /* The pilots are the prefix's first traces (engine.c, choose_pilots). */
    assert_true(RG_INFER_WITNESSES > 6);
    for (size_t i = 0; i < run.ntraces; i++)
        force_branch(&net, &run.traces[i], twin[2], i >= 6);
    rg_engine_opts o = {.rate = 2000, .timeout = 1.0, .gap = 5, .retries = 1};
    hop_count c = run_checked(&net, &run, &o); /* fails on any wrong hop */
    char what[96];
    snprintf(what, sizeof what, "six on one branch (%s%s, %d destinations)",
             limited ? "rate-limited" : "answering", twin_silent ? ", second silent" : "",
             ndests);
    print_hops(what, &c, &run, 5);
    assert_int_equal(c.unlabelled, 0);
    if (!twin_silent)
        assert_int_equal(c.silent, 0); /* every router answered some */
    rg_run_free(&run);
    fn_net_free(&net);
}

static void test_pilots_all_on_one_branch(void **state)
{
    (void)state;
    one_branch_round(false, false, 8);
    one_branch_round(true, false, 5);
    /* Few traces: the silent routers' lost probes are charged to the
     * answering branch's pacer, which they slow to its floor (ARCHITECTURE.md,
     * known limits), so each of those traces costs seconds. */
    one_branch_round(false, true, 4);
}

/* 4. R3 never answers, the routers around it do: TTL 4 and the
 * destination's TTL go out without waiting for TTL 3, and TTL 3 is given
 * up after its one retry, labelled silent. Every answer takes as long, so
 * TTL 1's and the port probe's come back together: from then on the
 * distance is known and TTLs 2-5 may all go at once, before anything from
 * TTL 2 up has answered (an engine that waited for each hop, or for a
 * silent one's wait, would show an answer from TTL 2 or 4 first). */
static void test_silent_router_in_the_middle(void **state)
{
    (void)state;
    fn_net net;
    int hops[4];
    line_net(&net, hops, 4, 1u << 2);
    net.delay_ns = 40 * MS; /* the same for every hop: see below */
    char a[32];
    for (int i = 0; i < 3; i++) {
        snprintf(a, sizeof a, "203.0.113.%d", 50 + i);
        fn_dest_port(fn_dest_add(&net, a, hops, NULL, 4), 80, FN_OPEN);
    }
    rg_run run;
    plan(&run, &net, 16, 1, 0);
    rg_engine_opts o = {.rate = 5000, .timeout = 2.0, .gap = 5, .retries = 1};
    hop_count c = run_checked(&net, &run, &o);
    assert_int_equal(c.measured, 3 * 3);
    assert_int_equal(c.silent, 3);
    assert_int_equal(c.inferred + c.rate_limited + c.unlabelled, 0);
    for (size_t i = 0; i < run.ntraces; i++) {
        const rg_trace *t = &run.traces[i];
        assert_int_equal(rg_trace_silence(t, 3), RG_SILENCE_SILENT);
        assert_int_equal(rg_trace_sent(t, 3), 2); /* one retry, then given up */
        size_t at3 = 0, at4 = 0, at5 = 0;
        assert_non_null(first_send(&net, t, 3, &at3));
        assert_non_null(first_send(&net, t, 4, &at4));
        assert_non_null(first_send(&net, t, 5, &at5));
        /* Nothing from TTL 2 up had come back when TTLs 4 and 5 went. */
        for (size_t k = 0; k < at5 || k < at4; k++) {
            const fn_log *e = &net.log[k];
            if (e->event == FN_DELIVERED && e->reached != FN_DEST &&
                rg_addr_equal(&e->dst, &t->dst) && e->ttl >= 2)
                fail_msg("%s: TTL %u answered before TTL 4/5 went out", t->target, e->ttl);
        }
    }
    rg_run_free(&run);
    fn_net_free(&net);
}


/* Makes the run probe with method (the network's sockets follow it). */
static void use_method(fn_net *net, rg_run *run, uint8_t method)
{
    net->method = method;
    for (size_t i = 0; i < run->ntraces; i++)
        run->traces[i].method = method;
}

/* Every open port's verdict rests on the destination's own answer of the
 * method (a UDP datagram bringing the probe's seq back, an echo reply), and
 * every closed one on its port unreachable. */
static void assert_deciding_answers(const rg_run *run)
{
    for (size_t i = 0; i < run->ntraces; i++) {
        const rg_trace *t = &run->traces[i];
        if (t->state != RG_PORT_OPEN && t->state != RG_PORT_CLOSED)
            continue;
        const rg_probe *p = rg_trace_deciding(t);
        assert_non_null(p);
        if (!rg_addr_equal(&p->from, &t->dst))
            fail_msg("%s:%u decided by an answer from elsewhere", t->target, t->dport);
        uint8_t want = t->state == RG_PORT_CLOSED        ? RG_REPLY_PORT_UNREACH
                       : t->method == RG_METHOD_UDP ? RG_REPLY_UDP
                                                    : RG_REPLY_ECHO;
        if (p->kind != want)
            fail_msg("%s:%u decided by reply kind %d, not %d", t->target, t->dport,
                     (int)p->kind, (int)want);
    }
}

/* 5. The rate-limited shared path of scenario 2 probed with UDP and with
 * ICMP echo: the same exact hops (the flow, UDP's ports or ICMP's echo
 * identifier, keeps each trace on its branch of the pair; no hop wrong,
 * measured or inferred), every hop without a responder labelled, and each
 * method's states: UDP open (the echoed payload), closed (the
 * destination's port unreachable, through its own limiter like the
 * routers'), unknown open-or-filtered for silence; ICMP open on the echo
 * reply, filtered when the destination stays silent. */
static void method_round(uint8_t method, unsigned salt)
{
    fn_net net;
    int hops[4], twin[4];
    limited_net(&net, hops, twin, 20.0, 6.0, true);
    sixteen_dests(&net, hops, twin, false, method);
    rg_run run;
    plan(&run, &net, 16, 1, salt);
    use_method(&net, &run, method);
    assert_true(pilots_cross_both(&net, &run, twin[2]));
    rg_engine_opts o = {.rate = 2000, .timeout = 1.0, .gap = 5, .retries = 1};
    hop_count c = run_checked(&net, &run, &o);
    assert_deciding_answers(&run);
    char what[32];
    snprintf(what, sizeof what, "%s rate-limited", rg_method_name(method));
    print_hops(what, &c, &run, 4);
    assert_int_equal(c.silent, 0);      /* every router answers some */
    assert_int_equal(c.unlabelled, 0);
    assert_routers_paced(&net);
    rg_run_free(&run);
    fn_net_free(&net);
}

static void test_udp_rate_limited_shared_path(void **state)
{
    (void)state;
    method_round(RG_METHOD_UDP, 0);
}

static void test_icmp_rate_limited_shared_path(void **state)
{
    (void)state;
    method_round(RG_METHOD_ICMP, 0);
}

/* 5b. Scenario 2b's stingy limiter (a burst of 3, then 4/s; --retries 0;
 * eight /24s) with UDP and ICMP: routers run out, so hops go without a
 * responder; still no hop wrong, every hop labelled, some rate-limited,
 * and every state right (UDP destinations ration their port unreachables
 * the same way). */
static void rationed_method_round(uint8_t method)
{
    fn_net net;
    int hops[4], twin[4];
    limited_net(&net, hops, twin, 4.0, 3.0, true);
    sixteen_dests(&net, hops, twin, true, method);
    rg_run run;
    plan(&run, &net, 16, 0, 0);
    use_method(&net, &run, method);
    rg_engine_opts o = {.rate = 2000, .timeout = 1.0, .gap = 5, .retries = 0};
    hop_count c = run_checked(&net, &run, &o);
    assert_deciding_answers(&run);
    char what[32];
    snprintf(what, sizeof what, "%s rationed", rg_method_name(method));
    print_hops(what, &c, &run, 4);
    assert_true(c.rate_limited > 0);
    assert_int_equal(c.unlabelled, 0);
    for (size_t i = 0; i < net.nrouters; i++)
        assert_true(net.routers[i].answered > 0);
    rg_run_free(&run);
    fn_net_free(&net);
}

static void test_rationed_routers_udp_icmp(void **state)
{
    (void)state;
    rationed_method_round(RG_METHOD_UDP);
    rationed_method_round(RG_METHOD_ICMP);
}

/* 6. Routers that answer everything, destinations whose port unreachables
 * are rate-limited (a burst of 3, then 10/s), each with four closed UDP
 * ports and an ECMP pair on the way: the traces of one address all end at
 * its limiter (port probes and the probes at its distance), which the
 * engine paces as a router's, so every closed port comes out closed, not
 * open-or-filtered, and the destination is asked within a bound of what it
 * answered. */
static void test_udp_destination_limited(void **state)
{
    (void)state;
    fn_net net;
    int hops[4], twin[4];
    limited_net(&net, hops, twin, 10.0, 3.0, false);
    char a[32];
    for (int i = 0; i < 4; i++) {
        snprintf(a, sizeof a, "203.0.113.%d", 200 + i);
        fn_dest *d = fn_dest_add(&net, a, hops, twin, 4);
        assert_false(d->limited);
        d->limited = true;
        for (uint16_t p = 0; p < FN_MAX_PORTS; p++)
            fn_dest_port(d, (uint16_t)(33434 + p), FN_CLOSED);
    }
    rg_run run;
    plan(&run, &net, 16, 1, 0);
    use_method(&net, &run, RG_METHOD_UDP);
    rg_engine_opts o = {.rate = 2000, .timeout = 1.0, .gap = 5, .retries = 1};
    hop_count c = run_checked(&net, &run, &o);
    assert_deciding_answers(&run);
    assert_int_equal(c.measured, run.ntraces * 4); /* the routers answer all */
    for (size_t i = 0; i < run.ntraces; i++)
        assert_int_equal(run.traces[i].reached_ttl, 5);
    for (size_t i = 0; i < net.ndests; i++) {
        const fn_dest *d = &net.dests[i];
        print_message("# destination %zu: reached %u times, %u port unreachables sent, "
                      "%u held back\n", i, d->reached, d->unreach_sent, d->unreach_held);
        assert_true(d->unreach_held > 0); /* the limiter did hold some back */
        assert_true(d->reached <= 2 * d->unreach_sent + 12);
    }
    rg_run_free(&run);
    fn_net_free(&net);
}

/* 7. Scenario 1 (no router ever answers) with UDP and ICMP: the states come
 * from the destination's answers alone (UDP open: the echoed payload;
 * closed: its port unreachable; ICMP open: the echo reply), a trace that
 * got nothing at all is unknown (no-answer), nothing is measured or
 * inferred, and every hop below each destination is labelled silent. */
static void silent_routers_round(uint8_t method)
{
    fn_net net;
    int hops[4];
    line_net(&net, hops, 4, 0xfu);
    bool udp = method == RG_METHOD_UDP;
    fn_dest *d1 = fn_dest_add(&net, "203.0.113.10", hops, NULL, 4);
    fn_dest_port(d1, udp ? 53 : 0, FN_OPEN);
    if (udp)
        fn_dest_port(d1, 33434, FN_CLOSED);
    fn_dest *d2 = fn_dest_add(&net, "203.0.113.20", hops, NULL, 4);
    fn_dest_port(d2, udp ? 53 : 0, FN_OPEN);
    if (udp)
        fn_dest_port(d2, 33435, FN_FILTERED);
    fn_dest *d3 = fn_dest_add(&net, "203.0.113.30", hops, NULL, 3);
    fn_dest_port(d3, udp ? 53 : 0, FN_FILTERED);
    rg_run run;
    plan(&run, &net, 16, 1, 0);
    use_method(&net, &run, method);
    rg_engine_opts o = {.rate = 5000, .timeout = 0.5, .gap = 5, .retries = 1};
    hop_count c = run_checked(&net, &run, &o);
    assert_deciding_answers(&run);
    unsigned below = 0, unknown = 0;
    for (size_t i = 0; i < run.ntraces; i++) {
        below += fn_find_dest(&net, &run.traces[i].dst)->nhops;
        unknown += run.traces[i].state == RG_PORT_UNKNOWN;
    }
    assert_int_equal(unknown, udp ? 2 : 1); /* the silent ports' traces */
    assert_int_equal(c.measured + c.inferred + c.rate_limited + c.unlabelled, 0);
    assert_int_equal(c.silent, below);
    for (size_t i = 0; i < net.nrouters; i++)
        assert_int_equal(net.routers[i].answered, 0);
    rg_run_free(&run);
    fn_net_free(&net);
}

static void test_silent_routers_udp_icmp(void **state)
{
    (void)state;
    silent_routers_round(RG_METHOD_UDP);
    silent_routers_round(RG_METHOD_ICMP);
}

/* Answers slower than --timeout: each probe is given up before its answer
 * comes, so answers arrive late, many after their trace has ended (and
 * was compacted, its engine state freed): they still count, recorded in
 * the compact trace: every answer the engine read is in its slot, and
 * every router's answer is the right router's. */
static void test_late_answers_to_ended_traces(void **state)
{
    (void)state;
    fn_net net;
    int hops[3];
    line_net(&net, hops, 3, 0);
    net.delay_ns = 150 * MS;
    char a[32];
    for (int i = 0; i < 8; i++) {
        snprintf(a, sizeof a, "203.0.113.%d", 70 + i);
        fn_dest_port(fn_dest_add(&net, a, hops, NULL, 3), 80, FN_OPEN);
    }
    rg_run run;
    plan(&run, &net, 6, 0, 0);
    rg_engine_opts o = {.rate = 40, .timeout = 0.05, .gap = 2, .retries = 0};
    run_engine(&net, &run, &o);
    hop_count c = check_hops(&net, &run);
    /* Every answer the engine read is in its trace's slot. */
    size_t read = 0;
    for (size_t k = 0; k < net.nlog; k++) {
        const fn_log *e = &net.log[k];
        if (e->event != FN_DELIVERED)
            continue;
        const rg_probe *p = NULL;
        for (size_t i = 0; i < run.ntraces && !p; i++) {
            const rg_trace *t = &run.traces[i];
            if (t->sport != e->sport || !rg_addr_equal(&t->dst, &e->dst))
                continue;
            for (unsigned ttl = 0; ttl <= t->max_ttl && !p; ttl++)
                for (unsigned at = 0; at < t->attempts && !p; at++)
                    if (rg_probe_seq(t->seq_base, ttl, at) == e->seq)
                        p = rg_trace_probe(t, ttl, at);
        }
        assert_non_null(p);
        assert_int_not_equal(p->kind, RG_REPLY_NONE);
        read++;
    }
    print_message("# late: %u hops measured, %zu answers read, %llu matched, %llu probes\n",
                  c.measured, read, (unsigned long long)run.stats.matched,
                  (unsigned long long)run.stats.probes_sent);
    assert_int_equal(read, run.stats.matched);
    assert_true(c.measured > 0);
    rg_run_free(&run);
    fn_net_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_late_answers_to_ended_traces),
        cmocka_unit_test(test_silent_routers_ports_from_port_probes),
        cmocka_unit_test(test_rate_limited_shared_path),
        cmocka_unit_test(test_rationed_routers_across_prefixes),
        cmocka_unit_test(test_filtered_port_run_ends),
        cmocka_unit_test(test_pilots_all_on_one_branch),
        cmocka_unit_test(test_silent_router_in_the_middle),
        cmocka_unit_test(test_udp_rate_limited_shared_path),
        cmocka_unit_test(test_icmp_rate_limited_shared_path),
        cmocka_unit_test(test_rationed_routers_udp_icmp),
        cmocka_unit_test(test_udp_destination_limited),
        cmocka_unit_test(test_silent_routers_udp_icmp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
