/* dns.c: the lookups over c-ares (see dns.h): queries all in flight, one
 * deadline, answers read through dns_parse.h and cymru.h and applied to the
 * run's hosts. */
#include "dns.h"

#include <ares.h>
#include <ares_nameser.h>
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "../util/errbuf.h"

#define MAX_TRIES 16
#define MAX_INFLIGHT 4096
#define MAX_TIMEOUT_MS 600000

/* ------------------------------------------------------------------------
 * The lookups
 * ------------------------------------------------------------------------ */

enum job_kind { JOB_PTR, JOB_ORIGIN, JOB_ASNAME };

struct dns_ctx;

typedef struct dns_job {
    struct dns_ctx *ctx;
    size_t idx; /* host index (PTR, ORIGIN) or AS table index (ASNAME) */
    uint8_t kind;
} dns_job;

typedef struct job_list {
    dns_job *v;
    size_t n, next; /* v[0..next) were sent */
} job_list;

typedef struct as_entry {
    uint32_t asn;
    char *name; /* owned; NULL = unknown */
} as_entry;

typedef struct host_cymru {
    rg_cymru_origin origin;
    bool have;
} host_cymru;

typedef struct dns_ctx {
    rg_run *run;
    ares_channel ch;
    job_list main;  /* PTR and origin queries, interleaved per host */
    job_list asq;   /* AS-name queries; sent before the rest of main */
    host_cymru *hc; /* [nhosts] */
    as_entry *as;   /* [nhosts]: at most one AS per host */
    size_t nas;
    struct pollfd *fds, *ready;
    size_t nfds, capfds;
    size_t inflight, window;
    rg_dns_stats st;
    bool oom;
} dns_ctx;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* c-ares tells which sockets to watch; a socket with neither interest is
 * closed and leaves the set. */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
    dns_ctx *c = data;
    size_t i = 0;
    while (i < c->nfds && c->fds[i].fd != fd)
        i++;
    if (!readable && !writable) {
        if (i < c->nfds)
            c->fds[i] = c->fds[--c->nfds];
        return;
    }
    if (i == c->nfds) {
        if (c->nfds == c->capfds) {
            size_t cap = c->capfds ? c->capfds * 2 : 8;
            struct pollfd *f = realloc(c->fds, cap * sizeof *f);
            struct pollfd *r = f ? realloc(c->ready, cap * sizeof *r) : NULL;
            if (f)
                c->fds = f;
            if (!r) {
                c->oom = true;
                return;
            }
            c->ready = r;
            c->capfds = cap;
        }
        c->nfds++;
    }
    c->fds[i].fd = fd;
    c->fds[i].events = (short)((readable ? POLLIN : 0) | (writable ? POLLOUT : 0));
    c->fds[i].revents = 0;
}

static as_entry *find_as(dns_ctx *c, uint32_t asn)
{
    /* Linear: a run crosses tens of ASes, rarely more. */
    for (size_t i = 0; i < c->nas; i++)
        if (c->as[i].asn == asn)
            return &c->as[i];
    return NULL;
}

static void on_ptr(dns_ctx *c, size_t idx, const unsigned char *abuf, size_t alen)
{
    char name[RG_DNS_NAME_MAX];
    int r = rg_dns_parse_ptr(abuf, alen, name, sizeof name);
    if (r == RG_DNS_NODATA) {
        c->st.nodata++;
        return;
    }
    if (r != RG_DNS_FOUND) {
        c->st.malformed++;
        return;
    }
    if (!rg_host_set(&c->run->hosts[idx].ptr, name)) {
        c->oom = true;
        return;
    }
    c->st.answered++;
    c->st.ptr_found++;
}

typedef struct origin_pick {
    const rg_addr *addr;
    rg_cymru_origin best;
    bool have;
} origin_pick;

/* Several records: the most specific prefix that holds the address wins. */
static void origin_txt(const char *txt, size_t len, void *arg)
{
    origin_pick *op = arg;
    rg_cymru_origin o;
    if (!rg_cymru_parse_origin(txt, len, &o) || !rg_cymru_origin_covers(&o, op->addr))
        return;
    if (!op->have || o.prefix_len > op->best.prefix_len) {
        op->best = o;
        op->have = true;
    }
}

