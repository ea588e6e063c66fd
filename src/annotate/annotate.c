#include "annotate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *data_dir(char *buf, size_t len, const char *sub)
{
    const char *root = getenv("RG_DATA_DIR");
    if (!root || !root[0])
        root = RG_DEFAULT_DATA_DIR;
    int n = snprintf(buf, len, "%s/%s", root, sub);
    return n >= 0 && (size_t)n < len ? buf : NULL;
}

const char *rg_annotate_asn_dir(char *buf, size_t len)
{
    return data_dir(buf, len, "asn");
}

const char *rg_annotate_country_dir(char *buf, size_t len)
{
    return data_dir(buf, len, "country");
}

rg_country_db *rg_annotate_open_default_country(char *err, size_t errlen)
{
    char dir[4096];
    if (!rg_annotate_country_dir(dir, sizeof dir)) {
        snprintf(err, errlen, "RG_DATA_DIR: path too long");
        return NULL;
    }
    return rg_country_open_dir(dir, err, errlen);
}

rg_asdb *rg_annotate_open_default_asdb(char *err, size_t errlen)
{
    char dir[4096];
    if (!rg_annotate_asn_dir(dir, sizeof dir)) {
        snprintf(err, errlen, "RG_DATA_DIR: path too long");
        return NULL;
    }
    return rg_asdb_open_dir(dir, err, errlen);
}

static bool fill_from_mmdb(rg_host *h, const rg_mmdb_set *mmdbs, rg_annotate_stats *st)
{
    rg_mmdb_answer ans;
    bool found = rg_mmdb_lookup(mmdbs, &h->addr, &ans);
    st->mmdb_errors += ans.errors;
    if (!found)
        return true;
    if (!h->asn && ans.asn) {
        if (!rg_host_set(&h->as_org, ans.as_org[0] ? ans.as_org : NULL))
            return false;
        h->asn = ans.asn;
        h->as_source = RG_AS_MMDB;
        st->as_mmdb++;
    }
    bool geo = false;
    if (!h->country[0] && ans.country[0]) {
        memcpy(h->country, ans.country, sizeof h->country);
        geo = true;
    }
    if (!h->city && ans.city[0]) {
        if (!rg_host_set(&h->city, ans.city))
            return false;
        geo = true;
    }
    if (geo) {
        h->geo_source = RG_AS_MMDB;
        st->geo++;
    }
    return true;
}

static bool fill_from_csv(rg_host *h, const rg_asdb *db, rg_annotate_stats *st)
{
    uint32_t asn;
    const char *org;
    if (h->asn || !rg_asdb_lookup(db, &h->addr, &asn, &org))
        return true;
    if (!rg_host_set(&h->as_org, org))
        return false;
    h->asn = asn;
    h->as_source = RG_AS_CSV;
    st->as_csv++;
    return true;
}

bool rg_annotate_offline(rg_run *run, const rg_asdb *db, const rg_mmdb_set *mmdbs,
                         rg_annotate_stats *st, char *err, size_t errlen)
{
    rg_annotate_stats local;
    if (!st)
        st = &local;
    memset(st, 0, sizeof *st);
    if (run->nhosts == 0 && !rg_run_collect_hosts(run)) {
        snprintf(err, errlen, "annotation: out of memory");
        return false;
    }
    for (size_t i = 0; i < run->nhosts; i++) {
        rg_host *h = &run->hosts[i];
        st->hosts++;
        if ((rg_mmdb_set_count(mmdbs) > 0 && !fill_from_mmdb(h, mmdbs, st)) ||
            (db && !fill_from_csv(h, db, st))) {
            snprintf(err, errlen, "annotation: out of memory");
            return false;
        }
    }
    return true;
}

void rg_annotate_countries(rg_run *run, const rg_country_db *db, bool public_only,
                           rg_annotate_stats *st)
{
    if (!db)
        return;
    for (size_t i = 0; i < run->nhosts; i++) {
        rg_host *h = &run->hosts[i];
        if (h->country[0] || (public_only && rg_addr_is_special(&h->addr)) ||
            !rg_country_lookup(db, &h->addr, h->country))
            continue;
        h->geo_source = RG_AS_CSV;
        if (st)
            st->country_db++;
    }
}
