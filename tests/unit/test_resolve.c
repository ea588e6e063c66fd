/* Resolver tests: the pure parts of rg_resolve (choosing and counting the
 * addresses getaddrinfo gave, the reasons it gives, the warning about the
 * addresses not traced), and literals, which never touch DNS. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "cli/config.h"
#include "cli/resolve.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define TAIL_ONE " (give addresses to trace others)"

/* A getaddrinfo-style list built by hand. */
typedef struct fake_list {
    struct addrinfo ai[8];
    struct sockaddr_in v4[8];
    struct sockaddr_in6 v6[8];
    struct sockaddr_un un;
    size_t n;
} fake_list;

static struct addrinfo *link_entry(fake_list *f, int family, struct sockaddr *sa,
                                   socklen_t len)
{
    struct addrinfo *ai = &f->ai[f->n];
    memset(ai, 0, sizeof *ai);
    ai->ai_family = family;
    ai->ai_socktype = SOCK_STREAM;
    ai->ai_addr = sa;
    ai->ai_addrlen = len;
    if (f->n > 0)
        f->ai[f->n - 1].ai_next = ai;
    f->n++;
    return ai;
}

static void add4(fake_list *f, const char *text)
{
    struct sockaddr_in *sa = &f->v4[f->n];
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    assert_int_equal(inet_pton(AF_INET, text, &sa->sin_addr), 1);
    link_entry(f, AF_INET, (struct sockaddr *)sa, sizeof *sa);
}

static void add6(fake_list *f, const char *text)
{
    struct sockaddr_in6 *sa = &f->v6[f->n];
    memset(sa, 0, sizeof *sa);
    sa->sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, text, &sa->sin6_addr), 1);
    link_entry(f, AF_INET6, (struct sockaddr *)sa, sizeof *sa);
}

static void assert_addr(const rg_addr *a, const char *want)
{
    char buf[RG_ADDR_STRLEN];
    assert_string_equal(rg_addr_format(a, buf, sizeof buf), want);
}

/* IPv6 first as RFC 6724 often sorts it, a duplicate (per socket type or
 * from /etc/hosts), an entry of another family and a truncated one. */
static void mixed_list(fake_list *f)
{
    memset(f, 0, sizeof *f);
    add6(f, "2001:db8:310::118");
    add4(f, "198.18.2.10");
    add6(f, "2001:db8:310::118");
    add4(f, "198.18.2.11");
    f->un.sun_family = AF_UNIX;
    link_entry(f, AF_UNIX, (struct sockaddr *)&f->un, sizeof f->un);
    add6(f, "2001:db8:310::119");
    add4(f, "198.18.2.10");
    f->v4[f->n] = (struct sockaddr_in){.sin_family = AF_INET};
    link_entry(f, AF_INET, (struct sockaddr *)&f->v4[f->n], 4); /* too short */
}

/* ---- rg_resolve_pick ---- */

static void test_pick_counts_distinct_addresses_of_allowed_families(void **state)
{
    (void)state;
    fake_list f;
    mixed_list(&f);
    static const struct {
        enum rg_family_pref want;
        const char *first;
        unsigned v4, v6;
    } cases[] = {
        {RG_FAMILY_ANY, "2001:db8:310::118", 2, 2},
        {RG_FAMILY_4, "198.18.2.10", 2, 0},
        {RG_FAMILY_6, "2001:db8:310::118", 0, 2},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        rg_addr out;
        rg_addr_count c = {99, 99};
        assert_true(rg_resolve_pick(f.ai, cases[i].want, &out, &c));
        assert_addr(&out, cases[i].first);
        assert_int_equal(c.v4, cases[i].v4);
        assert_int_equal(c.v6, cases[i].v6);
    }
}

static void test_pick_nothing_usable(void **state)
{
    (void)state;
    fake_list f;
    memset(&f, 0, sizeof f);
    add4(&f, "198.18.2.10");
    add4(&f, "198.18.2.11");
    rg_addr out;
    rg_addr_count c = {99, 99};
    assert_false(rg_resolve_pick(f.ai, RG_FAMILY_6, &out, &c));
    assert_int_equal(out.family, 0);
    assert_int_equal(c.v4 + c.v6, 0);
    assert_false(rg_resolve_pick(NULL, RG_FAMILY_ANY, &out, &c));
    assert_int_equal(c.v4 + c.v6, 0);
}

/* ---- rg_resolve_failure ---- */

