/* rg-lab-listen: the "open port" of the routegraph lab target hosts.
 *
 * Listens on 0.0.0.0 and [::] for every PORT given, accepts each connection
 * and closes it at once. Because the target hosts route whole prefixes to lo
 * ("ip route add local ..."), the wildcard sockets answer for every address
 * in those prefixes.
 *
 * With -u PORT it also echoes every UDP datagram to PORT back to its sender,
 * from the address it was sent to (the "open" UDP port of routegraph -P udp:
 * the echo carries the probe's secret back).
 *
 * With -d it detaches only after every socket is listening, so the caller
 * (lab/lab up) knows the port is open as soon as this command returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RG_LISTEN_MAX_PORTS 8
#define RG_LISTEN_MAX_SOCKS (2 * RG_LISTEN_MAX_PORTS + 2)
#define RG_UDP_BATCH 64 /* datagrams echoed per wake-up per socket */

static void rg_usage(void)
{
    fprintf(stderr, "usage: rg-lab-listen [-d] [-p PIDFILE] [-u UDPPORT] PORT...\n"
                    "  -d          detach once listening\n"
                    "  -u UDPPORT  echo UDP datagrams to UDPPORT\n"
                    "  -p PIDFILE  write the serving process id to PIDFILE\n");
}

static int rg_parse_port(const char *s)
{
    char *end = NULL;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 65535)
        return -1;
    return (int)v;
}

static int rg_listen_on(int family, int port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1;
    int fd;

    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        sin->sin_addr.s_addr = htonl(INADDR_ANY);
        len = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sin6->sin6_addr = in6addr_any;
        len = sizeof *sin6;
    }

    fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    /* A separate IPv4 socket exists, so the IPv6 one must not claim v4. */
    if (family == AF_INET6 &&
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
        goto fail;
    if (bind(fd, (struct sockaddr *)&ss, len) < 0)
        goto fail;
    if (listen(fd, SOMAXCONN) < 0)
        goto fail;
    return fd;

fail:
    close(fd);
    return -1;
}

/* A UDP socket on every address of the family that learns each datagram's
 * destination address, to answer from it (the host answers for whole
 * prefixes routed to lo). */
static int rg_udp_on(int family, int port)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int one = 1;
    int fd;

    memset(&ss, 0, sizeof ss);
    if (family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        len = sizeof *sin;
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        sin6->sin6_addr = in6addr_any;
        len = sizeof *sin6;
    }
    fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* Freebind: IPv6 refuses a source address given in IPV6_PKTINFO that
     * no interface holds, as those of a prefix routed to lo are. */
    if (family == AF_INET6 &&
        (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0 ||
         setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) < 0 ||
         setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one) < 0))
        goto fail;
    if (family == AF_INET && setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0)
        goto fail;
    if (bind(fd, (struct sockaddr *)&ss, len) < 0)
        goto fail;
    return fd;

fail:
    close(fd);
    return -1;
}

/* Echoes the waiting datagrams (a bounded batch), each from the address it
 * came to: the pktinfo received is handed back to sendmsg. */
static void rg_udp_echo(int fd)
{
    for (int i = 0; i < RG_UDP_BATCH; i++) {
        unsigned char buf[2048];
        union {
            char buf[256];
            struct cmsghdr align;
        } control;
        struct sockaddr_storage from;
        struct iovec iov = { buf, sizeof buf };
        struct msghdr mh = {
            .msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov,
            .msg_iovlen = 1, .msg_control = control.buf,
            .msg_controllen = sizeof control.buf,
        };
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);

        if (n < 0)
            return;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
            if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
                struct in_pktinfo pi;
                memcpy(&pi, CMSG_DATA(cm), sizeof pi);
                pi.ipi_spec_dst = pi.ipi_addr; /* answer from where it came to */
                pi.ipi_ifindex = 0;
                memcpy(CMSG_DATA(cm), &pi, sizeof pi);
            }
        }
        iov.iov_len = (size_t)n;
        (void)sendmsg(fd, &mh, MSG_DONTWAIT);
    }
}

static int rg_write_pidfile(const char *path, pid_t pid)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return -1;
    fprintf(f, "%ld\n", (long)pid);
    return fclose(f) == 0 ? 0 : -1;
}

/* Moves the sockets to fds 3.. and closes every other inherited fd: a
 * daemon holding its caller's pipes or locks would hang whoever waits on them. */
