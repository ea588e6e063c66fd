/* middlebox (text): after the table, one line per change a middlebox made
 * to a trace's probes, at the hop where it first shows (model/middlebox.h),
 * the last hop that saw the SYN of a filtered port, and a note when no
 * hop quoted the TCP options. Nothing at all when nothing changed.
 * Outside strings (DNS names, target names) go through rg_text_clean. */
#ifndef RG_OUTPUT_MIDDLEBOX_H
#define RG_OUTPUT_MIDDLEBOX_H

#include <stdbool.h>
#include <stdio.h>

#include "../model/result.h"

/* Writes the lines (none when there is nothing to say). False on no
 * memory or a write error. */
bool rg_middlebox_write(FILE *out, const rg_run *run);

#endif