static void on_origin(dns_ctx *c, size_t idx, const unsigned char *abuf, size_t alen)
{
    origin_pick op = {.addr = &c->run->hosts[idx].addr};
    int r = rg_dns_parse_txt(abuf, alen, origin_txt, &op);
    if (r == RG_DNS_NODATA) {
        c->st.nodata++;
        return;
    }
    if (!op.have) {
        c->st.malformed++;
        return;
    }
    c->st.answered++;
    c->hc[idx].origin = op.best;
    c->hc[idx].have = true;
    if (find_as(c, op.best.asn))
        return;
    /* Distinct ASes never outnumber hosts, so both tables have room. */
    c->as[c->nas] = (as_entry){.asn = op.best.asn};
    c->asq.v[c->asq.n++] = (dns_job){.ctx = c, .idx = c->nas, .kind = JOB_ASNAME};
    c->nas++;
}

typedef struct as_pick {
    uint32_t want;
    rg_cymru_as got;
    bool have;
} as_pick;

static void as_txt(const char *txt, size_t len, void *arg)
{
    as_pick *ap = arg;
    rg_cymru_as a;
    if (ap->have || !rg_cymru_parse_as(txt, len, &a) || a.asn != ap->want || !a.name[0])
        return;
    ap->got = a;
    ap->have = true;
}

static void on_asname(dns_ctx *c, size_t idx, const unsigned char *abuf, size_t alen)
{
    as_entry *e = &c->as[idx];
    as_pick ap = {.want = e->asn};
    int r = rg_dns_parse_txt(abuf, alen, as_txt, &ap);
    if (r == RG_DNS_NODATA) {
        c->st.nodata++;
        return;
    }
    if (!ap.have) {
        c->st.malformed++;
        return;
    }
    if (!(e->name = strdup(ap.got.name))) {
        c->oom = true;
        return;
    }
    c->st.answered++;
}

static void on_answer(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
    dns_job *j = arg;
    dns_ctx *c = j->ctx;
    (void)timeouts;
    c->inflight--;
    switch (status) {
    case ARES_SUCCESS:
        break;
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED:
        c->st.unfinished++;
        return;
    case ARES_ENOTFOUND:
    case ARES_ENODATA:
        c->st.nodata++;
        return;
    case ARES_EBADRESP:
        c->st.malformed++;
        return;
    default:
        c->st.failed++;
        return;
    }
    if (!abuf || alen <= 0) {
        c->st.malformed++;
        return;
    }
    if (j->kind == JOB_PTR)
        on_ptr(c, j->idx, abuf, (size_t)alen);
    else if (j->kind == JOB_ORIGIN)
        on_origin(c, j->idx, abuf, (size_t)alen);
    else
        on_asname(c, j->idx, abuf, (size_t)alen);
}

static void send_job(dns_ctx *c, dns_job *j)
{
    char name[RG_DNS_NAME_MAX];
    const rg_addr *a = j->kind == JOB_ASNAME ? NULL : &c->run->hosts[j->idx].addr;
    bool ok = j->kind == JOB_PTR      ? rg_dns_ptr_name(a, name, sizeof name)
              : j->kind == JOB_ORIGIN ? rg_cymru_origin_name(a, name, sizeof name)
                                      : rg_cymru_as_name(c->as[j->idx].asn, name, sizeof name);
    if (!ok) {
        c->st.malformed++;
        return;
    }
    c->inflight++;
    c->st.queries++;
    /* May call on_answer at once (e.g. no memory); that is fine. */
    ares_query(c->ch, name, C_IN, j->kind == JOB_PTR ? T_PTR : T_TXT,
               on_answer, j);
}

static void top_up(dns_ctx *c)
{
    while (c->inflight < c->window && !c->oom) {
        job_list *l = c->asq.next < c->asq.n ? &c->asq : &c->main;
        if (l->next >= l->n)
            return;
        send_job(c, &l->v[l->next++]);
    }
}

static bool pending(const dns_ctx *c)
{
    return c->inflight > 0 || c->asq.next < c->asq.n || c->main.next < c->main.n;
}

