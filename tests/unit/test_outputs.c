/* Outputs are checked before the first probe: every file -o would write
 * can be made, and nothing is left behind by the check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <cmocka.h>

#include "output/outputs.h"

static size_t entries(const char *dir)
{
    size_t n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void test_check(void **state)
{
    (void)state;
    char dir[] = "/tmp/rg-test-outputs-XXXXXX", prefix[64], err[256];
    assert_non_null(mkdtemp(dir));
    rg_config cfg = {.formats = RG_FMT_TABLE | RG_FMT_JSON | RG_FMT_SVG};
    assert_true(rg_outputs_check(&cfg, err, sizeof err)); /* stdout: nothing to check */
    snprintf(prefix, sizeof prefix, "%s/run", dir);
    cfg.output = prefix;
    assert_true(rg_outputs_check(&cfg, err, sizeof err));
    assert_int_equal(entries(dir), 0); /* the probe files are gone */
    /* A directory where a file should go names that file. */
    char sub[96];
    snprintf(sub, sizeof sub, "%s/run.json", dir);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_false(rg_outputs_check(&cfg, err, sizeof err));
    char want[160];
    snprintf(want, sizeof want, "%s/run.json: cannot write: Is a directory", dir);
    assert_string_equal(err, want);
    assert_int_equal(rmdir(sub), 0);
    /* A missing directory: the first file's name and the reason. */
    snprintf(prefix, sizeof prefix, "%s/missing/run", dir);
    assert_false(rg_outputs_check(&cfg, err, sizeof err));
    snprintf(want, sizeof want, "%s/missing/run.txt: cannot write: No such file or directory", dir);
    assert_string_equal(err, want);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
