/* util/atomic and util/atomic_stream: a file appears whole under its name,
 * with the mode any file the user makes gets, and nothing is left beside
 * it; a failure names the path and why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/atomic.h"
#include "util/atomic_stream.h"

static char dir[] = "/tmp/rg-test-atomic-XXXXXX";

static int setup(void **state)
{
    (void)state;
    umask(022);
    return mkdtemp(dir) ? 0 : -1;
}

/* The files in dir (glob: the temporary names have no leading dot). */
static size_t entries(bool remove)
{
    char pattern[sizeof dir + 2];
    snprintf(pattern, sizeof pattern, "%s/*", dir);
    glob_t g;
    size_t n = glob(pattern, 0, NULL, &g) == 0 ? g.gl_pathc : 0;
    for (size_t i = 0; remove && i < n; i++)
        unlink(g.gl_pathv[i]);
    globfree(&g);
    return n;
}

static int teardown(void **state)
{
    (void)state;
    entries(true);
    return rmdir(dir);
}

static bool write_hello(FILE *out, const void *ctx)
{
    (void)ctx;
    return fputs("hello\n", out) >= 0;
}

static void assert_file(const char *path, const char *text)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644); /* 0666 under umask 022, not 0600 */
    char buf[64] = "";
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(buf, text);
}

static void test_write_atomic(void **state)
{
    (void)state;
    char path[128], err[256] = "", want[256];
    snprintf(path, sizeof path, "%s/report.txt", dir);
    assert_true(rg_write_atomic(path, write_hello, NULL, err, sizeof err));
    assert_file(path, "hello\n");
    assert_int_equal(entries(false), 1); /* no temporary file left */
    snprintf(path, sizeof path, "%s/missing/report.txt", dir);
    assert_false(rg_write_atomic(path, write_hello, NULL, err, sizeof err));
    snprintf(want, sizeof want, "%s: No such file or directory", path);
    assert_string_equal(err, want);
    assert_int_equal(entries(false), 1);
}

static void test_stream(void **state)
{
    (void)state;
    char path[128], err[256] = "", want[256];
    snprintf(path, sizeof path, "%s/run.jsonl", dir);
    rg_stream_file s;
    assert_true(rg_stream_begin(&s, path, err, sizeof err));
    assert_true(fputs("{}\n", s.f) >= 0);
    assert_int_equal(access(path, F_OK), -1); /* not there until committed */
    assert_true(rg_stream_commit(&s, err, sizeof err));
    assert_file(path, "{}\n");
    assert_true(rg_stream_begin(&s, path, err, sizeof err));
    rg_stream_abort(&s);
    assert_file(path, "{}\n"); /* an aborted stream leaves the old file alone */
    snprintf(path, sizeof path, "%s/missing/run.jsonl", dir);
    assert_false(rg_stream_begin(&s, path, err, sizeof err));
    snprintf(want, sizeof want, "%s: cannot write: No such file or directory", path);
    assert_string_equal(err, want);
}

static void test_check_writable(void **state)
{
    (void)state;
    char path[128], err[256] = "", want[256];
    size_t before = entries(false);
    snprintf(path, sizeof path, "%s/new.json", dir);
    assert_true(rg_check_writable(path, err, sizeof err));
    assert_int_equal(entries(false), before); /* the probe file is gone */
    snprintf(path, sizeof path, "%s/missing/new.json", dir);
    assert_false(rg_check_writable(path, err, sizeof err));
    snprintf(want, sizeof want, "%s: cannot write: No such file or directory", path);
    assert_string_equal(err, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_atomic),
        cmocka_unit_test(test_stream),
        cmocka_unit_test(test_check_writable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
