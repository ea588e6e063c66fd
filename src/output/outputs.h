/* outputs: writes every format the command line asked for, from one
 * finished (annotated) run: to PREFIX.<ext> files with -o, each written
 * whole or not at all, else the one chosen text format to standard output.
 * The graph formats share one graph model and one layout. */
#ifndef RG_OUTPUTS_H
#define RG_OUTPUTS_H

#include <stdbool.h>
#include <stddef.h>

#include "../cli/config.h"
#include "../model/result.h"

/* False when any output could not be made; each failure has been reported
 * on stderr as one line. show_table: also print the table on stdout when
 * writing files (the live run does, unless -q). */
struct json_t;
/* saved_options (may be NULL, borrowed): the "options" of a saved document
 * being rendered again, shown in its JSON and HTML instead of cfg's. */
bool rg_outputs_write(const rg_run *run, const rg_config *cfg, bool show_table,
                      struct json_t *saved_options);
/* The same for a watch: watch (may be NULL, borrowed) is the document's
 * "watch" member in the JSON and the HTML (whose timeline of changes comes
 * from it). */
bool rg_outputs_write_watch(const rg_run *run, const rg_config *cfg, bool show_table,
                            struct json_t *saved_options, struct json_t *watch);

/* Before the first probe: whether every file -o would write can be made.
 * False with one line in err naming the first that cannot. */
bool rg_outputs_check(const rg_config *cfg, char *err, size_t errlen);

#endif
