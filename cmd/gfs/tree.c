/*
 * gfs put -r [-q] [-j N] DIR [PREFIX]
 * gfs get -r [-q] [-j N] PREFIX DIR
 *
 * A whole tree in one process.  put -r walks DIR, splits its files
 * into N shares of about equal bytes, and forks a worker per share;
 * each sends its files in batches (lib/put.c gfs_put_files) as pending
 * mappings <group>-<i>.  Only when every worker succeeded does one
 * COMMIT_GROUP make every file visible, in one leader transaction: a
 * put -r that fails or is killed leaves nothing visible, and what it
 * left pending expires.  get -r lists PREFIX and has N workers fetch
 * shares of the names (lib/get.c gfs_get_files).
 *
 * Workers report progress on a pipe: (files, bytes) after each batch.
 * On a terminal, unless -q, a progress line shows files, MB, rate, ETA.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "banned.h"
#include "cli.h"
#include "crash.h"
#include "hash.h"
#include "proto.h"
#include "xmalloc.h"

#define TREE_MAX_JOBS	64

struct tree {
	struct gfs_tfile	*f;
	size_t			 n, cap;
	uint64_t		 bytes;
	/* progress */
	int			 show;
	size_t			 done_files;
	uint64_t		 done_bytes;
	uint64_t		 t0, last;
	const char		*verb;
};

struct report {
	uint64_t	files;
	uint64_t	bytes;
};

static struct tree	*walk_tree;	/* nftw has no argument */
static const char	*walk_prefix;
static size_t		 walk_skip;	/* bytes of DIR/ to cut */
static int		 walk_quiet;

static void
tree_add(struct tree *t, const char *path, const char *name, uint64_t size)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->f = xreallocarray(t->f, t->cap, sizeof(*t->f));
	}
	t->f[t->n].path = xstrdup(path);
	t->f[t->n].name = xstrdup(name);
	t->f[t->n].size = size;
	t->bytes += size;
	t->n++;
}

static void
tree_free(struct tree *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free((char *)t->f[i].path);
		free((char *)t->f[i].name);
	}
	free(t->f);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct gfs_tfile *)a)->name,
	    ((const struct gfs_tfile *)b)->name);
}

static int
walk_cb(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	char	name[GFS_MAX_NAME + 2];
	int	n;

	(void)ftw;
	if (type == FTW_D || type == FTW_DP)
		return 0;
	if (type == FTW_DNR || type == FTW_NS) {
		error("cannot read '%s': %s", path, strerror(errno));
		return 1;
	}
	if (type != FTW_F || !S_ISREG(sb->st_mode)) {
		if (!walk_quiet)
			error("skipping '%s': not a regular file", path);
		return 0;
	}
	n = snprintf(name, sizeof(name), "%s%s", walk_prefix, path + walk_skip);
	if (n < 0 || (size_t)n > GFS_MAX_NAME) {
		error("name for '%s' is longer than %d bytes", path,
		    GFS_MAX_NAME);
		return 1;
	}
	tree_add(walk_tree, path, name, (uint64_t)sb->st_size);
	return 0;
}

/* Show progress: at most every 200 ms, and once at the end. */
static void
progress_show(struct tree *t, int end)
{
	uint64_t	now = now_ms();
	double		secs, rate, eta;

	if (!t->show || (!end && now - t->last < 200))
		return;
	t->last = now;
	secs = (double)(now - t->t0) / 1000;
	rate = secs > 0 ? (double)t->done_bytes / 1048576 / secs : 0;
	eta = t->done_bytes > 0 && t->done_bytes < t->bytes ?
	    secs * (double)(t->bytes - t->done_bytes) / (double)t->done_bytes : 0;
	fprintf(stderr, "\r%s: %zu/%zu files, %.1f/%.1f MB, %.1f MB/s, "
	    "%.0f files/s, ETA %.0fs  ", t->verb, t->done_files, t->n,
	    (double)t->done_bytes / 1048576, (double)t->bytes / 1048576, rate,
	    secs > 0 ? (double)t->done_files / secs : 0, eta);
	if (end)
		fputc('\n', stderr);
	fflush(stderr);
}

