/* route: the kernel's answer about a destination's routing table entry,
 * read through libmnl: one next hop, several (RTA_MULTIPATH), a nexthop
 * object (RTA_NH_ID), and every answer it cannot vouch for is "unknown". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "engine/route.h"

typedef struct msgbuf {
    _Alignas(struct nlmsghdr) unsigned char b[512];
} msgbuf;

/* An RTM_NEWROUTE for 198.19.0.0/22; extra: an attribute type to add
 * (0: none), with a 4-byte value. */
static struct nlmsghdr *route_msg(msgbuf *m, unsigned char type, uint16_t extra)
{
    memset(m, 0, sizeof *m);
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(m->b);
    nlh->nlmsg_type = RTM_NEWROUTE;
    struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
    rtm->rtm_family = AF_INET;
    rtm->rtm_dst_len = 22;
    rtm->rtm_type = type;
    const uint8_t dst[4] = {198, 19, 0, 0}, gw[4] = {198, 18, 0, 1};
    mnl_attr_put(nlh, RTA_DST, 4, dst);
    mnl_attr_put(nlh, RTA_GATEWAY, 4, gw);
    mnl_attr_put_u32(nlh, RTA_OIF, 2);
    if (extra)
        mnl_attr_put_u32(nlh, extra, 7);
    return nlh;
}

static void test_one_gateway_is_single(void **state)
{
    (void)state;
    msgbuf m;
    struct nlmsghdr *nlh = route_msg(&m, RTN_UNICAST, 0);
    assert_int_equal(rg_route_parse(m.b, nlh->nlmsg_len), RG_ROUTE_SINGLE);
}

static void test_multipath_and_nexthop_objects(void **state)
{
    (void)state;
    msgbuf m;
    struct nlmsghdr *nlh = route_msg(&m, RTN_UNICAST, RTA_MULTIPATH);
    assert_int_equal(rg_route_parse(m.b, nlh->nlmsg_len), RG_ROUTE_MULTI);
    nlh = route_msg(&m, RTN_UNICAST, RTA_NH_ID);
    assert_int_equal(rg_route_parse(m.b, nlh->nlmsg_len), RG_ROUTE_MULTI);
}

static void test_what_cannot_be_vouched_for(void **state)
{
    (void)state;
    msgbuf m;
    /* not a unicast route */
    struct nlmsghdr *nlh = route_msg(&m, RTN_LOCAL, 0);
    assert_int_equal(rg_route_parse(m.b, nlh->nlmsg_len), RG_ROUTE_UNKNOWN);
    /* cut short: the header claims more than was received */
    nlh = route_msg(&m, RTN_UNICAST, 0);
    assert_int_equal(rg_route_parse(m.b, nlh->nlmsg_len - 4), RG_ROUTE_UNKNOWN);
    assert_int_equal(rg_route_parse(m.b, 8), RG_ROUTE_UNKNOWN);
    assert_int_equal(rg_route_parse(m.b, 0), RG_ROUTE_UNKNOWN);
    /* an attribute whose length runs past the message */
    nlh = route_msg(&m, RTN_UNICAST, RTA_PRIORITY);
    struct nlattr *last = (struct nlattr *)((unsigned char *)nlh + nlh->nlmsg_len - 8);
    last->nla_len = 64;
    assert_int_equal(rg_route_parse(m.b, nlh->nlmsg_len), RG_ROUTE_UNKNOWN);
    /* an error answer */
    nlh = route_msg(&m, RTN_UNICAST, 0);
    nlh->nlmsg_type = NLMSG_ERROR;
    assert_int_equal(rg_route_parse(m.b, nlh->nlmsg_len), RG_ROUTE_UNKNOWN);
    /* too short for its route header */
    nlh = mnl_nlmsg_put_header(m.b);
    nlh->nlmsg_type = RTM_NEWROUTE;
    assert_int_equal(rg_route_parse(m.b, nlh->nlmsg_len), RG_ROUTE_UNKNOWN);
}

static void test_no_address_no_question(void **state)
{
    (void)state;
    rg_addr none = {0};
    assert_int_equal(rg_route_paths(&none, &none), RG_ROUTE_UNKNOWN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_gateway_is_single),
        cmocka_unit_test(test_multipath_and_nexthop_objects),
        cmocka_unit_test(test_what_cannot_be_vouched_for),
        cmocka_unit_test(test_no_address_no_question),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
