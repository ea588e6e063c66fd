#include "sockets.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../probe/probe.h"

#define RCVBUF_BYTES (16 * 1024 * 1024)
#define CTL_BYTES 512

struct rg_rx_batch {
    unsigned n, next; /* packets read by the last recvmmsg, handed out */
    struct mmsghdr msg[RG_RX_MMSG];
    struct iovec iov[RG_RX_MMSG];
    struct sockaddr_storage from[RG_RX_MMSG];
    /* Control buffers aligned as any cmsghdr needs. */
    _Alignas(max_align_t) char ctl[RG_RX_MMSG][CTL_BYTES];
    uint8_t data[RG_RX_MMSG][RG_RX_SLOT];
};

static int raw_socket(int family, int proto)
{
    int fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
    return fd;
}

static bool no_family(int e)
{
    return e == EAFNOSUPPORT || e == EPROTONOSUPPORT;
}

static void rx_options(int fd, int family)
{
    int on = 1, size = RCVBUF_BYTES;
    /* A burst of thousands of replies must not overflow the queue: 16 MB
     * holds about 0.4 s of answers at 50,000/s, so a prober that another
     * process kept off the CPU that long loses none. Root may
     * go past net.core.rmem_max (this runs before privileges are dropped);
     * otherwise the kernel caps the request there. */
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    if (family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on);
        setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof on);
    }
}

static void icmp6_filter(int fd)
{
    struct icmp6_filter f;
    ICMP6_FILTER_SETBLOCKALL(&f);
    ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f);
    ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
    setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
}

static enum rg_sockets_status fail(rg_sockets *s, int e, const char *what,
                                   char *err, size_t errlen)
{
    rg_sockets_close(s);
    if (e == EPERM || e == EACCES) {
        snprintf(err, errlen,
                 "cannot open raw sockets (%s): routegraph needs CAP_NET_RAW; "
                 "run it as root, or grant it once with: "
                 "sudo setcap cap_net_raw+ep $(command -v routegraph)",
                 strerror(e));
        return RG_SOCK_NO_PRIVILEGE;
    }
    snprintf(err, errlen, "cannot open %s socket: %s", what, strerror(e));
    return RG_SOCK_ERROR;
}

bool rg_sockets_batch_rx(rg_sockets *s)
{
    bool all = true;
    for (int i = 0; i < RG_RX_COUNT; i++) {
        if (s->rx[i] < 0 || s->batch[i] != NULL)
            continue;
        s->batch[i] = calloc(1, sizeof *s->batch[i]);
        all &= s->batch[i] != NULL;
    }
    return all;
}

/* The method's transport answers: TCP's SYN-ACK / RST, UDP datagrams;
 * ICMP echo replies arrive on the ICMP sockets. */
static uint8_t answer_proto(uint8_t method)
{
    return method == RG_METHOD_UDP ? IPPROTO_UDP : method == RG_METHOD_ICMP ? 0 : IPPROTO_TCP;
}

/* Opens the answer socket of a family when the method has one. */
static bool open_l4(rg_sockets *s, int family, enum rg_rx which)
{
    if (!s->l4proto)
        return true;
    s->rx[which] = raw_socket(family, s->l4proto);
    if (s->rx[which] < 0)
        return false;
    rx_options(s->rx[which], family);
    return true;
}