static void
progress_cb(void *arg, size_t files, uint64_t bytes)
{
	int		fd = *(int *)arg;
	struct report	r = { files, bytes };

	if (write(fd, &r, sizeof(r)) != sizeof(r))
		return;		/* the parent is gone: nothing to report to */
}

/*
 * Split [0, n) into jobs shares of about equal bytes; share k is
 * [cut[k], cut[k + 1]).
 */
static int
tree_split(const struct tree *t, int jobs, size_t *cut)
{
	uint64_t	acc = 0, per;
	size_t		i;
	int		k = 1;

	if ((size_t)jobs > t->n)
		jobs = t->n > 0 ? (int)t->n : 1;
	per = t->bytes / (uint64_t)jobs + 1;
	cut[0] = 0;
	for (i = 0; i < t->n && k < jobs; i++) {
		acc += t->f[i].size + 512;	/* a file costs a little anyway */
		if (acc >= per * (uint64_t)k || t->n - i - 1 == (size_t)(jobs - k))
			cut[k++] = i + 1;
	}
	while (k < jobs)
		cut[k++] = t->n;
	cut[jobs] = t->n;
	return jobs;
}

struct job {
	struct gfs	*g;
	const char	*group;		/* put: the pending group */
	size_t		 missing;
};

/* A worker's share; returns 0 or a lib error (g->err says why). */
static int
job_run(struct job *j, struct tree *t, size_t lo, size_t hi, int fd)
{
	if (j->group)
		return gfs_put_files(j->g, j->group, t->f, lo, hi, progress_cb,
		    &fd);
	return gfs_get_files(j->g, t->f + lo, hi - lo, progress_cb, &fd,
	    &j->missing);
}

/*
 * Run the shares in jobs forked workers and wait for all of them,
 * showing their progress.  Returns 0 when every one succeeded.
 */