static int wait_ms(dns_ctx *c, uint64_t left)
{
    struct timeval max = {.tv_sec = (time_t)(left / 1000),
                          .tv_usec = (suseconds_t)(left % 1000) * 1000};
    struct timeval tv;
    struct timeval *t = ares_timeout(c->ch, &max, &tv);
    uint64_t ms = (uint64_t)t->tv_sec * 1000u + ((uint64_t)t->tv_usec + 999u) / 1000u;
    if (ms > left)
        ms = left;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Runs until every query is answered or given up, or the deadline. */
static bool event_loop(dns_ctx *c, uint64_t deadline, char *err, size_t errlen)
{
    for (;;) {
        top_up(c);
        if (c->oom || !pending(c))
            return true;
        uint64_t now = now_ms();
        if (now >= deadline) {
            c->st.deadline_hit = true;
            return true;
        }
        int r = poll(c->fds, (nfds_t)c->nfds, wait_ms(c, deadline - now));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return rg_err(err, errlen, "DNS: poll: %s", strerror(errno));
        if (r == 0) {
            ares_process_fd(c->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
            continue;
        }
        /* Processing may change the socket set; work from a copy. */
        size_t nready = 0;
        for (size_t i = 0; i < c->nfds; i++)
            if (c->fds[i].revents)
                c->ready[nready++] = c->fds[i];
        for (size_t i = 0; i < nready; i++) {
            short ev = c->ready[i].revents;
            ares_socket_t fd = c->ready[i].fd;
            ares_process_fd(c->ch, (ev & (POLLIN | POLLERR | POLLHUP)) ? fd : ARES_SOCKET_BAD,
                            (ev & POLLOUT) ? fd : ARES_SOCKET_BAD);
        }
    }
}

static bool server_allowed(const rg_addr *a)
{
    static const uint8_t lo6[16] = {[15] = 1};
    if (rg_addr_is_lab(a))
        return true;
    /* Loopback never leaves the machine. */
    return (a->family == 4 && a->bytes[0] == 127) ||
           (a->family == 6 && memcmp(a->bytes, lo6, 16) == 0);
}

static bool check_servers(dns_ctx *c, char *err, size_t errlen)
{
    struct ares_addr_port_node *list = NULL;
    if (ares_get_servers_ports(c->ch, &list) != ARES_SUCCESS)
        return rg_err(err, errlen, "DNS: cannot read the server list");
    bool ok = true;
    for (struct ares_addr_port_node *s = list; s && ok; s = s->next) {
        rg_addr a = {0};
        if (s->family == AF_INET) {
            a.family = 4;
            memcpy(a.bytes, &s->addr.addr4, 4);
        } else if (s->family == AF_INET6) {
            a.family = 6;
            memcpy(a.bytes, &s->addr.addr6, 16);
        }
        if (!server_allowed(&a)) {
            char buf[RG_ADDR_STRLEN];
            rg_err(err, errlen, "DNS server %s is outside the lab address ranges",
                   rg_addr_format(&a, buf, sizeof buf));
            ok = false;
        }
    }
    ares_free_data(list);
    return ok;
}

static bool set_server(dns_ctx *c, const rg_addr *a, uint16_t port, char *err, size_t errlen)
{
    struct ares_addr_port_node node;
    memset(&node, 0, sizeof node);
    node.family = a->family == 6 ? AF_INET6 : AF_INET;
    memcpy(a->family == 6 ? (void *)&node.addr.addr6 : (void *)&node.addr.addr4, a->bytes,
           rg_addr_len(a));
    node.udp_port = node.tcp_port = port;
    int rc = ares_set_servers_ports(c->ch, &node);
    if (rc != ARES_SUCCESS)
        return rg_err(err, errlen, "DNS: cannot set the server: %s", ares_strerror(rc));
    return true;
}

static bool open_channel(dns_ctx *c, const rg_dns_opts *o, const rg_addr *server,
                         uint16_t port, char *err, size_t errlen)
{
    struct ares_options ao;
    memset(&ao, 0, sizeof ao);
    ao.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
    unsigned timeout = o->timeout_ms ? o->timeout_ms : RG_DNS_DEFAULT_TIMEOUT_MS;
    ao.timeout = (int)(timeout > MAX_TIMEOUT_MS ? MAX_TIMEOUT_MS : timeout);
    ao.tries = (int)(o->tries ? o->tries : RG_DNS_DEFAULT_TRIES);
    if (ao.tries > MAX_TRIES)
        ao.tries = MAX_TRIES;
    ao.sock_state_cb = sock_state;
    ao.sock_state_cb_data = c;
    int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_SOCK_STATE_CB;
    int rc = ares_init_options(&c->ch, &ao, mask);
    if (rc != ARES_SUCCESS) {
        c->ch = NULL;
        rg_err(err, errlen, "DNS: cannot start c-ares: %s", ares_strerror(rc));
        return false;
    }
    if (server && !set_server(c, server, port, err, errlen))
        return false;
    return !o->lab_only || check_servers(c, err, errlen);
}

/* Queues PTR and origin queries, interleaved so a deadline that cuts the
 * list short still leaves whole hosts done. */
static void plan_jobs(dns_ctx *c, const rg_dns_opts *o)
{
    for (size_t i = 0; i < c->run->nhosts; i++) {
        const rg_host *h = &c->run->hosts[i];
        if (o->do_ptr && !h->ptr)
            c->main.v[c->main.n++] = (dns_job){.ctx = c, .idx = i, .kind = JOB_PTR};
        bool want = o->cymru == RG_CYMRU_ALL || (o->cymru == RG_CYMRU_MISSING && h->asn == 0);
        if (want && rg_cymru_wanted(&h->addr))
            c->main.v[c->main.n++] = (dns_job){.ctx = c, .idx = i, .kind = JOB_ORIGIN};
    }
}

static bool apply_cymru(dns_ctx *c)
{
    for (size_t i = 0; i < c->run->nhosts; i++) {
        if (!c->hc[i].have)
            continue;
        rg_host *h = &c->run->hosts[i];
        const rg_cymru_origin *org = &c->hc[i].origin;
        const as_entry *e = find_as(c, org->asn);
        const char *name = e ? e->name : NULL;
        /* Keep another source's name for the same AS when Cymru gave none. */
        if ((name || h->asn != org->asn) && !rg_host_set(&h->as_org, name))
            return false;
        h->asn = org->asn;
        h->as_source = RG_AS_CYMRU;
        if (!h->country[0] && org->country[0]) {
            memcpy(h->country, org->country, sizeof h->country);
            h->geo_source = RG_AS_CYMRU;
        }
        c->st.cymru_found++;
    }
    return true;
}

static void ctx_free(dns_ctx *c)
{
    for (size_t i = 0; i < c->nas; i++)
        free(c->as[i].name);
    free(c->as);
    free(c->hc);
    free(c->main.v);
    free(c->asq.v);
    free(c->fds);
    free(c->ready);
}

static bool ctx_alloc(dns_ctx *c, size_t nhosts)
{
    size_t n = nhosts ? nhosts : 1;
    c->main.v = calloc(2 * n, sizeof *c->main.v);
    c->asq.v = calloc(n, sizeof *c->asq.v);
    c->hc = calloc(n, sizeof *c->hc);
    c->as = calloc(n, sizeof *c->as);
    return c->main.v && c->asq.v && c->hc && c->as;
}

static bool run_queries(dns_ctx *c, const rg_dns_opts *o, const rg_addr *server,
                        uint16_t port, uint64_t start, char *err, size_t errlen)
{
    unsigned deadline_ms = o->deadline_ms ? o->deadline_ms : RG_DNS_DEFAULT_DEADLINE_MS;
    if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
        return rg_err(err, errlen, "DNS: cannot initialise c-ares");
    bool ok = open_channel(c, o, server, port, err, errlen) &&
              event_loop(c, start + deadline_ms, err, errlen);
    size_t unsent = (c->main.n - c->main.next) + (c->asq.n - c->asq.next);
    if (c->ch)
        ares_destroy(c->ch); /* calls back every open query: ARES_EDESTRUCTION */
    c->ch = NULL;
    ares_library_cleanup();
    c->st.unfinished += unsent;
    return ok;
}

bool rg_dns_annotate(rg_run *run, const rg_dns_opts *o, char *err, size_t errlen)
{
    uint64_t start = now_ms();
    rg_addr server;
    uint16_t port = 53;
    dns_ctx c;
    memset(&c, 0, sizeof c);
    if (err && errlen)
        err[0] = '\0';
    if (o->server && !rg_addr_parse_endpoint(o->server, 53, &server, &port))
        return rg_err(err, errlen, "bad DNS server '%.64s': want ADDR, ADDR:PORT or [IPV6]:PORT",
                      o->server);
    if (run->nhosts == 0 && !rg_run_collect_hosts(run))
        return rg_err(err, errlen, "DNS: out of memory");
    c.run = run;
    c.window = o->max_inflight ? o->max_inflight : RG_DNS_DEFAULT_INFLIGHT;
    if (c.window > MAX_INFLIGHT)
        c.window = MAX_INFLIGHT;
    bool ok = ctx_alloc(&c, run->nhosts);
    if (ok) {
        plan_jobs(&c, o);
        if (c.main.n > 0)
            ok = run_queries(&c, o, o->server ? &server : NULL, port, start, err, errlen);
        if (ok && !c.oom && !apply_cymru(&c))
            c.oom = true;
    }
    if (!ok && err && !err[0])
        rg_err(err, errlen, "DNS: out of memory");
    if (ok && c.oom) {
        rg_err(err, errlen, "DNS: out of memory");
        ok = false;
    }
    c.st.elapsed_ms = (unsigned)(now_ms() - start);
    if (o->stats)
        *o->stats = c.st;
    ctx_free(&c);
    return ok;
}
