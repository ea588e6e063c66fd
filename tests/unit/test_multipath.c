/* The multipath scheduler (engine/multipath.c) against the simulated
 * network (fake_net.c): every branch of every equal-cost pair is found,
 * every answer is attributed to the flow that took that branch (no branch
 * invented), a silent router becomes a silent next hop, and rate-limited
 * routers still give every branch. Probe counts are printed as figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/engine.h"
#include "engine/multipath.h"
#include "fake_net.h"

#define MS 1000000ull

static const char *const SELF = "192.0.2.1";

/* R1, {R2a | R2b}, R3, {R4a | R4b}, R5 before the destination. */
static fn_dest *two_diamonds(fn_net *net, bool silent3, bool limited)
{
    static const char *const names[] = {"198.18.0.1", "198.18.1.1", "198.18.3.1", "198.18.2.1",
                                        "198.18.4.1", "198.18.6.1", "198.18.5.1"};
    int r[7];
    for (int i = 0; i < 7; i++)
        r[i] = fn_router_add(net, names[i], silent3 && i == 3, limited);
    int hops[5] = {r[0], r[1], r[3], r[4], r[6]};
    int twin[5] = {FN_NONE, r[2], FN_NONE, r[5], FN_NONE};
    fn_dest *d = fn_dest_add(net, "203.0.113.10", hops, twin, 5);
    fn_dest_port(d, 80, FN_OPEN);
    fn_dest_port(d, 443, FN_CLOSED);
    return d;
}

/* What the prober's routing table says about the first hop (NULL: not
 * asked, the first TTL is probed like any). */
static enum rg_route_paths (*route_answer)(const rg_addr *src, const rg_addr *dst);

static enum rg_route_paths route_single(const rg_addr *src, const rg_addr *dst)
{
    (void)src, (void)dst;
    return RG_ROUTE_SINGLE;
}

static enum rg_route_paths route_multi(const rg_addr *src, const rg_addr *dst)
{
    (void)src, (void)dst;
    return RG_ROUTE_MULTI;
}

static void run_both(fn_net *net, rg_run *run, unsigned confidence)
{
    memset(run, 0, sizeof *run);
    run->traces = calloc(net->ndests * FN_MAX_PORTS, sizeof *run->traces);
    assert_non_null(run->traces);
    for (size_t i = 0; i < net->ndests; i++) {
        const fn_dest *d = &net->dests[i];
        for (size_t p = 0; p < d->nports; p++) {
            rg_trace *t = &run->traces[run->ntraces];
            assert_true(rg_trace_init(t, "d", &d->addr, d->port[p], 1, 16, rg_attempts_for(1)));
            t->src = net->self;
            t->sport = (uint16_t)(40000 + 101 * run->ntraces);
            t->seq_base = 0x1000u * (uint32_t)(run->ntraces + 1) + 0x55000000u;
            run->ntraces++;
        }
    }
    rg_sockets socks;
    fn_net_sockets(net, &socks);
    char err[256] = "";
    rg_engine_opts eo = {.rate = 5000, .timeout = 0.5, .gap = 5, .retries = 1};
    if (!rg_engine_run(run, &socks, &eo, NULL, NULL, NULL, err, sizeof err))
        fail_msg("engine: %s", err);
    rg_mp_opts mo = {.confidence = confidence, .rate = 5000, .timeout = 0.5,
                     .route_paths = route_answer};
    if (!rg_multipath_run(run, &socks, &mo, NULL, err, sizeof err))
        fail_msg("multipath: %s", err);
    assert_int_equal(net->unknown_sends, 0);
}

/* Every answer the record holds is what the network says that flow meets. */
static void assert_attributed(const fn_net *net, const rg_mpath *m)
{
    for (size_t i = 0; i < m->nobs; i++) {
        const rg_mp_obs *o = &m->obs[i];
        int r = fn_route(net, &m->dst, o->flow, m->dport, o->ttl);
        const rg_addr *want = r == FN_DEST ? &m->dst : &net->routers[r].addr;
        assert_true(rg_addr_equal(&o->from, want));
    }
}

