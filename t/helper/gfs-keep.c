/*
 * gfs-keep: one long-lived client, as gfs bench or a gateway is: a
 * struct gfs kept from request to request, its ring and connections
 * with it.  Reads commands on standard input, one a line:
 *
 *	put FILE NAME	store FILE as the next version of NAME
 *	get NAME FILE	write the latest version of NAME to FILE
 *
 * and answers each with a line on standard output, "ok" or "error
 * <why>", flushed at once, so a test can drive it as a coprocess and
 * change the cluster between two requests.
 *
 *	gfs-keep [-t TIMEOUT_MS] LEADER
 *
 * Exit: 0 at the end of input, 2 usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "banned.h"
#include "hutil.h"
#include "proto.h"

const char *helper_name = "gfs-keep";

static void
run(struct gfs *g, char *line)
{
	char		*argv[4], *verb, *a, *b;
	struct gfs_file	 f;
	uint32_t	 version;
	uint64_t	 size;
	int		 fd, rc;

	line[strcspn(line, "\r\n")] = '\0';
	if (proto_split(line, argv, 4) != 3) {
		printf("error want: put FILE NAME | get NAME FILE\n");
		return;
	}
	verb = argv[0];
	a = argv[1];
	b = argv[2];
	if (strcmp(verb, "put") == 0) {
		if ((fd = open(a, O_RDONLY | O_CLOEXEC)) < 0) {
			printf("error cannot open %s\n", a);
			return;
		}
		rc = gfs_put(g, fd, b, NULL, &version, &size);
		close(fd);
	} else if (strcmp(verb, "get") == 0) {
		if ((fd = open(b, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644)) < 0) {
			printf("error cannot create %s\n", b);
			return;
		}
		gfs_renew(g);
		if ((rc = gfs_lookup(g, a, &f)) == 0) {
			rc = gfs_get(g, &f, fd);
			gfs_file_free(&f);
		}
		close(fd);
	} else {
		printf("error unknown command %s\n", verb);
		return;
	}
	if (rc < 0)
		printf("error %s: %s\n", gfs_strerror(rc), g->err);
	else
		printf("ok\n");
}

int
main(int argc, char **argv)
{
	struct gfs	 g;
	unsigned long	 timeout = 5000;
	char		 line[4096];
	int		 ch;

	while ((ch = getopt(argc, argv, "t:")) != -1) {
		if (ch != 't' || parse_num(optarg, 1, 3600000, &timeout) < 0)
			die(HELPER_EXIT_USAGE, "usage: gfs-keep [-t TIMEOUT_MS] "
			    "LEADER");
	}
	if (argc - optind != 1)
		die(HELPER_EXIT_USAGE, "usage: gfs-keep [-t TIMEOUT_MS] LEADER");
	gfs_init(&g, argv[optind], (int)timeout);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		run(&g, line);
		fflush(stdout);
	}
	gfs_close(&g);
	return 0;
}
