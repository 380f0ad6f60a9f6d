/*
 * The client API the CLI (and later the gateway) is built on: metadata
 * at the leader, put and get against the chunk servers.
 */
#ifndef GFS_API_H
#define GFS_API_H

#include <stddef.h>
#include <stdint.h>

#include "client.h"
#include "ring.h"

struct gfs {
	struct cconn	 leader;
	struct ring	*ring;
	struct cconn	*chunk;		/* one per ring server */
	int		*down;		/* per ring server: failed this run */
	int		 timeout_ms;
	int		 chunking;	/* the leader's, from RING */
	char		 err[512];	/* detail of the last failure */
};

/* A file of a tree put or get: local path, name, size (put: a hint). */
struct gfs_tfile {
	const char	*path;
	const char	*name;
	uint64_t	 size;
};

struct gfs_putopt {
	int64_t		 if_version;	/* -1: none; 0: the name must not exist */
};

struct gfs_file {
	char		  name[GFS_MAX_NAME + 1];
	uint32_t	  version;
	uint64_t	  size;
	uint64_t	  mtime;
	uint64_t	  epoch;
	int		  has_sha;
	uint8_t		  sha[GFS_HASH_LEN];	/* of the whole file */
	int		  chunking;
	size_t		  nchunks;
	uint8_t		(*hashes)[GFS_HASH_LEN];
};

struct gfs_entry {
	const char	*name;
	uint32_t	 version;
	uint64_t	 size;
	uint64_t	 mtime;
};

struct gfs_version {
	uint32_t	 version;
	uint64_t	 size;
	uint64_t	 mtime;
	int		 has_sha;
	uint8_t		 sha[GFS_HASH_LEN];
	int		 chunking;
	size_t		 nchunks;
};

struct gfs_trashed {
	const char	*name;
	uint64_t	 deleted;	/* wall clock, seconds */
	uint32_t	 latest;
	uint32_t	 nversions;
	uint64_t	 size;
};

void	gfs_init(struct gfs *, const char *leader, int timeout_ms);
void	gfs_close(struct gfs *);
/*
 * Fetch the ring from the leader, unless the one held is at least as
 * new as epoch (UINT64_MAX: fetch it in any case).
 */
int	gfs_ring(struct gfs *, uint64_t epoch);
int	gfs_ring_check(struct gfs *, int *moved);
/* Use ring r (taken over) and open no connection yet. */
void	gfs_set_ring(struct gfs *, struct ring *);
/*
 * Before another request of a long-lived client (gfs_put calls it; a
 * reader calls it before gfs_lookup): forget which chunk servers
 * failed, and drop the connections (the leader's too) that failed, are
 * out of step, were closed by the server or idle long enough that it
 * may close them.
 */
void	gfs_renew(struct gfs *);

/* name is "NAME" or "NAME@VERSION" (a trailing @ and digits). */
int	gfs_lookup(struct gfs *, const char *name, struct gfs_file *);
/*
 * gfs_lookup() with, when none is held yet, the ring fetched in the
 * same round trip: what a process that gets one file needs first.
 */
int	gfs_lookup_ring(struct gfs *, const char *name, struct gfs_file *);
/* The same in two halves, to pipeline many: send them all, then read. */
int	gfs_lookup_send(struct gfs *, const char *name, struct gfs_file *);
int	gfs_lookup_read(struct gfs *, struct gfs_file *);
void	gfs_file_free(struct gfs_file *);
int	gfs_list(struct gfs *, const char *prefix,
	    int (*cb)(const struct gfs_entry *, void *), void *arg);
/* To the trash; purge: now, with the name's trash entries too. */
int	gfs_delete(struct gfs *, const char *name, int purge);
/* Keep the newest keep versions; *n dropped. */
int	gfs_prune(struct gfs *, const char *name, uint32_t keep, uint64_t *n);
/* The newest trash entry of name back, as newname if not NULL. */
int	gfs_undelete(struct gfs *, const char *name, const char *newname,
	    uint32_t *version);
/* Versions of a name, newest first. */
int	gfs_versions(struct gfs *, const char *name,
	    int (*cb)(const struct gfs_version *, void *), void *arg);
int	gfs_trash(struct gfs *, const char *prefix,
	    int (*cb)(const struct gfs_trashed *, void *), void *arg);
/* The leader's STATS JSON, malloc'ed. */
int	gfs_stats(struct cconn *, char **json);

/*
 * Store fd's bytes as the next version of name (opt may be NULL).
 * GFS_ECONFLICT when opt->if_version is not the current version.
 */
int	gfs_put(struct gfs *, int fd, const char *name,
	    const struct gfs_putopt *opt, uint32_t *version, uint64_t *size);
/*
 * gfs put -r, one worker's share: files [lo, hi) become the pending
 * mappings <base>-<i>, their chunks committed; progress(arg, files,
 * bytes) after each batch.  Nothing is visible before
 * gfs_commit_group(g, base, n) makes all n files versions at once.
 */
int	gfs_put_files(struct gfs *, const char *base,
	    const struct gfs_tfile *files, size_t lo, size_t hi,
	    void (*progress)(void *, size_t, uint64_t), void *arg);
int	gfs_commit_group(struct gfs *, const char *base, size_t n);
int	gfs_abort_group(struct gfs *, const char *base, size_t n);
/*
 * gfs get -r, one worker's share: each name's latest version into its
 * path (a temporary file renamed once whole and checked).  Names that
 * vanished meanwhile are skipped and counted in *missing.
 */
int	gfs_get_files(struct gfs *, const struct gfs_tfile *files, size_t n,
	    void (*progress)(void *, size_t, uint64_t), void *arg,
	    size_t *missing);
/* Write the file's bytes to fd, in order, each chunk checked. */
int	gfs_get(struct gfs *, const struct gfs_file *, int fd);

/* "NAME@12" splits into NAME and 12; no version gives 0. */
int	gfs_split_version(const char *arg, char *name, size_t namesz,
	    uint32_t *version);

/* Record why the leader failed in g->err and pass the code on. */
int	gfs_leader_err(struct gfs *, int);

#endif
