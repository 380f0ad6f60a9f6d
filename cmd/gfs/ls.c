/*
 * gfs ls [-l] [--trash] [PREFIX]
 */
#include <getopt.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"
#include "cli.h"

void
fmt_time(uint64_t secs, char *buf, size_t len)
{
	time_t		t = (time_t)secs;
	struct tm	tm;

	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static int
print_entry(const struct gfs_entry *e, void *arg)
{
	char stamp[32];

	if (*(int *)arg) {
		fmt_time(e->mtime, stamp, sizeof(stamp));
		printf("%10llu %4u %s %s\n", (unsigned long long)e->size,
		    e->version, stamp, e->name);
	} else
		printf("%s\n", e->name);
	return ferror(stdout) ? -1 : 0;
}

/* In the trash: when it was removed, and with -l its latest size and versions. */
static int
print_trashed(const struct gfs_trashed *t, void *arg)
{
	char stamp[32];

	fmt_time(t->deleted, stamp, sizeof(stamp));
	if (*(int *)arg)
		printf("%10llu %4u %s %s\n", (unsigned long long)t->size,
		    t->nversions, stamp, t->name);
	else
		printf("%s %s\n", stamp, t->name);
	return ferror(stdout) ? -1 : 0;
}

int
gfs_cmd_ls(struct gfs *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "trash", no_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*prefix;
	int		 ch, rc, lng = 0, trash = 0;

	while ((ch = getopt_long(argc, argv, "l", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l': lng = 1; break;
		case 't': trash = 1; break;
		default: return usage_error(NULL);
		}
	}
	if (argc - optind > 1)
		return usage_error(NULL);
	prefix = argc > optind ? argv[optind] : NULL;
	if (trash)
		rc = gfs_trash(g, prefix, print_trashed, &lng);
	else
		rc = gfs_list(g, prefix, print_entry, &lng);
	if (rc < 0)
		return error("cannot list: %s", g->err[0] ? g->err :
		    gfs_strerror(rc)), EXIT_FAIL;
	return finish_stdout(0);
}