static void assert_branches(const rg_mpath *m, unsigned ttl, const char *a, const char *b)
{
    rg_addr got[4], x, y;
    size_t n = rg_mpath_branches(m, ttl, got, 4);
    assert_true(rg_addr_parse(a, &x));
    if (!b) {
        assert_int_equal(n, 1);
        assert_true(rg_addr_equal(&got[0], &x));
        return;
    }
    assert_true(rg_addr_parse(b, &y));
    assert_int_equal(n, 2);
    assert_true(rg_addr_equal(&got[0], &x) && rg_addr_equal(&got[1], &y));
}

static void check_two_diamonds(const fn_net *net, const rg_run *run, unsigned confidence)
{
    assert_int_equal(run->nmpaths, 1); /* both ports share one discovery */
    const rg_mpath *m = &run->mpaths[0];
    assert_ptr_equal(run->traces[0].mpath, m);
    assert_ptr_equal(run->traces[1].mpath, m);
    assert_int_equal(m->confidence, confidence);
    assert_int_equal(m->first_ttl, 1);
    assert_int_equal(m->last_ttl, 6);
    assert_branches(m, 1, "198.18.0.1", NULL);
    assert_branches(m, 2, "198.18.1.1", "198.18.3.1");
    assert_branches(m, 3, "198.18.2.1", NULL);
    assert_branches(m, 4, "198.18.4.1", "198.18.6.1");
    assert_branches(m, 5, "198.18.5.1", NULL);
    assert_branches(m, 6, "203.0.113.10", NULL);
    for (unsigned ttl = 1; ttl <= 6; ttl++)
        assert_int_equal(m->hop_state[ttl], RG_MP_HOP_RULE);
    assert_attributed(net, m);
    /* the edges: R3 fans out to both R4s, each R2 leads to R3 */
    rg_addr p[4], r3, r4b;
    assert_true(rg_addr_parse("198.18.2.1", &r3) && rg_addr_parse("198.18.6.1", &r4b));
    assert_int_equal(rg_mpath_preds(m, 4, &r4b, p, 4), 1);
    assert_true(rg_addr_equal(&p[0], &r3));
    assert_int_equal(rg_mpath_preds(m, 3, &r3, p, 4), 2);
}

static void test_two_diamonds_95_and_99(void **state)
{
    (void)state;
    for (unsigned conf = 95; conf <= 99; conf += 4) {
        fn_net net;
        assert_true(fn_net_init(&net, SELF));
        net.delay_ns = 1 * MS;
        two_diamonds(&net, false, false);
        rg_run run;
        run_both(&net, &run, conf);
        check_two_diamonds(&net, &run, conf);
        printf("# figure: two 2-way diamonds, %u%%: %llu multipath probes\n", conf,
               (unsigned long long)run.mpaths[0].probes);
        /* The rule's floor, flows reused from hop to hop: n_1 at TTL 1, n_2
         * behind R1, n_1 behind each R2, n_2 behind R3, n_1 behind each R4,
         * and behind R5 the destination, which one answer shows (95%:
         * 6+11+12+11+12+1 = 53, 99%: 71), less the trace's own flow, plus
         * the flows sent to a branch's TTL before to steer them (node
         * control): a few over the floor at most. */
        assert_in_range(run.mpaths[0].probes, 1, conf == 95 ? 64 : 88);
        rg_run_free(&run);
        fn_net_free(&net);
    }
}

/* The routing table's single next hop settles the first TTL with the
 * trace's own answer: n_1 - 1 probes fewer, the TTL marked as such; a
 * table with several next hops (or none asked) leaves it to the rule. */
