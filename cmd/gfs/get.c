/*
 * gfs get NAME[@VERSION] [-o FILE]
 *
 * With -o the bytes go to a temporary file beside FILE, which is
 * renamed over FILE only once every chunk arrived and checked: a
 * failed get leaves nothing behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "banned.h"
#include "cli.h"
#include "proto.h"

static mode_t
umask_get(void)
{
	mode_t m = umask(0);

	umask(m);
	return m;
}

int
gfs_cmd_get(struct gfs *g, int argc, char **argv)
{
	const char	*out = NULL, *name, *why = NULL;
	uint32_t	 version;
	char		*tmp = NULL;
	struct gfs_file	 f;
	int		 ch, fd = STDOUT_FILENO, rc;
	struct tree_opts t = { 0, 0, tree_default_jobs() };

	/* Options may come after NAME, as the usage shows. */
	while ((ch = getopt(argc, argv, "o:rqj:")) != -1) {
		if ((rc = tree_opt(ch, &t)) != 0) {
			if (rc < 0)
				return EXIT_USAGE;
			continue;
		}
		switch (ch) {
		case 'o': out = optarg; break;
		default: return usage_error(NULL);
		}
	}
	if (t.tree) {
		if (out)
			return usage_error("-o is for one file, not with -r");
		return gfs_tree_get(g, argc - optind, argv + optind, t.quiet,
		    t.jobs);
	}
	if (argc - optind != 1)
		return usage_error(NULL);
	name = argv[optind];
	if (gfs_split_version(name, f.name, sizeof(f.name), &version) < 0 ||
	    (why = name_check(f.name, strlen(f.name))) != NULL)
		return error("bad name '%s': %s", name, why ? why :
		    "name is longer than 1024 bytes"), EXIT_USAGE;
	if ((rc = gfs_lookup_ring(g, name, &f)) < 0) {
		if (rc == GFS_ENOENT)
			return error("'%s': no such file", name), EXIT_NOTFOUND;
		return error("cannot look up '%s': %s", name, g->err),
		    EXIT_FAIL;
	}
	if (out) {
		if (asprintf(&tmp, "%s.gfs-tmp-XXXXXX", out) < 0)
			abort();
		if ((fd = mkstemp(tmp)) < 0) {
			error("cannot create '%s': %s", out, strerror(errno));
			free(tmp);
			gfs_file_free(&f);
			return EXIT_FAIL;
		}
		fchmod(fd, 0644 & ~umask_get());
	}
	rc = gfs_get(g, &f, fd);
	gfs_file_free(&f);
	if (out) {
		int bad = rc == 0 && fsync(fd) < 0;

		if (close(fd) < 0)
			bad = 1;
		if (rc == 0 && (bad || rename(tmp, out) < 0)) {
			snprintf(g->err, sizeof(g->err), "cannot write '%s': %s",
			    out, strerror(errno));
			rc = GFS_EIO;
		}
	}
	if (rc < 0) {
		if (out)
			unlink(tmp);
		free(tmp);
		return error("cannot get '%s': %s", name, g->err), EXIT_FAIL;
	}
	free(tmp);
	return out ? 0 : finish_stdout(0);
}
