/* country: the offline IP-to-country database, read from ip-location-db
 * style CSV ("range_start,range_end,country_code") or from its compiled
 * index (country.rgidx).
 *
 * The reading, the overlap rules, the tables and the index format are the
 * AS database's (annotate/asdb.h, kind RG_ASDB_COUNTRY): the same bounded
 * line reader, the same limits, the same validation of a mapped index. This
 * module only names the files and turns a lookup's number back into its
 * two letters.
 *
 * Input, one record per line: start and end as for the AS data (both IPv4 or
 * both IPv6 text, or decimal numbers), then an ISO 3166-1 alpha-2 code: two
 * ASCII letters in either case, handed out upper case. Anything else in that
 * field, a fourth field, a reversed range: the line is skipped and counted.
 *
 * Default data: scripts/fetch-asn-data.sh puts the npm package
 * @ip-location-db/geo-whois-asn-country (GeoFeed, RIR whois and RIR
 * delegation data merged by ip-location-db; see RG_COUNTRY_CREDIT for its
 * terms) and its compiled index in ${RG_DATA_DIR:-RG_DEFAULT_DATA_DIR}/country.
 *
 * Promises: a code handed out is always two upper-case ASCII letters and
 * NUL-terminated; nothing here prints. */
#ifndef RG_COUNTRY_H
#define RG_COUNTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/addr.h"
#include "asdb.h"

#define RG_COUNTRY_CSV4_NAME "geo-whois-asn-country-ipv4.csv"
#define RG_COUNTRY_CSV6_NAME "geo-whois-asn-country-ipv6.csv"
#define RG_COUNTRY_INDEX_NAME "country.rgidx"

/* The package says CC0-1.0 in its package.json, but its README and its
 * NRO_LICENSE file say the data is CC BY 4.0 by the NRO, which asks for
 * attribution: the stricter reading is the one honoured. */
#define RG_COUNTRY_CREDIT                                                             \
    "Country data: ip-location-db (@ip-location-db/geo-whois-asn-country), from RIR " \
    "data CC BY 4.0 by the NRO (nro.net)"

typedef struct rg_country_db rg_country_db;

extern const rg_asdb_files rg_country_files;

/* CSV files (in order of preference) or one compiled index. NULL with one
 * line in err when a file is missing, unreadable, damaged or holds no
 * valid range. */
rg_country_db *rg_country_load(const char *const *paths, size_t n, char *err, size_t errlen);
/* The same from CSV text in memory (name is used in messages, its "ipv4"
 * or "ipv6" as the family hint of numeric lines); pure, for tests and
 * fuzzing. */
rg_country_db *rg_country_from_buffer(const char *buf, size_t len, const char *name,
                                      char *err, size_t errlen);
/* DIR/country.rgidx when valid and compiled from the CSVs now in DIR, else
 * the CSVs (see rg_asdb_open_files). */
rg_country_db *rg_country_open_dir(const char *dir, char *err, size_t errlen);
/* Parses the CSVs in dir and writes dir/country.rgidx atomically. */
bool rg_country_compile_dir(const char *dir, rg_asdb_info *info, char *err, size_t errlen);

/* True with cc set ("NL") when a range holds a; else cc is "". */
bool rg_country_lookup(const rg_country_db *db, const rg_addr *a, char cc[3]);

const rg_asdb_info *rg_country_info(const rg_country_db *db);
void rg_country_free(rg_country_db *db);

#endif
