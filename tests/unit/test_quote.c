/* The quote comparison (probe/quote.h) with hand-built quotes: each kind of
 * change found with its quoted value, nothing where nothing changed (the
 * whole probe quoted, as Linux does, with only the TTL a router lowers),
 * 28-byte quotes with 8 TCP bytes giving no verdict on the options, and
 * quotes too short or of another family refused. Then the per-trace walk
 * (model/middlebox.h): a change reported once where it first appears,
 * silent hops bridged, the last hop that saw a filtered port's SYN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "model/middlebox.h"
#include "model/result.h"
#include "probe/probe.h"
#include "probe/quote.h"
#include "probe/wire.h"

#define SEQ 0x10203040u

static rg_addr addr(const char *s)
{
    rg_addr a;
    assert_true(rg_addr_parse(s, &a));
    return a;
}

static size_t probe4(uint8_t *buf, uint8_t ttl)
{
    rg_probe_spec s = {.src = addr("198.18.0.2"), .dst = addr("198.19.0.5"),
                       .flow = 40000, .dport = 80, .ttl = ttl, .seq = SEQ, .ip_id = 0x1234};
    return rg_probe_build(&s, buf, RG_PROBE_MAXLEN);
}

static size_t probe6(uint8_t *buf, uint8_t ttl)
{
    rg_probe_spec s = {.src = addr("2001:db8:100::2"), .dst = addr("2001:db8:310::5"),
                       .flow = 40001, .dport = 443, .ttl = ttl, .seq = SEQ,
                       .flow_label = 0x12345};
    return rg_probe_build(&s, buf, RG_PROBE_MAXLEN);
}

/* The quote a router at TTL 4 sends: the probe as it arrived (TTL 1). */
static size_t arrived4(uint8_t *q)
{
    size_t n = probe4(q, 1);
    return n;
}

static rg_quote_diff cmp(const uint8_t *q, size_t qlen, bool v6, bool te)
{
    uint8_t sent[RG_PROBE_MAXLEN];
    size_t n = v6 ? probe6(sent, 4) : probe4(sent, 4);
    rg_quote_diff d;
    assert_true(rg_quote_compare(sent, n, q, qlen, te, &d));
    return d;
}

static void unchanged_whole_probe(void **state)
{
    (void)state;
    uint8_t q[RG_PROBE_MAXLEN];
    size_t n = arrived4(q);
    rg_quote_diff d = cmp(q, n, false, true);
    assert_int_equal(d.changes, 0);
    assert_int_equal(d.tcp_quoted, 24);
    assert_true(d.options);
    assert_int_equal(d.mss, 1460);
    assert_int_equal(d.ttl, 1);
    /* A router that decrements before quoting (TTL 0) is no change either. */
    q[8] = 0;
    assert_int_equal(cmp(q, n, false, true).changes, 0);
    uint8_t q6[RG_PROBE_MAXLEN];
    n = probe6(q6, 1);
    d = cmp(q6, n, true, true);
    assert_int_equal(d.changes, 0);
    assert_int_equal(d.flow, 0x12345);
}

static void dscp_and_ecn(void **state)
{
    (void)state;
    uint8_t q[RG_PROBE_MAXLEN];
    size_t n = arrived4(q);
    q[1] = 46 << 2;
    rg_quote_diff d = cmp(q, n, false, true);
    assert_int_equal(d.changes, RG_QC_DSCP);
    assert_int_equal(d.tos >> 2, 46);
    q[1] = 0x02; /* ECT(0) set on the way */
    d = cmp(q, n, false, true);
    assert_int_equal(d.changes, RG_QC_ECN);
    /* IPv6: the traffic class sits across the first two 32-bit words. */
    uint8_t q6[RG_PROBE_MAXLEN];
    n = probe6(q6, 1);
    uint32_t vtf = 6u << 28 | (uint32_t)(46 << 2) << 20 | 0x12345;
    rg_put_be32(q6, vtf);
    d = cmp(q6, n, true, true);
    assert_int_equal(d.changes, RG_QC_DSCP);
    assert_int_equal(d.tos, 46 << 2);
}

static void mss_clamped_and_options(void **state)
{
    (void)state;
    uint8_t q[RG_PROBE_MAXLEN];
    size_t n = arrived4(q);
    rg_put_be16(q + 20 + 22, 1300);
    rg_quote_diff d = cmp(q, n, false, true);
    assert_int_equal(d.changes, RG_QC_MSS);
    assert_int_equal(d.mss, 1300);
    /* The MSS option replaced by NOPs: an options change, MSS gone. */
    n = arrived4(q);
    memset(q + 20 + 20, 1, 4);
    d = cmp(q, n, false, true);
    assert_int_equal(d.changes, RG_QC_MSS | RG_QC_OPTIONS);
    assert_int_equal(d.mss, 0);
}

