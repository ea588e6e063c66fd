#include "engine.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../model/infer.h"
#include "../model/middlebox.h"
#include "../model/trace_store.h"
#include "../probe/probe.h"
#include "../probe/reply.h"
#include "intake.h"
#include "match.h"
#include "rematch.h"
#include "pace.h"
#include "queue.h"
#include "roster.h"
#include "stopset.h"
#include "window.h"

#define NS 1000000000ull
#define MS 1000000ull
#define ADVANCE_FLOOR_NS (10 * MS)   /* never move on faster than this */
#define ADVANCE_UNKNOWN_NS (500 * MS) /* move-on wait before any RTT is known */
#define GIVE_UP_FACTOR 10             /* a probe is lost after 10x the trace's RTT */
#define GIVE_UP_FLOOR_NS (100 * MS)   /* ... but never sooner than this */
#define HERE_FACTOR 3                 /* ... or 3x below a hop that answered */
#define HERE_SLACK_NS (50 * MS)       /* ... plus a router's slow path */
#define RX_BATCH 4096                 /* packets read per socket per turn (until empty) */
#define REOPEN_ROUNDS 3               /* looks back at inferred hops at the end */
#define IDLE_LIMIT_NS (5 * NS)        /* nothing sent or in flight this long: stop */
#define PROGRESS_NS (100 * MS)
#define RX_BUF 4096
#define FEED_CHUNK 1024               /* traces asked of a feed with no window */

enum slot_state { SLOT_UNSENT = 0, SLOT_FLIGHT, SLOT_ANSWERED, SLOT_EXPIRED };

/* Scheduling state of one trace; the results live in rg_trace. Kept for
 * every trace of the run, so packed: TTLs fit 16 bits (RG_PROBE_TTL_MAX is
 * 255, a next TTL one more), counts of probe slots too (at most 256 rows of
 * 2^RG_PROBE_ATTEMPT_BITS), and checks stay under check_budget. */
typedef struct tstate {
    uint64_t advance_at;   /* monotonic ns: next TTL may go even if unanswered */
    uint64_t max_rtt_ns;
    uint32_t sibling;      /* next trace to the same address (circular) */
    uint32_t scope;        /* destination prefix, for inference and pacing */
    uint16_t next_ttl;     /* next TTL never sent */
    uint16_t limit;        /* send nothing above this TTL */
    uint16_t highest_answer;
    uint16_t outstanding;  /* probes in flight */
    uint16_t queued;       /* retries waiting to be sent */
    uint16_t start_ttl;    /* first TTL sent (--stop-set starts higher) */
    uint16_t back_ttl;     /* stop-set mode: next TTL towards the prober; 0 = none */
    uint16_t est_dist;     /* from the port probes' answer; 0 = not yet */
    uint16_t check_ttl;    /* the slot of the latest port check ... */
    uint8_t check_attempt; /* ... and its attempt */
    uint8_t checks_sent;   /* port checks so far (check_budget) */
    bool checking;         /* a port check is queued or in flight */
    bool pilot;            /* measures every hop: witnesses for the others */
    bool started;          /* counted in the in-flight window */
    bool handed;           /* given to the trace_done hook: never reopened */
    bool done;
} tstate;

typedef struct engine {
    rg_run *run;
    const rg_sockets *socks;
    rg_engine_opts opts;
    rg_match_table match;
    rg_rematch rematch;       /* quotes a middlebox rewrote (built on first use) */
    tstate *ts;
    uint8_t **slot;        /* per trace: enum slot_state per probe slot */
    uint32_t **pacer;      /* per trace and slot: rg_pace_id of the pacer charged */
    rg_pace pace;          /* per-router budgets */
    rg_links links;        /* adjacencies measured so far, for inference */
    rg_heap inflight;      /* probes in flight, by give-up time */
    rg_ring retry;         /* retries ready to go */
    rg_stopset stop;       /* --stop-set only */
    uint64_t timeout_ns;
    double tokens, burst;
    uint64_t token_at;
    size_t done;
    rg_roster roster;      /* what a pass visits: traces in flight, then the next to start */
    rg_window window;      /* traces started and not done (--max-inflight) */
    size_t cap;            /* traces ts, slot and pacer have room for */
    size_t nstarted;       /* traces started so far */
    bool feeding;          /* lazy targets: the feed may add more */
    rg_intake intake;      /* pilots and siblings of fed traces */
    uint64_t released_inferred; /* hops_inferred of traces the hook released */
    uint64_t send_errors;
    int last_send_error;
} engine;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* Secrets for the traces, drawn from the kernel RANDOM_POOL at a time: a
 * getrandom call per value was three system calls per trace planned. */
#define RANDOM_POOL 256

static uint32_t random32(void)
{
    static _Thread_local uint32_t pool[RANDOM_POOL];
    static _Thread_local size_t left;
    if (left == 0) {
        if (getrandom(pool, sizeof pool, 0) == (ssize_t)sizeof pool) {
            left = RANDOM_POOL;
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            return (uint32_t)ts.tv_nsec * 2654435761u ^ (uint32_t)rand();
        }
    }
    return pool[--left];
}

void rg_engine_prepare_trace(rg_trace *t, uint16_t fixed_sport)
{
    t->sport = fixed_sport ? fixed_sport : (uint16_t)(32768 + random32() % 28232);
    t->seq_base = random32();
    t->flow_label = random32() & 0xfffff;
}

/* Index of a probe slot in the engine's per-slot arrays, laid out as the
 * trace's full layout: row 0 the port probes, then one per TTL (the same
 * whether the trace is compact or not). */
static size_t slot_index(const engine *e, size_t ti, unsigned ttl, unsigned attempt)
{
    return rg_trace_slot_number(&e->run->traces[ti], ttl, attempt);
}

static void free_slots(engine *e, size_t ti)
{
    free(e->slot[ti]);
    free(e->pacer[ti]);
    e->slot[ti] = NULL;
    e->pacer[ti] = NULL;
}

/* A trace compacted when it ended lost its per-slot state (end_trace);
 * a late reply or a new probe gets it back, rebuilt from the probes: a
 * slot answered, sent and lost, or never sent (nothing is in flight once
 * a trace ends). Which pacer each probe was charged to is not kept, so a
 * late answer credits none. */
static bool restore_slots(engine *e, size_t ti)
{
    const rg_trace *t = &e->run->traces[ti];
    size_t ns = rg_trace_planned_slots(t);
    e->slot[ti] = calloc(ns, 1);
    e->pacer[ti] = calloc(ns, sizeof **e->pacer);
    if (!e->slot[ti] || !e->pacer[ti]) {
        free_slots(e, ti);
        return false;
    }
    for (unsigned ttl = RG_PORT_PROBE_TTL; ttl <= t->max_ttl;
         ttl = ttl == RG_PORT_PROBE_TTL ? t->min_ttl : ttl + 1)
        for (unsigned a = 0; a < t->attempts; a++) {
            const rg_probe *p = rg_trace_probe(t, ttl, a);
            if (p && (p->kind != RG_REPLY_NONE || p->sent.tv_sec))
                e->slot[ti][slot_index(e, ti, ttl, a)] =
                    p->kind != RG_REPLY_NONE ? SLOT_ANSWERED : SLOT_EXPIRED;
        }
    return true;
}

static uint8_t *slot_of(engine *e, size_t ti, unsigned ttl, unsigned attempt)
{
    static uint8_t lost;
    if (!e->slot[ti] && !restore_slots(e, ti)) {
        lost = SLOT_EXPIRED; /* out of memory: taken as lost */
        return &lost;
    }
    return &e->slot[ti][slot_index(e, ti, ttl, attempt)];
}

