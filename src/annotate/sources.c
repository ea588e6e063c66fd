#include "sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "annotate.h"
#include "dns.h"

static void skipped_warning(rg_sources *s, const char *what, const rg_asdb_info *info)
{
    if (info->skipped && !s->warning[0])
        snprintf(s->warning, sizeof s->warning,
                 "%s: %zu malformed or reversed lines skipped (first: %s)", what,
                 info->skipped, info->first_skip);
}

static void *load_default_asdb(void *arg)
{
    rg_sources *s = arg;
    char ignored[RG_ASDB_MSGLEN];
    s->asdb = rg_annotate_open_default_asdb(ignored, sizeof ignored);
    s->default_missing = s->asdb == NULL;
    return NULL;
}

static void *load_default_country(void *arg)
{
    rg_sources *s = arg;
    char ignored[RG_ASDB_MSGLEN];
    s->countries = rg_annotate_open_default_country(ignored, sizeof ignored);
    s->default_countries = s->countries != NULL;
    return NULL;
}

/* In a thread of its own; in this one when no thread can be had. */
static void start_loader(rg_sources *s, int i, void *(*fn)(void *))
{
    s->loading[i] = pthread_create(&s->loader[i], NULL, fn, s) == 0;
    if (!s->loading[i])
        fn(s);
}

static void join_loaders(rg_sources *s)
{
    for (int i = 0; i < 2; i++)
        if (s->loading[i]) {
            pthread_join(s->loader[i], NULL);
            s->loading[i] = false;
        }
}

static bool open_asdb(rg_sources *s, const rg_config *cfg, char *err, size_t errlen)
{
    if (!(cfg->as_lookups & RG_ASLOOKUP_OFFLINE))
        return true;
    if (cfg->nasn_db > 0) {
        s->asdb = rg_asdb_load(cfg->asn_db, cfg->nasn_db, err, errlen);
        if (!s->asdb)
            return false;
        const rg_asdb_info *info = rg_asdb_get_info(s->asdb);
        skipped_warning(s, "AS data", info);
        return true;
    }
    start_loader(s, 0, load_default_asdb);
    return true;
}

static bool open_countries(rg_sources *s, const rg_config *cfg, char *err, size_t errlen)
{
    if (cfg->ncountry_db > 0) {
        s->countries = rg_country_load(cfg->country_db, cfg->ncountry_db, err, errlen);
        if (!s->countries)
            return false;
        skipped_warning(s, "country data", rg_country_info(s->countries));
        return true;
    }
    if (!(cfg->as_lookups & RG_ASLOOKUP_OFFLINE))
        return true;
    start_loader(s, 1, load_default_country);
    return true;
}

static bool open_mmdbs(rg_sources *s, const rg_config *cfg, char *err, size_t errlen)
{
    if (cfg->nmmdb == 0)
        return true;
    s->mmdbs = rg_mmdb_set_new();
    if (!s->mmdbs) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    for (size_t i = 0; i < cfg->nmmdb; i++)
        if (!rg_mmdb_set_add(s->mmdbs, cfg->mmdb[i], err, errlen))
            return false;
    return true;
}

bool rg_sources_open(rg_sources *s, const rg_config *cfg, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (open_asdb(s, cfg, err, errlen) && open_countries(s, cfg, err, errlen) &&
        open_mmdbs(s, cfg, err, errlen))
        return true;
    rg_sources_close(s);
    return false;
}

static enum rg_cymru_mode cymru_mode(const rg_config *cfg)
{
    if (cfg->no_dns || !(cfg->as_lookups & RG_ASLOOKUP_CYMRU))
        return RG_CYMRU_OFF;
    return cfg->as_lookups & RG_ASLOOKUP_OFFLINE ? RG_CYMRU_MISSING : RG_CYMRU_ALL;
}

