#include "atomic_stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic.h"

static void release(rg_stream_file *s)
{
    free(s->path);
    free(s->tmp);
    memset(s, 0, sizeof *s);
}

bool rg_stream_begin(rg_stream_file *s, const char *path, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->path = strdup(path);
    if (!s->path) {
        snprintf(err, errlen, "%s: out of memory", path);
        return false;
    }
    int fd = rg_atomic_temp(path, &s->tmp, "cannot write: ", err, errlen);
    if (fd < 0) {
        release(s);
        return false;
    }
    rg_atomic_usual_mode(fd);
    s->f = fdopen(fd, "w");
    if (!s->f) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        close(fd);
        unlink(s->tmp);
        release(s);
        return false;
    }
    return true;
}

bool rg_stream_commit(rg_stream_file *s, char *err, size_t errlen)
{
    if (!s->f) {
        snprintf(err, errlen, "%s: not open", s->path ? s->path : "output");
        release(s);
        return false;
    }
    bool ok = fflush(s->f) == 0 && !ferror(s->f);
    int e = ok ? 0 : errno;
    if (ok && fsync(fileno(s->f)) != 0) {
        e = errno;
        ok = false;
    }
    if (fclose(s->f) != 0 && ok) {
        e = errno;
        ok = false;
    }
    s->f = NULL;
    if (ok && rename(s->tmp, s->path) != 0) {
        e = errno;
        ok = false;
    }
    if (!ok) {
        snprintf(err, errlen, "%s: cannot write: %s", s->path, e ? strerror(e) : "write error");
        unlink(s->tmp);
    }
    release(s);
    return ok;
}

void rg_stream_abort(rg_stream_file *s)
{
    if (s->f) {
        fclose(s->f);
        unlink(s->tmp);
    }
    release(s);
}