static void test_failure_names_the_missing_family_only_under_a_flag(void **state)
{
    (void)state;
    char why[256], want[256];
    rg_resolve_failure(EAI_NODATA, RG_FAMILY_4, why, sizeof why);
    assert_string_equal(why, "has no IPv4 address (-4 given)");
    rg_resolve_failure(EAI_NODATA, RG_FAMILY_6, why, sizeof why);
    assert_string_equal(why, "has no IPv6 address (-6 given)");
    rg_resolve_failure(EAI_ADDRFAMILY, RG_FAMILY_6, why, sizeof why);
    assert_string_equal(why, "has no IPv6 address (-6 given)");
    /* No flag: glibc's own words, and no claim about a flag. */
    rg_resolve_failure(EAI_NODATA, RG_FAMILY_ANY, why, sizeof why);
    snprintf(want, sizeof want, "cannot resolve: %s", gai_strerror(EAI_NODATA));
    assert_string_equal(why, want);
    /* A name that does not exist is not a family problem. */
    static const int others[] = {EAI_NONAME, EAI_AGAIN, EAI_FAIL};
    for (size_t i = 0; i < COUNT(others); i++) {
        rg_resolve_failure(others[i], RG_FAMILY_4, why, sizeof why);
        snprintf(want, sizeof want, "cannot resolve: %s", gai_strerror(others[i]));
        assert_string_equal(why, want);
    }
}

/* ---- rg_resolve_many_warning ---- */

static void test_many_warning_text(void **state)
{
    (void)state;
    char buf[512];
    rg_addr a6, a4;
    assert_true(rg_addr_parse("2001:db8:310::118", &a6));
    assert_true(rg_addr_parse("198.18.2.10", &a4));
    rg_addr_count both = {8, 8}, v4 = {8, 0}, v6 = {0, 3};
    assert_true(rg_resolve_many_warning(buf, sizeof buf, "many.h1.lab", &both, &a6));
    assert_string_equal(buf, "many.h1.lab: 8 IPv6 and 8 IPv4 addresses, tracing 2001:db8:310::118"
                             TAIL_ONE);
    assert_true(rg_resolve_many_warning(buf, sizeof buf, "many.h1.lab", &v4, &a4));
    assert_string_equal(buf, "many.h1.lab: 8 IPv4 addresses, tracing 198.18.2.10" TAIL_ONE);
    assert_true(rg_resolve_many_warning(buf, sizeof buf, "x", &v6, &a6));
    assert_string_equal(buf, "x: 3 IPv6 addresses, tracing 2001:db8:310::118" TAIL_ONE);
}

static void test_many_warning_only_for_several(void **state)
{
    (void)state;
    char buf[64] = "junk";
    rg_addr a;
    assert_true(rg_addr_parse("198.18.2.10", &a));
    /* Dual stack with one address of each family, and one of the traced
     * family next to several of the other: nothing of its family dropped. */
    static const rg_addr_count ones[] = {{1, 0}, {0, 1}, {0, 0}, {1, 1}, {1, 5}};
    for (size_t i = 0; i < COUNT(ones); i++) {
        assert_false(rg_resolve_many_warning(buf, sizeof buf, "n", &ones[i], &a));
        assert_string_equal(buf, "");
    }
}

static void test_many_warning_escapes_the_name(void **state)
{
    (void)state;
    char buf[512], small[24];
    rg_addr a;
    assert_true(rg_addr_parse("198.18.2.10", &a));
    rg_addr_count c = {2, 0};
    assert_true(rg_resolve_many_warning(buf, sizeof buf, "a\x1b[2J\nb\\\xff", &c, &a));
    assert_string_equal(buf, "a\\x1b[2J\\x0ab\\\\\\xff: 2 IPv4 addresses, tracing 198.18.2.10"
                             TAIL_ONE);
    assert_null(strchr(buf, '\n'));
    /* Cut to the buffer, still terminated. */
    assert_true(rg_resolve_many_warning(small, sizeof small, "many.h1.lab", &c, &a));
    assert_int_equal(strlen(small), sizeof small - 1);
    assert_memory_equal(small, "many.h1.lab: 2 IPv4 add", sizeof small);
}

/* ---- rg_resolve on literals ---- */

static void test_literals_count_one(void **state)
{
    (void)state;
    char why[256] = "";
    rg_addr out;
    rg_addr_count c;
    assert_true(rg_resolve("198.18.2.10", RG_FAMILY_ANY, &out, &c, why, sizeof why));
    assert_true(c.v4 == 1 && c.v6 == 0);
    assert_true(rg_resolve("2001:db8::1", RG_FAMILY_6, &out, &c, why, sizeof why));
    assert_true(c.v4 == 0 && c.v6 == 1);
    assert_false(rg_resolve("2001:db8::1", RG_FAMILY_4, &out, &c, why, sizeof why));
    assert_string_equal(why, "is an IPv6 address but -4 was given");
    assert_int_equal(c.v4 + c.v6, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pick_counts_distinct_addresses_of_allowed_families),
        cmocka_unit_test(test_pick_nothing_usable),
        cmocka_unit_test(test_failure_names_the_missing_family_only_under_a_flag),
        cmocka_unit_test(test_many_warning_text),
        cmocka_unit_test(test_many_warning_only_for_several),
        cmocka_unit_test(test_many_warning_escapes_the_name),
        cmocka_unit_test(test_literals_count_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
