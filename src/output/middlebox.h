/* middlebox (text): after the table, one line per change a middlebox made
 * to a trace's probes, at the hop where it first shows (model/middlebox.h),
 * the last hop that saw the SYN of a filtered port, and a note when no
 * hop quoted the TCP options. Nothing at all when nothing changed.
 * Outside strings (DNS names, target names) go through rg_text_clean. */
#ifndef RG_OUTPUT_MIDDLEBOX_H
#define RG_OUTPUT_MIDDLEBOX_H

#include <stdbool.h>
#include <stdio.h>

#include "../model/middlebox.h"
#include "../model/result.h"

/* Writes the lines (none when there is nothing to say). False on no
 * memory or a write error. */
bool rg_middlebox_write(FILE *out, const rg_run *run);

/* One change in words, without hop or TTLs: "DSCP 0 -> 46",
 * "destination port 8080 -> 80", "sequence number shifted +1000". Our
 * own words and numbers only; HTML still escapes them ("->"). */
void rg_middlebox_words(FILE *out, const rg_mbox_change *c);

/* A rewrite that only errors which were not hop answers showed (what:
 * RG_QC_SRC, t->nat_*; RG_QC_DST or RG_QC_SEQ, rg_middlebox_evidence),
 * in words: "source address A -> B", "sequence number shifted by -5".
 * Nothing when there is none to report. */
void rg_middlebox_evidence_words(FILE *out, const rg_trace *t, uint16_t what);

#endif
