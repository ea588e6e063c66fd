#include "check.h"

#include <jansson.h>
#include <string.h>

static const char *const KINDS[] = {"not-open", "unreached", "path", "as-path"};
static const char *const LEVELS[] = {"ok", "warn", "crit"};
static const char *const STATUS[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};

static int find(const char *const *names, size_t n, const char *s, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && strncmp(names[i], s, len) == 0)
            return (int)i;
    return -1;
}

bool rg_check_parse(const char *spec, rg_check_rules *r, char *err, size_t errlen)
{
    r->level[RG_CHECK_NOT_OPEN] = RG_CHECK_CRIT;
    r->level[RG_CHECK_UNREACHED] = RG_CHECK_CRIT;
    r->level[RG_CHECK_PATH] = RG_CHECK_WARN;
    r->level[RG_CHECK_AS_PATH] = RG_CHECK_CRIT;
    for (const char *p = spec; p && *p;) {
        size_t len = strcspn(p, ",");
        const char *colon = memchr(p, ':', len);
        int k = colon ? find(KINDS, RG_CHECK_KINDS, p, (size_t)(colon - p)) : -1;
        int l = colon ? find(LEVELS, 3, colon + 1, len - (size_t)(colon - p) - 1) : -1;
        if (k < 0 || l < 0) {
            snprintf(err, errlen, "--check: '%.*s' is not KIND:LEVEL (KIND not-open, "
                     "unreached, path or as-path; LEVEL ok, warn or crit)", (int)(len > 40 ? 40 : len), p);
            return false;
        }
        r->level[k] = (unsigned char)l;
        p += len + (p[len] == ',');
    }
    return true;
}

static size_t count_changes(json_t *changes, const char *a, const char *b)
{
    size_t n = 0, i;
    json_t *ev;
    json_array_foreach(changes, i, ev) {
        const char *k = json_string_value(json_object_get(ev, "change"));
        n += k && (strcmp(k, a) == 0 || (b && strcmp(k, b) == 0));
    }
    return n;
}

static void first_label(char *buf, size_t len, const rg_trace *t)
{
    char a[RG_ENDPOINT_STRLEN];
    snprintf(buf, len, "%s %s", rg_addr_format_endpoint(&t->dst, t->dport, a, sizeof a),
             rg_port_state_name(t->state));
}

int rg_check_report(FILE *out, const rg_check_rules *r, const rg_run *run, json_t *changes)
{
    size_t n = run->ntraces, not_open = 0, unreached = 0;
    char worst[96] = "";
    for (size_t i = 0; i < n; i++) {
        const rg_trace *t = &run->traces[i];
        if (t->state != RG_PORT_OPEN && !not_open++)
            first_label(worst, sizeof worst, t);
        unreached += t->reached_ttl == 0;
    }
    size_t path = changes ? count_changes(changes, "hops", "new-branch") : 0;
    size_t as = changes ? count_changes(changes, "as-path", NULL) : 0;
    int level = RG_CHECK_OK;
    size_t found[RG_CHECK_KINDS] = {not_open, unreached, path, as};
    for (int k = 0; k < RG_CHECK_KINDS; k++)
        if (found[k] && r->level[k] > level)
            level = r->level[k];
    if (n == 0)
        level = RG_CHECK_UNKNOWN;
    fprintf(out, "ROUTEGRAPH %s - %zu services: %zu not open", STATUS[level], n, not_open);
    if (*worst)
        fprintf(out, " (%s%s)", worst, not_open > 1 ? ", ..." : "");
    fprintf(out, ", %zu not reached", unreached);
    if (changes)
        fprintf(out, ", %zu path and %zu AS-path changes against the baseline", path, as);
    if (run->nunresolved)
        fprintf(out, ", %zu targets not resolved", run->nunresolved);
    fprintf(out, " | services=%zu open=%zu;;;0;%zu reached=%zu;;;0;%zu", n, n - not_open, n,
            n - unreached, n);
    if (changes)
        fprintf(out, " path_changes=%zu as_path_changes=%zu", path, as);
    fprintf(out, " probes=%llu\n", (unsigned long long)run->stats.probes_sent);
    return level;
}
