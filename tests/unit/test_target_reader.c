/* The lazy target reader: entries one at a time from input delivered in
 * chunks of any size (split mid-entry, mid-comment, mid-BOM), comments,
 * bad entries with their lines, the end without a newline, empty input,
 * the limit, a read that must wait, and a read error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/config.h"
#include "cli/target_reader.h"

/* The input, handed out `chunk` bytes per read; `wait_every` > 0: every
 * that many reads says EAGAIN first; fail_at: an error once that many
 * bytes were handed out (0: never). */
typedef struct feed {
    const char *data;
    size_t len, pos, chunk;
    unsigned reads, wait_every;
    size_t fail_at;
} feed;

static ssize_t feed_read(void *ctx, char *buf, size_t cap)
{
    feed *f = ctx;
    f->reads++;
    if (f->wait_every && f->reads % f->wait_every == 0) {
        errno = EAGAIN;
        return -1;
    }
    if (f->fail_at && f->pos >= f->fail_at) {
        errno = EIO;
        return -1;
    }
    size_t n = f->len - f->pos;
    if (n > f->chunk)
        n = f->chunk;
    if (n > cap)
        n = cap;
    memcpy(buf, f->data + f->pos, n);
    f->pos += n;
    return (ssize_t)n;
}

typedef struct got {
    char text[64][520]; /* "host|port|line" or "BAD message" (room for all of err) */
    size_t n;
    enum rg_read_status last;
    unsigned waits;
} got;

/* Reads everything, retrying after a wait; at most 200 calls. */
static void read_all(rg_target_reader *r, got *g)
{
    memset(g, 0, sizeof *g);
    for (int calls = 0; calls < 200; calls++) {
        rg_target_entry e;
        char err[512] = "";
        enum rg_read_status st = rg_reader_next(r, &e, err, sizeof err);
        g->last = st;
        if (st == RG_READ_WAIT) {
            g->waits++;
            continue;
        }
        if (st == RG_READ_END)
            return;
        assert_true(g->n < 64);
        if (st == RG_READ_ENTRY)
            snprintf(g->text[g->n++], sizeof g->text[0], "%s|%u|%zu", e.host, e.port, e.line);
        else
            snprintf(g->text[g->n++], sizeof g->text[0], "%s %s",
                     st == RG_READ_BAD ? "BAD" : "FAIL", err);
        if (st == RG_READ_FAIL)
            return;
    }
    fail_msg("the reader did not end");
}

static void read_text(const char *text, size_t len, size_t chunk, size_t limit, got *g)
{
    rg_target_reader *r = malloc(sizeof *r);
    assert_non_null(r);
    feed f = {.data = text, .len = len, .chunk = chunk};
    rg_reader_init(r, feed_read, &f, "t.txt", limit);
    read_all(r, g);
    free(r);
}

static const char MIXED[] =
    "\xef\xbb\xbf" "198.18.1.1 # first\n"
    "\n"
    "  web.example:8080\t[2001:db8::1]:443 # two on a line\n"
    "# a whole comment line with 198.18.9.9\n"
    "http://bad.example/ 198.18.1.2#comment right after\n"
    "bad$name\n"
    "198.18.1.3";

static void check_mixed(const got *g)
{
    const char *const want[] = {
        "198.18.1.1|0|1",
        "web.example|8080|3",
        "2001:db8::1|443|3",
        "BAD t.txt:5: 'http://bad.example/' looks like a URL: give the host alone "
        "(and its port as host:port or -p)",
        "198.18.1.2|0|5",
        "BAD t.txt:6: 'bad$name' is not a host name or address: '$' cannot be in one "
        "(allowed: A-Z a-z 0-9 . : _ -)",
        "198.18.1.3|0|7",
    };
    assert_int_equal(g->n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < g->n; i++)
        assert_string_equal(g->text[i], want[i]);
    assert_int_equal(g->last, RG_READ_END);
}

/* Every chunk size from one byte to the whole: entries, comments and the
 * BOM split at every place give the same entries and lines. */
static void test_chunks_split_anywhere(void **state)
{
    (void)state;
    got g;
    for (size_t chunk = 1; chunk <= sizeof MIXED; chunk++) {
        read_text(MIXED, sizeof MIXED - 1, chunk, 0, &g);
        check_mixed(&g);
    }
}

/* A read that has nothing yet (a pipe not written) resumes mid-entry. */
static void test_wait_resumes(void **state)
{
    (void)state;
    rg_target_reader *r = malloc(sizeof *r);
    assert_non_null(r);
    feed f = {.data = MIXED, .len = sizeof MIXED - 1, .chunk = 3, .wait_every = 2};
    rg_reader_init(r, feed_read, &f, "t.txt", 0);
    got g;
    read_all(r, &g);
    assert_true(g.waits > 10);
    check_mixed(&g);
    free(r);
}

