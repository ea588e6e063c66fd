/* paths: the AS-path view of each trace, like `mtr -z`: one line per hop
 * with responder, reverse-DNS name, AS number and organisation, and RTT,
 * printed after the classic table when the run was annotated. */
#ifndef RG_PATHS_H
#define RG_PATHS_H

#include <stdbool.h>
#include <stdio.h>

#include "../model/result.h"

/* True when any host carries an AS number or a name worth a view. */
bool rg_paths_wanted(const rg_run *run);
/* False on write error. */
bool rg_paths_write(FILE *out, const rg_run *run);

#endif
