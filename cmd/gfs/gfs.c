/*
 * gfs: the command line.  The subcommand table is here; each
 * subcommand lives in a file of its own.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "banned.h"
#include "cli.h"
#include "crash.h"
#include "daemon.h"
#include "proto.h"

static const struct subcmd subcmds[] = {
	{ "put", gfs_cmd_put, "put [-v] [--if-version N] FILE [NAME]\n"
	    "       gfs put -r [-q] [-j N] DIR [PREFIX]",
	    "store FILE (- for stdin) as NAME, the next version; "
	    "or a whole tree" },
	{ "get", gfs_cmd_get, "get NAME[@VERSION] [-o FILE]\n"
	    "       gfs get -r [-q] [-j N] PREFIX DIR",
	    "write a file to stdout or FILE; or a whole tree to DIR" },
	{ "rm", gfs_cmd_rm, "rm [--purge] NAME...",
	    "move files to the trash, or remove them for good" },
	{ "ls", gfs_cmd_ls, "ls [-l] [--trash] [PREFIX]",
	    "list names, sorted, or what the trash holds" },
	{ "log", gfs_cmd_log, "log NAME",
	    "list the versions of a file, newest first" },
	{ "prune", gfs_cmd_prune, "prune --keep K NAME",
	    "drop all but the newest K versions" },
	{ "undelete", gfs_cmd_undelete, "undelete [--as NEWNAME] NAME",
	    "bring a file back from the trash" },
	{ "status", gfs_cmd_status, "status",
	    "show the leader and every chunk server" },
	{ "fsck", gfs_cmd_fsck, "fsck [--json] [-v] [PREFIX]",
	    "check the replicas of every chunk of every file" },
	{ "bench", gfs_cmd_bench, "bench [--op put|get|mixed|lookup] "
	    "[--files N] [--size BYTES | corpus DIR] [--clients C] "
	    "[--duration DURATION] [--pipeline N] [--json] [--keep]",
	    "time puts, gets or lookups of many clients" },
	{ "help", gfs_cmd_help, "help [COMMAND]", "show usage" },
	{ NULL, NULL, NULL, NULL },
};

const struct subcmd *current;

int
error(const char *fmt, ...)
{
	va_list ap;

	fputs("gfs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

int
usage_error(const char *fmt, ...)
{
	va_list ap;

	if (fmt) {
		fputs("gfs: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	fprintf(stderr, "usage: gfs %s\n", current->usage);
	return EXIT_USAGE;
}

int
exit_for(int rc)
{
	return rc == GFS_ENOENT ? EXIT_NOTFOUND : EXIT_FAIL;
}

int
finish_stdout(int status)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		error("cannot write to stdout: %s", strerror(errno));
		return EXIT_FAIL;
	}
	return status;
}

static void
usage_all(FILE *f)
{
	const struct subcmd *s;

	fprintf(f, "usage: gfs [--leader HOST:PORT] [--timeout DURATION] "
	    "COMMAND [ARGS]\n"
	    "       gfs --version\n\nCommands:\n");
	for (s = subcmds; s->name; s++) {
		const char *nl = strchr(s->usage, '\n'), *more;

		/* A second form: on its own line, under the first. */
		if (nl == NULL) {
			fprintf(f, "   %-30s %s\n", s->usage, s->summary);
			continue;
		}
		fprintf(f, "   %-30.*s %s\n", (int)(nl - s->usage), s->usage,
		    s->summary);
		more = nl + strspn(nl, "\n ");
		if (strncmp(more, "gfs ", 4) == 0)
			more += 4;
		fprintf(f, "   %s\n", more);
	}
	fprintf(f, "\nThe leader is --leader, else $GFS_LEADER, else "
	    "127.0.0.1:8000.\n"
	    "Exit status: 0 success, 1 not found, 2 usage, 3 other failure.\n");
}

static const struct subcmd *
find(const char *name)
{
	const struct subcmd *s;

	for (s = subcmds; s->name; s++)
		if (strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

/* help [COMMAND] */
int
gfs_cmd_help(struct gfs *g, int argc, char **argv)
{
	const struct subcmd *s;

	(void)g;
	if (argc > 2)
		return usage_error(NULL);
	if (argc == 1) {
		usage_all(stdout);
		return finish_stdout(0);
	}
	if ((s = find(argv[1])) == NULL) {
		error("'%s' is not a gfs command; see 'gfs help'", argv[1]);
		return EXIT_USAGE;
	}
	printf("usage: gfs %s\n\n%s\n", s->usage, s->summary);
	return finish_stdout(0);
}

int
main(int argc, char **argv)
{
	const char	*leader = getenv("GFS_LEADER");
	char		 host[64];
	uint16_t	 port;
	uint64_t	 timeout = 5000;
	struct gfs	 g;
	int		 i, k, rc;

	crash_init();
	if (leader == NULL || *leader == '\0')
		leader = "127.0.0.1:8000";
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *val = NULL;

		if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			printf("gfs version " GFS_VERSION "\n");
			return finish_stdout(0);
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage_all(stdout);
			return finish_stdout(0);
		}
		if (strncmp(a, "--leader=", 9) == 0)
			val = a + 9;
		else if (strncmp(a, "--timeout=", 10) == 0)
			val = a + 10;
		else if (strcmp(a, "--leader") == 0 ||
		    strcmp(a, "--timeout") == 0) {
			if (i + 1 == argc) {
				error("option '%s' needs a value", a);
				usage_all(stderr);
				return EXIT_USAGE;
			}
			val = argv[++i];
		} else {
			error("unknown option '%s'", a);
			usage_all(stderr);
			return EXIT_USAGE;
		}
		if (strncmp(a, "--leader", 8) == 0)
			leader = val;
		else if (parse_duration(val, &timeout) < 0 || timeout == 0 ||
		    timeout > 3600 * 1000) {
			error("bad --timeout '%s': want a duration like 500ms "
			    "or 5s", val);
			return EXIT_USAGE;
		}
	}
	if (i == argc) {
		usage_all(stderr);
		return EXIT_USAGE;
	}
	if ((current = find(argv[i])) == NULL) {
		error("'%s' is not a gfs command; see 'gfs help'", argv[i]);
		return EXIT_USAGE;
	}
	/* gfs CMD ... --help: what gfs help CMD says (up to a "--"). */
	for (k = i + 1; k < argc && strcmp(argv[k], "--") != 0; k++)
		if (strcmp(argv[k], "--help") == 0) {
			char *hv[] = { "help", argv[i], NULL };

			return gfs_cmd_help(NULL, 2, hv);
		}
	if (parse_hostport(leader, host, sizeof(host), &port) < 0) {
		error("bad leader address '%s': want HOST:PORT", leader);
		return EXIT_USAGE;
	}
	gfs_init(&g, leader, (int)timeout);
	optind = 1;
	rc = current->fn(&g, argc - i, argv + i);
	gfs_close(&g);
	return rc;
}
