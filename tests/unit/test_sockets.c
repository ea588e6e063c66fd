/* engine/sockets.c's receiving side without privilege: a UDP socket on the
 * loopback stands in for a raw one (rg_sockets_recv reads any datagram
 * socket), so batching (recvmmsg) is checked for order, cuts and the empty
 * queue, against the one-recvmsg path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../src/engine/sockets.h"

typedef struct pair {
    int tx, rx;
    struct sockaddr_in to;
} pair;

static void pair_open(pair *p)
{
    socklen_t sl = sizeof p->to;
    p->rx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    p->tx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(p->rx >= 0 && p->tx >= 0);
    memset(&p->to, 0, sizeof p->to);
    p->to.sin_family = AF_INET;
    p->to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(p->rx, (struct sockaddr *)&p->to, sizeof p->to), 0);
    assert_int_equal(getsockname(p->rx, (struct sockaddr *)&p->to, &sl), 0);
}

/* Datagram i: i + 1 bytes, each the low byte of i + k. */
static void send_n(const pair *p, int n)
{
    uint8_t b[512];
    for (int i = 0; i < n; i++) {
        size_t len = (size_t)(i % 400) + 1;
        for (size_t k = 0; k < len; k++)
            b[k] = (uint8_t)(i + (int)k);
        assert_int_equal(sendto(p->tx, b, len, 0, (const struct sockaddr *)&p->to,
                                sizeof p->to), (ssize_t)len);
    }
}

static rg_sockets sockets_on(int fd, bool batched)
{
    rg_sockets s = {.send4 = -1, .send6 = -1, .rx = {-1, -1, -1, -1}};
    s.rx[RG_RX_L4_4] = fd;
    if (batched)
        assert_true(rg_sockets_batch_rx(&s));
    return s;
}

static void read_all_in_order(bool batched)
{
    pair p;
    pair_open(&p);
    rg_sockets s = sockets_on(p.rx, batched);
    int n = 3 * RG_RX_MMSG + 5; /* three full batches and a part */
    send_n(&p, n);
    uint8_t buf[4096];
    rg_rx_meta meta;
    for (int i = 0; i < n; i++) {
        long got = rg_sockets_recv(&s, RG_RX_L4_4, buf, sizeof buf, &meta);
        assert_int_equal(got, i % 400 + 1);
        assert_int_equal(buf[0], (uint8_t)i);
        assert_int_equal(buf[got - 1], (uint8_t)(i + got - 1));
        assert_true(meta.when.tv_sec > 0);
        assert_int_equal(meta.src.family, 0); /* IPv4: the packet says */
    }
    assert_int_equal(rg_sockets_recv(&s, RG_RX_L4_4, buf, sizeof buf, &meta), 0);
    /* Sockets that are not open read nothing. */
    assert_int_equal(rg_sockets_recv(&s, RG_RX_ICMP6, buf, sizeof buf, &meta), 0);
    close(p.tx);
    rg_sockets_close(&s);
    assert_null(s.batch[RG_RX_L4_4]);
    assert_int_equal(s.rx[RG_RX_L4_4], -1);
}

static void test_batched_reads_every_packet_in_order(void **state)
{
    (void)state;
    read_all_in_order(true);
}

static void test_unbatched_reads_the_same(void **state)
{
    (void)state;
    read_all_in_order(false);
}

static void test_packet_longer_than_the_buffer_is_cut(void **state)
{
    (void)state;
    pair p;
    pair_open(&p);
    rg_sockets s = sockets_on(p.rx, true);
    send_n(&p, 40); /* datagram 39 has 40 bytes */
    uint8_t buf[16];
    rg_rx_meta meta;
    for (int i = 0; i < 40; i++) {
        long got = rg_sockets_recv(&s, RG_RX_L4_4, buf, sizeof buf, &meta);
        assert_int_equal(got, i + 1 < 16 ? i + 1 : 16);
        assert_int_equal(buf[got - 1], (uint8_t)(i + got - 1));
    }
    assert_int_equal(rg_sockets_recv(&s, RG_RX_L4_4, buf, sizeof buf, &meta), 0);
    close(p.tx);
    rg_sockets_close(&s);
}

static void test_packets_after_an_empty_read_are_seen(void **state)
{
    (void)state;
    pair p;
    pair_open(&p);
    rg_sockets s = sockets_on(p.rx, true);
    uint8_t buf[64];
    rg_rx_meta meta;
    assert_int_equal(rg_sockets_recv(&s, RG_RX_L4_4, buf, sizeof buf, &meta), 0);
    send_n(&p, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(rg_sockets_recv(&s, RG_RX_L4_4, buf, sizeof buf, &meta), i + 1);
    assert_int_equal(rg_sockets_recv(&s, RG_RX_L4_4, buf, sizeof buf, &meta), 0);
    close(p.tx);
    rg_sockets_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batched_reads_every_packet_in_order),
        cmocka_unit_test(test_unbatched_reads_the_same),
        cmocka_unit_test(test_packet_longer_than_the_buffer_is_cut),
        cmocka_unit_test(test_packets_after_an_empty_read_are_seen),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