static void test_first_hop_from_routing_table(void **state)
{
    (void)state;
    enum rg_route_paths (*answers[])(const rg_addr *, const rg_addr *) = {route_single,
                                                                          route_multi};
    for (size_t i = 0; i < 2; i++) {
        fn_net net;
        assert_true(fn_net_init(&net, SELF));
        net.delay_ns = 1 * MS;
        two_diamonds(&net, false, false);
        rg_run run;
        route_answer = answers[i];
        run_both(&net, &run, 95);
        route_answer = NULL;
        const rg_mpath *m = &run.mpaths[0];
        assert_branches(m, 1, "198.18.0.1", NULL);
        assert_branches(m, 2, "198.18.1.1", "198.18.3.1");
        assert_int_equal(m->hop_state[1], i == 0 ? RG_MP_HOP_ROUTE : RG_MP_HOP_RULE);
        assert_int_equal(rg_mpath_flows(m, 1, &m->obs[0].from, NULL, 0), i == 0 ? 1 : 6);
        for (unsigned ttl = 2; ttl <= 6; ttl++)
            assert_int_equal(m->hop_state[ttl], RG_MP_HOP_RULE);
        assert_attributed(&net, m);
        printf("# figure: two 2-way diamonds, 95%%, routing table says %s: %llu probes\n",
               i == 0 ? "one next hop" : "several", (unsigned long long)m->probes);
        rg_run_free(&run);
        fn_net_free(&net);
    }
}

/* Two parallel paths (R1, {R2a | R2b}, {R3a | R3b}, R4: the flows of R2a
 * all go on to R3a, those of R2b to R3b), as where a router answers from
 * each inbound interface: behind the pair at TTL 2, new flows go straight
 * to TTL 3 and count behind the one branch their next hop was seen behind
 * (MDA-Lite), every branch still found, every answer the flow's own. */
static void test_parallel_paths_lite(void **state)
{
    (void)state;
    for (unsigned conf = 95; conf <= 99; conf += 4) {
        fn_net net;
        assert_true(fn_net_init(&net, SELF));
        net.delay_ns = 1 * MS;
        static const char *const names[] = {"198.18.0.1", "198.18.1.1", "198.18.3.1",
                                            "198.18.2.1", "198.18.4.1", "198.18.5.1"};
        int r[6];
        for (int i = 0; i < 6; i++)
            r[i] = fn_router_add(&net, names[i], false, false);
        int hops[4] = {r[0], r[1], r[3], r[5]}, twin[4] = {FN_NONE, r[2], r[4], FN_NONE};
        fn_dest *d = fn_dest_add(&net, "203.0.113.10", hops, twin, 4);
        fn_dest_port(d, 80, FN_OPEN);
        rg_run run;
        run_both(&net, &run, conf);
        const rg_mpath *m = &run.mpaths[0];
        assert_branches(m, 2, "198.18.1.1", "198.18.3.1");
        assert_branches(m, 3, "198.18.2.1", "198.18.4.1");
        assert_branches(m, 4, "198.18.5.1", NULL);
        assert_branches(m, 5, "203.0.113.10", NULL);
        for (unsigned ttl = 1; ttl <= 5; ttl++)
            assert_int_equal(m->hop_state[ttl], RG_MP_HOP_RULE);
        assert_attributed(&net, m);
        /* each TTL 3 branch came from its own TTL 2 branch only */
        rg_addr p[4], a3;
        assert_true(rg_addr_parse("198.18.2.1", &a3));
        assert_int_equal(rg_mpath_preds(m, 3, &a3, p, 4), 1);
        /* n_1, n_2 behind R1, n_1 behind each R2 (TTL 3), n_1 behind each
         * R3 (TTL 4), the destination: 95%: 6+11+12+12+1 = 42, less the
         * trace's own flow at each TTL */
        printf("# figure: two parallel paths, %u%%: %llu multipath probes\n", conf,
               (unsigned long long)m->probes);
        assert_in_range(m->probes, 1, conf == 95 ? 46 : 62);
        rg_run_free(&run);
        fn_net_free(&net);
    }
}

