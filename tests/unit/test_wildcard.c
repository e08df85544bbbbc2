/* Windows wildcard matching (src/util/wildcard.c): [MS-FSA] 2.1.4.4
 * IsInExpression with '*', '?' and the DOS wildcards '<', '>', '"'. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "util/wildcard.h"

static bool m(const char *pattern, const char *name)
{
	uint32_t pat[64];
	long n = wildcard_decode(pattern, pat, 64);
	assert_true(n >= 0);
	return wildcard_match(pat, (size_t)n, name);
}

static void star_and_question(void **state)
{
	(void)state;
	assert_true(m("*", "anything.at.all"));
	assert_true(m("*.txt", "a.txt"));
	assert_true(m("*.txt", "A.TXT"));       /* case-insensitive */
	assert_false(m("*.txt", "a.txt.bak"));
	assert_true(m("a*b", "ab"));
	assert_true(m("a*b", "a-long-b"));
	assert_false(m("a*b", "a-long-c"));
	assert_true(m("?", "x"));
	assert_false(m("?", "xy"));
	assert_false(m("?", ""));
	assert_true(m("f??.c", "foo.c"));
	assert_false(m("f??.c", "fo.c"));
	assert_true(m("exact", "EXACT"));
	assert_false(m("exact", "exactly"));
}

/* DOS_STAR '<': zero or more characters up to and including the last '.',
 * or to the end when no dot follows (what "*." becomes: names with no
 * extension). */
static void dos_star(void **state)
{
	(void)state;
	assert_true(m("<", "noext"));
	assert_false(m("<", "has.ext"));
	assert_true(m("<.b", "a.b"));
	assert_true(m("<.b", "x.y.b"));
	assert_false(m("<.b", "a.c"));
	assert_true(m("<.*", "a.b"));
}

/* DOS_QM '>': any one character, or nothing at a '.' or the end of the
 * name (so "a>>" matches names of one to three characters). */
static void dos_qm(void **state)
{
	(void)state;
	assert_true(m("a>", "a"));
	assert_true(m("a>", "ab"));
	assert_false(m("a>", "abc"));
	assert_true(m("a>>.txt", "a.txt"));
	assert_true(m("a>>.txt", "ab.txt"));
	assert_true(m("a>>.txt", "abc.txt"));
	assert_false(m("a>>.txt", "abcd.txt"));
}

/* DOS_DOT '"': a '.' or nothing at the end of the name. */
static void dos_dot(void **state)
{
	(void)state;
	assert_true(m("a\"", "a"));
	assert_true(m("a\"", "a."));
	assert_false(m("a\"", "ab"));
	assert_true(m("a\"b", "a.b"));
}

static void bad_input(void **state)
{
	(void)state;
	uint32_t pat[4];
	assert_int_equal(wildcard_decode("\xff", pat, 4), -1);    /* not UTF-8 */
	assert_int_equal(wildcard_decode("\xc3", pat, 4), -1);    /* truncated */
	assert_int_equal(wildcard_decode("abcde", pat, 4), -1);   /* too long */
	assert_int_equal(wildcard_decode("\xc3\xa9", pat, 4), 1); /* U+00E9 */
	assert_int_equal(pat[0], 0xE9);
	long n = wildcard_decode("*", pat, 4);
	assert_false(wildcard_match(pat, (size_t)n, "\xff"));   /* an invalid name never matches */
	char longname[600];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = 0;
	assert_false(wildcard_match(pat, (size_t)n, longname)); /* past 512 code points */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(star_and_question),
		cmocka_unit_test(dos_star),
		cmocka_unit_test(dos_qm),
		cmocka_unit_test(dos_dot),
		cmocka_unit_test(bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
