#include "changes.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "../output/text.h"

bool rg_changes_init(rg_changes *c, const rg_run *baseline, const rg_run *run)
{
    memset(c, 0, sizeof *c);
    if (run->ntraces == 0)
        return true;
    c->svc = calloc(run->ntraces, sizeof *c->svc);
    if (!c->svc)
        return false;
    c->n = run->ntraces;
    for (size_t i = 0; i < run->ntraces; i++)
        rg_service_init(&c->svc[i], baseline, &run->traces[i]);
    return true;
}

void rg_changes_free(rg_changes *c)
{
    free(c->svc);
    memset(c, 0, sizeof *c);
}

static const char *fmt(const rg_addr *a, char *buf, size_t len)
{
    return a->family ? rg_addr_format(a, buf, len) : "*";
}

static void put_as(FILE *out, uint32_t asn)
{
    if (asn)
        fprintf(out, " (AS%u)", asn);
}

static void put_path_text(FILE *out, const rg_path *p)
{
    char a[RG_ADDR_STRLEN];
    for (unsigned i = 0; i < p->len; i++)
        fprintf(out, "%s%s", i ? " " : "", fmt(&p->hop[i], a, sizeof a));
    if (p->len == 0)
        fputs("(none)", out);
}

static void write_line(FILE *out, const rg_trace *t, const rg_change_event *ev,
                       const rg_path *old, const rg_path *now)
{
    char a[RG_ADDR_STRLEN], b[RG_ADDR_STRLEN];
    rg_text_label(out, t);
    fprintf(out, "  %s", rg_change_name(ev->kind));
    switch (ev->kind) {
    case RG_CHANGE_NONE:
    case RG_CHANGE_ADDED:
        break;
    case RG_CHANGE_PORT:
    case RG_CHANGE_LOST:
    case RG_CHANGE_REGAINED:
        fprintf(out, ": port %s -> %s", rg_port_state_name(ev->old_state),
                rg_port_state_name(ev->new_state));
        break;
    default:
        fprintf(out, ": paths part at hop %u after %s", ev->part_ttl,
                ev->after.family ? rg_addr_format(&ev->after, a, sizeof a) : "the prober");
        put_as(out, ev->after_as);
        fprintf(out, ", %s -> %s; was ", fmt(&ev->old_hop, a, sizeof a),
                fmt(&ev->new_hop, b, sizeof b));
        put_path_text(out, old);
        fputs(", now ", out);
        put_path_text(out, now);
        break;
    }
    fputc('\n', out);
}

static json_t *addr_or_null(const rg_addr *a)
{
    char buf[RG_ADDR_STRLEN];
    return a->family ? json_string(rg_addr_format(a, buf, sizeof buf)) : json_null();
}

static json_t *path_json(const rg_path *p)
{
    json_t *hops = json_array(), *as = json_array();
    for (unsigned i = 0; hops && i < p->len; i++)
        json_array_append_new(hops, addr_or_null(&p->hop[i]));
    for (unsigned i = 0; as && i < p->nas; i++)
        json_array_append_new(as, json_integer(p->as[i]));
    return json_pack("{s:o*,s:o*,s:b,s:s}", "hops", hops, "as_path", as, "reached",
                     p->reached, "state", rg_port_state_name(p->state));
}

static json_t *event_json(const rg_trace *t, const rg_change_event *ev, const rg_path *old,
                          bool have_old, const rg_path *now, unsigned round)
{
    char buf[RG_ADDR_STRLEN];
    json_t *o = json_pack("{s:s?,s:s,s:I,s:s}", "target", t->target, "address",
                          rg_addr_format(&t->dst, buf, sizeof buf), "port", (json_int_t)t->dport,
                          "change", rg_change_key(ev->kind));
    if (!o)
        return NULL;
    if (round)
        json_object_set_new(o, "round", json_integer(round));
    if (ev->part_ttl) {
        json_object_set_new(o, "part_ttl", json_integer(ev->part_ttl));
        json_object_set_new(o, "part_after", addr_or_null(&ev->after));
        json_object_set_new(o, "part_after_asn", ev->after_as ? json_integer(ev->after_as)
                                                              : json_null());
    }
    json_object_set_new(o, "old", have_old ? path_json(old) : json_null());
    json_object_set_new(o, "new", path_json(now));
    return o;
}

size_t rg_changes_compare(rg_changes *c, const rg_run *run, FILE *text, json_t *events,
                          bool all, unsigned round)
{
    size_t found = 0;
    rg_path now, old;
    for (size_t i = 0; i < c->n && i < run->ntraces; i++) {
        const rg_trace *t = &run->traces[i];
        if (t->incomplete || t->last_ttl == 0)
            continue;
        rg_path_of(run, t, &now);
        bool have_old = c->svc[i].have_ref;
        if (have_old)
            old = c->svc[i].ref;
        rg_change_event ev;
        enum rg_change k = rg_service_update(&c->svc[i], run, &now, &ev);
        found += k != RG_CHANGE_NONE;
        if (k == RG_CHANGE_NONE && !all)
            continue;
        if (text)
            write_line(text, t, &ev, &old, &now);
        if (events)
            json_array_append_new(events, event_json(t, &ev, &old, have_old, &now, round));
    }
    c->reported += found;
    return found;
}
