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

void rg_progress_update(void *ctx, const rg_engine_progress *pr)
{
    rg_progress *p = ctx;
    if (!p->enabled || mono_ns() - p->start_ns < SHOW_AFTER_NS)
        return;
    fprintf(stderr, "\r\033[Ktraces %zu/%zu done, %llu probes sent, %llu replies",
            pr->traces_done, pr->traces_total,
            (unsigned long long)pr->probes_sent, (unsigned long long)pr->replies);
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
