#include "trace_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>

#include <cmocka.h>

rg_addr tfx_addr(const char *s)
{
    rg_addr a;
    assert_true(rg_addr_parse(s, &a));
    return a;
}

void tfx_dest_name(char *buf, size_t len, size_t i)
{
    snprintf(buf, len, "198.19.%zu.%zu", i / 2 / 250, i / 2 % 250 + 1);
}

void tfx_trace(rg_trace *t, const char *dst, uint16_t dport, uint16_t sport,
               uint32_t seq_base)
{
    rg_addr a = tfx_addr(dst);
    assert_true(rg_trace_init(t, dst, &a, dport, 1, 30, 2));
    t->src = tfx_addr(a.family == 4 ? "198.18.0.2" : "2001:db8:100::2");
    t->sport = sport;
    t->seq_base = seq_base;
    for (unsigned ttl = 1; ttl <= 10; ttl++)
        rg_trace_set_sent(t, ttl, ttl == 3 ? 2 : 1);
}