static int
tree_jobs(struct tree *t, struct job *j, const char *leader, int timeout_ms,
    int jobs)
{
	size_t		 cut[TREE_MAX_JOBS + 1];
	pid_t		 pid[TREE_MAX_JOBS];
	struct pollfd	 pfd[TREE_MAX_JOBS];
	struct report	 r;
	int		 k, open_fds, failed = 0, status, p[2];
	ssize_t		 n;

	jobs = tree_split(t, jobs, cut);
	fflush(NULL);
	for (k = 0; k < jobs; k++) {
		if (pipe(p) < 0 || (pid[k] = fork()) < 0) {
			error("cannot start a worker: %s", strerror(errno));
			failed = 1;
			jobs = k;
			break;
		}
		if (pid[k] == 0) {
			struct gfs	g;
			int		rc;

			close(p[0]);
			/* Not the parent's connections: a fresh client. */
			gfs_init(&g, leader, timeout_ms);
			j->g = &g;
			rc = job_run(j, t, cut[k], cut[k + 1], p[1]);
			if (rc < 0)
				error("%s", g.err[0] ? g.err : gfs_strerror(rc));
			if (rc == 0 && j->missing > 0) {
				r.files = UINT64_MAX;
				r.bytes = j->missing;
				if (write(p[1], &r, sizeof(r)) != sizeof(r))
					rc = -1;
			}
			gfs_close(&g);
			_exit(rc < 0 ? 1 : 0);
		}
		close(p[1]);
		pfd[k].fd = p[0];
		pfd[k].events = POLLIN;
	}
	for (open_fds = jobs; open_fds > 0; ) {
		if (poll(pfd, (nfds_t)jobs, 200) < 0 && errno != EINTR)
			break;
		for (k = 0; k < jobs; k++) {
			if (pfd[k].fd < 0 || pfd[k].revents == 0)
				continue;
			n = read(pfd[k].fd, &r, sizeof(r));
			if (n == (ssize_t)sizeof(r)) {
				if (r.files == UINT64_MAX)
					j->missing += (size_t)r.bytes;
				else {
					t->done_files += (size_t)r.files;
					t->done_bytes += r.bytes;
				}
				continue;
			}
			close(pfd[k].fd);
			pfd[k].fd = -1;
			open_fds--;
		}
		progress_show(t, 0);
	}
	for (k = 0; k < jobs; k++)
		if (waitpid(pid[k], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			failed = 1;
	return failed ? -1 : 0;
}

/*
 * More workers than CPUs only contend: the 2,849-file tree of make
 * bench on 2 CPUs put -r in 850 ms with 2, 1,000 with 4, 1,120 with 6.
 */
int
tree_default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > 8 ? 8 : (int)n;
}

int
tree_opt(int ch, struct tree_opts *o)
{
	uint64_t v;

	switch (ch) {
	case 'r': o->tree = 1; return 1;
	case 'q': o->quiet = 1; return 1;
	case 'j':
		if (parse_u64(optarg, 1, TREE_MAX_JOBS, &v) < 0)
			return usage_error("bad -j '%s': want 1 to %d", optarg,
			    TREE_MAX_JOBS), -1;
		o->jobs = (int)v;
		return 1;
	}
	return 0;
}

/* Random letters and digits for a group, as put does for a txid. */
static void
group_name(char *buf, size_t len)
{
	random_hex(buf, len - 1);
}

int
gfs_tree_put(struct gfs *g, int argc, char **argv, int quiet, int jobs)
{
	struct tree	 t;
	struct job	 j;
	struct stat	 sb;
	char		 group[25], prefix[GFS_MAX_NAME + 2];
	const char	*dir, *why, *base;
	size_t		 len, i;
	int		 rc;

	if (argc < 1 || argc > 2)
		return usage_error(NULL);
	dir = argv[0];
	if (stat(dir, &sb) < 0)
		return error("cannot open '%s': %s", dir, strerror(errno)),
		    EXIT_FAIL;
	if (!S_ISDIR(sb.st_mode))
		return error("'%s' is not a directory", dir), EXIT_USAGE;
	/* The default PREFIX: the directory's own name, like cp -r. */
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	base = dir;
	for (i = 0; i < len; i++)
		if (dir[i] == '/' && i + 1 < len)
			base = dir + i + 1;
	if (argc == 2)
		snprintf(prefix, sizeof(prefix), "%s", argv[1]);
	else
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(dir + len - base),
		    base);
	if (strcmp(prefix, "/") == 0 || strcmp(prefix, ".") == 0)
		prefix[0] = '\0';
	if (prefix[0] != '\0' && prefix[strlen(prefix) - 1] != '/')
		strncat(prefix, "/", sizeof(prefix) - strlen(prefix) - 1);

	memset(&t, 0, sizeof(t));
	walk_tree = &t;
	walk_prefix = prefix;
	walk_skip = len + (dir[len - 1] == '/' ? 0 : 1);
	walk_quiet = quiet;
	if (len == 1 && dir[0] == '/')
		walk_skip = 1;
	{
		char *d = xstrdup(dir);

		d[len] = '\0';
		rc = nftw(d, walk_cb, 64, FTW_PHYS);
		free(d);
	}
	if (rc != 0) {
		if (rc < 0)
			error("cannot walk '%s': %s", dir, strerror(errno));
		tree_free(&t);
		return EXIT_FAIL;
	}
	qsort(t.f, t.n, sizeof(*t.f), by_name);
	for (i = 0; i < t.n; i++) {
		if ((why = name_check(t.f[i].name, strlen(t.f[i].name))) != NULL) {
			error("bad name '%s' for '%s': %s", t.f[i].name,
			    t.f[i].path, why);
			tree_free(&t);
			return EXIT_USAGE;
		}
		if (i > 0 && strcmp(t.f[i - 1].name, t.f[i].name) == 0) {
			error("'%s' and '%s' would both be '%s'",
			    t.f[i - 1].path, t.f[i].path, t.f[i].name);
			tree_free(&t);
			return EXIT_USAGE;
		}
	}
	if (t.n > GFS_MAX_GROUP) {
		error("'%s' holds %zu files; one put -r takes at most %d", dir,
		    t.n, GFS_MAX_GROUP);
		tree_free(&t);
		return EXIT_FAIL;
	}
	if (t.n == 0) {
		tree_free(&t);
		return finish_stdout(0);
	}
	group_name(group, sizeof(group));
	memset(&j, 0, sizeof(j));
	j.group = group;
	t.verb = "put";
	t.show = !quiet && isatty(STDOUT_FILENO);
	t.t0 = now_ms();
	rc = tree_jobs(&t, &j, g->leader.addr, g->timeout_ms, jobs);
	if (rc == 0)
		CRASH_POINT("client.putr.before_commit");
	if (rc == 0 && (rc = gfs_commit_group(g, group, t.n)) < 0)
		error("cannot commit the %zu files of '%s': %s", t.n, dir,
		    g->err[0] ? g->err : gfs_strerror(rc));
	progress_show(&t, 1);
	if (rc < 0) {
		/* Best effort: left alone, the mappings expire anyway. */
		if (g->leader.err == 0)
			gfs_abort_group(g, group, t.n);
		error("put -r '%s' failed: nothing of it is visible", dir);
		tree_free(&t);
		return EXIT_FAIL;
	}
	tree_free(&t);
	return finish_stdout(0);
}

