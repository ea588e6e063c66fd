/* sources: the annotation stage as main sees it. Opens the databases the
 * command line names (before probing, so a bad file fails fast and nothing
 * is probed in vain), then, after probing, fills run->hosts: AS number and
 * name from the offline data or .mmdb files, the country from the .mmdb
 * files or the country database, then reverse DNS and Team Cymru over DNS,
 * all bounded by --dns-timeout.
 *
 * The default data (AS and country, installed by scripts/fetch-asn-data.sh)
 * is used with --asn-source offline (the default), each unless a file of
 * its kind is named; a named --country-db is used whatever the source.
 *
 * Threads: the default data cannot fail a run (without it annotation knows
 * less), so each default database is opened by a thread of its own while
 * the caller goes on (probing starts, or the other database opens);
 * rg_sources_annotate* and rg_sources_close join them. Until then the
 * asdb and countries fields belong to those threads. */
#ifndef RG_SOURCES_H
#define RG_SOURCES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "../cli/config.h"
#include "../model/result.h"
#include "asdb.h"
#include "country.h"
#include "mmdb.h"

typedef struct rg_sources {
    pthread_t loader[2];  /* default AS data, default country data */
    bool loading[2];      /* loader[i] runs and is not joined yet */
    rg_asdb *asdb;        /* NULL: no offline AS data */
    rg_country_db *countries; /* NULL: no country database */
    rg_mmdb_set *mmdbs;   /* NULL: none given */
    bool default_missing; /* no --asn-db and no data installed */
    bool default_countries; /* the installed country data (credited) */
    char warning[400];    /* one line for the operator after opening, or "" */
} rg_sources;

/* False with one line in err when a named database is missing, unreadable
 * or damaged (the caller exits 2). The default data being absent is not an
 * error: annotation then simply knows fewer ASes. */
bool rg_sources_open(rg_sources *s, const rg_config *cfg, char *err, size_t errlen);
/* Waits for the default databases' loaders: afterwards asdb and
 * countries may be read directly (a watch's per-round offline annotation). */
void rg_sources_ready(rg_sources *s);
/* Annotates the run; problems with DNS are never fatal. warn gets at most
 * one line (no trailing newline) worth telling the operator, else "". */
void rg_sources_annotate(rg_sources *s, rg_run *run, const rg_config *cfg,
                         char *warn, size_t warnlen);
/* The same for run->hosts as they are (a lookup's addresses), not those of
 * the traces. */
void rg_sources_annotate_hosts(rg_sources *s, rg_run *run, const rg_config *cfg,
                               char *warn, size_t warnlen);
/* Whether any local database (AS, country, .mmdb) is open; after
 * rg_sources_ready. */
bool rg_sources_offline(const rg_sources *s);
/* The local part alone for the hosts of run's traces (collected here): AS
 * and country, no DNS. Cheap (a binary search or two per address), so the
 * streamed output annotates each trace as it writes it. False when memory
 * ran out (what was filled stays). */
bool rg_sources_annotate_offline(rg_sources *s, rg_run *run, const rg_config *cfg);

void rg_sources_close(rg_sources *s);

#endif
