/* annotate: the offline annotation of a run's hosts (responders and
 * destinations) with AS number, AS name, country and city.
 *
 * Precedence: a field already known is never overwritten, so callers
 * layer sources by calling in order of preference. Within one call the AS
 * (number and name together) comes from the .mmdb files first, in the order
 * given, then from the CSV/index database: an .mmdb is only ever named
 * explicitly, while the CSV database is often just the default data.
 * The country comes from the .mmdb files, then from the country database
 * (annotate/country.h; Team Cymru, later, fills only what both left
 * unknown); the city only from .mmdb files.
 *
 * Default data: the set-up step (scripts/fetch-asn-data.sh) puts the
 * @ip-location-db/asn CSVs and their compiled index in
 * ${RG_DATA_DIR:-/usr/local/share/routegraph}/asn. That data is CC BY 4.0
 * by RouteViews (routeviews.org), DB-IP (db-ip.com) and the NRO (nro.net),
 * merged by ip-location-db; anything showing its results credits them
 * (RG_ANNOTATE_ASN_CREDIT). The country data goes beside it, in
 * .../country, and is credited likewise (RG_COUNTRY_CREDIT). */
#ifndef RG_ANNOTATE_H
#define RG_ANNOTATE_H

#include <stdbool.h>
#include <stddef.h>

#include "../model/result.h"
#include "asdb.h"
#include "country.h"
#include "mmdb.h"

#ifndef RG_DEFAULT_DATA_DIR
#define RG_DEFAULT_DATA_DIR "/usr/local/share/routegraph"
#endif

#define RG_ANNOTATE_ASN_CREDIT                                                      \
    "AS data: ip-location-db (@ip-location-db/asn), CC BY 4.0, from RouteViews "    \
    "(routeviews.org), DB-IP (db-ip.com) and the NRO (nro.net)"

typedef struct rg_annotate_stats {
    size_t hosts;        /* hosts looked at */
    size_t as_mmdb;      /* AS filled from an .mmdb */
    size_t as_csv;       /* AS filled from the CSV/index database */
    size_t geo;          /* country or city filled from an .mmdb */
    size_t country_db;   /* country filled from the country database */
    size_t mmdb_errors;  /* damaged .mmdb records met and ignored */
} rg_annotate_stats;

/* The AS data directory: $RG_DATA_DIR/asn when RG_DATA_DIR is set and not
 * empty, else RG_DEFAULT_DATA_DIR/asn. NULL when it does not fit in buf. */
const char *rg_annotate_asn_dir(char *buf, size_t len);

/* rg_asdb_open_dir on that directory. */
rg_asdb *rg_annotate_open_default_asdb(char *err, size_t errlen);

/* The country data directory: .../country beside .../asn, as above. */
const char *rg_annotate_country_dir(char *buf, size_t len);
/* rg_country_open_dir on that directory. */
rg_country_db *rg_annotate_open_default_country(char *err, size_t errlen);

/* Fills run->hosts (collecting them first when run->nhosts is 0) from db and
 * mmdbs, either of which may be NULL. st may be NULL. False with one line in
 * err only when memory runs out (hosts filled so far stay filled). */
bool rg_annotate_offline(rg_run *run, const rg_asdb *db, const rg_mmdb_set *mmdbs,
                         rg_annotate_stats *st, char *err, size_t errlen);

/* Fills the country of every host of run->hosts that has none yet from db
 * (NULL: nothing), recording the country database as its source. Call it
 * after rg_annotate_offline, so an .mmdb's country wins. With public_only,
 * special-purpose addresses (rg_addr_is_special) are left alone: the
 * installed data places some documentation prefixes in a country, which no
 * registry does; a file the operator names (the lab's) is taken as it is.
 * st may be NULL; st->country_db is added to. */
void rg_annotate_countries(rg_run *run, const rg_country_db *db, bool public_only,
                           rg_annotate_stats *st);

#endif
