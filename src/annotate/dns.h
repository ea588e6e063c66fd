/* dns: reverse DNS (PTR) and Team Cymru AS lookups over DNS, through c-ares,
 * for every host of a finished run.
 *
 * Promises of rg_dns_annotate:
 * - Every query is in flight together (up to a window of max_inflight), so
 *   the call costs about one round trip, not one per host.
 * - It returns by the overall deadline even when the server is silent,
 *   broken or slow: anything unanswered then is dropped, and what other
 *   sources filled in stays as it was.
 * - Answers are read by c-ares's parsers and never trusted (dns_parse.h,
 *   cymru.h): a PTR name is kept only as dns_parse.h promises, a Cymru
 *   origin answer counts only when its prefix holds the address asked
 *   about, an AS-name answer only when it names the AS asked about.
 * - An AS name (as_org) is valid UTF-8 without control characters, with the
 *   trailing ", CC" country that Cymru appends removed, as the offline
 *   databases give it.
 * - Nothing here prints; one-line errors come back in the caller's buffer.
 *
 * Which hosts are asked: PTR for every host that has no ptr yet; Cymru for
 * every host (RG_CYMRU_ALL) or only those with asn == 0 (RG_CYMRU_MISSING,
 * the fallback after an offline database), skipping private, loopback,
 * link-local, shared (100.64/10), multicast and reserved addresses, which
 * Cymru cannot know. A Cymru answer sets asn, as_org, as_source =
 * RG_AS_CYMRU, and country (with geo_source = RG_AS_CYMRU) only when the
 * host has no country yet.
 *
 * Query names: PTR under in-addr.arpa / ip6.arpa (nibbles); origin under
 * origin.asn.cymru.com / origin6.asn.cymru.com (same reversed forms), then
 * ASnnn.asn.cymru.com once per distinct AS. */
#ifndef RG_DNS_H
#define RG_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../model/result.h"
#include "../util/addr.h"
#include "cymru.h"
#include "dns_parse.h"

#define RG_DNS_MSGLEN 256

#define RG_DNS_DEFAULT_DEADLINE_MS 5000
#define RG_DNS_DEFAULT_TIMEOUT_MS 1500
#define RG_DNS_DEFAULT_TRIES 2
#define RG_DNS_DEFAULT_INFLIGHT 256

enum rg_cymru_mode {
    RG_CYMRU_OFF = 0,
    RG_CYMRU_MISSING, /* hosts with asn == 0 only (fallback) */
    RG_CYMRU_ALL,     /* every host; answers replace other sources' AS data */
};

typedef struct rg_dns_stats {
    unsigned long queries;    /* sent */
    unsigned long answered;   /* gave a usable record */
    unsigned long nodata;     /* NXDOMAIN, or no record of the wanted type */
    unsigned long failed;     /* timeout, refused, server failure */
    unsigned long malformed;  /* answers that did not parse or failed a check */
    unsigned long unfinished; /* still waiting (or never sent) at the deadline */
    unsigned long ptr_found;  /* hosts given a ptr */
    unsigned long cymru_found;/* hosts given Cymru AS data */
    bool deadline_hit;
    unsigned elapsed_ms;
} rg_dns_stats;

typedef struct rg_dns_opts {
    bool do_ptr;
    enum rg_cymru_mode cymru;
    /* NULL: the system resolver configuration (/etc/resolv.conf). Else one
     * server, as rg_addr_parse_endpoint reads it (port 53 by default). */
    const char *server;
    bool lab_only;            /* refuse servers outside rg_addr_is_lab() */
    unsigned deadline_ms;     /* whole call; 0 = RG_DNS_DEFAULT_DEADLINE_MS */
    /* First try of a query; c-ares doubles it for each later round over the
     * servers, so one server and tries t give up after timeout * (2^t - 1)
     * (the defaults: 1.5 s + 3 s), unless the deadline comes first.
     * 0 = RG_DNS_DEFAULT_TIMEOUT_MS; at most 600000. */
    unsigned timeout_ms;
    unsigned tries;           /* per query and server; 0 = RG_DNS_DEFAULT_TRIES; at most 16 */
    unsigned max_inflight;    /* 0 = RG_DNS_DEFAULT_INFLIGHT */
    rg_dns_stats *stats;      /* optional: filled on return */
} rg_dns_opts;

/* Annotates run->hosts (collecting them first if run->nhosts == 0). False
 * only when it could not start (bad server, a server outside the lab with
 * lab_only, c-ares failure) or memory ran out, with one line in err; lost,
 * late and bad answers are not errors (see stats). */
bool rg_dns_annotate(rg_run *run, const rg_dns_opts *o, char *err, size_t errlen);

#endif
