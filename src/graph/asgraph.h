/* asgraph: the AS-level graph of a run (--graph-level as), folded from the
 * router-level graph (graph.h) so that a run of thousands of traces still
 * draws as a picture one can read.
 *
 * Promises:
 * - Node 0 is the prober. Then one node per AS number that a trace crossed
 *   or was sent to, in the order the traces (in order) first need them.
 * - Addresses with no AS (unannotated) and silent hops between two ASes A
 *   and B fold into one `unk` node per (A, B): every trace with the same AS
 *   before and after the gap shares it. A gap whose two sides are the same
 *   AS stays inside that AS (no node). Unannotated hops at the end of a
 *   path become unk(A, end). Silence after the last answer is not drawn.
 * - A trace visits each node of its path once in a row: consecutive hops in
 *   one AS are one visit. An edge joins two consecutive visits; its weight
 *   is the number of traces that cross it (a trace counts once per edge).
 * - A trace's destination belongs to the node of its AS (created if no
 *   path reached it); an unannotated destination to the unk node that ends
 *   its path (unk(A, end) for the last AS A it reached). A trace that did
 *   not reach a destination node on its path adds to a `not reached` edge
 *   from the last node of its path to the destination's node instead.
 * - Each destination node summarises its services: per (port, state) how
 *   many traces ended so, sorted by port then state, and how many distinct
 *   destination addresses it holds.
 * - Deterministic for a given router-level graph; strings (AS
 *   organisations) copied unescaped as they came: renderers escape them.
 *
 * The AS graph owns all its memory and does not point into the graph. */
#ifndef RG_ASGRAPH_H
#define RG_ASGRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph.h"

enum rg_asnode_kind {
    RG_ASNODE_PROBER,
    RG_ASNODE_AS,  /* one AS number */
    RG_ASNODE_UNK, /* unannotated or silent hops between two ASes */
};

/* How many traces to one port ended in one state. */
typedef struct rg_asservice {
    uint16_t port;
    enum rg_port_state state;
    size_t traces;
} rg_asservice;

typedef struct rg_asnode {
    enum rg_asnode_kind kind;
    unsigned id;              /* UNK: unk<id>, from 1 */
    uint32_t asn;             /* AS */
    char *org;                /* AS: its organisation; may be NULL */
    char countries[RG_GRAPH_MAX_COUNTRIES][3]; /* AS: as its cluster lists them */
    size_t ncountries;
    size_t before, after;     /* UNK: the nodes around it; after = RG_GRAPH_NONE: path end */
    size_t traces;            /* traces whose path visits it */
    size_t addrs;             /* distinct addresses seen in it (answered or sent to) */
    size_t dests;             /* distinct destination addresses in it */
    rg_asservice *services;   /* sorted by (port, state) */
    size_t nservices;
} rg_asnode;

typedef struct rg_asedge {
    size_t from, to;          /* node indices */
    size_t traces;            /* traces crossing it (its weight) */
    bool unreached;           /* last node of unreached traces -> their destination's node */
} rg_asedge;

typedef struct rg_asgraph {
    rg_asnode *nodes;
    size_t nnodes;
    rg_asedge *edges;         /* in the order traces first cross them */
    size_t nedges;
    size_t ntraces;
    char *credit;             /* as the router-level graph's; NULL = none */
} rg_asgraph;

/* Folds the router-level graph; NULL on allocation failure. */
rg_asgraph *rg_asgraph_build(const rg_graph *g);
void rg_asgraph_free(rg_asgraph *ag);

/* Whether any HOST node of the graph has an AS (else an AS-level graph is
 * one unk node: --graph-level auto keeps the router level then). */
bool rg_graph_has_as(const rg_graph *g);

#endif