static void test_empty_and_blank(void **state)
{
    (void)state;
    got g;
    read_text("", 0, 16, 0, &g);
    assert_int_equal(g.n, 0);
    assert_int_equal(g.last, RG_READ_END);
    read_text("\n \t\r\n# only a comment", 21, 4, 0, &g);
    assert_int_equal(g.n, 0);
    assert_int_equal(g.last, RG_READ_END);
    read_text("\xef\xbb\xbf", 3, 1, 0, &g);
    assert_int_equal(g.n, 0);
    /* A BOM later than the first byte is not one: a bad entry. */
    read_text(" \xef\xbb\xbfx", 5, 2, 0, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.text[0], "BAD t.txt:1: '\\xef\\xbb\\xbfx' is not a host name or "
                                   "address: byte 0xef cannot be in one (allowed: A-Z a-z 0-9 . : _ -)");
}

static void test_end_without_newline(void **state)
{
    (void)state;
    got g;
    read_text("198.18.1.1\n198.18.1.2", 21, 5, 0, &g);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.text[1], "198.18.1.2|0|2");
    read_text("a.example#x", 11, 100, 0, &g);
    assert_int_equal(g.n, 1);
    assert_string_equal(g.text[0], "a.example|0|1");
}

/* More than the limit: the entries before it, then one line naming where. */
static void test_limit(void **state)
{
    (void)state;
    got g;
    const char text[] = "198.18.1.1 198.18.1.2\nbad! 198.18.1.3\n198.18.1.4\n";
    read_text(text, sizeof text - 1, 7, 3, &g);
    assert_int_equal(g.n, 5);
    assert_string_equal(g.text[2], "BAD t.txt:2: 'bad!' is not a host name or address: '!' "
                                   "cannot be in one (allowed: A-Z a-z 0-9 . : _ -)");
    assert_string_equal(g.text[3], "198.18.1.3|0|2");
    assert_string_equal(g.text[4], "FAIL t.txt:3: too many targets (at most 3)");
    assert_int_equal(g.last, RG_READ_FAIL);
    /* Exactly at the limit is fine. */
    read_text(text, sizeof text - 12, 7, 3, &g);
    assert_int_equal(g.last, RG_READ_END);
    assert_int_equal(g.n, 4);
}

/* An entry far longer than a name: one bad entry, its length told, the
 * next entry read normally. */
static void test_overlong_entry(void **state)
{
    (void)state;
    size_t n = 5000;
    char *text = malloc(n + 32);
    assert_non_null(text);
    memset(text, 'a', n);
    strcpy(text + n, " 198.18.1.9\n");
    got g;
    read_text(text, strlen(text), 1000, 0, &g);
    assert_int_equal(g.n, 2);
    assert_string_equal(g.text[0], "BAD t.txt:1: target '"
                                   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is too long "
                                   "(5000 bytes, at most 253)");
    assert_string_equal(g.text[1], "198.18.1.9|0|1");
    free(text);
}

static void test_read_error(void **state)
{
    (void)state;
    rg_target_reader *r = malloc(sizeof *r);
    assert_non_null(r);
    feed f = {.data = MIXED, .len = sizeof MIXED - 1, .chunk = 8, .fail_at = 16};
    rg_reader_init(r, feed_read, &f, "t.txt", 0);
    got g;
    read_all(r, &g);
    assert_int_equal(g.last, RG_READ_FAIL);
    assert_string_equal(g.text[g.n - 1], "FAIL t.txt: Input/output error");
    /* Nothing more after a failure. */
    rg_target_entry e;
    assert_int_equal(rg_reader_next(r, &e, NULL, 0), RG_READ_END);
    free(r);
}

/* A real file, read a chunk at a time through rg_reader_open. */
static void test_open_file(void **state)
{
    (void)state;
    char path[] = "/tmp/rg-reader-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, MIXED, sizeof MIXED - 1), (ssize_t)(sizeof MIXED - 1));
    close(fd);
    assert_true(rg_reader_rereadable(path));
    assert_false(rg_reader_rereadable("-"));
    rg_target_reader *r = malloc(sizeof *r);
    assert_non_null(r);
    char err[256];
    assert_true(rg_reader_open(r, path, 0, err, sizeof err));
    got g;
    read_all(r, &g);
    rg_reader_close(r);
    unlink(path);
    assert_int_equal(g.n, 7);
    assert_string_equal(g.text[6], "198.18.1.3|0|7");
    assert_false(rg_reader_open(r, "/nonexistent/targets", 0, err, sizeof err));
    assert_string_equal(err, "/nonexistent/targets: No such file or directory");
    assert_false(rg_reader_open(r, "/tmp", 0, err, sizeof err));
    assert_string_equal(err, "/tmp: Is a directory");
    assert_false(rg_reader_rereadable("/tmp"));
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunks_split_anywhere),
        cmocka_unit_test(test_wait_resumes),
        cmocka_unit_test(test_empty_and_blank),
        cmocka_unit_test(test_end_without_newline),
        cmocka_unit_test(test_limit),
        cmocka_unit_test(test_overlong_entry),
        cmocka_unit_test(test_read_error),
        cmocka_unit_test(test_open_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