static uint16_t be16_at(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* The flow identifier each method varies, and nothing else a load balancer
 * hashes: TCP/UDP the source port, ICMP the echo identifier and with it
 * the checksum; the identity (seq, ident) follows the probe's index. */
static void test_flow_variation(void **state)
{
    (void)state;
    static const char *const fam[2][2] = {{"198.18.0.2", "198.19.0.5"},
                                          {"2001:db8:100::2", "2001:db8:310::5"}};
    static const uint8_t methods[] = {RG_METHOD_TCP, RG_METHOD_UDP, RG_METHOD_ICMP};
    for (int f = 0; f < 2; f++)
        for (size_t mi = 0; mi < 3; mi++) {
            rg_trace t;
            memset(&t, 0, sizeof t);
            assert_true(rg_addr_parse(fam[f][0], &t.src) && rg_addr_parse(fam[f][1], &t.dst));
            t.method = methods[mi];
            t.sport = 65534;
            t.dport = t.method == RG_METHOD_ICMP ? 0 : 33434;
            t.flow_label = 0x12345;
            size_t ip = f ? 40 : 20;
            for (unsigned flow = 0; flow < 4; flow++) {
                uint32_t idx = 65533 + flow * 1000;
                rg_probe_spec sp = rg_mp_probe_spec(&t, flow, 7, 0xfffffff0u, idx);
                uint8_t pkt[RG_PROBE_MAXLEN];
                size_t len = rg_probe_build(&sp, pkt, sizeof pkt);
                assert_true(len > ip);
                const uint8_t *l4 = pkt + ip;
                /* 65534, 65535, then on from 1024: never port or id 0 */
                uint16_t want = flow < 2 ? (uint16_t)(65534 + flow) : (uint16_t)(1024 + flow - 2);
                assert_int_equal(f ? pkt[7] : pkt[8], 7); /* the TTL */
                assert_int_equal(sp.ident, rg_mp_ident(idx));
                if (t.method == RG_METHOD_ICMP) {
                    assert_int_equal(be16_at(l4 + 4), want); /* identifier */
                    assert_int_equal(be16_at(l4 + 2), want); /* checksum: the flow id */
                    assert_int_equal(be16_at(l4 + 6), rg_mp_ident(idx));
                } else {
                    assert_int_equal(be16_at(l4), want);
                    assert_int_equal(be16_at(l4 + 2), 33434);
                }
                if (t.method == RG_METHOD_UDP)
                    assert_int_equal(be16_at(l4 + 6), rg_mp_ident(idx)); /* checksum */
                if (t.method == RG_METHOD_TCP)
                    assert_int_equal(sp.seq, 0xfffffff0u + idx);
                if (f) /* the flow label stays the trace's */
                    assert_int_equal((pkt[1] & 0x0f) << 16 | pkt[2] << 8 | pkt[3], 0x12345);
            }
        }
    /* 1..65534: never 0 (no UDP checksum) nor 0xffff */
    assert_int_equal(rg_mp_ident(0), 1);
    assert_int_equal(rg_mp_ident(65533), 65534);
    assert_int_equal(rg_mp_ident(65534), 1);
    assert_int_equal(rg_mp_ident(UINT32_MAX), 1 + UINT32_MAX % 65534);
}

static void test_silent_router_is_a_silent_next_hop(void **state)
{
    (void)state;
    fn_net net;
    assert_true(fn_net_init(&net, SELF));
    net.delay_ns = 1 * MS;
    two_diamonds(&net, true, false);
    rg_run run;
    run_both(&net, &run, 95);
    const rg_mpath *m = &run.mpaths[0];
    rg_addr got[4];
    assert_int_equal(rg_mpath_branches(m, 3, got, 4), 0); /* nothing answered at TTL 3 */
    assert_branches(m, 4, "198.18.4.1", "198.18.6.1");
    assert_branches(m, 6, "203.0.113.10", NULL);
    assert_attributed(&net, m);
    rg_run_free(&run);
    fn_net_free(&net);
}

static void test_rate_limited_routers_give_every_branch(void **state)
{
    (void)state;
    fn_net net;
    assert_true(fn_net_init(&net, SELF));
    net.delay_ns = 1 * MS;
    net.limit_burst = 6;
    net.limit_rate = 50;
    two_diamonds(&net, false, true);
    rg_run run;
    run_both(&net, &run, 95);
    check_two_diamonds(&net, &run, 95);
    unsigned asked = 0, answered = 0;
    for (size_t i = 0; i < net.nrouters; i++) {
        asked += net.routers[i].reached;
        answered += net.routers[i].answered;
    }
    printf("# figure: rate-limited (burst 6, 50/s): %u probes reached routers, %u answered\n",
           asked, answered);
    rg_run_free(&run);
    fn_net_free(&net);
}

/* Two destinations of one /24 behind the same diamonds: the second takes
 * the first's single-next-hop TTLs (its own flow met the same routers) and
 * probes only the load-balanced ones and its own last hop. */
static void test_shared_within_a_prefix(void **state)
{
    (void)state;
    fn_net net;
    assert_true(fn_net_init(&net, SELF));
    net.delay_ns = 1 * MS;
    fn_dest *d = two_diamonds(&net, false, false);
    int hops[5], twin[5];
    for (unsigned k = 0; k < 5; k++) {
        hops[k] = d->hop[k][0];
        twin[k] = d->hop[k][1];
    }
    fn_dest *e = fn_dest_add(&net, "203.0.113.20", hops, twin, 5);
    fn_dest_port(e, 80, FN_OPEN);
    rg_run run;
    run_both(&net, &run, 95);
    assert_int_equal(run.nmpaths, 2);
    const rg_mpath *a = &run.mpaths[0], *b = &run.mpaths[1];
    for (unsigned ttl = 2; ttl <= 4; ttl += 2) { /* the load-balanced TTLs, both */
        rg_addr x[4], y[4];
        assert_int_equal(rg_mpath_branches(a, ttl, x, 4), 2);
        assert_int_equal(rg_mpath_branches(b, ttl, y, 4), 2);
        assert_true(rg_addr_equal(&x[0], &y[0]) && rg_addr_equal(&x[1], &y[1]));
    }
    assert_int_equal(a->hop_state[1], RG_MP_HOP_RULE);
    assert_int_equal(b->hop_state[1], RG_MP_HOP_SHARED);
    assert_int_equal(b->hop_state[2], RG_MP_HOP_RULE);
    assert_int_equal(b->hop_state[6], RG_MP_HOP_RULE); /* its own destination */
    rg_addr got[2];
    assert_int_equal(rg_mpath_branches(b, 6, got, 2), 1);
    assert_true(rg_addr_equal(&got[0], &e->addr));
    assert_attributed(&net, a);
    assert_attributed(&net, b);
    printf("# figure: one /24, two destinations: %llu then %llu multipath probes\n",
           (unsigned long long)a->probes, (unsigned long long)b->probes);
    assert_true(b->probes < a->probes);
    rg_run_free(&run);
    fn_net_free(&net);
}

/* ICMP echo traces (one per destination) with the engine's options eo,
 * then MDA at 95%. */
static void run_icmp(fn_net *net, rg_run *run, const rg_engine_opts *eo)
{
    memset(run, 0, sizeof *run);
    net->method = RG_METHOD_ICMP;
    run->traces = calloc(net->ndests, sizeof *run->traces);
    assert_non_null(run->traces);
    for (size_t i = 0; i < net->ndests; i++) {
        rg_trace *t = &run->traces[run->ntraces++];
        assert_true(rg_trace_init(t, "d", &net->dests[i].addr, 0, 1, 16, rg_attempts_for(1)));
        t->method = RG_METHOD_ICMP;
        t->src = net->self;
        t->sport = (uint16_t)(40000 + 101 * i);
        t->seq_base = 0x55001000u * (uint32_t)(i + 1);
    }
    rg_sockets socks;
    fn_net_sockets(net, &socks);
    char err[256] = "";
    if (!rg_engine_run(run, &socks, eo, NULL, NULL, NULL, err, sizeof err))
        fail_msg("engine: %s", err);
    rg_mp_opts mo = {.confidence = 95, .rate = 5000, .timeout = 0.5};
    if (!rg_multipath_run(run, &socks, &mo, NULL, err, sizeof err))
        fail_msg("multipath: %s", err);
    assert_int_equal(net->unknown_sends, 0);
}

/* ICMP echo with the port probe last (main's choice for -P icmp
 * --multipath): the trace's own echo reply at the destination's TTL says
 * what the port probe would, so none goes; every other probe is the same
 * (the network answers each flow alike), one fewer in all; the trace is
 * reached and open, decided by that echo reply (else by the port probe's),
 * every branch still found. */
static void test_icmp_port_probe_last(void **state)
{
    (void)state;
    uint64_t sent[2] = {0};
    for (int last = 0; last < 2; last++) {
        fn_net net;
        assert_true(fn_net_init(&net, SELF));
        net.delay_ns = 1 * MS;
        fn_dest *d = two_diamonds(&net, false, false);
        d->nports = 0;
        fn_dest_port(d, 0, FN_OPEN);
        rg_engine_opts eo = {.rate = 5000, .timeout = 0.5, .gap = 5, .retries = 1,
                             .port_probe_last = last};
        rg_run run;
        run_icmp(&net, &run, &eo);
        const rg_trace *t = &run.traces[0];
        assert_int_equal(run.stats.port_probes_sent, last ? 0 : 1);
        assert_int_equal(t->reached_ttl, 6);
        assert_int_equal(t->state, RG_PORT_OPEN);
        const rg_probe *p = rg_trace_deciding(t);
        assert_non_null(p);
        assert_int_equal(p->kind, RG_REPLY_ECHO);
        assert_ptr_equal(p, last ? rg_trace_answer(t, 6) : rg_trace_probe(t, RG_PORT_PROBE_TTL, 0));
        const rg_mpath *m = &run.mpaths[0];
        assert_branches(m, 2, "198.18.1.1", "198.18.3.1");
        assert_branches(m, 4, "198.18.4.1", "198.18.6.1");
        assert_branches(m, 6, "203.0.113.10", NULL);
        assert_attributed(&net, m);
        sent[last] = run.stats.probes_sent;
        printf("# figure: ICMP, two 2-way diamonds, 95%%, port probe %s: %llu probes "
               "(%llu multipath)\n", last ? "last" : "first",
               (unsigned long long)run.stats.probes_sent, (unsigned long long)m->probes);
        rg_run_free(&run);
        fn_net_free(&net);
    }
    assert_int_equal(sent[1], sent[0] - 1);
}

/* The port probe last, where the hops end short of the destination (three
 * silent routers, --gap 2): it still goes, at the end, and its echo reply
 * keeps the destination's state and distance; the trace then probes on to
 * the destination's TTL as a port probe sent first would have let it. */
static void test_icmp_port_probe_last_when_hops_fall_short(void **state)
{
    (void)state;
    fn_net net;
    assert_true(fn_net_init(&net, SELF));
    net.delay_ns = 1 * MS;
    static const char *const names[] = {"198.18.0.1", "198.18.1.1", "198.18.2.1",
                                        "198.18.3.1", "198.18.4.1"};
    int hops[5], twin[5];
    for (int i = 0; i < 5; i++) {
        hops[i] = fn_router_add(&net, names[i], i >= 1 && i <= 3, false);
        twin[i] = FN_NONE;
    }
    fn_dest *d = fn_dest_add(&net, "203.0.113.30", hops, twin, 5);
    fn_dest_port(d, 0, FN_OPEN);
    rg_engine_opts eo = {.rate = 5000, .timeout = 0.3, .gap = 2, .retries = 0,
                         .port_probe_last = true};
    rg_run run;
    run_icmp(&net, &run, &eo);
    const rg_trace *t = &run.traces[0];
    assert_int_equal(run.stats.port_probes_sent, 1);
    assert_int_equal(t->est_distance, 6);
    assert_int_equal(t->state, RG_PORT_OPEN);
    assert_int_equal(t->reached_ttl, 6);
    /* sent last: after every hop probe that the hops alone sent (TTL 1-3) */
    const rg_probe *pp = rg_trace_probe(t, RG_PORT_PROBE_TTL, 0);
    for (unsigned ttl = 1; ttl <= 3; ttl++) {
        const rg_probe *h = rg_trace_probe(t, ttl, 0);
        assert_true(h->sent.tv_sec < pp->sent.tv_sec ||
                    (h->sent.tv_sec == pp->sent.tv_sec && h->sent.tv_nsec < pp->sent.tv_nsec));
    }
    rg_run_free(&run);
    fn_net_free(&net);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_diamonds_95_and_99),
        cmocka_unit_test(test_first_hop_from_routing_table),
        cmocka_unit_test(test_flow_variation),
        cmocka_unit_test(test_parallel_paths_lite),
        cmocka_unit_test(test_silent_router_is_a_silent_next_hop),
        cmocka_unit_test(test_rate_limited_routers_give_every_branch),
        cmocka_unit_test(test_shared_within_a_prefix),
        cmocka_unit_test(test_icmp_port_probe_last),
        cmocka_unit_test(test_icmp_port_probe_last_when_hops_fall_short),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
