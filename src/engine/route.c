#include "route.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

/* The answer is one route: far below a page. */
#define ROUTE_BUF 8192

/* Walks every attribute (libmnl checks each one's length against what is
 * left); false when the walk stopped before the message's end, since an
 * attribute not read could be the one that names several next hops. */
static bool walk(const struct nlmsghdr *nlh, bool *many)
{
    const struct nlattr *a;
    const void *tail = mnl_nlmsg_get_payload_tail(nlh);
    mnl_attr_for_each(a, nlh, sizeof(struct rtmsg)) {
        uint16_t type = mnl_attr_get_type(a);
        if (type == RTA_MULTIPATH || type == RTA_NH_ID)
            *many = true;
    }
    return (const void *)a == tail;
}

enum rg_route_paths rg_route_parse(const void *msg, size_t len)
{
    const struct nlmsghdr *nlh = msg;
    /* whole, and 4-aligned: the attribute walk runs to the aligned end */
    if (len > INT_MAX || !mnl_nlmsg_ok(nlh, (int)len) || MNL_ALIGN(nlh->nlmsg_len) != nlh->nlmsg_len)
        return RG_ROUTE_UNKNOWN;
    if (nlh->nlmsg_type != RTM_NEWROUTE || nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct rtmsg)))
        return RG_ROUTE_UNKNOWN;
    const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
    if (rtm->rtm_type != RTN_UNICAST)
        return RG_ROUTE_UNKNOWN; /* local, unreachable, blackhole...: not ours to judge */
    bool many = false;
    if (!walk(nlh, &many))
        return RG_ROUTE_UNKNOWN;
    return many ? RG_ROUTE_MULTI : RG_ROUTE_SINGLE;
}

/* The request: the table entry matching the address pair. */
static struct nlmsghdr *build_request(void *buf, const rg_addr *src, const rg_addr *dst,
                                      uint32_t seq)
{
    size_t alen = dst->family == 4 ? 4 : 16;
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_GETROUTE;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    nlh->nlmsg_seq = seq;
    struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
    rtm->rtm_family = dst->family == 4 ? AF_INET : AF_INET6;
    rtm->rtm_dst_len = (unsigned char)(alen * 8);
    rtm->rtm_flags = RTM_F_FIB_MATCH;
    mnl_attr_put(nlh, RTA_DST, alen, dst->bytes);
    if (src->family == dst->family) {
        rtm->rtm_src_len = (unsigned char)(alen * 8);
        mnl_attr_put(nlh, RTA_SRC, alen, src->bytes);
    }
    return nlh;
}

enum rg_route_paths rg_route_paths(const rg_addr *src, const rg_addr *dst)
{
    if (dst->family != 4 && dst->family != 6)
        return RG_ROUTE_UNKNOWN;
    _Alignas(struct nlmsghdr) unsigned char buf[ROUTE_BUF];
    uint32_t seq = (uint32_t)time(NULL);
    struct nlmsghdr *req = build_request(buf, src, dst, seq);
    struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
    if (!nl)
        return RG_ROUTE_UNKNOWN;
    struct timeval tv = {.tv_sec = 1}; /* the kernel answers at once; never hang */
    setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    enum rg_route_paths out = RG_ROUTE_UNKNOWN;
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0 &&
        mnl_socket_sendto(nl, req, req->nlmsg_len) >= 0) {
        ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
        const struct nlmsghdr *ans = (const struct nlmsghdr *)buf;
        if (n > 0 && mnl_nlmsg_ok(ans, (int)n) && ans->nlmsg_seq == seq)
            out = rg_route_parse(buf, (size_t)n);
    }
    mnl_socket_close(nl);
    return out;
}