static void rg_close_inherited(struct pollfd *pfds, int n)
{
    int fd;

    for (int i = 0; i < n; i++) {
        /* Sockets were allocated in increasing fd order, so 3 + i is never
         * a later socket. */
        if (pfds[i].fd != 3 + i) {
            if (dup2(pfds[i].fd, 3 + i) < 0)
                _exit(1);
            close(pfds[i].fd);
            pfds[i].fd = 3 + i;
        }
    }
    if (close_range((unsigned int)(3 + n), ~0U, 0) == 0)
        return;
    for (fd = 3 + n; fd < 1024; fd++)
        (void)close(fd);
}

/* Returns in the child only; the parent records the child and exits. */
static void rg_detach(const char *pidfile, struct pollfd *pfds, int n)
{
    pid_t pid = fork();
    int devnull;

    if (pid < 0) {
        perror("rg-lab-listen: fork");
        exit(1);
    }
    if (pid > 0) {
        if (pidfile != NULL && rg_write_pidfile(pidfile, pid) < 0) {
            perror("rg-lab-listen: pidfile");
            kill(pid, SIGTERM);
            exit(1);
        }
        exit(0);
    }
    (void)setsid();
    if (chdir("/") < 0)
        _exit(1);
    /* Holding the caller's stdout open would block anyone reading it. */
    devnull = open("/dev/null", O_RDWR);
    if (devnull < 0)
        _exit(1);
    (void)dup2(devnull, STDIN_FILENO);
    (void)dup2(devnull, STDOUT_FILENO);
    (void)dup2(devnull, STDERR_FILENO);
    if (devnull > STDERR_FILENO)
        close(devnull);
    rg_close_inherited(pfds, n);
}

static void rg_serve(struct pollfd *pfds, int n, int nudp)
{
    for (;;) {
        if (poll(pfds, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            exit(1);
        }
        for (int i = 0; i < n; i++) {
            int c;

            if ((pfds[i].revents & POLLIN) == 0)
                continue;
            if (i >= n - nudp) {
                rg_udp_echo(pfds[i].fd);
                continue;
            }
            /* Drain the backlog; the handshake is all the lab needs. */
            while ((c = accept4(pfds[i].fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
                close(c);
        }
    }
}

int main(int argc, char **argv)
{
    struct pollfd pfds[RG_LISTEN_MAX_SOCKS];
    const char *pidfile = NULL;
    int detach = 0;
    int nsock = 0;
    int udp_port = 0;
    int nudp = 0;
    int opt;

    while ((opt = getopt(argc, argv, "dp:u:h")) != -1) {
        switch (opt) {
        case 'd':
            detach = 1;
            break;
        case 'p':
            pidfile = optarg;
            break;
        case 'u':
            udp_port = rg_parse_port(optarg);
            if (udp_port < 0) {
                fprintf(stderr, "rg-lab-listen: bad UDP port '%s'\n", optarg);
                return 2;
            }
            break;
        default:
            rg_usage();
            return opt == 'h' ? 0 : 2;
        }
    }
    if (optind >= argc || argc - optind > RG_LISTEN_MAX_PORTS) {
        rg_usage();
        return 2;
    }

    for (int i = optind; i < argc; i++) {
        static const int families[2] = { AF_INET, AF_INET6 };
        int port = rg_parse_port(argv[i]);

        if (port < 0) {
            fprintf(stderr, "rg-lab-listen: bad port '%s'\n", argv[i]);
            return 2;
        }
        for (int f = 0; f < 2; f++) {
            int fd = rg_listen_on(families[f], port);

            if (fd < 0) {
                fprintf(stderr, "rg-lab-listen: port %d (%s): %s\n", port,
                        families[f] == AF_INET ? "IPv4" : "IPv6", strerror(errno));
                return 1;
            }
            pfds[nsock].fd = fd;
            pfds[nsock].events = POLLIN;
            nsock++;
        }
    }

    for (int f = 0; udp_port > 0 && f < 2; f++) {
        int family = f == 0 ? AF_INET : AF_INET6;
        int fd = rg_udp_on(family, udp_port);

        if (fd < 0) {
            fprintf(stderr, "rg-lab-listen: UDP port %d (%s): %s\n", udp_port,
                    family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
            return 1;
        }
        pfds[nsock].fd = fd;
        pfds[nsock].events = POLLIN;
        nsock++;
        nudp++;
    }

    (void)signal(SIGPIPE, SIG_IGN);
    if (detach) {
        rg_detach(pidfile, pfds, nsock);
    } else if (pidfile != NULL && rg_write_pidfile(pidfile, getpid()) < 0) {
        perror("rg-lab-listen: pidfile");
        return 1;
    }
    rg_serve(pfds, nsock, nudp);
    return 0;
}