struct list_arg {
	struct tree	*t;
	const char	*prefix;
	const char	*dir;
	int		 quiet;
	int		 bad;
};

/* A name's path under DIR, or NULL when it cannot be one safely. */
static int
list_cb(const struct gfs_entry *e, void *arg)
{
	struct list_arg	*a = arg;
	const char	*rel = e->name + strlen(a->prefix), *p, *q;
	char		*path;

	while (*rel == '/')
		rel++;
	for (p = rel; *rel; p = q + 1) {
		q = strchr(p, '/');
		if (q == NULL)
			q = p + strlen(p);
		if (q == p || (q - p == 1 && p[0] == '.') ||
		    (q - p == 2 && p[0] == '.' && p[1] == '.')) {
			if (!a->quiet)
				error("skipping '%s': not a safe path under "
				    "'%s'", e->name, a->dir);
			return 0;
		}
		if (*q == '\0')
			break;
	}
	if (*rel == '\0') {
		if (!a->quiet)
			error("skipping '%s': it is the prefix itself", e->name);
		return 0;
	}
	if (asprintf(&path, "%s/%s", a->dir, rel) < 0)
		abort();
	tree_add(a->t, path, e->name, e->size);
	free(path);
	return 0;
}

int
gfs_tree_get(struct gfs *g, int argc, char **argv, int quiet, int jobs)
{
	struct tree	 t;
	struct job	 j;
	struct list_arg	 a;
	char		 prefix[GFS_MAX_NAME + 2];
	int		 rc;

	if (argc != 2)
		return usage_error(NULL);
	snprintf(prefix, sizeof(prefix), "%s", argv[0]);
	if (prefix[0] != '\0' && prefix[strlen(prefix) - 1] != '/')
		strncat(prefix, "/", sizeof(prefix) - strlen(prefix) - 1);
	memset(&t, 0, sizeof(t));
	memset(&a, 0, sizeof(a));
	a.t = &t;
	a.prefix = prefix;
	a.dir = argv[1];
	a.quiet = quiet;
	if ((rc = gfs_list(g, prefix, list_cb, &a)) < 0) {
		tree_free(&t);
		return error("cannot list '%s': %s", prefix, g->err),
		    exit_for(rc);
	}
	if (t.n == 0) {
		tree_free(&t);
		return error("no files under '%s'", prefix), EXIT_NOTFOUND;
	}
	if (mkdir(argv[1], 0777) < 0 && errno != EEXIST) {
		tree_free(&t);
		return error("cannot create '%s': %s", argv[1],
		    strerror(errno)), EXIT_FAIL;
	}
	memset(&j, 0, sizeof(j));
	t.verb = "get";
	t.show = !quiet && isatty(STDOUT_FILENO);
	t.t0 = now_ms();
	rc = tree_jobs(&t, &j, g->leader.addr, g->timeout_ms, jobs);
	progress_show(&t, 1);
	if (j.missing > 0 && !quiet)
		error("%zu files were removed while they were copied",
		    j.missing);
	tree_free(&t);
	if (rc < 0)
		return error("get -r '%s' failed", prefix), EXIT_FAIL;
	return finish_stdout(0);
}
