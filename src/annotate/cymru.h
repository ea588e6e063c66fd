/* cymru: Team Cymru's IP-to-ASN service over DNS, without I/O: query
 * names, which addresses to ask about, and the two TXT answer formats.
 *
 * Promises: every number is range-checked, every length bounded; a parsed
 * origin's prefix has its host bits cleared; a parsed AS name is valid
 * UTF-8 without control characters, at most RG_CYMRU_ORG_MAX bytes, with
 * the ", CC" country Cymru appends removed (as the offline databases give
 * it); a country is two letters A-Z or "". Nothing here prints. */
#ifndef RG_CYMRU_H
#define RG_CYMRU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/addr.h"

#define RG_CYMRU_ORG_MAX 255 /* longer AS names are dropped */

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

#endif
