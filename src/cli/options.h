/* options: argv -> rg_config, with every number range-checked.
 * Pure: no I/O except what the caller passes in; errors come back as one line
 * of text naming the option and the accepted range. */
#ifndef RG_OPTIONS_H
#define RG_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

enum rg_opt_result {
    RG_OPT_RUN = 0,   /* cfg is complete: go */
    RG_OPT_HELP,      /* -h: caller prints rg_options_usage() and exits 0 */
    RG_OPT_VERSION,   /* -V: caller prints the version and exits 0 */
    RG_OPT_ERROR,     /* err holds one line (no trailing newline); exit 2 */
};

/* Fills cfg with defaults, then applies argv. cfg->targets points into argv
 * (which getopt may permute; NULL when ntargets is 0). Options are read left
 * to right: -h/-V win over later errors; a repeated option replaces the
 * earlier value. Errors name the option as the user spelled it (-p or --ports). */
enum rg_opt_result rg_options_parse(int argc, char **argv, rg_config *cfg,
                                    char *err, size_t errlen);
/* The help of `routegraph render`. */
const char *rg_options_render_usage(void);
const char *rg_options_usage(void);

/* Whether a run of ntargets targets with these options fits in one process:
 * at most RG_MAX_TRACES traces (targets x ports) and RG_MAX_PROBE_SLOTS
 * probe slots (traces x TTLs x attempts, 64 bytes each, all allocated before
 * the first probe). False with one line in err. */
bool rg_options_check_size(const rg_config *cfg, size_t ntargets, char *err, size_t errlen);

/* "80,443,8000-8010" -> ports (in the order given, duplicates removed, at
 * most max of them). 0 on success, -1 with err set to one line that does not
 * name the option ("range '90-80' is reversed"); ports may then be partly
 * written and *n is unchanged. */
int rg_parse_ports(const char *text, uint16_t *ports, size_t max, size_t *n,
                   char *err, size_t errlen);

#endif
