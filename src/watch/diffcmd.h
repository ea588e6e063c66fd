/* diffcmd: `routegraph diff OLD.json NEW.json`: one verdict per target:port
 * of the new run against the old (changes.h), as text or, with --format
 * json, one document (schema routegraph-diff/1). Both files are read through
 * the hostile-input JSON reader. Exit status like diff(1): 0 nothing
 * changed, 1 something changed, 2 trouble. No socket, no privilege. */
#ifndef RG_WATCH_DIFFCMD_H
#define RG_WATCH_DIFFCMD_H

#include "../cli/config.h"

#define RG_DIFF_SCHEMA "routegraph-diff/1"

int rg_diff_command(const rg_config *cfg);

#endif
