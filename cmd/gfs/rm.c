/*
 * gfs rm [--purge] NAME...: to the trash, or gone at once.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "banned.h"
#include "cli.h"
#include "proto.h"

int
gfs_cmd_rm(struct gfs *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "purge", no_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*why;
	int		 i, ch, rc, status = 0, purge = 0;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': purge = 1; break;
		default: return usage_error(NULL);
		}
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc < 2)
		return usage_error(NULL);
	for (i = 1; i < argc; i++)
		if ((why = name_check(argv[i], strlen(argv[i]))) != NULL)
			return error("bad name '%s': %s", argv[i], why),
			    EXIT_USAGE;
	for (i = 1; i < argc; i++) {
		if ((rc = gfs_delete(g, argv[i], purge)) == 0)
			continue;
		if (rc == GFS_ENOENT) {
			error("cannot remove '%s': no such file", argv[i]);
			if (status == 0)
				status = EXIT_NOTFOUND;
		} else {
			error("cannot remove '%s': %s", argv[i], g->err[0] ?
			    g->err : gfs_strerror(rc));
			status = EXIT_FAIL;
		}
	}
	return status;
}
