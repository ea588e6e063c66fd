#include "history.h"

#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "../input/json_read.h"
#include "../util/errbuf.h"

struct rg_history {
    sqlite3 *db;
};

/* Migration n brings the schema from version n-1 to n. */
static const char *const MIGRATIONS[] = {
    "CREATE TABLE rounds (id INTEGER PRIMARY KEY, started TEXT, ended TEXT,"
    " traces INTEGER NOT NULL, reached INTEGER NOT NULL, probes INTEGER NOT NULL,"
    " interrupted INTEGER NOT NULL, doc TEXT NOT NULL);"
    "CREATE TABLE services (round_id INTEGER NOT NULL REFERENCES rounds(id),"
    " address TEXT NOT NULL, port INTEGER NOT NULL, state TEXT NOT NULL,"
    " reached_ttl INTEGER, rtt_us INTEGER);"
    "CREATE INDEX services_by_address ON services(address, port, round_id);"
    "CREATE TABLE changes (round_id INTEGER NOT NULL REFERENCES rounds(id),"
    " address TEXT NOT NULL, port INTEGER NOT NULL, change TEXT NOT NULL,"
    " event TEXT NOT NULL);",
};
#define NMIGRATIONS (sizeof MIGRATIONS / sizeof MIGRATIONS[0])

_Static_assert(NMIGRATIONS == RG_HISTORY_SCHEMA_VERSION, "one migration per schema version");

static bool exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
        return true;
    rg_err(err, errlen, "history: %s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return false;
}

/* One integer from a query with no parameters; -1 on error. */
static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static int64_t schema_version(sqlite3 *db)
{
    if (query_int(db, "SELECT count(*) FROM sqlite_master WHERE type='table' AND"
                      " name='schema_migrations'") != 1)
        return 0;
    return query_int(db, "SELECT coalesce(max(version), 0) FROM schema_migrations");
}

/* The file must be ours and of a version we know. */
static bool check_file(sqlite3 *db, const char *path, bool fresh_ok, char *err, size_t errlen)
{
    int64_t app = query_int(db, "PRAGMA application_id");
    int64_t tables = query_int(db, "SELECT count(*) FROM sqlite_master");
    if (app < 0 || tables < 0)
        return rg_err(err, errlen, "%s: not a routegraph history database (%s)", path,
                      sqlite3_errmsg(db));
    if (app == 0 && tables == 0 && fresh_ok)
        return true;
    if (app != RG_HISTORY_APP_ID)
        return rg_err(err, errlen, "%s: not a routegraph history database", path);
    int64_t v = schema_version(db);
    if (v < 1 || v > RG_HISTORY_SCHEMA_VERSION)
        return rg_err(err, errlen, "%s: history schema version %lld, this routegraph knows 1 to %d",
                      path, (long long)v, RG_HISTORY_SCHEMA_VERSION);
    return true;
}

static bool migrate(sqlite3 *db, char *err, size_t errlen)
{
    char sql[128];
    if (!exec(db, "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
                  " applied TEXT NOT NULL)", err, errlen))
        return false;
    snprintf(sql, sizeof sql, "PRAGMA application_id = %d", RG_HISTORY_APP_ID);
    if (!exec(db, sql, err, errlen))
        return false;
    for (int64_t v = schema_version(db); v < (int64_t)NMIGRATIONS; v++) {
        snprintf(sql, sizeof sql, "INSERT INTO schema_migrations VALUES (%lld,"
                 " strftime('%%Y-%%m-%%dT%%H:%%M:%%SZ','now'))", (long long)v + 1);
        if (!exec(db, "BEGIN IMMEDIATE", err, errlen))
            return false;
        if (!exec(db, MIGRATIONS[v], err, errlen) || !exec(db, sql, err, errlen)) {
            exec(db, "ROLLBACK", err + strlen(err), 0);
            return false;
        }
        if (!exec(db, "COMMIT", err, errlen))
            return false;
    }
    return true;
}

static rg_history *open_db(const char *path, int flags, char *err, size_t errlen)
{
    rg_history *h = calloc(1, sizeof *h);
    if (!h) {
        rg_err(err, errlen, "out of memory");
        return NULL;
    }
    if (sqlite3_open_v2(path, &h->db, flags, NULL) != SQLITE_OK) {
        rg_err(err, errlen, "%s: %s", path, h->db ? sqlite3_errmsg(h->db) : "cannot open");
        rg_history_close(h);
        return NULL;
    }
    /* Bounded work on a file from outside: no huge values, no waiting
     * forever for a lock another writer holds. */
    sqlite3_limit(h->db, SQLITE_LIMIT_LENGTH, (int)RG_HISTORY_MAX_DOC);
    sqlite3_busy_timeout(h->db, 5000);
    return h;
}

