/* libFuzzer harness: every received packet goes through the reply parser
 * and then the matcher, as the engine does. The first input byte picks the
 * entry point (a whole IPv4/IPv6 packet, or an IPv6 socket's ICMPv6, TCP or
 * UDP payload), the rest is the packet. Traces of every method (TCP, UDP,
 * ICMP echo) sit behind the matcher. Besides memory errors it checks what
 * the parser promises: an accepted reply names a probe of its own family;
 * and the matcher's: a matched reply is of its trace's protocol.
 * An ICMP error's quote then goes through the middlebox comparison
 * (probe/quote.c) against a probe of the same family, as the engine does.
 * A reply the matcher refuses goes to the rematcher (engine/rematch.c), as
 * in the engine; what it attributes must be a sent probe of a TCP trace,
 * named by the secret the rematcher says it checked.
 *
 *   tests/fuzz/run.sh reply      (or by hand:)
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_reply.c src/probe/reply.c src/probe/probe.c \
 *     src/engine/match.c src/engine/rematch.c src/model/result.c src/util/addr.c \
 *     -o fuzz_reply
 *   ./fuzz_reply -max_total_time=60 tests/fuzz/corpus/reply
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/match.h"
#include "engine/rematch.h"
#include "model/result.h"
#include "probe/probe.h"
#include "probe/quote.h"
#include "probe/reply.h"

#define NTRACES 6
static rg_trace traces[NTRACES];
static rg_match_table table;
static rg_rematch rematch;

/* Two traces whose signatures the seed corpus uses, so inputs can get past
 * the hash lookup into the identity checks. */
static void setup(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    rg_addr d4, d6;
    rg_addr_parse("198.19.0.5", &d4);
    rg_addr_parse("2001:db8:310::5", &d6);
    /* TCP 80/443, UDP 33434, ICMP (port 0), each family; flows 40000 + i. */
    static const uint16_t ports[NTRACES] = {80, 443, 33434, 33434, 0, 0};
    static const uint8_t methods[NTRACES] = {RG_METHOD_TCP, RG_METHOD_TCP, RG_METHOD_UDP,
                                             RG_METHOD_UDP, RG_METHOD_ICMP, RG_METHOD_ICMP};
    for (size_t i = 0; i < NTRACES; i++) {
        rg_trace *t = &traces[i];
        rg_trace_init(t, i % 2 ? "v6" : "v4", i % 2 ? &d6 : &d4, ports[i], 1, 30, 2);
        rg_addr_parse(i % 2 ? "2001:db8:100::2" : "198.18.0.2", &t->src);
        t->sport = (uint16_t)(40000 + i);
        t->method = methods[i];
        t->seq_base = 0x10203040u;
        for (unsigned ttl = 0; ttl <= 30; ttl++) /* 0: the port probes */
            rg_trace_set_sent(t, ttl, 2);
    }
    if (!rg_match_init(&table, traces, NTRACES))
        abort();
    rg_rematch_init(&rematch, traces, NTRACES);
}

/* What the rematcher promises of what it attributes. */
static void check_rematch(const rg_reply *r)
{
    rg_rematch_result x;
    if (!rg_rematch_find(&rematch, r, &x))
        return;
    if (x.trace >= NTRACES)
        abort();
    const rg_trace *t = &traces[x.trace];
    unsigned ttl, attempt;
    bool secret = rg_probe_identity(t->seq_base, r->seq, &ttl, &attempt) && ttl == x.ttl &&
                  attempt == x.attempt;
    if (t->method != RG_METHOD_TCP || x.attempt >= rg_trace_sent(t, x.ttl) ||
        !rg_addr_equal(&r->probe_src, &t->src) ||
        (x.kind == RG_REMATCH_PORTS && (!secret || !rg_addr_equal(&r->probe_dst, &t->dst) ||
                                        (r->sport == t->sport && r->dport == t->dport))) ||
        (x.kind == RG_REMATCH_DST && (!secret || rg_addr_equal(&r->probe_dst, &t->dst))) ||
        (x.kind == RG_REMATCH_SEQ && (r->seq - (uint32_t)x.shift !=
                                      rg_probe_seq(t->seq_base, x.ttl, x.attempt) || x.shift == 0)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup();
    if (size < 1)
        return 0;
    rg_reply r;
    enum rg_parse_status st;
    rg_addr src, dst;
    rg_addr_parse("2001:db8:101::2", &src);
    rg_addr_parse("2001:db8:100::2", &dst);
    switch (data[0] % 4) {
    case 0:
        st = rg_reply_parse_packet(data + 1, size - 1, &r);
        break;
    case 1:
        st = rg_reply_parse_l4(58, data + 1, size - 1, &src, &dst, 64, &r);
        break;
    case 2:
        st = rg_reply_parse_l4(6, data + 1, size - 1, &src, &dst, 64, &r);
        break;
    default:
        st = rg_reply_parse_l4(17, data + 1, size - 1, &src, &dst, 64, &r);
        break;
    }
    if (st != RG_PARSE_OK)
        return 0;
    if (r.kind == RG_REPLY_NONE || r.probe_dst.family != r.probe_src.family ||
        r.from.family != r.probe_dst.family)
        abort();
    if (r.quote) {
        const rg_trace *t = &traces[r.probe_dst.family == 4 ? 0 : 1];
        rg_probe_spec spec = {.src = t->src, .dst = t->dst, .flow = t->sport,
                              .dport = t->dport, .ttl = 4, .seq = t->seq_base};
        uint8_t sent[RG_PROBE_MAXLEN];
        size_t n = rg_probe_build(&spec, sent, sizeof sent);
        rg_quote_diff d;
        bool ok = rg_quote_compare(sent, n, r.quote, r.quote_len, true, &d);
        /* The quote lies inside the packet; a refused one leaves nothing
         * behind; an accepted one holds no more TCP bytes than it has. */
        if (r.quote < data + 1 || r.quote_len > (size_t)(data + size - r.quote) ||
            (!ok && (d.changes != 0 || d.tcp_quoted != 0)) || (ok && d.tcp_quoted > r.quote_len))
            abort();
    }
    rg_match m;
    if (rg_match_reply(&table, &r, &m)) {
        const rg_trace *t = &traces[m.trace];
        if (!rg_addr_equal(&t->dst, &r.probe_dst) || m.attempt >= rg_trace_sent(t, m.ttl) ||
            r.probe_proto != rg_method_proto(t->method, t->dst.family))
            abort();
        return 0;
    }
    check_rematch(&r);
    return 0;
}
