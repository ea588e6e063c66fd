/* lookup: the `routegraph lookup` mode. What the annotation sources know
 * about addresses given on the command line or in a file (-f): AS number and
 * organisation, country, city, reverse-DNS name. No probe is sent and no
 * socket of the prober's is opened; main has dropped every privilege before
 * this runs.
 *
 * Inputs that are not IPv4/IPv6 address literals are named one per line on
 * standard error (and listed in the JSON document) and the others are still
 * looked up: the exit status is then RG_LOOKUP_PARTIAL. */
#ifndef RG_LOOKUP_H
#define RG_LOOKUP_H

#include "cli/config.h"

enum {
    RG_LOOKUP_OK = 0,
    RG_LOOKUP_RUNTIME = 1, /* out of memory, a write error */
    RG_LOOKUP_USAGE = 2,   /* bad command line or database, no address at all */
    RG_LOOKUP_PARTIAL = 3, /* some inputs were not addresses; the rest looked up */
};

/* Runs the mode on cfg's targets and target file; returns its exit status.
 * Messages go to standard error, one line each. */
int rg_lookup_main(const rg_config *cfg);

#endif
