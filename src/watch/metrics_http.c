#include "metrics_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../util/addr.h"

#define OM_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct rg_metrics_server {
    struct MHD_Daemon *d;
    pthread_mutex_t lock;
    char *om, *prom;
};

static bool parse(const char *s, struct sockaddr_storage *ss, char *err, size_t errlen)
{
    char host[64];
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host)
            goto bad;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon || strchr(s, ':') != colon || (size_t)(colon - s) >= sizeof host)
            goto bad;
        memcpy(host, s, (size_t)(colon - s));
        host[colon - s] = '\0';
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end || port < 1 || port > 65535)
        goto bad;
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        return true;
    }
    if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        return true;
    }
bad:
    snprintf(err, errlen, "--metrics: '%.60s' is not ADDRESS:PORT (e.g. 127.0.0.1:9464 or "
             "[::1]:9464)", s);
    return false;
}

bool rg_metrics_parse_listen(const char *s, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    return parse(s, &ss, err, errlen);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             const char *body)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload,
                              size_t *upload_size, void **state)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)state;
    rg_metrics_server *s = cls;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", "GET only\n");
    if (strcmp(url, "/metrics") != 0)
        return reply(c, MHD_HTTP_NOT_FOUND, "text/plain", "see /metrics\n");
    const char *accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept");
    bool om = accept && strstr(accept, "application/openmetrics-text");
    pthread_mutex_lock(&s->lock);
    const char *body = om ? s->om : s->prom;
    enum MHD_Result ret = body ? reply(c, MHD_HTTP_OK, om ? OM_TYPE : PROM_TYPE, body)
                               : reply(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain",
                                       "no round finished yet\n");
    pthread_mutex_unlock(&s->lock);
    return ret;
}

rg_metrics_server *rg_metrics_serve(const char *listen, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    if (!parse(listen, &ss, err, errlen))
        return NULL;
    rg_metrics_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, &ss,
                            MHD_OPTION_CONNECTION_LIMIT, 16u, MHD_OPTION_CONNECTION_TIMEOUT,
                            10u, MHD_OPTION_END);
    if (!s->d) {
        snprintf(err, errlen, "--metrics: cannot listen on %.60s", listen);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    return s;
}

void rg_metrics_publish(rg_metrics_server *s, char *om, char *prom)
{
    pthread_mutex_lock(&s->lock);
    if (om) {
        free(s->om);
        s->om = om;
    }
    if (prom) {
        free(s->prom);
        s->prom = prom;
    }
    pthread_mutex_unlock(&s->lock);
}

void rg_metrics_stop(rg_metrics_server *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->d);
    pthread_mutex_destroy(&s->lock);
    free(s->om);
    free(s->prom);
    free(s);
}
