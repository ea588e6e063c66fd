/* dns: reverse DNS (PTR) and Team Cymru AS lookups over DNS, through c-ares,
 * for every host of a finished run.
 *
 * Promises of rg_dns_annotate:
 * - Every query is in flight together (up to a window of max_inflight), so
 *   the call costs about one round trip, not one per host.
 * - It returns by the overall deadline even when the server is silent,
 *   broken or slow: anything unanswered then is dropped, and what other
 *   sources filled in stays as it was.
 * - Answers are parsed by hand here, never trusted: every length is bounded,
 *   numbers are range-checked, a Cymru origin answer counts only when its
 *   prefix holds the address asked about, an AS-name answer only when it
 *   names the AS asked about.
 * - A PTR name is kept as its raw bytes, labels joined by '.', without the
 *   root dot. It is valid UTF-8 and has no NUL byte, no DEL and no C1
 *   control character (U+0080-U+009F; names that break this are dropped as
 *   malformed), but may hold any other character, quotes, '<', newlines
 *   included: escaping is each output format's job.
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

#define RG_DNS_NAME_MAX 256  /* a DNS name as text, with its NUL */
#define RG_DNS_TXT_MAX 1024  /* one TXT record, strings joined; longer: skipped */
#define RG_CYMRU_ORG_MAX 255 /* longer AS names are dropped */
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
     * server: "ADDR", "ADDR:PORT", "[V6ADDR]" or "[V6ADDR]:PORT" (a bare
     * IPv6 address is taken whole, without a port). */
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

/* --- pure helpers (no I/O), exposed for tests and fuzzing --- */

/* "4.3.2.1.SUFFIX" for IPv4, 32 reversed nibbles + ".SUFFIX" for IPv6.
 * False when the address is unset or buf is too small. */
bool rg_dns_reverse_name(const rg_addr *a, const char *suffix, char *buf, size_t len);
/* The PTR query name (in-addr.arpa / ip6.arpa). */
bool rg_dns_ptr_name(const rg_addr *a, char *buf, size_t len);
/* The Cymru origin query name (origin.asn.cymru.com / origin6.asn.cymru.com). */
bool rg_cymru_origin_name(const rg_addr *a, char *buf, size_t len);
/* "AS<asn>.asn.cymru.com"; false for AS 0. */
bool rg_cymru_as_name(uint32_t asn, char *buf, size_t len);

/* False when Cymru cannot know the address (private, loopback, ...). */
bool rg_cymru_wanted(const rg_addr *a);

typedef struct rg_cymru_origin {
    uint32_t asn;        /* the first origin AS listed (never 0) */
    unsigned nasn;       /* how many origin ASes were listed */
    rg_addr prefix;      /* the announced prefix, host bits cleared */
    unsigned prefix_len;
    char country[3];     /* "" when missing or not two letters A-Z */
} rg_cymru_origin;

typedef struct rg_cymru_as {
    uint32_t asn;
    char country[3];
    char name[RG_CYMRU_ORG_MAX + 1]; /* "" when missing or unusable */
} rg_cymru_as;

/* "ASN [ASN...] | PREFIX | CC | REGISTRY | DATE" (the text of one TXT
 * record, not NUL-terminated). ASN and PREFIX are required; the rest may be
 * missing or empty. False for anything else, or len > RG_DNS_TXT_MAX. */
bool rg_cymru_parse_origin(const char *txt, size_t len, rg_cymru_origin *out);
/* "ASN | CC | REGISTRY | DATE | NAME" (NAME may hold '|'). ASN is
 * required; a NAME that is over-long, not UTF-8 or holds control characters
 * is left "" rather than failing the record. */
bool rg_cymru_parse_as(const char *txt, size_t len, rg_cymru_as *out);
/* True when a lies in the origin's prefix (same family). */
bool rg_cymru_origin_covers(const rg_cymru_origin *o, const rg_addr *a);

enum rg_dns_parse_result {
    RG_DNS_BAD = -1,    /* malformed message, or a name that breaks the promises */
    RG_DNS_NODATA = 0,  /* well-formed, no record of the wanted type */
    RG_DNS_FOUND = 1,
};

/* The first IN PTR record of a DNS response, as promised above, into out
 * (at least RG_DNS_NAME_MAX bytes for any name to fit). */
int rg_dns_parse_ptr(const unsigned char *msg, size_t len, char *out, size_t outlen);

/* Calls fn once per IN TXT record of a DNS response with the record's
 * strings joined (records longer than RG_DNS_TXT_MAX are skipped). Returns
 * the number of records passed to fn, or RG_DNS_BAD. */
typedef void (*rg_dns_txt_fn)(const char *txt, size_t len, void *arg);
int rg_dns_parse_txt(const unsigned char *msg, size_t len, rg_dns_txt_fn fn, void *arg);

/* Parses opts.server's syntax. *port is 53 when not given. */
bool rg_dns_parse_server(const char *text, rg_addr *addr, uint16_t *port,
                         char *err, size_t errlen);

#endif
