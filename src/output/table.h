/* table: the scapy-style TTL-by-trace table, then one summary line per trace.
 * Reads the result model only; output is deterministic for golden tests. */
#ifndef RG_TABLE_H
#define RG_TABLE_H

#include <stdbool.h>
#include <stdio.h>

#include "../model/result.h"

/* The grid is left out (one line says so) past this many cells, TTL rows
 * times traces: at up to ~60 bytes a cell it would run to tens of MB. The
 * summary lines, one per trace, are always written. */
#define RG_TABLE_MAX_CELLS 262144u

/* Traces must have been concluded (rg_trace_conclude). False on write error. */
bool rg_table_write(FILE *out, const rg_run *run);
/* The same, the grid wrapped into blocks of columns that fit in width
 * characters, each block with its own header and the TTL column repeated
 * (a column wider than width gets a block of its own); 0: never wrapped. */
bool rg_table_write_width(FILE *out, const rg_run *run, size_t width);

#endif