rg_history *rg_history_open(const char *path, char *err, size_t errlen)
{
    rg_history *h = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err, errlen);
    if (!h)
        return NULL;
    if (!check_file(h->db, path, true, err, errlen) ||
        !exec(h->db, "PRAGMA journal_mode = WAL", err, errlen) ||
        !exec(h->db, "PRAGMA synchronous = NORMAL", err, errlen) ||
        !migrate(h->db, err, errlen)) {
        rg_history_close(h);
        return NULL;
    }
    return h;
}

rg_history *rg_history_open_read(const char *path, char *err, size_t errlen)
{
    rg_history *h = open_db(path, SQLITE_OPEN_READONLY, err, errlen);
    if (h && !check_file(h->db, path, false, err, errlen)) {
        rg_history_close(h);
        return NULL;
    }
    return h;
}

void rg_history_close(rg_history *h)
{
    if (!h)
        return;
    sqlite3_close(h->db);
    free(h);
}

/* ---- writing a round ---- */

static void bind_time(sqlite3_stmt *st, int i, const struct timespec *ts)
{
    char buf[32];
    struct tm tm;
    time_t sec = ts->tv_sec;
    if (sec && gmtime_r(&sec, &tm) && strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
        sqlite3_bind_text(st, i, buf, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static bool step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE;
}

static int64_t insert_round(sqlite3 *db, const rg_run *run, const char *doc)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT INTO rounds (started, ended, traces, reached, probes,"
                               " interrupted, doc) VALUES (?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
        return 0;
    size_t reached = 0;
    for (size_t i = 0; i < run->ntraces; i++)
        reached += run->traces[i].reached_ttl != 0;
    bind_time(st, 1, &run->start);
    bind_time(st, 2, &run->end);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)run->ntraces);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)reached);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)run->stats.probes_sent);
    sqlite3_bind_int(st, 6, run->interrupted);
    sqlite3_bind_text(st, 7, doc, -1, SQLITE_STATIC);
    int64_t id = step_done(st) ? sqlite3_last_insert_rowid(db) : 0;
    sqlite3_finalize(st);
    return id;
}

static bool insert_services(sqlite3 *db, int64_t id, const rg_run *run)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "INSERT INTO services VALUES (?,?,?,?,?,?)", -1, &st, NULL) !=
        SQLITE_OK)
        return false;
    bool ok = true;
    char a[RG_ADDR_STRLEN];
    for (size_t i = 0; ok && i < run->ntraces; i++) {
        const rg_trace *t = &run->traces[i];
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, rg_addr_format(&t->dst, a, sizeof a), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 3, t->dport);
        sqlite3_bind_text(st, 4, rg_port_state_name(t->state), -1, SQLITE_STATIC);
        if (t->reached_ttl) {
            sqlite3_bind_int(st, 5, (int)t->reached_ttl);
            sqlite3_bind_int64(st, 6, t->rtt_us);
        } else {
            sqlite3_bind_null(st, 5);
            sqlite3_bind_null(st, 6);
        }
        ok = step_done(st);
    }
    sqlite3_finalize(st);
    return ok;
}

static bool insert_changes(sqlite3 *db, int64_t id, json_t *changes)
{
    sqlite3_stmt *st;
    if (!changes || json_array_size(changes) == 0)
        return true;
    if (sqlite3_prepare_v2(db, "INSERT INTO changes VALUES (?,?,?,?,?)", -1, &st, NULL) !=
        SQLITE_OK)
        return false;
    bool ok = true;
    size_t i;
    json_t *ev;
    json_array_foreach(changes, i, ev) {
        char *text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_text(st, 2, json_string_value(json_object_get(ev, "address")), -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, json_integer_value(json_object_get(ev, "port")));
        sqlite3_bind_text(st, 4, json_string_value(json_object_get(ev, "change")), -1,
                          SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 5, text, -1, SQLITE_TRANSIENT);
        ok = text && step_done(st);
        free(text);
        if (!ok)
            break;
    }
    sqlite3_finalize(st);
    return ok;
}

int64_t rg_history_add_round(rg_history *h, const rg_run *run, json_t *doc, json_t *changes,
                             char *err, size_t errlen)
{
    char *text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text) {
        rg_err(err, errlen, "history: out of memory");
        return 0;
    }
    int64_t id = 0;
    if (exec(h->db, "BEGIN IMMEDIATE", err, errlen)) {
        id = insert_round(h->db, run, text);
        bool ok = id > 0 && insert_services(h->db, id, run) && insert_changes(h->db, id, changes);
        if (ok && exec(h->db, "COMMIT", err, errlen)) {
            free(text);
            return id;
        }
        if (!ok)
            rg_err(err, errlen, "history: %s", sqlite3_errmsg(h->db));
        char ignore[8];
        exec(h->db, "ROLLBACK", ignore, sizeof ignore);
    }
    free(text);
    return 0;
}

/* ---- reading ---- */

static const char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *s = sqlite3_column_text(st, i);
    return s ? (const char *)s : "";
}

/* "ADDR" / "ADDR:PORT" / "[V6]" / "[V6]:PORT" (util/addr's notation) into
 * the address's canonical text, as stored, and the port (0: any). */