enum rg_sockets_status rg_sockets_open(rg_sockets *s, uint8_t method, char *err,
                                       size_t errlen)
{
    s->send4 = s->send6 = -1;
    for (int i = 0; i < RG_RX_COUNT; i++) {
        s->rx[i] = -1;
        s->batch[i] = NULL;
    }
    s->l4proto = answer_proto(method);

    s->send4 = raw_socket(AF_INET, IPPROTO_RAW);
    if (s->send4 < 0)
        return fail(s, errno, "IPv4 raw", err, errlen);
    s->rx[RG_RX_ICMP4] = raw_socket(AF_INET, IPPROTO_ICMP);
    if (s->rx[RG_RX_ICMP4] < 0 || !open_l4(s, AF_INET, RG_RX_L4_4))
        return fail(s, errno, "IPv4 receive", err, errlen);
    rx_options(s->rx[RG_RX_ICMP4], AF_INET);

    /* IPPROTO_RAW on an IPv6 socket means we write the IPv6 header ourselves,
     * which is how the hop limit and flow label stay under our control. */
    s->send6 = raw_socket(AF_INET6, IPPROTO_RAW);
    if (s->send6 < 0) {
        if (no_family(errno)) {
            (void)rg_sockets_batch_rx(s);
            return RG_SOCK_OK; /* an IPv4-only host */
        }
        return fail(s, errno, "IPv6 raw", err, errlen);
    }
    s->rx[RG_RX_ICMP6] = raw_socket(AF_INET6, IPPROTO_ICMPV6);
    if (s->rx[RG_RX_ICMP6] < 0 || !open_l4(s, AF_INET6, RG_RX_L4_6))
        return fail(s, errno, "IPv6 receive", err, errlen);
    icmp6_filter(s->rx[RG_RX_ICMP6]);
    rx_options(s->rx[RG_RX_ICMP6], AF_INET6);
    (void)rg_sockets_batch_rx(s); /* without, one recvmsg per packet */
    return RG_SOCK_OK;
}

void rg_sockets_close(rg_sockets *s)
{
    int *all[2 + RG_RX_COUNT] = {&s->send4, &s->send6};
    for (int i = 0; i < RG_RX_COUNT; i++)
        all[2 + i] = &s->rx[i];
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (*all[i] >= 0)
            close(*all[i]);
        *all[i] = -1;
    }
    for (int i = 0; i < RG_RX_COUNT; i++) {
        free(s->batch[i]);
        s->batch[i] = NULL;
    }
}

bool rg_sockets_have(const rg_sockets *s, uint8_t family)
{
    return family == 4 ? s->send4 >= 0 : family == 6 ? s->send6 >= 0 : false;
}

int rg_sockets_send(const rg_sockets *s, const rg_addr *dst, const uint8_t *pkt,
                    size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd;
    memset(&ss, 0, sizeof ss);
    if (dst->family == 4) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, dst->bytes, 4);
        sl = sizeof *sin;
        fd = s->send4;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        memcpy(&sin6->sin6_addr, dst->bytes, 16);
        sl = sizeof *sin6;
        fd = s->send6;
    }
    if (fd < 0)
        return EAFNOSUPPORT;
    ssize_t n = sendto(fd, pkt, len, 0, (struct sockaddr *)&ss, sl);
    if (n < 0)
        return errno;
    return (size_t)n == len ? 0 : EMSGSIZE;
}

static void read_cmsgs(struct msghdr *mh, rg_rx_meta *meta)
{
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_TIMESTAMPNS &&
            cm->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
            memcpy(&meta->when, CMSG_DATA(cm), sizeof meta->when);
        } else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_HOPLIMIT &&
                   cm->cmsg_len >= CMSG_LEN(sizeof(int))) {
            int h;
            memcpy(&h, CMSG_DATA(cm), sizeof h);
            meta->hlim = (uint8_t)h;
        } else if (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_PKTINFO &&
                   cm->cmsg_len >= CMSG_LEN(sizeof(struct in6_pktinfo))) {
            struct in6_pktinfo pi;
            memcpy(&pi, CMSG_DATA(cm), sizeof pi);
            meta->dst.family = 6;
            memcpy(meta->dst.bytes, &pi.ipi6_addr, 16);
        }
    }
}

/* What recvmsg/recvmmsg filled in, into meta: the kernel's timestamp, and
 * for IPv6 the addresses and hop limit the header we do not see carried. */
