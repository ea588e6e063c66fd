/* libFuzzer harness: every received packet goes through the reply parser
 * and then the matcher, as the engine does. The first input byte picks the
 * entry point (a whole IPv4/IPv6 packet, or an IPv6 socket's ICMPv6 or TCP
 * payload), the rest is the packet. Besides memory errors it checks what the
 * parser promises: an accepted reply names a probe of its own family. An
 * ICMP error's quote then goes through the middlebox comparison
 * (probe/quote.c) against a probe of the same family, as the engine does.
 *
 *   tests/fuzz/run.sh reply      (or by hand:)
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *     tests/fuzz/fuzz_reply.c src/probe/reply.c src/probe/probe.c \
 *     src/engine/match.c src/model/result.c src/util/addr.c -o fuzz_reply
 *   ./fuzz_reply -max_total_time=60 tests/fuzz/corpus/reply
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/match.h"
#include "model/result.h"
#include "probe/probe.h"
#include "probe/quote.h"
#include "probe/reply.h"

static rg_trace traces[2];
static rg_match_table table;

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
    rg_trace_init(&traces[0], "v4", &d4, 80, 1, 30, 2);
    rg_trace_init(&traces[1], "v6", &d6, 443, 1, 30, 2);
    rg_addr_parse("198.18.0.2", &traces[0].src);
    rg_addr_parse("2001:db8:100::2", &traces[1].src);
    traces[0].sport = 40000;
    traces[1].sport = 40001;
    traces[0].seq_base = traces[1].seq_base = 0x10203040u;
    for (unsigned ttl = 0; ttl <= 30; ttl++) { /* 0: the port probes */
        rg_trace_set_sent(&traces[0], ttl, 2);
        rg_trace_set_sent(&traces[1], ttl, 2);
    }
    if (!rg_match_init(&table, traces, 2))
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
    switch (data[0] % 3) {
    case 0:
        st = rg_reply_parse_packet(data + 1, size - 1, &r);
        break;
    case 1:
        st = rg_reply_parse_l4(58, data + 1, size - 1, &src, &dst, 64, &r);
        break;
    default:
        st = rg_reply_parse_l4(6, data + 1, size - 1, &src, &dst, 64, &r);
        break;
    }
    if (st != RG_PARSE_OK)
        return 0;
    if (r.kind == RG_REPLY_NONE || r.probe_dst.family != r.probe_src.family ||
        r.from.family != r.probe_dst.family)
        abort();
    if (r.quote) {
        const rg_trace *t = &traces[r.probe_dst.family == 4 ? 0 : 1];
        rg_probe_spec spec = {.src = t->src, .dst = t->dst, .sport = t->sport,
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
        if (!rg_addr_equal(&t->dst, &r.probe_dst) || m.attempt >= rg_trace_sent(t, m.ttl))
            abort();
    }
    return 0;
}
