/* mmdb: MaxMind-format .mmdb files (GeoLite2-ASN, GeoLite2-City, DB-IP and
 * ip-location-db builds, or anything with the same field names) through
 * libmaxminddb, as one ordered set of files.
 *
 * Fields read: autonomous_system_number / autonomous_system_organization
 * (ASN databases), country.iso_code and city.names.en (City databases); a
 * file that lacks a field simply does not answer it, so one set can mix AS
 * and geo files.
 *
 * Promises: a file that libmaxminddb refuses (missing, truncated, corrupt
 * metadata or search tree) fails to open with one error line naming it;
 * data errors met during a lookup are counted and treated as "unknown",
 * never trusted. Strings handed out are copied, bounded, valid UTF-8
 * without control characters (country: exactly two ASCII letters); anything
 * else from the file is ignored as unknown. Nothing here prints. */
#ifndef RG_MMDB_H
#define RG_MMDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util/addr.h"

#define RG_MMDB_MAX_FILES 16
#define RG_MMDB_ORGLEN 256
#define RG_MMDB_CITYLEN 128

typedef struct rg_mmdb_set rg_mmdb_set;

/* What the set knows about one address: the AS number with its name, the
 * country and the city, each from the first file (in the order added) that
 * has it. */
typedef struct rg_mmdb_answer {
    uint32_t asn;                 /* 0 = unknown */
    char as_org[RG_MMDB_ORGLEN];  /* "" = unknown */
    char country[3];              /* ISO 3166 alpha-2, upper case; "" = unknown */
    char city[RG_MMDB_CITYLEN];   /* "" = unknown */
    unsigned errors;              /* data errors met (and ignored) in this lookup */
} rg_mmdb_answer;

rg_mmdb_set *rg_mmdb_set_new(void);
/* Opens path and appends it. False with one line in err ("PATH: why"); the
 * set is unchanged then. */
bool rg_mmdb_set_add(rg_mmdb_set *set, const char *path, char *err, size_t errlen);
size_t rg_mmdb_set_count(const rg_mmdb_set *set);
/* The database_type from a file's metadata (e.g. "GeoLite2-ASN"), or "". */
const char *rg_mmdb_set_type(const rg_mmdb_set *set, size_t i);

/* True when any field was found. A NULL or empty set knows nothing. */
bool rg_mmdb_lookup(const rg_mmdb_set *set, const rg_addr *a, rg_mmdb_answer *out);
void rg_mmdb_set_free(rg_mmdb_set *set);

#endif