static void fill_meta(struct msghdr *mh, const struct sockaddr_storage *from,
                      rg_rx_meta *meta)
{
    memset(meta, 0, sizeof *meta);
    read_cmsgs(mh, meta);
    if (meta->when.tv_sec == 0)
        clock_gettime(CLOCK_REALTIME, &meta->when);
    if (from->ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)from;
        meta->src.family = 6;
        memcpy(meta->src.bytes, &sin6->sin6_addr, 16);
    }
}

static long recv_one(int fd, uint8_t *buf, size_t len, rg_rx_meta *meta)
{
    struct sockaddr_storage from;
    union {
        char buf[CTL_BYTES];
        struct cmsghdr align;
    } control;
    struct iovec iov = {buf, len};
    struct msghdr mh = {
        .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
        .msg_iovlen = 1, .msg_control = control.buf,
        .msg_controllen = sizeof control.buf,
    };
    memset(&from, 0, sizeof from);
    ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    fill_meta(&mh, &from, meta);
    /* A datagram larger than buf is cut; parsers treat it as truncated. */
    return (long)n;
}

/* Refills an empty batch with one recvmmsg: 0 when nothing waits. The
 * lengths the kernel overwrote are set again for every slot. */
static int refill_batch(int fd, rg_rx_batch *b)
{
    for (unsigned i = 0; i < RG_RX_MMSG; i++) {
        b->iov[i] = (struct iovec){b->data[i], RG_RX_SLOT};
        memset(&b->from[i], 0, sizeof b->from[i]);
        b->msg[i].msg_hdr = (struct msghdr){
            .msg_name = &b->from[i], .msg_namelen = sizeof b->from[i],
            .msg_iov = &b->iov[i], .msg_iovlen = 1,
            .msg_control = b->ctl[i], .msg_controllen = sizeof b->ctl[i],
        };
        b->msg[i].msg_len = 0;
    }
    int n = recvmmsg(fd, b->msg, RG_RX_MMSG, MSG_DONTWAIT, NULL);
    b->next = 0;
    b->n = n > 0 ? (unsigned)n : 0;
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    return n;
}

long rg_sockets_recv(const rg_sockets *s, enum rg_rx which, uint8_t *buf,
                     size_t len, rg_rx_meta *meta)
{
    int fd = s->rx[which];
    if (fd < 0)
        return 0;
    rg_rx_batch *b = s->batch[which];
    if (b == NULL)
        return recv_one(fd, buf, len, meta);
    if (b->next == b->n) {
        int r = refill_batch(fd, b);
        if (r <= 0)
            return r;
    }
    unsigned i = b->next++;
    size_t n = b->msg[i].msg_len;
    if (n > len)
        n = len; /* cut, as recvmsg into buf would have */
    memcpy(buf, b->data[i], n);
    fill_meta(&b->msg[i].msg_hdr, &b->from[i], meta);
    return (long)n;
}

bool rg_source_for(const rg_addr *dst, uint16_t dport, rg_addr *src, int *err)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    int family = dst->family == 6 ? AF_INET6 : AF_INET;
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(dport);
        memcpy(&sin->sin_addr, dst->bytes, 4);
        sl = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(dport);
        memcpy(&sin6->sin6_addr, dst->bytes, 16);
        sl = sizeof *sin6;
    }
    /* A connected UDP socket makes the kernel choose the route and source
     * address without sending anything. */
    int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *err = errno;
        return false;
    }
    bool ok = connect(fd, (struct sockaddr *)&ss, sl) == 0;
    socklen_t gl = sizeof ss;
    if (ok)
        ok = getsockname(fd, (struct sockaddr *)&ss, &gl) == 0;
    *err = ok ? 0 : errno;
    close(fd);
    if (!ok)
        return false;
    memset(src, 0, sizeof *src);
    src->family = dst->family;
    if (family == AF_INET)
        memcpy(src->bytes, &((struct sockaddr_in *)&ss)->sin_addr, 4);
    else
        memcpy(src->bytes, &((struct sockaddr_in6 *)&ss)->sin6_addr, 16);
    return true;
}
