#include "atomic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool rg_write_atomic(const char *path, rg_writer_fn fn, const void *ctx,
                     char *err, size_t errlen)
{
    size_t n = strlen(path) + sizeof ".XXXXXX";
    char *tmp = malloc(n);
    if (!tmp) {
        snprintf(err, errlen, "%s: out of memory", path);
        return false;
    }
    snprintf(tmp, n, "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(tmp);
        return false;
    }
    /* mkstemp makes 0600; a report is as readable as any file the user makes. */
    mode_t mask = umask(0);
    umask(mask);
    fchmod(fd, 0666 & ~mask);
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
