#include "mpath_json.h"

#include "../probe/probe.h"

#include <stdlib.h>

#define MAX_BRANCHES 256u

static json_t *addr_json(const rg_addr *a)
{
    char buf[RG_ADDR_STRLEN];
    if (a->family != 4 && a->family != 6)
        return json_null(); /* the silent next hop */
    return json_string(rg_addr_format(a, buf, sizeof buf));
}

static json_t *finish(json_t *v, bool ok)
{
    if (ok)
        return v;
    json_decref(v);
    return NULL;
}

static json_t *flows_json(const rg_mpath *m, unsigned ttl, const rg_addr *a)
{
    size_t n = rg_mpath_flows(m, ttl, a, NULL, 0);
    uint16_t *f = malloc((n ? n : 1) * sizeof *f);
    json_t *arr = json_array();
    bool ok = f && arr;
    if (ok)
        rg_mpath_flows(m, ttl, a, f, n);
    for (size_t i = 0; ok && i < n; i++)
        ok = json_array_append_new(arr, json_integer(f[i])) == 0;
    free(f);
    return finish(arr, ok);
}

static json_t *branch_json(const rg_mpath *m, unsigned ttl, const rg_addr *a)
{
    rg_addr prev[MAX_BRANCHES];
    size_t np = rg_mpath_preds(m, ttl, a, prev, MAX_BRANCHES);
    json_t *o = json_object(), *from = json_array();
    bool ok = o && from;
    for (size_t i = 0; ok && i < np && i < MAX_BRANCHES; i++)
        ok = json_array_append_new(from, addr_json(&prev[i])) == 0;
    ok = ok && json_object_set_new(o, "address", addr_json(a)) == 0;
    ok = ok && json_object_set_new(o, "destination", json_boolean(rg_mpath_is_destination(m, ttl, a))) == 0;
    ok = ok && json_object_set_new(o, "flows", flows_json(m, ttl, a)) == 0;
    if (ok)
        ok = json_object_set_new(o, "from", from) == 0;
    else
        json_decref(from);
    return finish(o, ok);
}

/* What was varied between flows. */
static const char *flow_field(uint8_t method)
{
    switch (method) {
    case RG_METHOD_UDP: return "udp-source-port";
    case RG_METHOD_ICMP: return "icmp-identifier";
    default: return "tcp-source-port";
    }
}

static const char *hop_state_name(uint8_t s)
{
    switch (s) {
    case RG_MP_HOP_RULE: return "met";
    case RG_MP_HOP_LIMIT: return "probe-budget";
    case RG_MP_HOP_SHARED: return "shared";
    case RG_MP_HOP_ROUTE: return "routing-table";
    default: return "not-explored";
    }
}

static json_t *hop_json(const rg_mpath *m, unsigned ttl)
{
    rg_addr b[MAX_BRANCHES];
    size_t n = rg_mpath_branches(m, ttl, b, MAX_BRANCHES);
    json_t *o = json_object(), *arr = json_array();
    bool ok = o && arr;
    for (size_t i = 0; ok && i < n && i < MAX_BRANCHES; i++)
        ok = json_array_append_new(arr, branch_json(m, ttl, &b[i])) == 0;
    ok = ok && json_object_set_new(o, "ttl", json_integer(ttl)) == 0;
    ok = ok && json_object_set_new(o, "stopping_rule",
                                   json_string(hop_state_name(m->hop_state[ttl]))) == 0;
    if (ok)
        ok = json_object_set_new(o, "branches", arr) == 0;
    else
        json_decref(arr);
    return finish(o, ok);
}

json_t *rg_json_mpath(const rg_mpath *m)
{
    json_t *o = json_object(), *hops = json_array();
    bool ok = o && hops;
    for (unsigned ttl = m->first_ttl; ok && ttl && ttl <= m->last_ttl; ttl++)
        ok = json_array_append_new(hops, hop_json(m, ttl)) == 0;
    ok = ok && json_object_set_new(o, "confidence", json_integer(m->confidence)) == 0;
    ok = ok && json_object_set_new(o, "flow_field", json_string(flow_field(m->method))) == 0;
    ok = ok && json_object_set_new(o, "port", json_integer(m->dport)) == 0;
    ok = ok && json_object_set_new(o, "probes", json_integer((json_int_t)m->probes)) == 0;
    if (ok)
        ok = json_object_set_new(o, "hops", hops) == 0;
    else
        json_decref(hops);
    return finish(o, ok);
}
