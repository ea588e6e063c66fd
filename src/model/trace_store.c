/* The mapped trace records of a streamed run (trace_store.h). */
#include "trace_store.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

struct rg_trace_store {
    size_t room;              /* traces the mapping holds */
    size_t bytes;             /* the mapping's length, whole pages */
    size_t page;
    uint16_t *left;           /* per page: traces on it not yet dropped */
    uint8_t *dropped;         /* one bit per trace */
    size_t ndropped;
};

/* The pages trace i's record lies on: [*first, *last]. */
static void pages_of(const struct rg_trace_store *s, size_t i, size_t *first, size_t *last)
{
    *first = i * sizeof(rg_trace) / s->page;
    *last = ((i + 1) * sizeof(rg_trace) - 1) / s->page;
}

bool rg_trace_store_open(rg_run *run, size_t max)
{
    struct rg_trace_store *s = calloc(1, sizeof *s);
    long page = sysconf(_SC_PAGESIZE);
    if (!s || page <= 0 || max == 0 || max > SIZE_MAX / sizeof(rg_trace) / 2) {
        free(s);
        return false;
    }
    s->room = max;
    s->page = (size_t)page;
    s->bytes = (max * sizeof(rg_trace) + s->page - 1) / s->page * s->page;
    size_t npages = s->bytes / s->page;
    s->left = calloc(npages, sizeof *s->left);
    s->dropped = calloc((max + 7) / 8, 1);
    /* MAP_NORESERVE: the room is address space until traces fill it. */
    void *m = s->left && s->dropped
                  ? mmap(NULL, s->bytes, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                  : MAP_FAILED;
    if (m == MAP_FAILED) {
        free(s->left);
        free(s->dropped);
        free(s);
        return false;
    }
    for (size_t i = 0; i < max; i++) {
        size_t first, last;
        pages_of(s, i, &first, &last);
        for (size_t p = first; p <= last; p++)
            s->left[p]++; /* a page holds at most a few hundred records */
    }
    run->traces = m;
    run->store = s;
    return true;
}

size_t rg_trace_store_room(const rg_run *run)
{
    return run->store ? run->store->room : 0;
}

bool rg_trace_store_dropped(const rg_run *run, size_t i)
{
    const struct rg_trace_store *s = run ? run->store : NULL;
    return s && i < s->room && (s->dropped[i / 8] >> (i % 8) & 1u);
}

size_t rg_trace_store_ndropped(const rg_run *run)
{
    return run->store ? run->store->ndropped : 0;
}

void rg_trace_store_drop(rg_run *run, size_t i)
{
    struct rg_trace_store *s = run->store;
    if (!s || i >= s->room || rg_trace_store_dropped(run, i))
        return;
    rg_trace_free(&run->traces[i]); /* leaves the record all zeros */
    s->dropped[i / 8] |= (uint8_t)(1u << (i % 8));
    s->ndropped++;
    size_t first, last;
    pages_of(s, i, &first, &last);
    for (size_t p = first; p <= last; p++)
        if (--s->left[p] == 0) /* a fresh page reads as zeros, as the record does */
            madvise((char *)run->traces + p * s->page, s->page, MADV_DONTNEED);
}

void rg_trace_store_close(rg_run *run)
{
    struct rg_trace_store *s = run->store;
    if (!s)
        return;
    for (size_t i = 0; i < run->ntraces; i++)
        if (!rg_trace_store_dropped(run, i))
            rg_trace_free(&run->traces[i]);
    munmap(run->traces, s->bytes);
    free(s->left);
    free(s->dropped);
    free(s);
    run->traces = NULL;
    run->ntraces = 0;
    run->store = NULL;
}
