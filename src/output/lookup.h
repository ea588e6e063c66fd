/* lookup (output): what `routegraph lookup` prints for its addresses, from
 * the annotated hosts of an rg_run (no traces).
 *
 * Text, one line per address in the order given:
 *   ADDRESS  NAME  ASN ORGANISATION; CITY, CC
 * NAME is the reverse-DNS name or "-"; the AS part is "AS64501 ORG", "AS64501"
 * or "AS???"; "; CITY, CC" / "; CC" follow when known. Every outside string
 * goes through rg_text_clean (no terminal control sequence gets through).
 *
 * JSON: one object, schema "routegraph-lookup/1" (docs/json-schema.md):
 * "addresses" holds one object per address given (the annotation keys of
 * routegraph/1's hosts), "errors" one per input that was not an address,
 * "credits" as in routegraph/1. */
#ifndef RG_LOOKUP_OUT_H
#define RG_LOOKUP_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../model/result.h"

#define RG_LOOKUP_SCHEMA "routegraph-lookup/1"

/* An input that was not looked up, and why. */
typedef struct rg_lookup_error {
    const char *input; /* as given: untrusted */
    const char *why;
} rg_lookup_error;

/* False on a write error. */
bool rg_lookup_write_text(FILE *out, const rg_run *run, const rg_addr *addrs, size_t n);
bool rg_lookup_write_json(FILE *out, const rg_run *run, const rg_addr *addrs, size_t n,
                          const rg_lookup_error *errors, size_t nerrors);

#endif
