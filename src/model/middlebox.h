/* middlebox: what the path did to our probes, from the copies ICMP errors
 * quote (tracebox's idea, per trace and hop).
 *
 * The engine hands every matched ICMP error to rg_middlebox_note, which
 * rebuilds the bytes the probe was sent with and keeps the comparison
 * (probe/quote.h) in the probe's slot. rg_middlebox_changes then walks a
 * trace's hops upwards and reports each change where it first appears: a
 * value first quoted at TTL k was rewritten between the previous hop that
 * quoted the probe and k, and is reported once however many hops after
 * quote it too. A field a quote does not hold (TCP options in an 8-byte
 * quote) is neither a change nor the end of one. Pure. */
#ifndef RG_MIDDLEBOX_H
#define RG_MIDDLEBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

/* Compares the quote of r (an ICMP error matched to (ttl, attempt) of t)
 * with the probe sent and records it in that probe's slot; notes the
 * quoted addresses on the trace when they were rewritten. Nothing for TCP
 * answers or a reply without quote. */
void rg_middlebox_note(rg_trace *t, unsigned ttl, unsigned attempt, const rg_reply *r);

/* The fields of probe (ttl, attempt) of t as it was sent, in the shape of
 * a quote of it (a saved run read back has no secret: IDs and sequence
 * numbers are then those of secret 0). False if it cannot be built. */
bool rg_middlebox_sent(const rg_trace *t, unsigned ttl, unsigned attempt, rg_quote_diff *d);

/* An ICMP error that named probe (ttl, .) of t by its secret, quoting our
 * source rewritten (engine/match.h's rg_match_rewritten_source): counted
 * and kept on the trace (lowest TTL) as evidence of a NAT, never as the
 * hop's answer. */
void rg_middlebox_note_rewritten_source(rg_trace *t, unsigned ttl, const rg_reply *r);

/* The TTL below t->nat_ttl of the last hop whose own answer quoted the
 * probe: the NAT sits between it and nat_ttl (0: the prober). */
unsigned rg_middlebox_nat_after(const rg_trace *t);

/* The same for any TTL: the last hop below ttl whose answer quoted a probe. */
unsigned rg_middlebox_quoted_below(const rg_trace *t, unsigned ttl);

/* An ICMP error that named probe (ttl, .) of t by its secret but quotes
 * our destination rewritten (what RG_QC_DST) or the sequence number
 * shifted by shift (RG_QC_SEQ), from engine/rematch.h: counted and kept
 * on t->evidence (lowest TTL), never as the hop's answer. False on no
 * memory (the evidence is then lost, nothing else). */
bool rg_middlebox_note_evidence(rg_trace *t, uint16_t what, unsigned ttl,
                                const rg_reply *r, int32_t shift);

/* The evidence of one kind (RG_QC_DST or RG_QC_SEQ) worth reporting, or
 * NULL. A rewrite before TTL k leaves no quote as sent from k on, so the
 * evidence is set aside when any hop at or above its (lowest) TTL
 * answered with a quote that matched ordinarily, or when the errors
 * disagreed on the shift (RG_QC_SEQ): the marks of a forger that saw the
 * probe and answers every TTL, not of a middlebox. The destination's own
 * answer proves nothing either way (a NAT that leaves quotes alone still
 * restores the answers). */
const rg_rewrite_seen *rg_middlebox_evidence(const rg_trace *t, uint16_t what);

/* Forgets what rg_middlebox_note put on the trace itself (a new round). */
void rg_middlebox_reset(rg_trace *t);

typedef struct rg_mbox_change {
    uint16_t what;            /* one enum rg_quote_change bit */
    unsigned ttl;             /* first TTL whose quote shows the new value */
    unsigned prev_ttl;        /* the quote before it (0: none, the prober) */
    const rg_probe *probe;    /* the answer at ttl that shows it (responder: ->from) */
    uint32_t from, to;        /* the value before and after (addresses: below) */
    rg_addr addr_from, addr_to; /* RG_QC_SRC / RG_QC_DST */
} rg_mbox_change;

/* The trace's changes in order of TTL (then of bit), at most max written;
 * returns how many there are (may exceed max). */
size_t rg_middlebox_changes(const rg_trace *t, rg_mbox_change *out, size_t max);

/* Room for every change a trace can show: each kind at most once per TTL. */
size_t rg_middlebox_max_changes(const rg_trace *t);

/* Whether some quote of the trace held the whole TCP header (so the
 * options were compared); false: "options not quoted". */
bool rg_middlebox_options_quoted(const rg_trace *t);

/* The highest TTL whose time exceeded quoted our SYN as sent (destination,
 * ports and flags unchanged): the last hop known to have seen it, for a
 * port reported filtered. 0: none. */
unsigned rg_middlebox_syn_last_seen(const rg_trace *t);

/* The value as text: "46" for numbers, the address for src/dst, "0x1a2b"
 * style for IDs and the flow label; buf of at least 64 bytes. */
const char *rg_mbox_value(const rg_mbox_change *c, bool after, char *buf, size_t len);

#endif
