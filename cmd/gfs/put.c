/*
 * gfs put [-v] [--if-version N] FILE [NAME]
 * gfs put -r [-q] [-j N] DIR [PREFIX]	(tree.c)
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"
#include "cli.h"
#include "proto.h"

int
gfs_cmd_put(struct gfs *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "if-version", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	const char		*file, *name, *why;
	struct stat		 sb;
	struct gfs_putopt	 opt = { -1 };
	uint32_t		 version;
	uint64_t		 size, v;
	int			 ch, fd, rc, verbose = 0;
	struct tree_opts	 t = { 0, 0, tree_default_jobs() };

	while ((ch = getopt_long(argc, argv, "+vrqj:", longopts, NULL)) != -1) {
		if ((rc = tree_opt(ch, &t)) != 0) {
			if (rc < 0)
				return EXIT_USAGE;
			continue;
		}
		switch (ch) {
		case 'v': verbose = 1; break;
		case 'i':
			if (parse_u64(optarg, 0, UINT32_MAX, &v) < 0)
				return usage_error("bad --if-version '%s': want "
				    "a version number, 0 for a new name", optarg);
			opt.if_version = (int64_t)v;
			break;
		default: return usage_error(NULL);
		}
	}
	argc -= optind;
	argv += optind;
	if (t.tree) {
		if (opt.if_version >= 0)
			return usage_error("--if-version is for one file, not "
			    "with -r");
		return gfs_tree_put(g, argc, argv, t.quiet, t.jobs);
	}
	if (argc < 1 || argc > 2)
		return usage_error(NULL);
	file = argv[0];
	if (argc == 2)
		name = argv[1];
	else if (strcmp(file, "-") == 0)
		return usage_error("a NAME is needed to put stdin");
	else {
		name = strrchr(file, '/');
		name = name ? name + 1 : file;
	}
	if ((why = name_check(name, strlen(name))) != NULL)
		return error("bad name '%s': %s", name, why), EXIT_USAGE;
	if (strcmp(file, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(file, O_RDONLY | O_CLOEXEC)) < 0)
		return error("cannot open '%s': %s", file, strerror(errno)),
		    EXIT_FAIL;
	if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		error("cannot read '%s': Is a directory", file);
		close(fd);
		return EXIT_FAIL;
	}
	rc = gfs_put(g, fd, name, &opt, &version, &size);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc < 0)
		return error("cannot put '%s': %s", name, g->err[0] ? g->err :
		    gfs_strerror(rc)), EXIT_FAIL;
	if (verbose)
		printf("%s version %u, %llu bytes\n", name, version,
		    (unsigned long long)size);
	return finish_stdout(0);
}