static bool parse_filter(const char *f, char *addr, size_t len, int *port)
{
    rg_addr a;
    uint16_t p;
    if (!rg_addr_parse_endpoint(f, 0, &a, &p))
        return false;
    rg_addr_format(&a, addr, len);
    *port = p;
    return true;
}

/* A service read back from the file, written as every output writes one
 * (192.0.2.1:80, [2001:db8::1]:80); "?" for what is no address or port. */
static const char *service_text(const char *addr, int port, char *buf, size_t len)
{
    rg_addr a;
    if (!addr || !rg_addr_parse(addr, &a) || port < 1 || port > 65535)
        return "?";
    return rg_addr_format_endpoint(&a, (uint16_t)port, buf, len);
}

static bool list_rounds(sqlite3 *db, FILE *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT id, started, traces, reached, probes FROM rounds"
                               " ORDER BY id", -1, &st, NULL) != SQLITE_OK)
        return false;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        fprintf(out, "round %lld  %s  %lld traces, %lld reached, %lld probes\n",
                (long long)sqlite3_column_int64(st, 0), col_text(st, 1),
                (long long)sqlite3_column_int64(st, 2), (long long)sqlite3_column_int64(st, 3),
                (long long)sqlite3_column_int64(st, 4));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE;
}

static bool list_service(sqlite3 *db, const char *addr, int port, FILE *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT s.round_id, r.started, s.port, s.state, s.reached_ttl,"
                               " s.rtt_us FROM services s JOIN rounds r ON r.id = s.round_id"
                               " WHERE s.address = ?1 AND (?2 = 0 OR s.port = ?2)"
                               " ORDER BY s.round_id, s.port", -1, &st, NULL) != SQLITE_OK)
        return false;
    sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, port);
    int rc;
    char svc[RG_ENDPOINT_STRLEN];
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fprintf(out, "round %lld  %s  %s  %s", (long long)sqlite3_column_int64(st, 0),
                col_text(st, 1), service_text(addr, sqlite3_column_int(st, 2), svc, sizeof svc),
                col_text(st, 3));
        if (sqlite3_column_type(st, 4) != SQLITE_NULL)
            fprintf(out, ", reached at hop %d, %.1f ms", sqlite3_column_int(st, 4),
                    sqlite3_column_int64(st, 5) / 1000.0);
        fputc('\n', out);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE;
}

static const char *known_change(const char *key)
{
    static const char *const keys[] = {"hops", "as-path", "new-branch", "port-state",
                                       "lost", "regained", "added"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(key, keys[i]) == 0)
            return keys[i];
    return "?";
}

static bool list_changes(sqlite3 *db, const char *addr, int port, FILE *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT round_id, address, port, change FROM changes"
                               " WHERE (?1 IS NULL OR address = ?1) AND (?2 = 0 OR port = ?2)"
                               " ORDER BY round_id, rowid", -1, &st, NULL) != SQLITE_OK)
        return false;
    if (addr)
        sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, port);
    int rc;
    bool first = true;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (first)
            fputs("changes:\n", out);
        first = false;
        char svc[RG_ENDPOINT_STRLEN];
        /* Stored text from a file: printed only as a parsed address and
         * port and a known change name. */
        fprintf(out, "round %lld  %s  %s\n", (long long)sqlite3_column_int64(st, 0),
                service_text(col_text(st, 1), sqlite3_column_int(st, 2), svc, sizeof svc),
                known_change(col_text(st, 3)));
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE;
}

bool rg_history_list(rg_history *h, const char *filter, FILE *out, char *err, size_t errlen)
{
    char addr[RG_ADDR_STRLEN];
    int port = 0;
    if (filter && !parse_filter(filter, addr, sizeof addr, &port))
        return rg_err(err, errlen, "history: '%.60s' is not ADDRESS or ADDRESS:PORT", filter);
    bool ok = filter ? list_service(h->db, addr, port, out) : list_rounds(h->db, out);
    ok = ok && list_changes(h->db, filter ? addr : NULL, port, out);
    if (!ok)
        rg_err(err, errlen, "history: %s", sqlite3_errmsg(h->db));
    return ok;
}

bool rg_history_load_round(rg_history *h, int64_t id, rg_run *run, json_t **options,
                           char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h->db, "SELECT doc FROM rounds WHERE id = ?", -1, &st, NULL) !=
        SQLITE_OK) {
        rg_err(err, errlen, "history: %s", sqlite3_errmsg(h->db));
        return false;
    }
    sqlite3_bind_int64(st, 1, id);
    bool ok = false;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_TEXT) {
        const char *doc = (const char *)sqlite3_column_text(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        ok = doc && rg_json_read_buffer_options(doc, len, run, options, err, errlen);
    } else {
        rg_err(err, errlen, "history: no round %lld", (long long)id);
    }
    sqlite3_finalize(st);
    return ok;
}
