/* bench_rematch: what attributing quotes a middlebox rewrote costs at scale
 * (engine/rematch.c). N TCP traces (default 65,536 destinations x 2
 * ports, TTLs 1-4 sent), then: the time of the first lookup, which builds
 * the three indexes, their memory, and the lookups per second of ICMP
 * errors with the destination port rewritten, the destination rewritten,
 * the sequence number shifted, and with nothing to find (a port rewritten
 * and a guessed sequence number). Prints figures; exits non-zero unless
 * every rewritten quote found its own probe and the guessed ones none.
 *
 * With "fixed" every trace has one source port (--sport): the index keyed
 * on the source port alone then holds one chain of every trace, and
 * lookups that need it give up after RG_REMATCH_SCAN (the destination
 * rewritten is then found for none); the build stays linear.
 *
 *   BUILD/bench_rematch [TRACES [fixed]]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/rematch.h"
#include "model/result.h"
#include "probe/probe.h"
#include "probe/reply.h"

#define MAX_TTL 4

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool make_traces(rg_trace *t, size_t n, bool fixed)
{
    for (size_t i = 0; i < n; i++) {
        size_t a = i / 2; /* 198.18.0.0/15: 131,072 addresses */
        rg_addr dst = {.family = 4, .bytes = {198, (uint8_t)(18 + (a >> 16) % 2),
                                              (uint8_t)(a >> 8), (uint8_t)a}};
        if (!rg_trace_init(t + i, "bench", &dst, i % 2 ? 443 : 80, 1, MAX_TTL, 1))
            return false;
        rg_addr_parse("198.18.0.2", &t[i].src);
        t[i].sport = fixed ? 33000 : (uint16_t)(32768 + (i * 7919) % 28232);
        t[i].seq_base = (uint32_t)(i * 2654435761u + 977);
        for (unsigned ttl = 1; ttl <= MAX_TTL; ttl++)
            rg_trace_set_sent(t + i, ttl, 1);
    }
    return true;
}

/* A time exceeded for TTL 3 of t, edited per kind (0 dport, 1 dst, 2 seq
 * shifted, 3 dport and a guessed seq); q holds the quote. */
static rg_reply reply_for(const rg_trace *t, int kind, uint8_t *q)
{
    rg_probe_spec s = rg_trace_probe_spec(t, 3, 0);
    s.ttl = 1;
    rg_reply r = {.kind = RG_REPLY_TIME_EXCEEDED, .probe_src = t->src, .probe_dst = t->dst,
                  .sport = t->sport, .dport = t->dport, .seq = s.seq, .has_seq = true,
                  .probe_proto = 6, .quote = q};
    r.quote_len = rg_probe_build(&s, q, RG_PROBE_MAXLEN);
    if (kind == 0)
        r.dport = 8080;
    else if (kind == 1)
        r.probe_dst.bytes[3] ^= 0x80;
    else if (kind == 2)
        r.seq ^= 0x80000000u;
    else {
        r.dport = 8080; /* a port rewritten, and no secret: a blind forger */
        r.seq ^= 0x5a5a5000u;
    }
    return r;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 131072;
    bool fixed = argc > 2 && strcmp(argv[2], "fixed") == 0;
    if (n < 2 || n > (1u << 22)) {
        fprintf(stderr, "bench_rematch: TRACES from 2 to 4194304\n");
        return 2;
    }
    rg_trace *t = calloc(n, sizeof *t);
    if (!t || !make_traces(t, n, fixed)) {
        fprintf(stderr, "bench_rematch: out of memory\n");
        return 1;
    }
    rg_rematch m;
    rg_rematch_init(&m, t, n);
    uint8_t q[RG_PROBE_MAXLEN];
    rg_rematch_result x;
    rg_reply r = reply_for(&t[0], 0, q);
    double a = now();
    bool first = rg_rematch_find(&m, &r, &x);
    double built = now() - a;
    size_t bytes = (m.by_dst_sport.mask + 1 + m.by_dst.mask + 1 + m.by_sport.mask + 1 + 3 * n) *
                   sizeof(uint32_t);
    printf("traces %zu%s\nfirst lookup (builds the indexes) %.1f ms\nindex memory %.2f MB\n", n,
           fixed ? ", one source port" : "", built * 1e3, (double)bytes / 1048576.0);
    static const char *const names[] = {"dport rewritten", "destination rewritten",
                                        "sequence shifted", "guessed (none found)"};
    int bad = !first;
    for (int kind = 0; kind < 4; kind++) {
        size_t found = 0;
        a = now();
        for (size_t i = 0; i < n; i++) {
            rg_reply e = reply_for(&t[i], kind, q);
            if (rg_rematch_find(&m, &e, &x))
                found += kind == 3 || (x.trace == i && x.ttl == 3);
        }
        double s = now() - a;
        printf("%-22s %zu of %zu found, %.2f M lookups/s (reply built each time)\n", names[kind],
               found, n, (double)n / s / 1e6);
        bad |= kind == 1 && fixed ? found != 0 : kind < 3 ? found != n : found != 0;
    }
    rg_rematch_free(&m);
    for (size_t i = 0; i < n; i++)
        rg_trace_free(&t[i]);
    free(t);
    return bad;
}
