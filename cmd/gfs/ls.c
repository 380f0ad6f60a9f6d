/*
 * gfs ls [-l] [PREFIX]
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "banned.h"
#include "cli.h"

static int
print_entry(const struct gfs_entry *e, void *arg)
{
	char		stamp[32];
	time_t		t = (time_t)e->mtime;
	struct tm	tm;

	if (*(int *)arg) {
		localtime_r(&t, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
		printf("%10llu %4u %s %s\n", (unsigned long long)e->size,
		    e->version, stamp, e->name);
	} else
		printf("%s\n", e->name);
	return ferror(stdout) ? -1 : 0;
}

int
gfs_cmd_ls(struct gfs *g, int argc, char **argv)
{
	int ch, rc, lng = 0;

	while ((ch = getopt(argc, argv, "l")) != -1) {
		switch (ch) {
		case 'l': lng = 1; break;
		default: return usage_error(NULL);
		}
	}
	if (argc - optind > 1)
		return usage_error(NULL);
	rc = gfs_list(g, argc > optind ? argv[optind] : NULL, print_entry, &lng);
	if (rc < 0)
		return error("cannot list: %s", g->err[0] ? g->err :
		    gfs_strerror(rc)), EXIT_FAIL;
	return finish_stdout(0);
}
