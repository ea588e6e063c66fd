/* rg-lab-listen: the "open port" of the routegraph lab target hosts.
 *
 * Listens on 0.0.0.0 and [::] for every PORT given, accepts each connection
 * and closes it at once. Because the target hosts route whole prefixes to lo
 * ("ip route add local ..."), the wildcard sockets answer for every address
 * in those prefixes.
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
#define RG_LISTEN_MAX_SOCKS (2 * RG_LISTEN_MAX_PORTS)

static void rg_usage(void)
{
    fprintf(stderr, "usage: rg-lab-listen [-d] [-p PIDFILE] PORT...\n"
                    "  -d          detach once listening\n"
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

static void rg_serve(struct pollfd *pfds, int n)
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
    int opt;

    while ((opt = getopt(argc, argv, "dp:h")) != -1) {
        switch (opt) {
        case 'd':
            detach = 1;
            break;
        case 'p':
            pidfile = optarg;
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

    (void)signal(SIGPIPE, SIG_IGN);
    if (detach) {
        rg_detach(pidfile, pfds, nsock);
    } else if (pidfile != NULL && rg_write_pidfile(pidfile, getpid()) < 0) {
        perror("rg-lab-listen: pidfile");
        return 1;
    }
    rg_serve(pfds, nsock);
    return 0;
}