static int cmp_by_scope(const void *a, const void *b, void *ctx)
{
    const tstate *ts = ctx;
    uint32_t x = ts[*(const uint32_t *)a].scope, y = ts[*(const uint32_t *)b].scope;
    if (x != y)
        return x < y ? -1 : 1;
    return (*(const uint32_t *)a > *(const uint32_t *)b) - (*(const uint32_t *)a < *(const uint32_t *)b);
}

/* The first RG_INFER_WITNESSES traces towards each destination prefix are
 * pilots: they probe every hop, however scarce their routers' budget, so
 * that inference has witnesses; the others skip what the pilots showed. */
static bool choose_pilots(engine *e)
{
    size_t n = e->run->ntraces;
    uint32_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return false;
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    qsort_r(order, n, sizeof *order, cmp_by_scope, e->ts);
    for (size_t i = 0, run = 0; i < n; i++) {
        run = i > 0 && e->ts[order[i]].scope == e->ts[order[i - 1]].scope ? run + 1 : 0;
        e->ts[order[i]].pilot = run < RG_INFER_WITNESSES;
    }
    free(order);
    return true;
}

/* The roster from the pilots chosen: a pass visits the traces in flight
 * and starts the next in line, pilots first. */
static bool roster_init(engine *e)
{
    size_t n = e->run->ntraces;
    bool *pilot = malloc(n ? n : 1);
    if (!pilot)
        return false;
    for (size_t i = 0; i < n; i++)
        pilot[i] = e->ts[i].pilot;
    bool ok = rg_roster_init(&e->roster, n, pilot);
    free(pilot);
    return ok;
}

static int cmp_by_addr(const void *a, const void *b, void *ctx)
{
    const rg_trace *tr = ctx;
    return rg_addr_compare(&tr[*(const uint32_t *)a].dst, &tr[*(const uint32_t *)b].dst);
}

/* Links traces to the same address in a circle, so a distance learnt by one
 * port bounds the others. */