static void run_dns(rg_run *run, const rg_config *cfg, char *warn, size_t warnlen)
{
    rg_dns_stats st;
    rg_dns_opts o = {
        .do_ptr = !cfg->no_dns,
        .cymru = cymru_mode(cfg),
        .server = cfg->dns_server,
        .lab_only = getenv("ROUTEGRAPH_LAB_ONLY") != NULL,
        .deadline_ms = (unsigned)(cfg->dns_timeout * 1000.0),
        .stats = &st,
    };
    if (!o.do_ptr && o.cymru == RG_CYMRU_OFF)
        return;
    char err[RG_DNS_MSGLEN];
    if (!rg_dns_annotate(run, &o, err, sizeof err))
        snprintf(warn, warnlen, "name lookups skipped: %s", err);
    else if (st.queries > 0 && st.answered == 0 && st.nodata == 0)
        /* Not one answer, not even "no such name": the server is not there. */
        snprintf(warn, warnlen, "the DNS server did not answer: %lu name lookups failed, "
                 "hops are shown without names (-n skips them)", st.queries);
    else if (st.deadline_hit)
        snprintf(warn, warnlen, "name lookups cut short after %.1f s (--dns-timeout): "
                 "%lu of %lu unanswered", cfg->dns_timeout, st.unfinished, st.queries);
}

void rg_sources_ready(rg_sources *s)
{
    join_loaders(s);
}

void rg_sources_annotate(rg_sources *s, rg_run *run, const rg_config *cfg,
                         char *warn, size_t warnlen)
{
    warn[0] = '\0';
    if (!rg_run_collect_hosts(run)) {
        snprintf(warn, warnlen, "annotation skipped: out of memory");
        return;
    }
    rg_sources_annotate_hosts(s, run, cfg, warn, warnlen);
}

/* AS and country from the local databases; false with err when memory ran
 * out (what was filled stays). */
static bool offline(rg_sources *s, rg_run *run, const rg_config *cfg, char *err,
                    size_t errlen)
{
    rg_annotate_stats st = {0};
    bool ok = !(s->asdb || s->mmdbs) ||
              rg_annotate_offline(run, s->asdb, s->mmdbs, &st, err, errlen);
    /* The installed ip-location-db data asks for credit; a file the operator
     * named (the lab's own, say) carries its own terms. */
    if (st.as_csv > 0 && cfg->nasn_db == 0)
        run->as_credit = RG_ANNOTATE_ASN_CREDIT;
    /* After the .mmdb files (they win), before Cymru (it fills the rest). */
    rg_annotate_countries(run, s->countries, s->default_countries, &st);
    if (st.country_db > 0 && s->default_countries)
        run->country_credit = RG_COUNTRY_CREDIT;
    return ok;
}

void rg_sources_annotate_hosts(rg_sources *s, rg_run *run, const rg_config *cfg,
                               char *warn, size_t warnlen)
{
    warn[0] = '\0';
    join_loaders(s);
    /* Once: else every hop shows AS??? with no hint why. */
    if (s->default_missing)
        snprintf(warn, warnlen, "no AS data installed: hops will show AS??? (run "
                 "scripts/fetch-asn-data.sh, or give --asn-db FILE, or --asn-source none)");
    if (run->nhosts == 0)
        return;
    char err[256];
    if (!offline(s, run, cfg, err, sizeof err))
        snprintf(warn, warnlen, "AS annotation incomplete: %s", err);
    run_dns(run, cfg, warn[0] ? err : warn, warn[0] ? sizeof err : warnlen);
}

bool rg_sources_offline(const rg_sources *s)
{
    return s->asdb || s->mmdbs || s->countries;
}

bool rg_sources_annotate_offline(rg_sources *s, rg_run *run, const rg_config *cfg)
{
    join_loaders(s);
    char err[256];
    return rg_run_collect_hosts(run) && offline(s, run, cfg, err, sizeof err);
}

void rg_sources_close(rg_sources *s)
{
    join_loaders(s);
    rg_asdb_free(s->asdb);
    rg_country_free(s->countries);
    rg_mmdb_set_free(s->mmdbs);
    s->asdb = NULL;
    s->countries = NULL;
    s->mmdbs = NULL;
}
