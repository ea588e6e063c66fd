/* metrics_http: serves the watch's metrics (metrics.h) at /metrics with
 * libmicrohttpd, on the address and port given (--metrics ADDR:PORT; no
 * default address, so nothing listens anywhere unasked). GET /metrics only;
 * OpenMetrics when the client's Accept names it (Prometheus does), else the
 * Prometheus text format. The server runs in libmicrohttpd's own thread and
 * only ever copies the latest texts, swapped in under a mutex after each
 * round. */
#ifndef RG_METRICS_HTTP_H
#define RG_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct rg_metrics_server rg_metrics_server;

/* Checks "ADDR:PORT" / "[V6]:PORT" (port 1-65535); false with err. */
bool rg_metrics_parse_listen(const char *s, char *err, size_t errlen);

/* Starts listening; NULL with one line in err. */
rg_metrics_server *rg_metrics_serve(const char *listen, char *err, size_t errlen);
/* Takes ownership of both texts (malloc'd; NULL keeps the previous). */
void rg_metrics_publish(rg_metrics_server *s, char *openmetrics, char *prometheus);
/* Stops the server and frees everything; NULL is fine. */
void rg_metrics_stop(rg_metrics_server *s);

#endif
