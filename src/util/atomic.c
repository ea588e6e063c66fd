#include "atomic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rg_atomic_temp(const char *path, char **tmp, const char *lead, char *err, size_t errlen)
{
    size_t n = strlen(path) + sizeof ".XXXXXX";
    *tmp = malloc(n);
    if (!*tmp) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    snprintf(*tmp, n, "%s.XXXXXX", path);
    int fd = mkstemp(*tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s%s", path, lead, strerror(errno));
        free(*tmp);
        *tmp = NULL;
    }
    return fd;
}

void rg_atomic_usual_mode(int fd)
{
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
}

bool rg_write_atomic(const char *path, rg_writer_fn fn, const void *ctx,
                     char *err, size_t errlen)
{
    char *tmp;
    int fd = rg_atomic_temp(path, &tmp, "", err, errlen);
    if (fd < 0)
        return false;
    rg_atomic_usual_mode(fd);
    FILE *f = fdopen(fd, "w");
    bool ok = f && fn(f, ctx);
    int e = errno;
    if (f) {
        ok = fflush(f) == 0 && ok;
        e = ok ? e : errno;
        ok = fsync(fileno(f)) == 0 && ok;
        ok = fclose(f) == 0 && ok;
    } else {
        close(fd);
    }
    if (ok && rename(tmp, path) != 0) {
        e = errno;
        ok = false;
    }
    if (!ok) {
        snprintf(err, errlen, "%s: cannot write: %s", path, e ? strerror(e) : "write error");
        unlink(tmp);
    }
    free(tmp);
    return ok;
}

bool rg_check_writable(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(EISDIR));
        return false;
    }
    char *tmp;
    int fd = rg_atomic_temp(path, &tmp, "cannot write: ", err, errlen);
    if (fd < 0)
        return false;
    close(fd);
    unlink(tmp);
    free(tmp);
    return true;
}
