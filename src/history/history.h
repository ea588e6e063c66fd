/* history: every round of a watch kept in an SQLite database (--history
 * FILE), and read back by `routegraph history`.
 *
 * The file is a real embedded database: WAL journal, each round written in
 * one transaction, so a process killed at any moment (SIGKILL included)
 * leaves every finished round intact and the file readable; a round cut
 * short is simply absent. The schema is versioned: `schema_migrations`
 * lists the migrations applied, each applied in its own transaction, and a
 * file made by a newer routegraph (a version this one does not know) is
 * refused. `PRAGMA application_id` marks the file as routegraph's.
 *
 * Schema version 1:
 *   rounds(id, started, ended, traces, reached, probes, interrupted, doc)
 *     doc: the round's routegraph/1 JSON document, compact
 *   services(round_id, address, port, state, reached_ttl, rtt_us)
 *   changes(round_id, address, port, change, event)  event: JSON object
 *
 * A history file is outside input when read: it is opened read-only, the
 * application id and schema version are checked first, every text read is
 * bounded (SQLITE_LIMIT_LENGTH), and a stored document goes through the
 * hostile-input JSON reader. A bad file gives one error line. */
#ifndef RG_HISTORY_H
#define RG_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../model/result.h"

#define RG_HISTORY_SCHEMA_VERSION 1
#define RG_HISTORY_APP_ID 0x52474831 /* "RGH1" */
#define RG_HISTORY_MAX_DOC (256u * 1024 * 1024)

typedef struct rg_history rg_history;
struct json_t;

/* Opens (creating if needed) for writing; NULL with one line in err. */
rg_history *rg_history_open(const char *path, char *err, size_t errlen);
/* Opens an existing file read-only; NULL with one line in err. */
rg_history *rg_history_open_read(const char *path, char *err, size_t errlen);
void rg_history_close(rg_history *h);

/* Stores one finished round in one transaction: its JSON document, a row
 * per service and its change events (a JSON array, may be NULL). Returns
 * the round's id, 0 on failure (err set). */
int64_t rg_history_add_round(rg_history *h, const rg_run *run, struct json_t *doc,
                             struct json_t *changes, char *err, size_t errlen);

/* Writes the list of rounds and changes (filter: "ADDR", "ADDR:PORT" or
 * NULL) to out; false with err on a database error. */
bool rg_history_list(rg_history *h, const char *filter, FILE *out, char *err, size_t errlen);

/* Reads round id back into run (through the hostile-input JSON reader);
 * *options gets the saved options (caller json_decref()s). */
bool rg_history_load_round(rg_history *h, int64_t id, rg_run *run, struct json_t **options,
                           char *err, size_t errlen);

#endif
