/* rg-lab-delay: one slow link of the routegraph lab.
 *
 * The lab's kernel has no netem, so a link with delay is two veth pairs with
 * this relay in a namespace of its own between them: every Ethernet frame
 * that arrives on one interface leaves through the other a fixed time later,
 * bytes unchanged. The two routers see one link (ARP, ND, IPv4, IPv6 alike)
 * that is merely slow; addresses, routes and hop counts stay as they were.
 *
 *   rg-lab-delay -t USEC [-q FRAMES] [-p PIDFILE] [-r] IFACE_A IFACE_B
 *
 * It prints "ready" once both interfaces are read, and on SIGTERM or SIGINT
 * one line per direction, "A>B relayed N full N failed N oversize N
 * pending N", then "kernel_dropped N". Memory is bounded: a direction holding
 * FRAMES frames or RG_DELAY_MAX_BYTES bytes drops what arrives ("full").
 */
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RG_DELAY_MAX_USEC 1000000UL
#define RG_DELAY_MAX_FRAMES 100000UL
#define RG_DELAY_DEFAULT_FRAMES 4096UL
#define RG_DELAY_MAX_BYTES (16UL << 20)
/* A frame as read: the virtio header, then up to a 64 KiB GSO frame. */
#define RG_DELAY_BUF (sizeof(struct virtio_net_hdr) + 65536 + 256)
/* Frames read from one interface before the other gets its turn. */
#define RG_DELAY_BATCH 64
#define RG_DELAY_RCVBUF (4 << 20)

typedef struct rg_frame {
    struct rg_frame *next;
    uint64_t due_ns;
    size_t len;
    unsigned char data[];
} rg_frame;

/* One direction: frames read on in_fd wait here, then leave on out_fd. A
 * fixed delay keeps arrival order, so a FIFO is the timed queue. */
typedef struct {
    const char *from, *to;
    int in_fd, out_fd;
    rg_frame *head, *tail;
    size_t frames, bytes;
    unsigned long relayed, full, failed, oversize;
} rg_dir;

static volatile sig_atomic_t rg_stop;

static void rg_on_signal(int sig)
{
    (void)sig;
    rg_stop = 1;
}

static uint64_t rg_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void rg_usage(void)
{
    fprintf(stderr, "usage: rg-lab-delay -t USEC [-q FRAMES] [-p PIDFILE] [-r] IFACE_A IFACE_B\n"
                    "  -t USEC    one-way delay in microseconds (0-%lu)\n"
                    "  -q FRAMES  frames held per direction before dropping (1-%lu, default %lu)\n"
                    "  -p FILE    write the process id to FILE\n"
                    "  -r         run at the lowest real-time priority (SCHED_FIFO 1)\n",
            RG_DELAY_MAX_USEC, RG_DELAY_MAX_FRAMES, RG_DELAY_DEFAULT_FRAMES);
}

static bool rg_parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-' || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* The virtio header carries the offload state with each frame: veth hands
 * on frames whose checksum is still to be filled in (CHECKSUM_PARTIAL) and
 * TCP super-frames (GSO); without it those would arrive corrupt. */
