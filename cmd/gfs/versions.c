/*
 * Versions and the trash:
 *   gfs log NAME
 *   gfs prune --keep K NAME
 *   gfs undelete [--as NEWNAME] NAME
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "banned.h"
#include "cli.h"
#include "hash.h"
#include "proto.h"

/* One NAME argument left after the options, checked; or a usage error. */
static int
one_name(int argc, char **argv, const char **name)
{
	const char *why;

	if (argc - optind != 1)
		return usage_error(NULL);
	*name = argv[optind];
	if ((why = name_check(*name, strlen(*name))) != NULL)
		return error("bad name '%s': %s", *name, why), EXIT_USAGE;
	return 0;
}

static int
print_version(const struct gfs_version *v, void *arg)
{
	char stamp[32], hex[GFS_HEX_LEN + 1];

	(void)arg;
	fmt_time(v->mtime, stamp, sizeof(stamp));
	if (v->has_sha)
		hash_hex(v->sha, hex);
	else
		snprintf(hex, sizeof(hex), "-");
	printf("%4u %10llu %s %s\n", v->version, (unsigned long long)v->size,
	    stamp, hex);
	return ferror(stdout) ? -1 : 0;
}

/* log NAME: version, size, time, SHA-256 of the whole file. */
int
gfs_cmd_log(struct gfs *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ NULL, 0, NULL, 0 },
	};
	const char	*name;
	int		 rc;

	if (getopt_long(argc, argv, "", longopts, NULL) != -1)
		return usage_error(NULL);
	if ((rc = one_name(argc, argv, &name)) != 0)
		return rc;
	if ((rc = gfs_versions(g, name, print_version, NULL)) < 0) {
		if (rc == GFS_ENOENT)
			return error("'%s': no such file", name), EXIT_NOTFOUND;
		return error("cannot list versions of '%s': %s", name,
		    g->err[0] ? g->err : gfs_strerror(rc)), EXIT_FAIL;
	}
	return finish_stdout(0);
}

int
gfs_cmd_prune(struct gfs *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "keep", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*name;
	uint64_t	 keep = 0, n;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			if (parse_u64(optarg, 1, UINT32_MAX, &keep) < 0)
				return usage_error("bad --keep '%s': want 1 or "
				    "more", optarg);
			break;
		default: return usage_error(NULL);
		}
	}
	if (keep == 0)
		return usage_error("--keep K is required");
	if ((rc = one_name(argc, argv, &name)) != 0)
		return rc;
	if ((rc = gfs_prune(g, name, (uint32_t)keep, &n)) < 0) {
		if (rc == GFS_ENOENT)
			return error("'%s': no such file", name), EXIT_NOTFOUND;
		return error("cannot prune '%s': %s", name, g->err[0] ?
		    g->err : gfs_strerror(rc)), EXIT_FAIL;
	}
	printf("%s: %llu versions dropped\n", name, (unsigned long long)n);
	return finish_stdout(0);
}

int
gfs_cmd_undelete(struct gfs *g, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "as", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	const char	*name, *as = NULL, *why;
	uint32_t	 version;
	int		 ch, rc;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a': as = optarg; break;
		default: return usage_error(NULL);
		}
	}
	if ((rc = one_name(argc, argv, &name)) != 0)
		return rc;
	if (as && (why = name_check(as, strlen(as))) != NULL)
		return error("bad name '%s': %s", as, why), EXIT_USAGE;
	rc = gfs_undelete(g, name, as, &version);
	if (rc == GFS_ENOENT)
		return error("'%s' is not in the trash", name), EXIT_NOTFOUND;
	if (rc == GFS_EEXIST)
		return error("cannot undelete '%s': '%s' exists; use --as "
		    "NEWNAME", name, as ? as : name), EXIT_FAIL;
	if (rc < 0)
		return error("cannot undelete '%s': %s", name, g->err[0] ?
		    g->err : gfs_strerror(rc)), EXIT_FAIL;
	return finish_stdout(0);
}
