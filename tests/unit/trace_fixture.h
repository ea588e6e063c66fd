/* trace_fixture: the traces test_match and test_rematch look replies up
 * among: TCP traces from 198.18.0.2 (from 2001:db8:100::2 towards an IPv6
 * address), TTLs 1 to 30 with two attempts each, TTLs 1 to 10 sent once
 * and TTL 3 twice. Failures fail the calling test (cmocka). */
#ifndef TRACE_FIXTURE_H
#define TRACE_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "model/result.h"
#include "util/addr.h"

/* The address literal s. */
rg_addr tfx_addr(const char *s);

/* The destination of trace i, written into buf: two traces (two ports)
 * per address, 250 addresses per /24 from 198.19.0.1 on. */
void tfx_dest_name(char *buf, size_t len, size_t i);

/* Inits t towards dst (an address literal, also the trace's name) on port
 * dport, from source port sport, with seq_base as its secret, and counts
 * its probes sent as above. Freed with rg_trace_free. */
void tfx_trace(rg_trace *t, const char *dst, uint16_t dport, uint16_t sport,
               uint32_t seq_base);

#endif
