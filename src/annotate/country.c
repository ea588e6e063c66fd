#include "country.h"

#include <stdio.h>
#include <string.h>

/* The handle is the AS code's database of the country kind: one type
 * underneath (struct rg_country_db is never defined), kept apart in the
 * interface so an AS database can never be passed where countries are meant. */

const rg_asdb_files rg_country_files = {
    RG_ASDB_COUNTRY, RG_COUNTRY_CSV4_NAME, RG_COUNTRY_CSV6_NAME, RG_COUNTRY_INDEX_NAME,
    "country database", "run scripts/fetch-asn-data.sh or give --country-db FILE",
};

static rg_country_db *wrap(rg_asdb *db)
{
    return (rg_country_db *)db;
}

static const rg_asdb *unwrap(const rg_country_db *db)
{
    return (const rg_asdb *)db;
}

rg_country_db *rg_country_load(const char *const *paths, size_t n, char *err, size_t errlen)
{
    return wrap(rg_asdb_load_kind(RG_ASDB_COUNTRY, paths, n, err, errlen));
}

rg_country_db *rg_country_from_buffer(const char *buf, size_t len, const char *name,
                                      char *err, size_t errlen)
{
    int hint = strstr(name, "ipv6") ? 6 : strstr(name, "ipv4") ? 4 : 0;
    rg_asdb_builder *b = rg_asdb_builder_new_kind(RG_ASDB_COUNTRY);
    if (!b) {
        snprintf(err, errlen, "%s: out of memory", name);
        return NULL;
    }
    if (!rg_asdb_builder_add_buffer(b, buf, len, name, hint, err, errlen)) {
        rg_asdb_builder_free(b);
        return NULL;
    }
    return wrap(rg_asdb_builder_finish(b, err, errlen));
}

rg_country_db *rg_country_open_dir(const char *dir, char *err, size_t errlen)
{
    return wrap(rg_asdb_open_files(dir, &rg_country_files, err, errlen));
}

bool rg_country_compile_dir(const char *dir, rg_asdb_info *info, char *err, size_t errlen)
{
    return rg_asdb_compile_files(dir, &rg_country_files, info, err, errlen);
}

bool rg_country_lookup(const rg_country_db *db, const rg_addr *a, char cc[3])
{
    uint32_t v;
    memset(cc, 0, 3);
    /* The index was validated on open: v is two upper-case letters. */
    if (!db || !rg_asdb_lookup(unwrap(db), a, &v, NULL))
        return false;
    cc[0] = (char)(v >> 8);
    cc[1] = (char)(v & 0xff);
    return true;
}

const rg_asdb_info *rg_country_info(const rg_country_db *db)
{
    return rg_asdb_get_info(unwrap(db));
}

void rg_country_free(rg_country_db *db)
{
    rg_asdb_free((rg_asdb *)db);
}
