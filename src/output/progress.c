#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define SHOW_AFTER_NS 1000000000ull

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void rg_progress_init(rg_progress *p, bool quiet)
{
    p->enabled = !quiet && isatty(STDERR_FILENO);
    p->shown = false;
    p->start_ns = mono_ns();
}

/* The time left, from the pace traces have finished at so far: a rough
 * guide (the last traces wait out their silent hops), said as "about". */
size_t rg_progress_line(char *buf, size_t len, const rg_engine_progress *pr,
                        uint64_t elapsed_ns)
{
    double el = (double)elapsed_ns / 1e9;
    int n = snprintf(buf, len, "traces %zu/%zu done, %llu probes sent, %llu replies, %.1f s",
                     pr->traces_done, pr->traces_total, (unsigned long long)pr->probes_sent,
                     (unsigned long long)pr->replies, el);
    if (n < 0 || (size_t)n >= len)
        return n < 0 ? 0 : len - 1;
    size_t left = pr->traces_total - pr->traces_done;
    int m;
    if (pr->traces_done == 0 || left == 0)
        m = snprintf(buf + n, len - (size_t)n, "%s", left ? ", time left not known yet" : "");
    else
        m = snprintf(buf + n, len - (size_t)n, ", about %.0f s left",
                     el * (double)left / (double)pr->traces_done + 0.5);
    return m < 0 ? (size_t)n : (size_t)n + (size_t)m < len ? (size_t)n + (size_t)m : len - 1;
}

void rg_progress_update(void *ctx, const rg_engine_progress *pr)
{
    rg_progress *p = ctx;
    uint64_t el = mono_ns() - p->start_ns;
    if (!p->enabled || el < SHOW_AFTER_NS)
        return;
    char line[256];
    rg_progress_line(line, sizeof line, pr, el);
    fprintf(stderr, "\r\033[K%s", line);
    fflush(stderr);
    p->shown = true;
}

void rg_progress_finish(rg_progress *p)
{
    if (p->shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->shown = false;
}