static void nat_ports_seq_id_flow(void **state)
{
    (void)state;
    uint8_t q[RG_PROBE_MAXLEN];
    size_t n = arrived4(q);
    memcpy(q + 12, addr("198.18.13.1").bytes, 4);
    rg_put_be16(q + 20, 50000);
    rg_quote_diff d = cmp(q, n, false, true);
    assert_int_equal(d.changes, RG_QC_SRC | RG_QC_SPORT);
    assert_int_equal(d.sport, 50000);
    rg_addr s, t;
    assert_true(rg_quote_addrs(q, n, &s, &t));
    char buf[64];
    assert_string_equal(rg_addr_format(&s, buf, sizeof buf), "198.18.13.1");
    assert_string_equal(rg_addr_format(&t, buf, sizeof buf), "198.19.0.5");

    n = arrived4(q);
    memcpy(q + 16, addr("198.19.0.9").bytes, 4);
    rg_put_be16(q + 22, 8080);
    d = cmp(q, n, false, true);
    assert_int_equal(d.changes, RG_QC_DST | RG_QC_DPORT);

    n = arrived4(q);
    rg_put_be32(q + 24, SEQ + 1000);
    rg_put_be16(q + 4, 0x9999);
    d = cmp(q, n, false, true);
    assert_int_equal(d.changes, RG_QC_SEQ | RG_QC_IPID);
    assert_int_equal(d.seq, SEQ + 1000);
    assert_int_equal(d.ip_id, 0x9999);

    uint8_t q6[RG_PROBE_MAXLEN];
    n = probe6(q6, 1);
    rg_put_be32(q6, 6u << 28 | 0x54321);
    d = cmp(q6, n, true, true);
    assert_int_equal(d.changes, RG_QC_FLOW);
    assert_int_equal(d.flow, 0x54321);
}

static void ttl_and_tcp_header(void **state)
{
    (void)state;
    uint8_t q[RG_PROBE_MAXLEN];
    size_t n = arrived4(q);
    q[8] = 2; /* a hop that did not decrement */
    assert_int_equal(cmp(q, n, false, true).changes, RG_QC_TTL);
    /* An unreachable quotes whatever TTL was left: no verdict there. */
    assert_int_equal(cmp(q, n, false, false).changes, 0);
    n = arrived4(q);
    q[20 + 13] |= 0x40; /* ECE set */
    rg_quote_diff d = cmp(q, n, false, true);
    assert_int_equal(d.changes, RG_QC_TCP);
    assert_int_equal(d.tcp_flags, 0x42);
}

static void eight_byte_quote_has_no_option_verdict(void **state)
{
    (void)state;
    uint8_t q[RG_PROBE_MAXLEN];
    arrived4(q);
    /* 20 + 8 bytes, as RFC 792 promises; the total length still says 44. */
    rg_quote_diff d = cmp(q, 28, false, true);
    assert_int_equal(d.changes, 0);
    assert_int_equal(d.tcp_quoted, 8);
    assert_false(d.options);
    assert_int_equal(d.mss, 0);
    /* A clamp behind the cut is invisible, not reported as MSS 0. */
    q[1] = 46 << 2;
    d = cmp(q, 28, false, true);
    assert_int_equal(d.changes, RG_QC_DSCP);
    /* Cut inside the options (30 bytes of TCP: offset says 24). */
    arrived4(q);
    d = cmp(q, 20 + 22, false, true);
    assert_false(d.options);
    assert_int_equal(d.changes, 0);
}

static void refused_quotes(void **state)
{
    (void)state;
    uint8_t q[RG_PROBE_MAXLEN], q6[RG_PROBE_MAXLEN], sent[RG_PROBE_MAXLEN];
    size_t n = arrived4(q), s = probe4(sent, 4);
    rg_quote_diff d;
    assert_false(rg_quote_compare(sent, s, q, 20 + 3, true, &d)); /* no ports */
    assert_false(rg_quote_compare(sent, s, q, 10, true, &d));
    size_t n6 = probe6(q6, 1);
    assert_false(rg_quote_compare(sent, s, q6, n6, true, &d)); /* other family */
    q[9] = 17;
    assert_false(rg_quote_compare(sent, s, q, n, true, &d)); /* not TCP */
    arrived4(q);
    q[0] = 0x4f; /* IHL 60 > what is there */
    assert_false(rg_quote_compare(sent, s, q, n, true, &d));
    assert_int_equal(d.changes, 0);
    assert_int_equal(d.tcp_quoted, 0);
}

static void change_names(void **state)
{
    (void)state;
    assert_string_equal(rg_quote_change_name(RG_QC_DSCP), "dscp");
    assert_string_equal(rg_quote_change_name(RG_QC_MSS), "mss");
    assert_string_equal(rg_quote_change_name(RG_QC_SRC), "src");
    assert_string_equal(rg_quote_change_name(RG_QC_TCP), "tcp-header");
    assert_null(rg_quote_change_name(RG_QC_DSCP | RG_QC_ECN));
    assert_null(rg_quote_change_name(1u << RG_QC_KINDS));
}

