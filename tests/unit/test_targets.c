/* Target list tests: validation of single names, the file syntax with its
 * line numbers, the limits, reading files and stdin, and hostile input. */
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
#include "cli/targets.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define ALLOWED "(allowed: A-Z a-z 0-9 . : _ -)"
#define A10 "aaaaaaaaaa"
#define A40 A10 A10 A10 A10

static void assert_names(const rg_target_list *l, const char *const *want, size_t n)
{
    assert_int_equal(l->n, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(l->names[i], want[i]);
}

/* ---- host:port, [v6]:port, URLs; lenient files ---- */

static void test_targets_with_ports(void **state)
{
    (void)state;
    rg_target_list l = {0};
    char err[256] = "";
    const char *const in[] = {"[2001:db8::1]:80", "198.19.0.5:443", "web.example:8080",
                              "[2001:db8::2]", "2001:db8::3", "198.19.0.5", "198.19.0.5:443"};
    const char *const names[] = {"2001:db8::1", "198.19.0.5", "web.example", "2001:db8::2",
                                 "2001:db8::3", "198.19.0.5"};
    const uint16_t ports[] = {80, 443, 8080, 0, 0, 0};
    for (size_t i = 0; i < COUNT(in); i++)
        assert_true(rg_targets_add(&l, in[i], err, sizeof err));
    assert_names(&l, names, COUNT(names)); /* the repeated 198.19.0.5:443 dropped */
    for (size_t i = 0; i < COUNT(ports); i++)
        assert_int_equal(l.ports[i], ports[i]);
    rg_targets_free(&l);
    const struct {
        const char *in, *err;
    } bad[] = {
        {"http://example.com/", "'http://example.com/' looks like a URL: give the host alone "
                                "(and its port as host:port or -p)"},
        {"198.19.0.5:99999", "'198.19.0.5:99999' looks like host:port, but '99999' is not a "
                             "port (1-65535)"},
        {"host:http", "'host:http' looks like host:port, but 'http' is not a port (1-65535)"},
        {"[2001:db8::1", "'[2001:db8::1': '[' without ']'"},
        {"[192.0.2.1]:80", "'[192.0.2.1]:80': brackets are for IPv6 addresses"},
        {"[2001:db8::1]80", "'[2001:db8::1]80': after [address] give :port (1-65535)"},
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        if (rg_targets_add(&l, bad[i].in, err, sizeof err) || strcmp(err, bad[i].err) != 0)
            fail_msg("bad %zu: err '%s', want '%s'", i, err, bad[i].err);
    }
    rg_targets_free(&l);
}

/* Without --strict a file's bad entries are each described with their line,
 * skipped and counted; the good ones are kept. */
static void test_parse_lenient_skips_bad_lines(void **state)
{
    (void)state;
    rg_target_list l = {0};
    char err[256];
    const char text[] = "a.example\nhttps://b.example/x\n198.19.0.5:443\nfoo/bar\n"
                        "c.example\nd:0\n";
    assert_true(rg_targets_parse(&l, text, sizeof text - 1, "junk.txt", err, sizeof err));
    const char *const want[] = {"a.example", "198.19.0.5", "c.example"};
    assert_names(&l, want, COUNT(want));
    assert_int_equal(l.lines[1], 3);
    assert_int_equal(l.ports[1], 443);
    assert_int_equal(l.nskipped, 3);
    assert_int_equal(l.nskipped_shown, 3);
    assert_string_equal(l.skipped[0], "junk.txt:2: 'https://b.example/x' looks like a URL: give "
                                      "the host alone (and its port as host:port or -p)");
    assert_string_equal(l.skipped[1], "junk.txt:4: 'foo/bar' is not a host name or address: '/' "
                                      "cannot be in one " ALLOWED);
    assert_string_equal(l.skipped[2], "junk.txt:6: 'd:0' looks like host:port, but '0' is not a "
                                      "port (1-65535)");
    rg_targets_free(&l);
}

/* ---- rg_targets_add ---- */

static void test_add_accepts_names_and_literals(void **state)
{
    (void)state;
    rg_target_list l = {.strict = true};
    char err[256] = "";
    const char *const names[] = {
        "example.com", "192.0.2.1", "2001:db8::1", "::1", "host_name-1.example.",
        "A", "2001:DB8:0:0:0:0:0:1",
    };
    for (size_t i = 0; i < COUNT(names); i++)
        assert_true(rg_targets_add(&l, names[i], err, sizeof err));
    assert_names(&l, names, COUNT(names));
    assert_string_equal(err, "");
    rg_targets_free(&l);
    assert_int_equal(l.n, 0);
    assert_null(l.names);
}

static void test_add_skips_exact_duplicates(void **state)
{
    (void)state;
    rg_target_list l = {.strict = true};
    char err[256];
    const char *const in[] = {"b", "a", "b", "B", "a", "a.", "b"};
    const char *const want[] = {"b", "a", "B", "a."};
    for (size_t i = 0; i < COUNT(in); i++)
        assert_true(rg_targets_add(&l, in[i], err, sizeof err));
    assert_names(&l, want, COUNT(want));
    rg_targets_free(&l);
}

struct bad_name {
    const char *name;
    const char *err;
};

static void test_add_refuses_bad_names(void **state)
{
    (void)state;
    char long254[RG_TARGET_MAXLEN + 2];
    memset(long254, 'a', RG_TARGET_MAXLEN + 1);
    long254[RG_TARGET_MAXLEN + 1] = '\0';
    const struct bad_name bad[] = {
        {"", "empty target name"},
        {NULL, "empty target name"},
        {long254, "target '" A40 "...' is too long (254 bytes, at most 253)"},
        {"a b", "'a b' is not a host name or address: byte 0x20 cannot be in one " ALLOWED},
        {"\xff", "'\\xff' is not a host name or address: byte 0xff cannot be in one " ALLOWED},
        {"caf\xc3\xa9.example", "'caf\\xc3\\xa9.example' is not a host name or address: byte 0xc3 cannot be in one " ALLOWED},
        {"x\x1b[31m", "'x\\x1b[31m' is not a host name or address: byte 0x1b cannot be in one " ALLOWED},
        {"a\tb", "'a\\x09b' is not a host name or address: byte 0x09 cannot be in one " ALLOWED},
        {"a\nb", "'a\\x0ab' is not a host name or address: byte 0x0a cannot be in one " ALLOWED},
        {"fe80::1%eth0", "'fe80::1%eth0' is not a host name or address: '%' cannot be in one " ALLOWED},
        {"a\\b", "'a\\\\b' is not a host name or address: '\\' cannot be in one " ALLOWED},
        {A40 A10 "\xff", "'" A40 "...' is not a host name or address: byte 0xff cannot be in one " ALLOWED},
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        rg_target_list l = {.strict = true};
        char err[512] = "";
        if (rg_targets_add(&l, bad[i].name, err, sizeof err) ||
            strcmp(err, bad[i].err) != 0)
            fail_msg("bad name %zu: err '%s', want '%s'", i, err, bad[i].err);
        assert_int_equal(l.n, 0);
        rg_targets_free(&l);
    }
}

static void test_add_longest_name(void **state)
{
    (void)state;
    rg_target_list l = {.strict = true};
    char err[256];
    char name[RG_TARGET_MAXLEN + 1];
    memset(name, 'a', RG_TARGET_MAXLEN);
    name[RG_TARGET_MAXLEN] = '\0';
    assert_true(rg_targets_add(&l, name, err, sizeof err));
    assert_int_equal(strlen(l.names[0]), RG_TARGET_MAXLEN);
    rg_targets_free(&l);
}

static void test_add_injected_limit(void **state)
{
    (void)state;
    rg_target_list l = {.strict = true};
    l.limit = 3;
    char err[256];
    assert_true(rg_targets_add(&l, "a", err, sizeof err));
    assert_true(rg_targets_add(&l, "b", err, sizeof err));
    assert_true(rg_targets_add(&l, "c", err, sizeof err));
    assert_true(rg_targets_add(&l, "b", err, sizeof err)); /* duplicate: fine at the cap */
    assert_false(rg_targets_add(&l, "d", err, sizeof err));
    assert_string_equal(err, "too many targets (at most 3)");
    assert_int_equal(l.n, 3);
    rg_targets_free(&l);
}

/* The public cap itself, and a limit above it does not raise it. */
static void test_add_public_limit(void **state)
{
    (void)state;
    rg_target_list l = {.strict = true};
    l.limit = (size_t)RG_MAX_TARGETS * 2;
    char err[256], name[32];
    for (size_t i = 0; i < RG_MAX_TARGETS; i++) {
        snprintf(name, sizeof name, "h%zu.example", i);
        assert_true(rg_targets_add(&l, name, err, sizeof err));
    }
    assert_int_equal(l.n, RG_MAX_TARGETS);
    assert_true(rg_targets_add(&l, "h12345.example", err, sizeof err));
    assert_false(rg_targets_add(&l, "one-more.example", err, sizeof err));
    assert_string_equal(err, "too many targets (at most 65536)");
    assert_string_equal(l.names[RG_MAX_TARGETS - 1], "h65535.example");
    rg_targets_free(&l);
}

/* ---- rg_targets_parse ---- */

static bool parse_str(rg_target_list *l, const char *text, char *err, size_t len)
{
    return rg_targets_parse(l, text, strlen(text), "t.txt", err, len);
}

static void test_parse_syntax(void **state)
{
    (void)state;
    rg_target_list l = {.strict = true};
    char err[256] = "";
    const char *text =
        "# list of lab hosts\n"
        "\n"
        "192.0.2.1 192.0.2.2\t198.51.100.7   # two more on one line\n"
        "   \t  \n"
        "a.example#comment glued to a name\n"
        "#192.0.2.99 commented out\n"
        "2001:db8::1\r\n"
        "b.example\r\n"
        "\r\n"
        "192.0.2.1\n"           /* duplicate */
        "last.example";          /* no final newline */
    assert_true(parse_str(&l, text, err, sizeof err));
    const char *const want[] = {"192.0.2.1", "192.0.2.2", "198.51.100.7", "a.example",
                                "2001:db8::1", "b.example", "last.example"};
    assert_names(&l, want, COUNT(want));
    assert_string_equal(err, "");
    rg_targets_free(&l);
}

static void test_parse_empty_inputs(void **state)
{
    (void)state;
    rg_target_list l = {.strict = true};
    char err[64];
    const char *const empties[] = {"", "\n\n", "# only a comment", "#\n#\n", " \t\r\n",
                                   "\xef\xbb\xbf", "\xef\xbb\xbf# bom then comment\n"};
    for (size_t i = 0; i < COUNT(empties); i++) {
        assert_true(parse_str(&l, empties[i], err, sizeof err));
        assert_int_equal(l.n, 0);
    }
    assert_true(rg_targets_parse(&l, NULL, 10, "t", err, sizeof err));
    assert_int_equal(l.n, 0);
    rg_targets_free(&l);
}

static void test_parse_bom_only_at_start(void **state)
{
    (void)state;
    rg_target_list l = {.strict = true};
    char err[256];
    assert_true(parse_str(&l, "\xef\xbb\xbf" "a.example\n", err, sizeof err));
    assert_string_equal(l.names[0], "a.example");
    assert_false(parse_str(&l, "b\n\xef\xbb\xbf" "c\n", err, sizeof err));
    assert_string_equal(err, "t.txt:2: '\\xef\\xbb\\xbfc' is not a host name or address: "
                             "byte 0xef cannot be in one " ALLOWED);
    rg_targets_free(&l);
}

struct bad_file {
    const char *text;
    size_t len; /* 0 = strlen */
    const char *err;
};

static void test_parse_errors_name_the_line(void **state)
{
    (void)state;
    static char long_line[400];
    memset(long_line, 0, sizeof long_line);
    strcpy(long_line, "ok.example\n\n");
    memset(long_line + strlen(long_line), 'b', 300);
    const struct bad_file bad[] = {
        {"a\nb\nc d\xff\n", 0,
         "t.txt:3: 'd\\xff' is not a host name or address: byte 0xff cannot be in one " ALLOWED},
        {"a\r\nb\r\n\xff\r\n", 0,
         "t.txt:3: '\\xff' is not a host name or address: byte 0xff cannot be in one " ALLOWED},
        {"# c\n\n\n\n  x,y\n", 0,
         "t.txt:5: 'x,y' is not a host name or address: ',' cannot be in one " ALLOWED},
        {"a\0b\n", 4,
         "t.txt:1: 'a\\x00b' is not a host name or address: byte 0x00 cannot be in one " ALLOWED},
        {"a\vb", 0, "t.txt:1: 'a\\x0bb' is not a host name or address: byte 0x0b cannot be in one " ALLOWED},
        {long_line, 0,
         "t.txt:3: target 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...' is too long "
         "(300 bytes, at most 253)"},
    };
    for (size_t i = 0; i < COUNT(bad); i++) {
        rg_target_list l = {.strict = true};
        char err[512] = "";
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
        if (rg_targets_parse(&l, bad[i].text, len, "t.txt", err, sizeof err) ||
            strcmp(err, bad[i].err) != 0)
            fail_msg("bad file %zu: err '%s', want '%s'", i, err, bad[i].err);
        assert_null(strchr(err, '\n'));
        rg_targets_free(&l);
    }
}

static void test_parse_keeps_names_before_error(void **state)
{
    (void)state;
    rg_target_list l = {.strict = true};
    char err[256];
    assert_false(parse_str(&l, "a b\nc\nd e!\nf\n", err, sizeof err));
    assert_string_equal(err, "t.txt:3: 'e!' is not a host name or address: '!' cannot be in one "
                             ALLOWED);
    const char *const want[] = {"a", "b", "c", "d"};
    assert_names(&l, want, COUNT(want));
    rg_targets_free(&l);
}

static void test_parse_limit_reports_line(void **state)
{
    (void)state;
    rg_target_list l = {.strict = true};
    l.limit = 2;
    char err[256];
    assert_false(parse_str(&l, "a\na\nb\n# x\nc\n", err, sizeof err));
    assert_string_equal(err, "t.txt:5: too many targets (at most 2)");
    rg_targets_free(&l);
}

/* A file one name over the public cap, parsed in full. */
static void test_parse_public_limit(void **state)
{
    (void)state;
    size_t cap = (size_t)(RG_MAX_TARGETS + 1) * 16;
    char *buf = malloc(cap);
    assert_non_null(buf);
    size_t len = 0;
    for (size_t i = 0; i <= RG_MAX_TARGETS; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%zx.example\n", i);
    rg_target_list l = {.strict = true};
    char err[256];
    assert_false(rg_targets_parse(&l, buf, len, "big", err, sizeof err));
    assert_string_equal(err, "big:65537: too many targets (at most 65536)");
    assert_int_equal(l.n, RG_MAX_TARGETS);
    rg_targets_free(&l);
    free(buf);
}

static void test_parse_origin_is_escaped(void **state)
{
    (void)state;
    rg_target_list l = {.strict = true};
    char err[256];
    assert_false(rg_targets_parse(&l, "!", 1, "evil\nname", err, sizeof err));
    assert_string_equal(err, "evil\\x0aname:1: '!' is not a host name or address: '!' "
                             "cannot be in one " ALLOWED);
    assert_false(rg_targets_parse(&l, "!", 1, NULL, err, sizeof err));
    assert_string_equal(err, "<input>:1: '!' is not a host name or address: '!' "
                             "cannot be in one " ALLOWED);
    rg_targets_free(&l);
}

/* Bounded random input: whatever happens, the list must only ever hold
 * valid, distinct names within the limit, and errors stay one line. */
static void test_parse_random_input(void **state)
{
    (void)state;
    static const char alphabet[] = "abab.:-_09 \t\r\n\n#\xff\x00\x01,";
    uint32_t seed = 12345;
    size_t accepted = 0, refused = 0;
    for (int round = 0; round < 3000; round++) {
        char buf[600];
        seed = seed * 1103515245u + 12345u;
        /* Mostly short buffers, so that many are accepted and the limit
         * and duplicate paths run, with some long ones for long tokens. */
        size_t len = (seed >> 16) % (round % 4 == 0 ? sizeof buf : 24);
        for (size_t i = 0; i < len; i++) {
            seed = seed * 1103515245u + 12345u;
            buf[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        rg_target_list l = {.strict = true};
        l.limit = 1 + (size_t)round % 40;
        char err[512];
        if (rg_targets_parse(&l, buf, len, "fuzz", err, sizeof err))
            accepted++;
        else {
            refused++;
            assert_null(strchr(err, '\n'));
            assert_memory_equal(err, "fuzz:", 5);
        }
        assert_true(l.n <= l.limit);
        for (size_t i = 0; i < l.n; i++) {
            size_t nl = strlen(l.names[i]);
            assert_true(nl >= 1 && nl <= RG_TARGET_MAXLEN);
            assert_int_equal(strspn(l.names[i], "ab.:-_09"), nl);
            for (size_t j = 0; j < i; j++)
                assert_string_not_equal(l.names[i], l.names[j]);
        }
        rg_targets_free(&l);
    }
    /* Both paths must have been exercised for this test to mean anything. */
    print_message("# random input: %zu accepted, %zu refused\n", accepted, refused);
    assert_true(accepted > 300);
    assert_true(refused > 300);
}

/* ---- rg_targets_read_file ---- */

static void temp_file(char *path, size_t len, const char *content, size_t clen)
{
    snprintf(path, len, "/tmp/rg-test-targets-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, clen), (ssize_t)clen);
    assert_int_equal(close(fd), 0);
}

static void test_read_file(void **state)
{
    (void)state;
    char path[64], err[512];
    const char text[] = "# hosts\r\n192.0.2.1\r\n2001:db8::5 # v6\r\n192.0.2.1\r\n";
    temp_file(path, sizeof path, text, sizeof text - 1);
    rg_target_list l = {.strict = true};
    assert_true(rg_targets_read_file(&l, path, err, sizeof err));
    const char *const want[] = {"192.0.2.1", "2001:db8::5"};
    assert_names(&l, want, COUNT(want));
    rg_targets_free(&l);
    unlink(path);
}

static void test_read_file_errors(void **state)
{
    (void)state;
    char path[64], err[512], want[600];
    rg_target_list l = {.strict = true};

    assert_false(rg_targets_read_file(&l, "/nonexistent/rg/targets", err, sizeof err));
    assert_string_equal(err, "/nonexistent/rg/targets: No such file or directory");
    assert_false(rg_targets_read_file(&l, "/", err, sizeof err));
    assert_string_equal(err, "/: Is a directory");
    assert_false(rg_targets_read_file(&l, "", err, sizeof err));
    assert_string_equal(err, ": No such file or directory");
    assert_false(rg_targets_read_file(&l, NULL, err, sizeof err));
    assert_string_equal(err, "no target file given");

    const char text[] = "ok.example\nbad one!\n";
    temp_file(path, sizeof path, text, sizeof text - 1);
    assert_false(rg_targets_read_file(&l, path, err, sizeof err));
    snprintf(want, sizeof want,
             "%s:2: 'one!' is not a host name or address: '!' cannot be in one " ALLOWED, path);
    assert_string_equal(err, want);
    rg_targets_free(&l);
    unlink(path);
}

/* Exactly at the size limit is read; one byte over is refused. */
static void test_read_file_size_limit(void **state)
{
    (void)state;
    char path[64], err[512], want[600];
    size_t size = RG_TARGETS_MAX_FILE;
    char *blank = malloc(size + 1);
    assert_non_null(blank);
    memset(blank, '\n', size + 1);
    memcpy(blank, "a.example", 9);

    temp_file(path, sizeof path, blank, size);
    rg_target_list l = {.strict = true};
    assert_true(rg_targets_read_file(&l, path, err, sizeof err));
    assert_int_equal(l.n, 1);
    rg_targets_free(&l);
    unlink(path);

    temp_file(path, sizeof path, blank, size + 1);
    assert_false(rg_targets_read_file(&l, path, err, sizeof err));
    snprintf(want, sizeof want, "%s: larger than 16 MiB", path);
    assert_string_equal(err, want);
    assert_int_equal(l.n, 0);
    unlink(path);
    free(blank);
}

static void test_read_stdin(void **state)
{
    (void)state;
    char path[64], err[512];
    const char text[] = "s1.example s2.example\n# end\n";
    temp_file(path, sizeof path, text, sizeof text - 1);
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    int saved = dup(STDIN_FILENO);
    assert_true(saved >= 0);
    assert_true(dup2(fileno(in), STDIN_FILENO) >= 0);
    clearerr(stdin);

    rg_target_list l = {.strict = true};
    bool ok = rg_targets_read_file(&l, "-", err, sizeof err);

    assert_true(dup2(saved, STDIN_FILENO) >= 0);
    close(saved);
    fclose(in);
    clearerr(stdin);
    assert_true(ok);
    const char *const want[] = {"s1.example", "s2.example"};
    assert_names(&l, want, COUNT(want));
    rg_targets_free(&l);
    unlink(path);
}

static void test_read_stdin_error_origin(void **state)
{
    (void)state;
    char path[64], err[512];
    temp_file(path, sizeof path, "x\n?\n", 4);
    FILE *in = fopen(path, "rb");
    assert_non_null(in);
    int saved = dup(STDIN_FILENO);
    assert_true(dup2(fileno(in), STDIN_FILENO) >= 0);
    clearerr(stdin);
    rg_target_list l = {.strict = true};
    bool ok = rg_targets_read_file(&l, "-", err, sizeof err);
    dup2(saved, STDIN_FILENO);
    close(saved);
    fclose(in);
    clearerr(stdin);
    assert_false(ok);
    assert_string_equal(err, "stdin:2: '?' is not a host name or address: '?' cannot be in one "
                             ALLOWED);
    rg_targets_free(&l);
    unlink(path);
}

/* ---- rg_targets_escape ---- */

static void test_escape(void **state)
{
    (void)state;
    char out[64];
    rg_targets_escape(out, sizeof out, "ab", 2, 40);
    assert_string_equal(out, "ab");
    rg_targets_escape(out, sizeof out, "a\\\x7f\x80", 4, 40);
    assert_string_equal(out, "a\\\\\\x7f\\x80");
    rg_targets_escape(out, sizeof out, "abcdef", 6, 3);
    assert_string_equal(out, "abc...");
    /* Never half an escape: "\xff" needs 4 bytes + NUL. */
    rg_targets_escape(out, 8, "\xff\xff", 2, 40);
    assert_string_equal(out, "\\xff");
    rg_targets_escape(out, 4, "abcdef", 6, 40);
    assert_string_equal(out, "abc");
    rg_targets_escape(out, 1, "abc", 3, 40);
    assert_string_equal(out, "");
    rg_targets_escape(NULL, 0, "abc", 3, 40); /* no crash */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_targets_with_ports),
        cmocka_unit_test(test_parse_lenient_skips_bad_lines),
        cmocka_unit_test(test_add_accepts_names_and_literals),
        cmocka_unit_test(test_add_skips_exact_duplicates),
        cmocka_unit_test(test_add_refuses_bad_names),
        cmocka_unit_test(test_add_longest_name),
        cmocka_unit_test(test_add_injected_limit),
        cmocka_unit_test(test_add_public_limit),
        cmocka_unit_test(test_parse_syntax),
        cmocka_unit_test(test_parse_empty_inputs),
        cmocka_unit_test(test_parse_bom_only_at_start),
        cmocka_unit_test(test_parse_errors_name_the_line),
        cmocka_unit_test(test_parse_keeps_names_before_error),
        cmocka_unit_test(test_parse_limit_reports_line),
        cmocka_unit_test(test_parse_public_limit),
        cmocka_unit_test(test_parse_origin_is_escaped),
        cmocka_unit_test(test_parse_random_input),
        cmocka_unit_test(test_read_file),
        cmocka_unit_test(test_read_file_errors),
        cmocka_unit_test(test_read_file_size_limit),
        cmocka_unit_test(test_read_stdin),
        cmocka_unit_test(test_read_stdin_error_origin),
        cmocka_unit_test(test_escape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