static bool link_siblings(engine *e)
{
    size_t n = e->run->ntraces;
    uint32_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return false;
    for (size_t i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    qsort_r(order, n, sizeof *order, cmp_by_addr, e->run->traces);
    size_t start = 0;
    for (size_t i = 1; i <= n; i++) {
        if (i < n && rg_addr_equal(&e->run->traces[order[i]].dst,
                                   &e->run->traces[order[start]].dst))
            continue;
        for (size_t j = start; j < i; j++)
            e->ts[order[j]].sibling = order[j + 1 < i ? j + 1 : start];
        start = i;
    }
    free(order);
    return true;
}

/* A trace starts at --min-ttl, or in stop-set mode at the higher start TTL,
 * from where it probes forward to the destination and back towards us. */
static void start_trace(engine *e, size_t i)
{
    const rg_trace *t = &e->run->traces[i];
    tstate *s = &e->ts[i];
    unsigned start = t->min_ttl;
    if (e->opts.stop_set_start > start)
        start = e->opts.stop_set_start < t->max_ttl ? e->opts.stop_set_start : t->max_ttl;
    s->start_ttl = start;
    s->next_ttl = start;
    s->back_ttl = start > t->min_ttl ? start - 1 : 0;
    s->limit = t->max_ttl;
    s->highest_answer = start - 1;
}

static bool engine_init(engine *e, rg_run *run, const rg_sockets *socks,
                        const rg_engine_opts *opts)
{
    memset(e, 0, sizeof *e);
    e->run = run;
    e->socks = socks;
    e->opts = *opts;
    e->window.limit = opts->max_inflight;
    e->timeout_ns = (uint64_t)(opts->timeout * (double)NS);
    e->burst = opts->rate / 100.0 > 1.0 ? opts->rate / 100.0 : 1.0;
    e->tokens = 1.0;
    e->token_at = mono_ns();
    size_t n = run->ntraces, slots = 0;
    e->cap = n ? n : 1;
    e->ts = calloc(e->cap, sizeof *e->ts);
    e->slot = calloc(e->cap, sizeof *e->slot);
    e->pacer = calloc(e->cap, sizeof *e->pacer);
    e->feeding = opts->feed != NULL;
    if (!e->ts || !e->slot || !e->pacer || (e->feeding && !rg_intake_init(&e->intake)))
        return false;
    for (size_t i = 0; i < n; i++) {
        rg_trace *t = &run->traces[i];
        slots += rg_trace_planned_slots(t);
        start_trace(e, i);
        e->ts[i].scope = rg_links_scope(&t->dst);
    }
    /* What waits at once and what inference learns follow the window and
     * the routers, not the number of traces: these start at a few entries
     * per trace the window admits and grow (the queues up to every slot). */
    size_t start = e->window.limit && e->window.limit * 4 < slots ? e->window.limit * 4 : slots;
    if (e->feeding) {
        /* The traces to come, at most feed_max, each of the widest shape. */
        n += opts->feed_max;
        slots += opts->feed_max * (RG_PROBE_TTL_MAX + 1) * (1u << RG_PROBE_ATTEMPT_BITS);
        start = e->window.limit ? e->window.limit * 4 : 4096;
    }
    if (!rg_pace_init(&e->pace, n * 8 + 64) || !rg_links_init(&e->links, start))
        return false;
    if (opts->stop_set_start && !rg_stopset_init(&e->stop, slots < (1u << 20) ? slots : (1u << 20)))
        return false;
    rg_rematch_init(&e->rematch, run->traces, run->ntraces);
    e->rematch.run = run; /* its dropped traces are skipped unread */
    return rg_heap_init(&e->inflight, start, slots) && rg_ring_init(&e->retry, start, slots) &&
           link_siblings(e) && choose_pilots(e) && roster_init(e) &&
           rg_match_init(&e->match, run->traces, run->ntraces);
}

static void engine_free(engine *e)
{
    for (size_t i = 0; e->slot && i < e->run->ntraces; i++)
        free(e->slot[i]);
    for (size_t i = 0; e->pacer && i < e->run->ntraces; i++)
        free(e->pacer[i]);
    free(e->slot);
    free(e->pacer);
    rg_pace_free(&e->pace);
    rg_links_free(&e->links);
    free(e->ts);
    rg_heap_free(&e->inflight);
    rg_stopset_free(&e->stop);
    rg_ring_free(&e->retry);
    rg_match_free(&e->match);
    rg_roster_free(&e->roster);
    rg_rematch_free(&e->rematch);
    rg_intake_free(&e->intake);
}

static uint64_t advance_wait(const engine *e, const tstate *s)
{
    uint64_t w = s->max_rtt_ns ? 2 * s->max_rtt_ns + ADVANCE_FLOOR_NS
                               : ADVANCE_UNKNOWN_NS;
    return w < e->timeout_ns ? w : e->timeout_ns;
}

/* How long a probe may stay unanswered before it counts as lost: --timeout
 * until the trace has shown its RTTs, then GIVE_UP_FACTOR times the largest
 * of them (Linux traceroute's -w MAX,HERE,NEAR idea), within
 * [GIVE_UP_FLOOR_NS, --timeout]. A reply that comes later is still
 * recorded against its own probe; only a retry may have gone out meanwhile. */
static uint64_t give_up_wait(const engine *e, const tstate *s, unsigned ttl)
{
    if (s->max_rtt_ns == 0)
        return e->timeout_ns;
    /* A hop below one that already answered would have answered within
     * about the RTT seen there (traceroute's -w HERE factor); so would the
     * destination, at or past the distance its answers showed (the port
     * probes included), since hosts answer a SYN at once. */
    bool below = ttl != RG_PORT_PROBE_TTL && ttl < s->highest_answer;
    bool at_destination = s->est_dist && (ttl == RG_PORT_PROBE_TTL || ttl >= s->est_dist);
    below |= at_destination;
    uint64_t w = below ? HERE_FACTOR * s->max_rtt_ns + HERE_SLACK_NS
                       : GIVE_UP_FACTOR * s->max_rtt_ns;
    if (w < GIVE_UP_FLOOR_NS)
        w = GIVE_UP_FLOOR_NS;
    return w < e->timeout_ns ? w : e->timeout_ns;
}

/* The responder a hop probe is expected to reach, from what this trace and
 * the others measured around it: the pacer it is charged to. NULL when the
 * pacer table is full (then only --rate holds it). */
static rg_pacer *pacer_for(engine *e, size_t ti, unsigned ttl, uint64_t now)
{
    const rg_trace *t = &e->run->traces[ti];
    const rg_addr *x, *guess = NULL;
    rg_addr buf;
    bool at_destination = ttl == RG_PORT_PROBE_TTL ||
                          (e->ts[ti].est_dist && ttl >= e->ts[ti].est_dist);
    /* UDP: the destination answers with port unreachable, an ICMP error
     * its kernel rate-limits like a router's: its own pacer. */
    if (at_destination && t->method == RG_METHOD_UDP)
        return rg_pace_get(&e->pace, &t->dst, now);
    if (ttl == RG_PORT_PROBE_TTL)
        return NULL; /* TCP answers and echo replies are not rate-limited like ICMP errors */
    if (e->ts[ti].est_dist && ttl >= e->ts[ti].est_dist)
        return NULL; /* the destination's TTL: TCP answers it, or nothing does */
    /* Only what was seen towards this prefix: the router that followed a
     * hop towards other prefixes may not be this one's (a silent router
     * charged to another's budget would slow that router down). */
    if ((x = rg_infer_node(t, ttl - 1, true, &buf)))
        guess = rg_links_guess_succ(&e->links, x, ttl - 1,
                                    ttl == 1 ? RG_LINKS_ANY_SCOPE : e->ts[ti].scope);
    if ((!guess || guess->family == RG_ADDR_KEY) && (x = rg_infer_node(t, ttl + 1, true, &buf)))
        guess = rg_links_guess_pred(&e->links, x, ttl + 1);
    if (guess && guess->family != RG_ADDR_KEY)
        return rg_pace_get(&e->pace, guess, now);
    rg_addr key = rg_pace_position_key(ttl, &t->dst);
    return rg_pace_get(&e->pace, &key, now);
}

static rg_pacer *pacer_of_slot(engine *e, size_t ti, unsigned ttl, unsigned attempt)
{
    if (!e->pacer[ti])
        return NULL;
    return rg_pace_by_id(&e->pace, e->pacer[ti][slot_index(e, ti, ttl, attempt)]);
}

static void send_probe(engine *e, size_t ti, unsigned ttl, unsigned attempt,
                       bool check, uint64_t now)
{
    rg_trace *t = &e->run->traces[ti];
    tstate *s = &e->ts[ti];
    /* Compacted when it ended, probed again: full slots first. */
    if (!rg_trace_expand(t) || (!e->slot[ti] && !restore_slots(e, ti)))
        return;
    rg_probe_spec spec = rg_trace_probe_spec(t, ttl, attempt);
    uint8_t pkt[RG_PROBE_MAXLEN];
    size_t len = rg_probe_build(&spec, pkt, sizeof pkt);
    rg_probe *p = rg_trace_probe(t, ttl, attempt);
    p->port_check = check;
    clock_gettime(CLOCK_REALTIME, &p->sent);
    int err = len ? rg_sockets_send(e->socks, &t->dst, pkt, len) : EINVAL;
    if (err) {
        /* Counted as a lost probe so the trace still ends on time. */
        e->send_errors++;
        e->last_send_error = err;
    }
    rg_trace_set_sent(t, ttl, attempt + 1);
    *slot_of(e, ti, ttl, attempt) = SLOT_FLIGHT;
    rg_pacer *c = check ? NULL : pacer_for(e, ti, ttl, now);
    rg_pace_sent(c);
    e->pacer[ti][slot_index(e, ti, ttl, attempt)] = rg_pace_id(&e->pace, c);
    s->outstanding++;
    /* Checked again once the trace knows its RTTs (expire): the first
     * probes of a trace would otherwise wait the whole --timeout. */
    uint64_t wait = give_up_wait(e, s, ttl);
    rg_heap_push(&e->inflight, (rg_pending){
        .at = now + (wait < GIVE_UP_FLOOR_NS ? wait : GIVE_UP_FLOOR_NS), .sent = now,
        .trace = (uint32_t)ti, .ttl = (uint8_t)ttl, .attempt = (uint8_t)attempt, .check = check});
    e->run->stats.probes_sent++;
    if (check)
        e->run->stats.port_checks_sent++;
    else if (ttl == RG_PORT_PROBE_TTL)
        e->run->stats.port_probes_sent++;
    else if (attempt > 0)
        e->run->stats.retries_sent++;
    e->tokens -= 1.0;
}

/* Whether hop ttl of trace ti is already known from other traces (and
 * safe to leave unprobed): rg_infer_trace's rule, one hop at a time. On
 * yes the hop is noted as inferred, so the hops below can chain on it. */
static bool skip_inferable(engine *e, size_t ti, unsigned ttl, unsigned witnesses)
{
    rg_trace *t = &e->run->traces[ti];
    if (ttl == RG_PORT_PROBE_TTL || e->ts[ti].pilot || rg_trace_answer(t, ttl))
        return false;
    const rg_addr *c = rg_infer_candidate(t, &e->links, ttl, witnesses);
    if (!c)
        return false;
    t->inferred[ttl - t->min_ttl] = *c;
    return true;
}

/* Whether a hop probe may go now as far as its router's budget goes. A
 * probe held back by it is sent later, or not at all when other traces
 * have meanwhile shown the hop (*skip; only if may_skip: a hop that a
 * recheck found no longer inferable is measured). */
static bool budget_allows(engine *e, size_t ti, unsigned ttl, uint64_t now,
                          uint64_t *wake, bool may_skip, bool *skip)
{
    *skip = false;
    rg_pacer *c = pacer_for(e, ti, ttl, now);
    uint64_t w = UINT64_MAX;
    /* A router that has shown its limit has no answer to spare for a hop
     * other traces already showed: its next token goes to one they did not
     * (on a load-balanced pair, the trace takes its hop from whichever
     * branch's router answers first). One with answers to spare is asked
     * when its pacer allows; while it does not, the hop is left to
     * inference only on twice the witnesses (a run's first traces, all
     * held back together by pacers still learning, once skipped on a few
     * pilots' word where every router would have answered). */
    bool scarce = c && c->answered && c->lost;
    if (!scarce && rg_pace_ready(c, now, &w))
        return true;
    unsigned need = scarce ? RG_INFER_WITNESSES : 2 * RG_INFER_WITNESSES;
    if (may_skip && skip_inferable(e, ti, ttl, need)) {
        *skip = true;
        return false;
    }
    if (scarce && rg_pace_ready(c, now, &w))
        return true;
    if (w < *wake)
        *wake = w;
    return false;
}

static void lower_limit(engine *e, size_t ti, unsigned ttl, bool siblings)
{
    size_t i = ti;
    do {
        if (e->ts[i].limit > ttl)
            e->ts[i].limit = ttl;
        i = e->ts[i].sibling;
    } while (siblings && i != ti);
}

/* Port checks per trace: four times the tries a silent hop gets. A lost
 * check costs two more (an RST to clear what it may have left, then one to
 * trust; rg_trace_rst_trusted), so with 30% loss each way and the default
 * retries 4 checks left a third of doubtful closed ports unknown; 8 leave
 * about one in seven (docs/benchmarks.md). Spent only on doubtful RSTs. */
static unsigned check_budget(const engine *e)
{
    return 4 * (e->opts.retries + 1);
}

/* Queues a port check at ttl (or the first TTL above it with a free slot:
 * any TTL from there on reaches the destination) unless one is pending, a
 * SYN-ACK already settled the port, or the budget is spent (the port then
 * stays unknown). */
static void queue_check(engine *e, size_t ti, unsigned ttl)
{
    tstate *s = &e->ts[ti];
    const rg_trace *t = &e->run->traces[ti];
    if (s->done || s->checking || s->checks_sent >= check_budget(e) || rg_trace_has_synack(t))
        return; /* (a late RST to an ended trace stays as it is) */
    /* The ring holds every slot, and a trace with a check pending has used
     * at least one, so this fits; if it ever did not, no check is better
     * than a trace that never ends. */
    if (!rg_ring_push(&e->retry, (rg_pending){.at = mono_ns(), .trace = (uint32_t)ti,
                                              .ttl = (uint8_t)ttl, .check = true}))
        return;
    s->queued++;
    s->checking = true;
}

/* The latest port check of a trace has its answer or is lost (its slot is
 * a check's; check_ttl 0 before the first never names a slot). */
static void check_over(engine *e, size_t ti, unsigned ttl, unsigned attempt)
{
    tstate *s = &e->ts[ti];
    if (ttl == s->check_ttl && attempt == s->check_attempt)
        s->checking = false;
}

/* Sends a queued port check in the first free slot from ttl up. Retries
 * never compete for these slots: none go at or past an answered TTL. */
static void send_check(engine *e, size_t ti, unsigned ttl, uint64_t now)
{
    tstate *s = &e->ts[ti];
    const rg_trace *t = &e->run->traces[ti];
    if (!rg_trace_has_synack(t)) {
        for (unsigned tt = ttl; tt <= t->max_ttl; tt++) {
            unsigned a = rg_trace_sent(t, tt);
            if (a >= t->attempts)
                continue;
            s->checks_sent++;
            s->check_ttl = tt;
            s->check_attempt = a;
            send_probe(e, ti, tt, a, true, now);
            return;
        }
    }
    s->checking = false;
}

/* The kinds of answer a destination gives a probe that reached it. */
static bool destination_kind(uint8_t kind)
{
    return kind == RG_REPLY_SYNACK || kind == RG_REPLY_RST || kind == RG_REPLY_UDP ||
           kind == RG_REPLY_ECHO || kind == RG_REPLY_PORT_UNREACH;
}

/* A port probe's answer: the port's state needs nothing more from ICMP,
 * and the destination's reply TTL tells roughly how far it is. */
static void record_port_probe(engine *e, size_t ti, const rg_reply *r, const rg_probe *p)
{
    tstate *s = &e->ts[ti];
    const rg_trace *t = &e->run->traces[ti];
    /* Port unreachable may come from another of the host's addresses
     * (model/result.c, closes). */
    if (!destination_kind(r->kind) ||
        (r->kind != RG_REPLY_PORT_UNREACH && !rg_addr_equal(&r->from, &t->dst)))
        return;
    unsigned d = rg_distance_from_reply_ttl(p->reply_ttl);
    if (!d || s->est_dist)
        return;
    /* A distance is the address's: every port of it learns it. */
    size_t i = ti;
    do {
        if (!e->ts[i].est_dist)
            e->ts[i].est_dist = d;
        i = e->ts[i].sibling;
    } while (i != ti);
}

/* A hop answered for the first time: the adjacencies it completes with
 * its measured neighbours are witnesses for inference and pacing. */
static void learn_links(engine *e, size_t ti, unsigned ttl)
{
    const rg_trace *t = &e->run->traces[ti];
    rg_links_add_pair(&e->links, t, ttl - 1);
    rg_links_add_pair(&e->links, t, ttl);
    rg_links_add_place(&e->links, t, ttl);
}

/* The pacer an ICMP answer credits: the one its probe was charged to,
 * unless that named another router (the guess crossed a load-balanced hop,
 * where the last successor seen is only one of several): then the router
 * that answered, so one branch's answers never speed up the other's. */
static rg_pacer *pacer_answered(engine *e, const rg_match *m, const rg_addr *from)
{
    rg_pacer *c = pacer_of_slot(e, m->trace, m->ttl, m->attempt);
    if (!c || c->key.family == RG_ADDR_KEY || rg_addr_equal(&c->key, from))
        return c;
    return rg_pace_get(&e->pace, from, mono_ns());
}

static void record(engine *e, const rg_reply *r, const rg_match *m,
                   const struct timespec *when)
{
    rg_trace *t = &e->run->traces[m->trace];
    tstate *s = &e->ts[m->trace];
    rg_probe *p = rg_trace_probe(t, m->ttl, m->attempt);
    uint8_t *st = slot_of(e, m->trace, m->ttl, m->attempt);
    if (*st == SLOT_ANSWERED) {
        if (p->duplicates < UINT8_MAX)
            p->duplicates++;
        e->run->stats.duplicates++;
        return;
    }
    e->run->stats.matched++;
    if (*st == SLOT_FLIGHT && s->outstanding > 0)
        s->outstanding--;
    bool first_at_ttl = m->ttl != RG_PORT_PROBE_TTL && !rg_trace_answer(t, m->ttl);
    *st = SLOT_ANSWERED;
    if (r->kind == RG_REPLY_TIME_EXCEEDED || r->kind == RG_REPLY_UNREACHABLE ||
        r->kind == RG_REPLY_PORT_UNREACH)
        rg_pace_answered(pacer_answered(e, m, &r->from));
    p->received = *when;
    p->from = r->from;
    p->kind = r->kind;
    p->icmp_type = r->icmp_type;
    p->icmp_code = r->icmp_code;
    p->tcp_flags = r->tcp_flags;
    p->reply_ttl = r->reply_ttl;
    rg_middlebox_note(t, m->ttl, m->attempt, r);
    /* Out of memory only loses the extensions, never the answer. */
    if (r->ext_status == RG_ICMPEXT_OK && rg_icmpext_any(&r->ext))
        (void)rg_trace_set_ext(t, p, &r->ext);
    int64_t rtt = ((int64_t)when->tv_sec - p->sent.tv_sec) * 1000000 +
                  ((int64_t)when->tv_nsec - p->sent.tv_nsec) / 1000;
    p->rtt_us = rtt > 0 ? (uint32_t)(rtt < UINT32_MAX ? rtt : UINT32_MAX) : 0;
    if ((uint64_t)p->rtt_us * 1000 > s->max_rtt_ns)
        s->max_rtt_ns = (uint64_t)p->rtt_us * 1000;
    if (m->ttl == RG_PORT_PROBE_TTL) {
        /* A port probe's RST in doubt is checked when the trace would
         * end (check_done), once no hop probe can want its slot. */
        record_port_probe(e, m->trace, r, p);
        return;
    }
    if (first_at_ttl)
        learn_links(e, m->trace, m->ttl);
    if (m->ttl > s->highest_answer)
        s->highest_answer = m->ttl;
    if (e->opts.stop_set_start && r->kind == RG_REPLY_TIME_EXCEEDED &&
        rg_stopset_claim(&e->stop, &r->from, (uint32_t)m->trace) != m->trace &&
        m->ttl <= s->start_ttl)
        s->back_ttl = 0; /* another trace already knows the way from here */
    check_over(e, m->trace, m->ttl, m->attempt);
    if (r->kind == RG_REPLY_RST && !rg_trace_rst_trusted(t, p))
        queue_check(e, m->trace, m->ttl);
    if (r->kind == RG_REPLY_SYNACK || r->kind == RG_REPLY_RST || rg_probe_opens(p))
        lower_limit(e, m->trace, m->ttl, true);
    else if (r->kind == RG_REPLY_PORT_UNREACH)
        lower_limit(e, m->trace, m->ttl, true); /* the host's own answer */
    else if (r->kind == RG_REPLY_UNREACHABLE)
        lower_limit(e, m->trace, m->ttl, rg_addr_equal(&r->from, &t->dst));
}

/* An unmatched ICMP error naming one of our probes with our source
 * rewritten: evidence of a NAT for the trace's report, not an answer. */
static void note_rewritten_source(engine *e, const rg_reply *r)
{
    rg_match m;
    if (rg_match_rewritten_source(&e->match, r, &m) && !e->ts[m.trace].handed)
        rg_middlebox_note_rewritten_source(&e->run->traces[m.trace], m.ttl, r);
}

/* An ICMP error whose quote a middlebox rewrote (engine/rematch.h): a
 * port rewritten leaves the hop's own answer, recorded as any other
 * (true); the destination rewritten or the sequence number shifted is
 * only evidence for the trace's report (false: still unmatched). */
static bool rematched(engine *e, const rg_reply *r, const struct timespec *when)
{
    rg_rematch_result x;
    if (!rg_rematch_find(&e->rematch, r, &x) || e->ts[x.trace].handed)
        return false;
    if (x.kind == RG_REMATCH_PORTS) {
        record(e, r, &(rg_match){.trace = x.trace, .ttl = x.ttl, .attempt = x.attempt}, when);
        return true;
    }
    uint16_t what = x.kind == RG_REMATCH_DST ? RG_QC_DST : RG_QC_SEQ;
    (void)rg_middlebox_note_evidence(&e->run->traces[x.trace], what, x.ttl, r, x.shift);
    return false;
}

static void handle_packet(engine *e, enum rg_rx which, const uint8_t *buf,
                          long n, const rg_rx_meta *meta)
{
    rg_reply r;
    enum rg_parse_status st;
    if (which == RG_RX_ICMP4 || which == RG_RX_L4_4)
        st = rg_reply_parse_packet(buf, (size_t)n, &r);
    else
        st = rg_reply_parse_l4(which == RG_RX_ICMP6 ? 58 : e->socks->l4proto, buf, (size_t)n,
                               &meta->src, &meta->dst, meta->hlim, &r);
    if (st == RG_PARSE_MALFORMED) {
        e->run->stats.malformed++;
        return;
    }
    if (st != RG_PARSE_OK)
        return;
    e->run->stats.replies++;
    rg_match m;
    /* A trace handed over was written as it was: a late reply to one of
     * its lost probes is not added behind the reader's back. */
    bool named = rg_match_reply(&e->match, &r, &m);
    if (!named || e->ts[m.trace].handed) {
        if (!named && rematched(e, &r, &meta->when))
            return;
        e->run->stats.unmatched++;
        note_rewritten_source(e, &r);
        return;
    }
    record(e, &r, &m, &meta->when);
}

/* Every socket read until it is empty (or RX_BATCH, a bound on how long the
 * senders wait): expire, which comes next, must not call a probe lost whose
 * answer waits in the queue, or a busy moment turns into retries and into
 * answers to traces already written. */
static void receive_all(engine *e)
{
    uint8_t buf[RX_BUF];
    rg_rx_meta meta;
    for (int w = 0; w < RG_RX_COUNT; w++) {
        for (int i = 0; i < RX_BATCH; i++) {
            long n = rg_sockets_recv(e->socks, (enum rg_rx)w, buf, sizeof buf, &meta);
            if (n <= 0)
                break;
            handle_packet(e, (enum rg_rx)w, buf, n, &meta);
        }
    }
}

static bool answered(const engine *e, size_t ti, unsigned ttl)
{
    return rg_trace_answer(&e->run->traces[ti], ttl) != NULL;
}

/* Whether a lost hop probe deserves a retry: its TTL is still silent and
 * below the destination, and it is not a silent router's (no probe there
 * ever answered) while hops above it already have. */
static bool worth_retry(engine *e, const rg_pending *x, const rg_pacer *c)
{
    const tstate *s = &e->ts[x->trace];
    const rg_trace *t = &e->run->traces[x->trace];
    if (x->ttl > s->limit || answered(e, x->trace, x->ttl))
        return false;
    if (x->ttl == RG_PORT_PROBE_TTL)
        return x->attempt < e->opts.retries && !rg_trace_has_synack(t);
    /* A place where some trace got an answer has a router that answers;
     * if its budget is what lost the probe, it gets two tries more. */
    bool answers = rg_infer_place_answers(t, &e->links, x->ttl);
    bool throttled = answers && c && c->answered && c->lost;
    unsigned tries = throttled ? t->attempts - 1 : e->opts.retries;
    /* A silent place still gets --retries: under loss four lost probes in
     * a row look silent too, and the retry costs no wall time (it gives up
     * after about three RTTs once hops above it answered). */
    return x->attempt < tries;
}

/* Probes whose time is up become lost; a silent TTL gets a retry. */
static void expire(engine *e, uint64_t now)
{
    const rg_pending *p;
    while ((p = rg_heap_peek(&e->inflight)) && p->at <= now) {
        rg_pending x = *p;
        rg_heap_pop(&e->inflight);
        if (!e->slot[x.trace])
            continue; /* its trace was handed over and released */
        uint8_t *st = slot_of(e, x.trace, x.ttl, x.attempt);
        if (*st != SLOT_FLIGHT)
            continue;
        tstate *s = &e->ts[x.trace];
        uint64_t due = x.sent + give_up_wait(e, s, x.ttl);
        if (due > now) {
            /* Until the trace knows an RTT its wait is --timeout; look
             * again soon, the first answer shortens it. The slot this
             * entry left is free: it fits. */
            x.at = s->max_rtt_ns || due < now + GIVE_UP_FLOOR_NS ? due : now + GIVE_UP_FLOOR_NS;
            rg_heap_push(&e->inflight, x);
            continue;
        }
        *st = SLOT_EXPIRED;
        s->outstanding--;
        rg_pacer *c = pacer_of_slot(e, x.trace, x.ttl, x.attempt);
        rg_pace_lost(c);
        if (x.check) {
            /* Lost: its own SYN-ACK may be what was lost, so check again. */
            check_over(e, x.trace, x.ttl, x.attempt);
            queue_check(e, x.trace, x.ttl);
        } else if (worth_retry(e, &x, c)) {
            x.attempt++;
            x.at = now;
            if (rg_ring_push(&e->retry, x))
                s->queued++;
        }
    }
}

static void refill(engine *e, uint64_t now)
{
    e->tokens += (double)(now - e->token_at) * e->opts.rate / (double)NS;
    if (e->tokens > e->burst)
        e->tokens = e->burst;
    e->token_at = now;
}

/* Sends the retries that are due, each when its router's budget allows;
 * one pass over the line, so a held-back retry waits its turn again. */
static void send_retries(engine *e, uint64_t now, uint64_t *wake)
{
    const rg_pending *p;
    /* Two turns over the line, pilots' entries in the first (send_fresh). */
    size_t pass = 2 * e->retry.len, half = e->retry.len;
    while (pass-- > 0 && e->tokens >= 1.0 && (p = rg_ring_peek(&e->retry))) {
        rg_pending x = *p;
        rg_ring_pop(&e->retry);
        tstate *s = &e->ts[x.trace];
        if (pass >= half && !s->pilot) {
            rg_ring_push(&e->retry, x);
            continue;
        }
        if (x.check) {
            s->queued--;
            send_check(e, x.trace, x.ttl, now);
            continue;
        }
        if (x.ttl != RG_PORT_PROBE_TTL && (x.ttl > s->limit || answered(e, x.trace, x.ttl))) {
            s->queued--;
            continue;
        }
        /* A retry goes only where the hop is still unknown: what other
         * traces have shown since need not cost its router another answer. */
        if (x.ttl != RG_PORT_PROBE_TTL && x.attempt > 0 && !x.measure &&
            skip_inferable(e, x.trace, x.ttl, RG_INFER_WITNESSES)) {
            s->queued--;
            continue;
        }
        bool skip = false;
        if (x.ttl != RG_PORT_PROBE_TTL &&
            !budget_allows(e, x.trace, x.ttl, now, wake, !x.measure, &skip)) {
            if (skip)
                s->queued--;
            else
                rg_ring_push(&e->retry, x);
            continue;
        }
        s->queued--;
        send_probe(e, x.trace, x.ttl, x.attempt, false, now);
    }
    if (e->retry.len && e->tokens < 1.0)
        *wake = now; /* only the global rate holds them back */
}

/* Whether trace ti may send its next fresh TTL now; *wake gets the time at
 * which that could change by the clock alone. */
/* The highest TTL trace ti may probe: its limit, and no more than --gap
 * TTLs past its last answer or past the distance its destination showed
 * (a trace never ends on silence before that distance: routers that
 * rate-limit ICMP are silent too). */
static unsigned reach(const engine *e, const tstate *s)
{
    unsigned base = s->highest_answer > s->est_dist ? s->highest_answer : s->est_dist;
    unsigned r = base + e->opts.gap;
    return r < s->limit ? r : s->limit;
}

static bool fresh_ready(engine *e, size_t ti, uint64_t now, uint64_t *wake)
{
    tstate *s = &e->ts[ti];
    unsigned ttl = s->next_ttl;
    if (ttl > reach(e, s))
        return false;
    /* Below the distance the port probes showed, every TTL reaches a
     * router: send it without waiting for the one before to answer. */
    if (ttl > e->run->traces[ti].min_ttl && !answered(e, ti, ttl - 1) &&
        ttl > s->est_dist && now < s->advance_at) {
        if (s->advance_at < *wake)
            *wake = s->advance_at;
        return false;
    }
    return true;
}

/* Answered, or every attempt sent and lost. */
static bool ttl_resolved(engine *e, size_t ti, unsigned ttl)
{
    const rg_trace *t = &e->run->traces[ti];
    if (answered(e, ti, ttl))
        return true;
    unsigned n = rg_trace_sent(t, ttl);
    if (n == 0)
        return rg_trace_inferred(t, ttl) != NULL; /* left to inference */
    return n >= 1 + e->opts.retries && *slot_of(e, ti, ttl, n - 1) == SLOT_EXPIRED;
}

/* Stop-set mode: the next TTL towards the prober goes once the one above it
 * has answered (so the stop set could be consulted) or stayed silent. */
static bool back_ready(engine *e, size_t ti)
{
    const tstate *s = &e->ts[ti];
    return s->back_ttl != 0 && ttl_resolved(e, ti, s->back_ttl + 1);
}

/* Hops left unprobed because other traces had shown them, looked at again
 * with what the run knows now, from the trace's measured hops alone (two
 * inferred hops may not vouch for each other): one that is no longer
 * inferable (traces since disagreed: a load-balanced hop) is queued for a
 * real probe at its next free attempt, marked to be measured: were it
 * skipped again by the one-hop rule (skip_inferable), which sees inferred
 * neighbours this rule does not, the trace would requeue it for ever.
 * True when it queued any. */
static bool recheck_inferred(engine *e, size_t ti)
{
    rg_trace *t = &e->run->traces[ti];
    tstate *s = &e->ts[ti];
    rg_addr before[RG_PROBE_TTL_MAX + 1];
    size_t n = (size_t)(t->max_ttl - t->min_ttl + 1);
    bool any = false;
    for (size_t k = 0; k < n; k++)
        any |= (before[k] = t->inferred[k]).family != 0;
    if (!any)
        return false;
    memset(t->inferred, 0, n * sizeof *t->inferred);
    rg_trace_conclude(t); /* the distance rg_infer_trace fills up to */
    if (!t->est_distance)
        t->est_distance = s->est_dist; /* the address's, as rg_run_infer shares it */
    rg_infer_trace(t, &e->links, RG_INFER_WITNESSES);
    bool queued = false;
    for (unsigned ttl = t->min_ttl; ttl <= t->max_ttl; ttl++) {
        size_t k = ttl - t->min_ttl;
        unsigned next = rg_trace_sent(t, ttl);
        if (!before[k].family || t->inferred[k].family || answered(e, ti, ttl) ||
            ttl > s->limit || next >= t->attempts)
            continue;
        if (rg_ring_push(&e->retry, (rg_pending){.at = mono_ns(), .trace = (uint32_t)ti,
                                                 .ttl = (uint8_t)ttl, .attempt = (uint8_t)next,
                                                 .measure = true})) {
            s->queued++;
            queued = true;
        }
    }
    return queued;
}

static unsigned hops_left_to_inference(const rg_trace *t)
{
    unsigned n = 0;
    for (unsigned ttl = t->min_ttl; ttl <= t->max_ttl; ttl++)
        n += rg_trace_sent(t, ttl) == 0 && rg_trace_inferred(t, ttl);
    return n;
}

/* A finished trace goes to the hook once, concluded and labelled with what
 * the run knows now. If the hook released it, the engine's state for it
 * goes too: only stale entries of the in-flight heap still name it, and
 * expire passes them over. */
static void hand_over(engine *e, size_t ti)
{
    rg_trace *t = &e->run->traces[ti];
    e->ts[ti].handed = true;
    unsigned inferred = hops_left_to_inference(t);
    size_t at_match = e->run->store ? rg_match_position(&e->match, ti) : SIZE_MAX;
    size_t at_intake = e->run->store && e->feeding
                           ? rg_intake_position(&e->intake, e->run->traces, (uint32_t)ti)
                           : SIZE_MAX;
    e->opts.trace_done(e->opts.trace_done_ctx, e->run, ti);
    if (rg_trace_store_dropped(e->run, ti)) {
        /* Its record is never read again: a read would take its page back. */
        rg_match_forget(&e->match, at_match);
        rg_intake_forget(&e->intake, at_intake);
    } else if (t->probes) {
        return;
    }
    e->released_inferred += inferred;
    free_slots(e, ti);
}

/* A streamed trace shows what the run knows when it ends: its hops
 * inferred afresh from every witness so far, as rg_run_infer will for the
 * whole-run document. */
static void conclude_now(engine *e, size_t ti)
{
    rg_trace *t = &e->run->traces[ti];
    rg_trace_conclude(t);
    if (!t->est_distance)
        t->est_distance = e->ts[ti].est_dist; /* the address's, as rg_run_infer shares it */
    memset(t->inferred, 0, (size_t)(t->max_ttl - t->min_ttl + 1) * sizeof *t->inferred);
    rg_infer_trace(t, &e->links, RG_INFER_WITNESSES);
    rg_infer_silence(t, &e->links);
}

/* An address's ports go to the hook together, once the last of them has
 * ended: a port's silence is filtered only if the other ports' TCP probes
 * lost nothing (rg_traces_settle), so a streamed verdict is the one the
 * whole-run document gives. */
static void hand_over_address(engine *e, size_t ti)
{
    if (!e->opts.trace_done)
        return;
    size_t n = 0, i = ti;
    do {
        if (!e->ts[i].done || e->ts[i].handed)
            return;
        n++;
        i = e->ts[i].sibling;
    } while (i != ti);
    rg_trace **group = malloc(n * sizeof *group);
    size_t k = 0;
    do {
        conclude_now(e, i);
        if (group)
            group[k++] = &e->run->traces[i];
        i = e->ts[i].sibling;
    } while (i != ti);
    if (group)
        rg_traces_settle(group, n); /* out of memory: each port's own verdict */
    free(group);
    do {
        size_t next = e->ts[i].sibling; /* hand_over may free the slots, not ts */
        hand_over(e, i);
        i = next;
    } while (i != ti);
}

static bool port_probed(engine *e, size_t ti)
{
    return rg_trace_sent(&e->run->traces[ti], RG_PORT_PROBE_TTL) > 0;
}

/* Whether a hop got an answer other than time exceeded: the destination's
 * own (an echo reply) or an unreachable, which states what a port probe
 * would. */
static bool hops_ended_on_answer(const rg_trace *t)
{
    for (unsigned ttl = t->min_ttl; ttl <= t->max_ttl; ttl++) {
        const rg_probe *p = rg_trace_answer(t, ttl);
        if (p && p->kind != RG_REPLY_TIME_EXCEEDED)
            return true;
    }
    return false;
}

/* The port probe is due: first, or with opts.port_probe_last once the hops
 * are done (nothing in flight or queued, nothing more to send) without an
 * answer that states the destination's state. */
static bool port_probe_due(engine *e, size_t ti)
{
    const tstate *s = &e->ts[ti];
    if (port_probed(e, ti))
        return false;
    if (!e->opts.port_probe_last)
        return true;
    return !s->outstanding && !s->queued && !s->back_ttl && s->next_ttl > reach(e, s) &&
           !hops_ended_on_answer(&e->run->traces[ti]);
}

static void check_done(engine *e, size_t ti)
{
    tstate *s = &e->ts[ti];
    if (s->done || s->outstanding || s->queued || s->back_ttl)
        return;
    if (s->next_ttl <= reach(e, s))
        return;
    if (recheck_inferred(e, ti))
        return;
    if (e->opts.port_probe_last && port_probe_due(e, ti))
        return; /* the next visit sends it */
    const rg_trace *t = &e->run->traces[ti];
    if (rg_trace_port_in_doubt(t) && s->checks_sent < check_budget(e)) {
        /* Only RSTs in doubt so far (the port probes' own): check from
         * the destination's TTL, where checks are hops like the others. */
        unsigned at = s->limit < t->max_ttl ? s->limit : s->est_dist;
        queue_check(e, ti, at && at <= t->max_ttl ? at : t->max_ttl);
        if (s->queued)
            return;
    }
    s->done = true;
    e->done++;
    rg_window_leave(&e->window);
    rg_roster_leave(&e->roster, (uint32_t)ti);
    hand_over_address(e, ti);
    /* Kept for the outputs: the slots it used, and no engine state until
     * it is heard from again (restore_slots). Out of memory: kept as is. */
    if (e->opts.compact && !rg_trace_store_dropped(e->run, ti) && e->run->traces[ti].probes &&
        rg_trace_compact(&e->run->traces[ti]))
        free_slots(e, ti);
}

/* When every trace has ended, the traces that ended early are looked at
 * again: what later traces measured may have shown a hop they left to
 * inference to be load-balanced. True when some trace has work again. */
static bool reopen_traces(engine *e)
{
    bool any = false;
    for (size_t i = 0; i < e->run->ntraces; i++) {
        if (e->ts[i].handed || !recheck_inferred(e, i))
            continue;
        e->ts[i].done = false;
        e->done--;
        rg_window_return(&e->window);
        rg_roster_rejoin(&e->roster, (uint32_t)i);
        any = true;
    }
    return any;
}

/* The trace's next TTL: sent now, or inferred from other traces and not
 * sent, or (its router's budget spent) queued behind the retries so the
 * TTLs above it need not wait for it. */
static void send_fresh_hop(engine *e, size_t ti, uint64_t now, uint64_t *wake)
{
    tstate *s = &e->ts[ti];
    unsigned ttl = s->next_ttl++;
    s->advance_at = now + advance_wait(e, s);
    bool skip = false;
    if (budget_allows(e, ti, ttl, now, wake, true, &skip)) {
        send_probe(e, ti, ttl, 0, false, now);
    } else if (!skip && rg_ring_push(&e->retry, (rg_pending){.at = now, .trace = (uint32_t)ti,
                                                           .ttl = (uint8_t)ttl})) {
        s->queued++;
    }
}

/* A trace's probe slots, and the engine's state per slot, exist from its
 * start: a run holds the slots of the traces in its window, not of all. */
static bool alloc_trace(engine *e, size_t ti)
{
    rg_trace *t = &e->run->traces[ti];
    size_t ns = rg_trace_planned_slots(t);
    if (!rg_trace_alloc(t))
        return false;
    e->slot[ti] = calloc(ns, 1);
    e->pacer[ti] = calloc(ns, sizeof **e->pacer);
    if (e->slot[ti] && e->pacer[ti])
        return true;
    free(e->slot[ti]);
    free(e->pacer[ti]);
    e->slot[ti] = NULL;
    e->pacer[ti] = NULL;
    return false;
}

/* Whether trace ti may start now: --max-inflight bounds the traces started
 * and not done. Out of memory, it waits for others to end and free theirs. */
static bool start_in_window(engine *e, size_t ti)
{
    if (!rg_window_enter(&e->window))
        return false;
    if (!alloc_trace(e, ti)) {
        rg_window_leave(&e->window);
        return false;
    }
    e->ts[ti].started = true;
    e->nstarted++;
    return true;
}

/* Room in the engine's per-trace arrays for n traces (doubling). */
static bool reserve_traces(engine *e, size_t n)
{
    if (n <= e->cap)
        return true;
    size_t cap = e->cap * 2 > n ? e->cap * 2 : n;
    tstate *ts = realloc(e->ts, cap * sizeof *ts);
    if (ts)
        e->ts = ts;
    uint8_t **slot = ts ? realloc(e->slot, cap * sizeof *slot) : NULL;
    if (slot)
        e->slot = slot;
    uint32_t **pacer = slot ? realloc(e->pacer, cap * sizeof *pacer) : NULL;
    if (!pacer)
        return false;
    e->pacer = pacer;
    size_t more = cap - e->cap;
    memset(e->ts + e->cap, 0, more * sizeof *e->ts);
    memset(e->slot + e->cap, 0, more * sizeof *e->slot);
    memset(e->pacer + e->cap, 0, more * sizeof *e->pacer);
    e->cap = cap;
    return true;
}

/* Traces [from, ntraces) the feed just added: their start, prefix, pilot
 * role (the first RG_INFER_WITNESSES towards their prefix, as
 * choose_pilots picks in a whole run) and place in their address's circle
 * of siblings, unless that circle was handed over already. */
static bool take_in(engine *e, size_t from)
{
    rg_run *run = e->run;
    if (!reserve_traces(e, run->ntraces) ||
        !rg_match_add(&e->match, run->traces, from, run->ntraces))
        return false;
    rg_rematch_add(&e->rematch, run->traces, from, run->ntraces);
    for (size_t i = from; i < run->ntraces; i++) {
        tstate *s = &e->ts[i];
        start_trace(e, i);
        s->scope = rg_links_scope(&run->traces[i].dst);
        uint32_t count = rg_intake_count_scope(&e->intake, s->scope);
        uint32_t before = rg_intake_latest(&e->intake, run->traces, (uint32_t)i);
        if (count == 0 || before == UINT32_MAX)
            return false;
        s->pilot = count <= RG_INFER_WITNESSES;
        if (!rg_roster_add(&e->roster, s->pilot))
            return false;
        s->sibling = (uint32_t)i;
        if (before && !e->ts[before - 1].handed) {
            s->sibling = e->ts[before - 1].sibling;
            e->ts[before - 1].sibling = (uint32_t)i;
        }
    }
    return true;
}

/* Lazy targets: once every trace fed so far has started, as many more as
 * the window has room for. False (err set) when out of memory. */
static bool feed_more(engine *e, char *err, size_t errlen)
{
    size_t n = e->run->ntraces;
    if (!e->feeding || e->nstarted < n)
        return true;
    size_t limit = e->window.limit, active = e->window.active;
    size_t room = !limit ? FEED_CHUNK : active < limit ? limit - active : 0;
    if (room == 0)
        return true;
    e->feeding = e->opts.feed(e->opts.feed_ctx, e->run, room);
    if (e->run->ntraces == n || take_in(e, n))
        return true;
    snprintf(err, errlen, "out of memory taking in trace %zu", e->run->ntraces);
    return false;
}

/* A trace's turn in a pass: at most one fresh TTL (the port probes first,
 * then forward, then in stop-set mode back towards the prober). When the
 * rate's tokens run out at it, the next pass of its group begins after it. */
static void visit(engine *e, size_t ti, uint64_t now, uint64_t *wake)
{
    tstate *s = &e->ts[ti];
    bool acted = true;
    if (e->tokens >= 1.0 && port_probe_due(e, ti)) {
        send_probe(e, ti, RG_PORT_PROBE_TTL, 0, false, now);
    } else if (e->tokens >= 1.0 && fresh_ready(e, ti, now, wake)) {
        send_fresh_hop(e, ti, now, wake);
    } else if (e->tokens >= 1.0 && back_ready(e, ti)) {
        unsigned ttl = s->back_ttl;
        s->back_ttl = ttl > e->run->traces[ti].min_ttl ? ttl - 1 : 0;
        send_probe(e, ti, ttl, 0, false, now);
    } else {
        bool late_port_probe = e->opts.port_probe_last && port_probe_due(e, ti);
        if (e->tokens < 1.0 && (fresh_ready(e, ti, now, wake) || back_ready(e, ti) ||
                                late_port_probe))
            *wake = now; /* only the rate holds it back */
        acted = false;
    }
    /* It sent (or skipped or queued) one TTL: its next may be ready at
     * once (below the port probes' distance it is), so the next pass
     * comes now, not when a packet or a give-up next wakes the loop. */
    if (acted) {
        *wake = now;
        if (e->tokens < 1.0)
            rg_roster_resume_after(&e->roster, (uint32_t)ti);
    }
    check_done(e, ti);
}

/* One group's turn: each trace in flight once, from where the last pass
 * stopped, then the next ones in line while the window has room. A visit
 * may end only the trace visited, so the successor taken before it stays. */
static void pass_group(engine *e, enum rg_roster_group g, uint64_t now, uint64_t *wake)
{
    size_t len = e->roster.list[g].len;
    uint32_t ti = rg_roster_first(&e->roster, g);
    for (size_t k = 0; k < len; k++) {
        uint32_t next = rg_roster_after(&e->roster, ti);
        visit(e, ti, now, wake);
        ti = next;
    }
    uint32_t w;
    while ((w = rg_roster_waiting(&e->roster, g)) != RG_ROSTER_NONE && start_in_window(e, w)) {
        rg_roster_start(&e->roster, g);
        visit(e, w, now, wake);
    }
}

/* One round-robin pass over the traces in flight: each sends at most one
 * fresh TTL. Returns the earliest time a waiting trace becomes ready. Its
 * cost follows the window (--max-inflight), not the run's size. */
static uint64_t send_fresh(engine *e, uint64_t now)
{
    uint64_t wake = UINT64_MAX;
    /* Pilots first: their hops are the witnesses every other trace's
     * inference waits for, so a scarce router's token goes to them. */
    pass_group(e, RG_ROSTER_PILOTS, now, &wake);
    pass_group(e, RG_ROSTER_OTHERS, now, &wake);
    return wake;
}

static int poll_wait_ms(engine *e, uint64_t now, uint64_t wake)
{
    const rg_pending *p = rg_heap_peek(&e->inflight);
    if (p && p->at < wake)
        wake = p->at;
    if (wake <= now) {
        if (e->tokens >= 1.0)
            return 0;
        /* Sleep until the next token. */
        uint64_t need = (uint64_t)((1.0 - e->tokens) * (double)NS / e->opts.rate);
        wake = now + need;
    }
    uint64_t ms = (wake - now + MS - 1) / MS;
    return ms > 100 ? 100 : (int)ms;
}

static void wait_for_packets(const rg_sockets *s, int timeout_ms)
{
    struct pollfd pfd[RG_RX_COUNT];
    nfds_t n = 0;
    for (int i = 0; i < RG_RX_COUNT; i++)
        if (s->rx[i] >= 0)
            pfd[n++] = (struct pollfd){.fd = s->rx[i], .events = POLLIN};
    poll(pfd, n, timeout_ms);
}

bool rg_engine_run(rg_run *run, const rg_sockets *socks,
                   const rg_engine_opts *opts, rg_progress_fn progress,
                   void *ctx, volatile sig_atomic_t *stop, char *err,
                   size_t errlen)
{
    engine e;
    memset(&e, 0, sizeof e);
    if (opts->rate == 0 || !engine_init(&e, run, socks, opts)) {
        snprintf(err, errlen, "out of memory setting up %zu traces", run->ntraces);
        engine_free(&e);
        return false;
    }
    clock_gettime(CLOCK_REALTIME, &run->start);
    uint64_t last_progress = mono_ns();
    unsigned reopened = 0;
    uint64_t last_sent = mono_ns(), sent_before = 0;
    while (!(stop && *stop)) {
        if (!feed_more(&e, err, errlen)) {
            engine_free(&e);
            return false;
        }
        if (e.done == run->ntraces && !e.feeding) {
            /* Bounded: each round only ever removes inferences. */
            if (reopened++ >= REOPEN_ROUNDS || !reopen_traces(&e))
                break;
        }
        uint64_t now = mono_ns();
        receive_all(&e);
        expire(&e, now);
        refill(&e, now);
        uint64_t wake = UINT64_MAX, fresh;
        send_retries(&e, now, &wake);
        if ((fresh = send_fresh(&e, now)) < wake)
            wake = fresh;
        if (progress && now - last_progress >= PROGRESS_NS) {
            rg_engine_progress pr = {e.done, run->ntraces, run->stats.probes_sent,
                                     run->stats.replies};
            progress(ctx, &pr);
            last_progress = now;
        }
        /* A safety net, never the way a run ends: pacers hold a probe at
         * most 2 s, so 5 s with nothing sent and nothing in flight means
         * a trace waits for what will not come; end with what was seen. */
        if (run->stats.probes_sent != sent_before) {
            sent_before = run->stats.probes_sent;
            last_sent = now;
        } else if (e.inflight.len == 0 && now - last_sent > IDLE_LIMIT_NS &&
                   !(e.feeding && e.done == run->ntraces)) { /* not waiting for input */
            run->stats.idle_stop = true; /* told, so tests can catch a livelock */
            break;
        }
        if (e.done < run->ntraces || e.feeding)
            wait_for_packets(socks, poll_wait_ms(&e, mono_ns(), wake));
    }
    receive_all(&e); /* replies already queued still count */
    clock_gettime(CLOCK_REALTIME, &run->end);
    run->interrupted = stop && *stop;
    /* Written only where it changes: a dropped record (trace_store.h) is
     * never written to. */
    for (size_t i = 0; i < run->ntraces; i++) {
        if (rg_trace_store_dropped(run, i))
            continue;
        bool cut = run->interrupted && !e.ts[i].done;
        if (run->traces[i].incomplete != cut)
            run->traces[i].incomplete = cut;
    }
    run->stats.send_errors = e.send_errors;
    run->stats.last_send_error = e.last_send_error;
    uint64_t released_inferred = e.released_inferred;
    /* A trace never started (the run was stopped) gets its empty slots for
     * the outputs; one the hook released keeps only its conclusions. */
    bool slots_ok = true;
    for (size_t i = 0; i < run->ntraces; i++)
        if (!e.ts[i].handed)
            slots_ok &= rg_trace_alloc(&run->traces[i]);
    engine_free(&e);
    if (!slots_ok) {
        snprintf(err, errlen, "out of memory concluding %zu traces", run->ntraces);
        return false;
    }
    rg_run_conclude(run); /* a released trace keeps its conclusions */
    if (!rg_run_infer(run, RG_INFER_WITNESSES)) {
        snprintf(err, errlen, "out of memory inferring hops of %zu traces", run->ntraces);
        return false;
    }
    run->stats.hops_inferred = released_inferred;
    for (size_t i = 0; i < run->ntraces; i++)
        if (!rg_trace_store_dropped(run, i))
            run->stats.hops_inferred += hops_left_to_inference(&run->traces[i]);
    return true;
}
