/*
 * Minimal TAP producer for the C unit tests, header only.
 *
 *	plan(3);
 *	ok(parse_u64("12", 0, 99, &v) == 0, "parse %s", "12");
 *	is_int(v, 12, "value");
 *	is_str(gfs_strerror(GFS_EIO), "IO", "strerror");
 *	return done_testing();
 *
 * Without plan(), done_testing() prints the plan at the end.  Diagnostics
 * go to stderr, which prove shows.
 */
#ifndef GFS_TAP_H
#define GFS_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define TAP_UNUSED	__attribute__((unused))
#define TAP_PRINTF(f, a) __attribute__((format(printf, f, a)))

static int tap_planned = -1, tap_run, tap_failed;

static TAP_UNUSED void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static TAP_UNUSED TAP_PRINTF(2, 3) int
ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	return cond;
}

static TAP_UNUSED int
is_int(long long got, long long want, const char *name)
{
	if (ok(got == want, "%s", name))
		return 1;
	fprintf(stderr, "#   %s\n#          got: %lld\n#     expected: %lld\n",
	    name, got, want);
	return 0;
}

static TAP_UNUSED int
is_str(const char *got, const char *want, const char *name)
{
	int same = got == want || (got && want && strcmp(got, want) == 0);

	if (ok(same, "%s", name))
		return 1;
	fprintf(stderr, "#   %s\n#          got: %s%s%s\n#     expected: %s%s%s\n",
	    name, got ? "'" : "", got ? got : "NULL", got ? "'" : "",
	    want ? "'" : "", want ? want : "NULL", want ? "'" : "");
	return 0;
}

/* Returns the exit status for main(): 0 if all ran and passed. */
static TAP_UNUSED int
done_testing(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_run);
	else if (tap_run != tap_planned)
		fprintf(stderr, "# planned %d tests but ran %d\n",
		    tap_planned, tap_run);
	if (tap_failed)
		fprintf(stderr, "# failed %d of %d tests\n", tap_failed, tap_run);
	if (fflush(stdout) != 0 || ferror(stdout))
		return 255;
	if (tap_failed)
		return tap_failed < 254 ? tap_failed : 254;
	return tap_planned >= 0 && tap_run != tap_planned ? 255 : 0;
}

#endif /* GFS_TAP_H */
