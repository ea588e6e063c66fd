/* check: `--check` turns a one-shot run into a monitoring plugin (the
 * monitoring-plugins / Nagios convention): one status line with
 * performance data, exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 *
 * Rules say how bad each finding is: `--check[=RULE,...]`, each RULE
 * KIND:LEVEL with KIND one of not-open (a port not open), unreached (the
 * destination did not answer), path (hops changed or a new ECMP branch
 * against --baseline), as-path (AS path changed against --baseline) and
 * LEVEL ok, warn or crit. Defaults: not-open:crit, unreached:crit,
 * path:warn, as-path:crit. Pure: parse, evaluate, format. */
#ifndef RG_WATCH_CHECK_H
#define RG_WATCH_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../model/result.h"

enum rg_check_level { RG_CHECK_OK = 0, RG_CHECK_WARN = 1, RG_CHECK_CRIT = 2,
                      RG_CHECK_UNKNOWN = 3 };
enum rg_check_kind { RG_CHECK_NOT_OPEN, RG_CHECK_UNREACHED, RG_CHECK_PATH, RG_CHECK_AS_PATH,
                     RG_CHECK_KINDS };

typedef struct rg_check_rules {
    unsigned char level[RG_CHECK_KINDS]; /* enum rg_check_level */
} rg_check_rules;

/* Defaults, then the rules in spec (NULL: none); false with err. */
bool rg_check_parse(const char *spec, rg_check_rules *r, char *err, size_t errlen);

struct json_t;
/* Writes the status line for run (changes: the baseline's events, a JSON
 * array, or NULL without baseline) and returns the exit status. */
int rg_check_report(FILE *out, const rg_check_rules *r, const rg_run *run,
                    struct json_t *changes);

#endif
