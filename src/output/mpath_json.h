/* mpath_json: a destination's multipath discovery (model/mpath.h) as the
 * trace's "multipath" member of the JSON document (docs/json-schema.md):
 * per TTL every branch with the flows that took it and the branches before
 * it, and whether MDA's stopping rule was met there. */
#ifndef RG_MPATH_JSON_H
#define RG_MPATH_JSON_H

#include <jansson.h>

#include "../model/mpath.h"

/* A new reference, or NULL when out of memory. */
json_t *rg_json_mpath(const rg_mpath *m);

#endif
