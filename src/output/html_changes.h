/* html_changes: the HTML report's timeline of changes, for a watch against
 * a baseline (the "changes" of the document's "watch" member,
 * docs/json-schema.md).
 *
 * One entry per change event, in round order: the round, the service as
 * every output writes it, the verdict and where the paths part, then the
 * old and the new path side by side, TTL by TTL, the rows from the parting
 * hop on marked, each path's AS path under it. The page's script
 * (report.js) marks the nodes of both paths in the graph when an entry is
 * hovered or focused, reading them from the embedded document.
 *
 * The events are read as outside data: only strings and numbers of the
 * expected types are used, every string is written as escaped text, and
 * at most RG_HTML_MAX_CHANGES entries and RG_MAX_TTL hops per path are
 * shown (the embedded document keeps them all). Writes nothing when there
 * are no changes. */
#ifndef RG_HTML_CHANGES_H
#define RG_HTML_CHANGES_H

#include <stdio.h>

struct json_t;

#define RG_HTML_MAX_CHANGES 1000

/* The section for doc's watch.changes, if it has any; text writes a string
 * as escaped HTML text (html.c's). */
void rg_html_changes(FILE *f, const struct json_t *doc, void (*text)(FILE *, const char *));

#endif