static int rg_open(const char *ifname)
{
    int ifindex = (int)if_nametoindex(ifname);
    if (ifindex == 0) {
        fprintf(stderr, "rg-lab-delay: no interface '%s'\n", ifname);
        return -1;
    }
    /* Protocol 0 until bound: nothing from another interface is queued. */
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        perror("rg-lab-delay: AF_PACKET socket");
        return -1;
    }
    int one = 1, big = RG_DELAY_RCVBUF;
    struct packet_mreq promisc = {.mr_ifindex = ifindex, .mr_type = PACKET_MR_PROMISC};
    struct sockaddr_ll at = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(ETH_P_ALL),
        .sll_ifindex = ifindex,
    };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof big) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
    /* Our own sends out of this interface must not come back as input. */
    if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0 ||
        setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &promisc, sizeof promisc) < 0 ||
        bind(fd, (struct sockaddr *)&at, sizeof at) < 0) {
        fprintf(stderr, "rg-lab-delay: %s: %s\n", ifname, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static void rg_enqueue(rg_dir *d, const unsigned char *buf, size_t len, uint64_t due_ns,
                       unsigned long max_frames)
{
    if (d->frames >= max_frames || d->bytes + len > RG_DELAY_MAX_BYTES) {
        d->full++;
        return;
    }
    rg_frame *f = malloc(sizeof *f + len);
    if (f == NULL) {
        d->full++;
        return;
    }
    f->next = NULL;
    f->due_ns = due_ns;
    f->len = len;
    memcpy(f->data, buf, len);
    if (d->tail != NULL)
        d->tail->next = f;
    else
        d->head = f;
    d->tail = f;
    d->frames++;
    d->bytes += len;
}

static rg_frame *rg_dequeue(rg_dir *d)
{
    rg_frame *f = d->head;
    d->head = f->next;
    if (d->head == NULL)
        d->tail = NULL;
    d->frames--;
    d->bytes -= f->len;
    return f;
}

/* Reads what is waiting on d's input, a bounded batch. */
static void rg_read(rg_dir *d, uint64_t delay_ns, unsigned long max_frames)
{
    static unsigned char buf[RG_DELAY_BUF];
    for (int i = 0; i < RG_DELAY_BATCH; i++) {
        ssize_t n = recv(d->in_fd, buf, sizeof buf, MSG_TRUNC);
        if (n < 0)
            return;
        if ((size_t)n > sizeof buf) {
            d->oversize++;
            continue;
        }
        if ((size_t)n <= sizeof(struct virtio_net_hdr))
            continue;
        rg_enqueue(d, buf, (size_t)n, rg_now_ns() + delay_ns, max_frames);
    }
}

/* Sends every frame whose time has come. */
static void rg_release(rg_dir *d, uint64_t now_ns)
{
    while (d->head != NULL && d->head->due_ns <= now_ns) {
        rg_frame *f = rg_dequeue(d);
        if (send(d->out_fd, f->data, f->len, MSG_DONTWAIT) == (ssize_t)f->len)
            d->relayed++;
        else
            d->failed++;
        free(f);
    }
}

/* How long ppoll may sleep: until the earliest frame is due, or forever. */
static const struct timespec *rg_wait(const rg_dir dirs[2], uint64_t now_ns, struct timespec *ts)
{
    uint64_t next = UINT64_MAX;
    for (int i = 0; i < 2; i++)
        if (dirs[i].head != NULL && dirs[i].head->due_ns < next)
            next = dirs[i].head->due_ns;
    if (next == UINT64_MAX)
        return NULL;
    uint64_t left = next > now_ns ? next - now_ns : 0;
    ts->tv_sec = (time_t)(left / 1000000000ULL);
    ts->tv_nsec = (long)(left % 1000000000ULL);
    return ts;
}

/* A socket error means the interface went down or away: reading the error
 * clears it, and an interface that is gone (its peer's namespace was
 * deleted, e.g. by an older lab/lab that knows no relays) ends the relay
 * rather than leaving it polling a dead socket. */
static bool rg_still_there(const rg_dir *d)
{
    int err = 0;
    socklen_t len = sizeof err;
    (void)getsockopt(d->in_fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (if_nametoindex(d->from) != 0)
        return true;
    fprintf(stderr, "rg-lab-delay: %s is gone (%s)\n", d->from, strerror(err));
    return false;
}

static void rg_relay(rg_dir dirs[2], uint64_t delay_ns, unsigned long max_frames,
                     const sigset_t *unblocked)
{
    struct pollfd p[2] = {
        {.fd = dirs[0].in_fd, .events = POLLIN},
        {.fd = dirs[1].in_fd, .events = POLLIN},
    };
    while (!rg_stop) {
        struct timespec ts;
        uint64_t now = rg_now_ns();
        rg_release(&dirs[0], now);
        rg_release(&dirs[1], now);
        /* Signals are let in only while waiting, so none is missed. */
        int n = ppoll(p, 2, rg_wait(dirs, rg_now_ns(), &ts), unblocked);
        if (n < 0 && errno != EINTR) {
            perror("rg-lab-delay: ppoll");
            return;
        }
        for (int i = 0; i < 2 && n > 0; i++) {
            if ((p[i].revents & (POLLERR | POLLHUP | POLLNVAL)) && !rg_still_there(&dirs[i]))
                return;
            if (p[i].revents & POLLIN)
                rg_read(&dirs[i], delay_ns, max_frames);
        }
    }
}

static unsigned long rg_kernel_drops(int fd)
{
    struct tpacket_stats st;
    socklen_t len = sizeof st;
    if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
        return 0;
    return st.tp_drops;
}

static void rg_report(rg_dir dirs[2])
{
    for (int i = 0; i < 2; i++)
        printf("%s>%s relayed %lu full %lu failed %lu oversize %lu pending %zu\n", dirs[i].from,
               dirs[i].to, dirs[i].relayed, dirs[i].full, dirs[i].failed, dirs[i].oversize,
               dirs[i].frames);
    printf("kernel_dropped %lu\n", rg_kernel_drops(dirs[0].in_fd) + rg_kernel_drops(dirs[1].in_fd));
    fflush(stdout);
}

static void rg_free_queue(rg_dir *d)
{
    while (d->head != NULL)
        free(rg_dequeue(d));
}

static int rg_write_pidfile(const char *path)
{
    FILE *fp = fopen(path, "w");
    if (fp == NULL)
        return -1;
    fprintf(fp, "%ld\n", (long)getpid());
    return fclose(fp) == 0 ? 0 : -1;
}

/* On a busy machine an ordinary process wakes up milliseconds late, which
 * would add jitter of that size to every link (netem runs in the kernel and
 * has none). The lowest real-time priority wakes on time; the relay does
 * little work per frame and never spins, and the kernel's real-time
 * throttling still bounds it. */
static void rg_realtime(void)
{
    struct sched_param sp = {.sched_priority = 1};
    if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
        fprintf(stderr, "rg-lab-delay: no real-time priority (%s); timing may jitter\n",
                strerror(errno));
}

/* SIGTERM and SIGINT stay blocked except inside ppoll; returns the mask
 * ppoll waits with. */
static void rg_signals(sigset_t *unblocked)
{
    struct sigaction sa;
    sigset_t block;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = rg_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigprocmask(SIG_BLOCK, &block, unblocked);
    sigdelset(unblocked, SIGTERM);
    sigdelset(unblocked, SIGINT);
}

int main(int argc, char **argv)
{
    unsigned long usec = 0, max_frames = RG_DELAY_DEFAULT_FRAMES;
    const char *pidfile = NULL;
    bool have_delay = false, realtime = false;
    int opt;

    while ((opt = getopt(argc, argv, "t:q:p:rh")) != -1) {
        switch (opt) {
        case 't':
            if (!rg_parse_ulong(optarg, 0, RG_DELAY_MAX_USEC, &usec)) {
                fprintf(stderr, "rg-lab-delay: bad -t '%s' (0-%lu)\n", optarg, RG_DELAY_MAX_USEC);
                return 2;
            }
            have_delay = true;
            break;
        case 'q':
            if (!rg_parse_ulong(optarg, 1, RG_DELAY_MAX_FRAMES, &max_frames)) {
                fprintf(stderr, "rg-lab-delay: bad -q '%s' (1-%lu)\n", optarg, RG_DELAY_MAX_FRAMES);
                return 2;
            }
            break;
        case 'p':
            pidfile = optarg;
            break;
        case 'r':
            realtime = true;
            break;
        default:
            rg_usage();
            return opt == 'h' ? 0 : 2;
        }
    }
    if (!have_delay || argc - optind != 2 || strcmp(argv[optind], argv[optind + 1]) == 0) {
        rg_usage();
        return 2;
    }

    sigset_t unblocked;
    rg_signals(&unblocked);
    /* Wake-ups on time to the microsecond, not the default 50 us late. */
    (void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    if (realtime)
        rg_realtime();
    int fd_a = rg_open(argv[optind]);
    int fd_b = fd_a < 0 ? -1 : rg_open(argv[optind + 1]);
    if (fd_b < 0)
        return 1;
    if (pidfile != NULL && rg_write_pidfile(pidfile) < 0) {
        perror("rg-lab-delay: pidfile");
        return 1;
    }
    rg_dir dirs[2] = {
        {.from = argv[optind], .to = argv[optind + 1], .in_fd = fd_a, .out_fd = fd_b},
        {.from = argv[optind + 1], .to = argv[optind], .in_fd = fd_b, .out_fd = fd_a},
    };
    printf("ready\n");
    fflush(stdout);
    rg_relay(dirs, (uint64_t)usec * 1000ULL, max_frames, &unblocked);
    rg_report(dirs);
    rg_free_queue(&dirs[0]);
    rg_free_queue(&dirs[1]);
    close(fd_a);
    close(fd_b);
    return 0;
}