/* --- the walk over a trace ------------------------------------------------ */

static rg_trace trace4(void)
{
    rg_trace t;
    rg_addr d = addr("198.19.0.5");
    assert_true(rg_trace_init(&t, "x", &d, 80, 1, 8, 3));
    t.src = addr("198.18.0.2");
    t.sport = 40000;
    t.seq_base = SEQ;
    return t;
}

/* The quote of (ttl, attempt) as a router there would send it, edited by
 * edit (NULL: as sent), fed to rg_middlebox_note as a time exceeded. */
static void answer(rg_trace *t, unsigned ttl, unsigned attempt, void (*edit)(uint8_t *),
                   size_t cut)
{
    rg_probe_spec s = {.src = t->src, .dst = t->dst, .flow = t->sport, .dport = t->dport,
                       .ttl = 1, .seq = rg_probe_seq(t->seq_base, ttl, attempt),
                       .ip_id = rg_probe_ip_id(t->seq_base, ttl, attempt)};
    uint8_t q[RG_PROBE_MAXLEN];
    size_t n = rg_probe_build(&s, q, sizeof q);
    if (edit)
        edit(q);
    if (rg_trace_sent(t, ttl) < attempt + 1)
        rg_trace_set_sent(t, ttl, attempt + 1);
    rg_probe *p = rg_trace_probe(t, ttl, attempt);
    p->kind = RG_REPLY_TIME_EXCEEDED;
    p->from = addr("198.18.9.9");
    p->from.bytes[3] = (uint8_t)ttl;
    rg_reply r = {.kind = RG_REPLY_TIME_EXCEEDED, .quote = q, .quote_len = cut ? cut : n};
    rg_middlebox_note(t, ttl, attempt, &r);
}

static void set_dscp(uint8_t *q) { q[1] = 46 << 2; }
static void set_dscp_mss(uint8_t *q) { q[1] = 46 << 2; rg_put_be16(q + 42, 1300); }
static void set_src(uint8_t *q) { q[1] = 46 << 2; q[15] = 77; }

static void walk_reports_each_change_once(void **state)
{
    (void)state;
    rg_trace t = trace4();
    answer(&t, 1, 0, NULL, 0);
    answer(&t, 2, 0, NULL, 0);
    answer(&t, 3, 0, set_dscp, 0);
    /* TTL 4 silent, TTL 5 answers a retry only. */
    rg_trace_set_sent(&t, 4, 2);
    answer(&t, 5, 1, set_dscp_mss, 0);
    answer(&t, 6, 0, set_dscp_mss, 0);
    rg_mbox_change ch[16];
    size_t n = rg_middlebox_changes(&t, ch, 16);
    assert_int_equal(n, 2);
    assert_int_equal(ch[0].what, RG_QC_DSCP);
    assert_int_equal(ch[0].ttl, 3);
    assert_int_equal(ch[0].prev_ttl, 2);
    assert_int_equal(ch[0].from, 0);
    assert_int_equal(ch[0].to, 46);
    assert_int_equal(ch[1].what, RG_QC_MSS);
    assert_int_equal(ch[1].ttl, 5);
    assert_int_equal(ch[1].prev_ttl, 3); /* across the silent TTL 4 */
    assert_int_equal(ch[1].from, 1460);
    assert_int_equal(ch[1].to, 1300);
    char buf[64];
    assert_string_equal(rg_mbox_value(&ch[1], true, buf, sizeof buf), "1300");
    assert_true(rg_middlebox_options_quoted(&t));
    /* The count is returned even past max. */
    assert_int_equal(rg_middlebox_changes(&t, ch, 1), 2);
    rg_trace_free(&t);
}

static void walk_nothing_when_nothing_changed(void **state)
{
    (void)state;
    rg_trace t = trace4();
    for (unsigned ttl = 1; ttl <= 6; ttl++)
        answer(&t, ttl, 0, NULL, 0);
    rg_mbox_change ch[16];
    assert_int_equal(rg_middlebox_changes(&t, ch, 16), 0);
    assert_int_equal(rg_middlebox_syn_last_seen(&t), 6);
    rg_trace_free(&t);
}

