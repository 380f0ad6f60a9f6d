#ifndef GFS_CLI_H
#define GFS_CLI_H

#include "api.h"
#include "log.h"

#define EXIT_NOTFOUND	1
#define EXIT_USAGE	2
#define EXIT_FAIL	3

struct subcmd {
	const char	*name;
	int		(*fn)(struct gfs *, int argc, char **argv);
	const char	*usage;		/* after "gfs " */
	const char	*summary;
};

extern const struct subcmd	*current;

/* "gfs: <msg>" on stderr; returns -1. */
int	error(const char *fmt, ...) PRINTFLIKE(1, 2);
/* Print the current subcommand's usage on stderr, return EXIT_USAGE. */
int	usage_error(const char *fmt, ...) PRINTFLIKE(1, 2);
/* Exit status for a lib error: 1 for GFS_ENOENT, else 3. */
int	exit_for(int rc);
/* Flush stdout and check it; returns the status to exit with. */
int	finish_stdout(int status);

int	gfs_cmd_put(struct gfs *, int, char **);
int	gfs_cmd_get(struct gfs *, int, char **);
int	gfs_cmd_rm(struct gfs *, int, char **);
int	gfs_cmd_ls(struct gfs *, int, char **);
int	gfs_cmd_status(struct gfs *, int, char **);
int	gfs_cmd_fsck(struct gfs *, int, char **);
int	gfs_cmd_bench(struct gfs *, int, char **);
int	gfs_cmd_help(struct gfs *, int, char **);
int	gfs_cmd_log(struct gfs *, int, char **);
int	gfs_cmd_prune(struct gfs *, int, char **);
int	gfs_cmd_undelete(struct gfs *, int, char **);
/* put -r and get -r (tree.c): argv after the options. */
int	gfs_tree_put(struct gfs *, int argc, char **argv, int quiet, int jobs);
int	gfs_tree_get(struct gfs *, int argc, char **argv, int quiet, int jobs);
/* -r, -q and -j N of put and get: 1 when ch was one, -1 on a bad -j. */
struct tree_opts {
	int	tree, quiet, jobs;
};
int	tree_opt(int ch, struct tree_opts *);
/* put -r, get -r: workers by default, one per CPU online (up to 8). */
int	tree_default_jobs(void);

/* "YYYY-MM-DD HH:MM:SS", local time. */
void	fmt_time(uint64_t secs, char *buf, size_t len);

#endif