static void walk_short_quotes_hide_the_options(void **state)
{
    (void)state;
    rg_trace t = trace4();
    answer(&t, 1, 0, NULL, 28);
    answer(&t, 2, 0, set_dscp_mss, 28); /* the clamp is past the 8 bytes */
    answer(&t, 3, 0, set_dscp_mss, 0);  /* a whole quote shows it */
    rg_mbox_change ch[16];
    size_t n = rg_middlebox_changes(&t, ch, 16);
    assert_int_equal(n, 2);
    assert_int_equal(ch[0].what, RG_QC_DSCP);
    assert_int_equal(ch[0].ttl, 2);
    /* First seen at 3, but not quoted at 2: between 1 and 3 as far as the
     * quotes tell; the walk says the last hop it compared (2). */
    assert_int_equal(ch[1].what, RG_QC_MSS);
    assert_int_equal(ch[1].ttl, 3);
    rg_trace_free(&t);

    t = trace4();
    answer(&t, 1, 0, NULL, 28);
    answer(&t, 2, 0, NULL, 28);
    assert_false(rg_middlebox_options_quoted(&t));
    assert_int_equal(rg_middlebox_changes(&t, ch, 16), 0);
    rg_trace_free(&t);
}

static void walk_nat_address(void **state)
{
    (void)state;
    rg_trace t = trace4();
    answer(&t, 1, 0, NULL, 0);
    answer(&t, 3, 0, set_src, 0);
    answer(&t, 2, 0, set_src, 0); /* arrives later, lower TTL: it wins */
    rg_mbox_change ch[16];
    size_t n = rg_middlebox_changes(&t, ch, 16);
    assert_int_equal(n, 2);
    assert_int_equal(ch[1].what, RG_QC_SRC);
    assert_int_equal(ch[1].ttl, 2);
    assert_int_equal(t.rare_ttl, 2);
    char buf[64];
    assert_string_equal(rg_mbox_value(&ch[1], false, buf, sizeof buf), "198.18.0.2");
    assert_string_equal(rg_mbox_value(&ch[1], true, buf, sizeof buf), "198.18.0.77");
    rg_middlebox_reset(&t);
    assert_int_equal(t.rare_ttl, 0);
    rg_trace_free(&t);
}

static void set_dport(uint8_t *q) { rg_put_be16(q + 22, 8080); }
static void set_sport_id(uint8_t *q) { rg_put_be16(q + 20, 50000); rg_put_be16(q + 4, 0x7777); }

/* The rarer fields' values are kept once per trace, from the lowest TTL
 * that showed them: reported once with the sent and the quoted value. */
static void walk_rare_values(void **state)
{
    (void)state;
    rg_trace t = trace4();
    answer(&t, 1, 0, NULL, 0);
    answer(&t, 2, 0, NULL, 0);
    answer(&t, 4, 0, set_sport_id, 0);
    answer(&t, 3, 1, set_sport_id, 0); /* a retry at TTL 3 shows it first */
    rg_mbox_change ch[16];
    size_t n = rg_middlebox_changes(&t, ch, 16);
    assert_int_equal(n, 2);
    assert_int_equal(ch[0].what, RG_QC_IPID);
    assert_int_equal(ch[0].ttl, 3);
    assert_int_equal(ch[0].from, rg_probe_ip_id(SEQ, 3, 1));
    assert_int_equal(ch[0].to, 0x7777);
    assert_int_equal(ch[1].what, RG_QC_SPORT);
    assert_int_equal(ch[1].from, 40000);
    assert_int_equal(ch[1].to, 50000);
    assert_int_equal(ch[1].prev_ttl, 2);
    char buf[64];
    assert_string_equal(rg_mbox_value(&ch[0], true, buf, sizeof buf), "0x7777");
    rg_trace_free(&t);
}

static void syn_last_seen_needs_the_syn_as_sent(void **state)
{
    (void)state;
    rg_trace t = trace4();
    answer(&t, 1, 0, NULL, 0);
    answer(&t, 2, 0, set_dscp, 0); /* DSCP does not make it another SYN */
    answer(&t, 3, 0, set_dport, 0); /* redirected: not our SYN to the port */
    assert_int_equal(rg_middlebox_syn_last_seen(&t), 2);
    rg_trace_free(&t);
    t = trace4();
    assert_int_equal(rg_middlebox_syn_last_seen(&t), 0);
    rg_trace_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unchanged_whole_probe),
        cmocka_unit_test(dscp_and_ecn),
        cmocka_unit_test(mss_clamped_and_options),
        cmocka_unit_test(nat_ports_seq_id_flow),
        cmocka_unit_test(ttl_and_tcp_header),
        cmocka_unit_test(eight_byte_quote_has_no_option_verdict),
        cmocka_unit_test(refused_quotes),
        cmocka_unit_test(change_names),
        cmocka_unit_test(walk_reports_each_change_once),
        cmocka_unit_test(walk_nothing_when_nothing_changed),
        cmocka_unit_test(walk_short_quotes_hide_the_options),
        cmocka_unit_test(walk_nat_address),
        cmocka_unit_test(walk_rare_values),
        cmocka_unit_test(syn_last_seen_needs_the_syn_as_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
