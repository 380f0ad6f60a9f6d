/*
 * gfs-chunkd: keeps 1 KB chunks in append-only segment files.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "banned.h"
#include "chunkd.h"
#include "client.h"
#include "crash.h"
#include "daemon.h"
#include "hash.h"
#include "proto.h"
#include "xmalloc.h"

#define PROG	"gfs-chunkd"

struct chunkd	*cd;

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status ? stderr : stdout;

	fprintf(f,
"usage: " PROG " [-dhnvV] [--listen HOST:PORT] --data DIR [--leader HOST:PORT]\n"
"                  [--pending-ttl DURATION] [--hello-interval DURATION]\n"
"                  [--repair-interval DURATION] [--repair-rate RATE]\n"
"                  [--scrub-interval DURATION] [--advertise HOST:PORT]\n"
"                  [--compact-interval DURATION] [--compact-threshold PERCENT]\n"
"                  [--segment-size SIZE]\n"
"\n"
"  --listen HOST:PORT          address to serve (default 127.0.0.1:8100; port 0 picks one)\n"
"  --advertise HOST:PORT       address to announce to the leader (default: --listen;\n"
"                              port 0 is the listening port)\n"
"  --data DIR                  data directory: id and segment files\n"
"  --leader HOST:PORT          the leader (default 127.0.0.1:8000)\n"
"  --pending-ttl DURATION      drop uncommitted chunks after this (default 10m)\n"
"  --hello-interval DURATION   register with the leader this often (default 5s)\n"
"  --repair-interval DURATION  repair the replicas this often (default 60s)\n"
"  --repair-rate RATE          copy and scrub RATE bytes/s (default 20M)\n"
"  --scrub-interval DURATION   verify every chunk this often (default 24h)\n"
"  --compact-interval DURATION\n"
"                              compact segments this often, or off (default 10s)\n"
"  --compact-threshold PERCENT\n"
"                              when over PERCENT is garbage (default 25)\n"
"  --segment-size SIZE         start a new segment file at SIZE (default 64M)\n"
"  -d                          stay in the foreground, log to stderr (default)\n"
"  -v                          log more\n"
"  -n                          check options and data directory, then exit\n"
"  -h, --help                  this text\n"
"  -V, --version               print the version\n"
"\n"
"Durations take ms, s, m or h; a bare number is seconds.  A RATE or a SIZE\n"
"is bytes, or a number followed by k, M or G (1024, 1024^2, 1024^3 bytes).\n");
	exit(status);
}

/* The id file holds this server's stable identity. */
static int
load_id(const char *dir, char *id, size_t idsz)
{
	char	path[4096], tmp[4200], buf[GFS_MAX_ID + 2];
	int	fd;
	ssize_t	n;

	snprintf(path, sizeof(path), "%s/id", dir);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			return -1;
		buf[n] = '\0';
		buf[strcspn(buf, "\r\n")] = '\0';
		if (buf[0] == '\0' || !txid_valid(buf) || strlen(buf) >= idsz) {
			errno = EINVAL;
			return -1;
		}
		snprintf(id, idsz, "%s", buf);
		return 0;
	}
	if (errno != ENOENT)
		return -1;
	random_hex(buf, 16);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return -1;
	n = dprintf(fd, "%s\n", buf);
	if (n < 0 || fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0)
		return -1;
	snprintf(id, idsz, "%s", buf);
	return 0;
}

/* A number of bytes with an optional k, M or G; 0 when it is not one. */
static uint64_t
parse_bytes(const char *arg)
{
	char		num[32];
	size_t		len = strlen(arg);
	uint64_t	mult = 1, v;

	if (len == 0 || len >= sizeof(num))
		return 0;
	switch (arg[len - 1]) {
	case 'k': mult = 1024; len--; break;
	case 'M': mult = 1024 * 1024; len--; break;
	case 'G': mult = 1024 * 1024 * 1024; len--; break;
	}
	memcpy(num, arg, len);
	num[len] = '\0';
	if (parse_u64(num, 1, UINT64_MAX / mult, &v) < 0)
		return 0;
	return v * mult;
}

/* RATE: bytes a second, at least 1, with an optional k, M or G. */
static uint64_t
parse_rate(const char *opt, const char *arg)
{
	uint64_t v = parse_bytes(arg);

	if (v > 0)
		return v;
	fprintf(stderr, PROG ": bad %s '%s': want bytes a second like 500k, "
	    "20M, 1G\n", opt, arg);
	exit(2);
}

static struct event *expire_timer;

static void
expire_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	txn_expire(now_ms());
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen",		required_argument, NULL, 'l' },
		{ "data",		required_argument, NULL, 'D' },
		{ "leader",		required_argument, NULL, 'L' },
		{ "pending-ttl",	required_argument, NULL, 't' },
		{ "hello-interval",	required_argument, NULL, 'H' },
		{ "repair-interval",	required_argument, NULL, 'R' },
		{ "repair-rate",	required_argument, NULL, 'r' },
		{ "scrub-interval",	required_argument, NULL, 'S' },
		{ "advertise",		required_argument, NULL, 'A' },
		{ "compact-interval",	required_argument, NULL, 'C' },
		{ "compact-threshold",	required_argument, NULL, 'P' },
		{ "segment-size",	required_argument, NULL, 'Z' },
		{ "help",		no_argument, NULL, 'h' },
		{ "version",		no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct chunkd	 the;
	const char		*listen = "127.0.0.1:8100", *data = NULL;
	const char		*advertise = NULL;
	char			 host[48], lhost[64], ahost[48];
	uint16_t		 port, lport, aport = 0;
	int			 ch, verbose = 0, check = 0;
	uint64_t		 tick, segsize = GFS_SEGMENT_SIZE;
	struct timeval		 tv;

	cd = &the;
	snprintf(cd->leader, sizeof(cd->leader), "127.0.0.1:8000");
	cd->pending_ttl_ms = 10 * 60 * 1000;
	cd->hello_ms = 5000;
	cd->repair_ms = 60 * 1000;
	cd->repair_rate = 20 * 1024 * 1024;
	cd->scrub_ms = 24 * 60 * 60 * 1000;
	cd->compact_ms = 10 * 1000;
	cd->compact_pct = 25;
	while ((ch = getopt_long(argc, argv, "dhnvV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l': listen = optarg; break;
		case 'D': data = optarg; break;
		case 'L':
			daemon_addr(PROG, "--leader", optarg, lhost,
			    sizeof(lhost), &lport);
			snprintf(cd->leader, sizeof(cd->leader), "%s", optarg);
			break;
		case 't':
			cd->pending_ttl_ms = daemon_duration(PROG,
			    "--pending-ttl", optarg);
			break;
		case 'H':
			cd->hello_ms = daemon_duration(PROG, "--hello-interval",
			    optarg);
			break;
		case 'R':
			cd->repair_ms = daemon_duration(PROG,
			    "--repair-interval", optarg);
			break;
		case 'r':
			cd->repair_rate = parse_rate("--repair-rate", optarg);
			break;
		case 'S':
			cd->scrub_ms = daemon_duration(PROG, "--scrub-interval",
			    optarg);
			break;
		case 'A':
			daemon_addr(PROG, "--advertise", optarg, ahost,
			    sizeof(ahost), &aport);
			advertise = ahost;
			break;
		case 'C':
			if (strcmp(optarg, "off") == 0 || strcmp(optarg, "0") == 0)
				cd->compact_ms = 0;
			else
				cd->compact_ms = daemon_duration(PROG,
				    "--compact-interval", optarg);
			break;
		case 'P':
			cd->compact_pct = (unsigned)daemon_number(PROG,
			    "--compact-threshold", optarg, 1, 99);
			break;
		case 'Z':
			segsize = parse_bytes(optarg);
			if (segsize < 64 * 1024 || segsize > GFS_SEGMENT_SIZE) {
				fprintf(stderr, PROG ": bad --segment-size '%s': "
				    "want 64k to 64M\n", optarg);
				exit(2);
			}
			break;
		case 'd': break;
		case 'v': verbose++; break;
		case 'n': check = 1; break;
		case 'h': usage(0);
		case 'V': printf(PROG " version " GFS_VERSION "\n"); exit(0);
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	if (data == NULL) {
		fprintf(stderr, PROG ": --data DIR is required\n");
		usage(2);
	}
	daemon_addr(PROG, "--listen", listen, host, sizeof(host), &port);
	log_init(PROG, verbose);
	crash_init();

	if (daemon_mkdir(data) < 0)
		fatal("cannot create data directory '%s'", data);
	if (load_id(data, cd->id, sizeof(cd->id)) < 0)
		fatal("cannot read or create '%s/id'", data);
	if (check) {
		printf("configuration OK\n");
		return 0;
	}
	cd->started_ms = now_ms();
	repair_init();
	if (store_open(&cd->st, data) < 0)
		fatalx("cannot open the chunk store in '%s'", data);
	cd->st.segsize = segsize;
	log_info("store: %llu chunks, %llu bytes in %u segments, %.1f s",
	    (unsigned long long)cd->st.chunks,
	    (unsigned long long)cd->st.bytes, cd->st.files,
	    (double)(now_ms() - cd->started_ms) / 1000);

	cd->srv.base = event_base_new();
	cd->srv.cmds = chunk_cmds;
	cd->srv.max_data = GFS_MAX_CHUNK;
	cd->srv.block_size = GFS_CHUNK_SIZE + 1;	/* as conns size data */
	cd->srv.max_hashes = 0;
	cd->srv.sync = chunk_sync;
	server_signals(cd->srv.base);
	if (server_listen(&cd->srv, host, port) < 0)
		fatal("cannot listen on %s", listen);
	/* What the leader, clients and peers use: maybe a proxy's address. */
	snprintf(cd->addr, sizeof(cd->addr), "%s:%u", advertise ? advertise :
	    host, advertise && aport ? aport : cd->srv.port);

	tick = cd->pending_ttl_ms / 4;
	if (tick > 1000)
		tick = 1000;
	if (tick < 10)
		tick = 10;
	tv.tv_sec = (time_t)(tick / 1000);
	tv.tv_usec = (suseconds_t)(tick % 1000) * 1000;
	expire_timer = event_new(cd->srv.base, -1, EV_PERSIST, expire_cb, NULL);
	event_add(expire_timer, &tv);
	hello_start();

	log_info("id %s serving %s:%u as %s, leader %s", cd->id, host,
	    cd->srv.port, cd->addr, cd->leader);
	server_ready(&cd->srv, host);
	repair_start();
	compact_start();
	event_base_dispatch(cd->srv.base);

	compact_stop();
	repair_stop();
	hello_stop();
	event_free(expire_timer);
	txn_free_all();		/* its blocks back to the pool, */
	server_close(&cd->srv);	/* which this frees */
	gc_free();
	store_trim(&cd->st);
	store_close(&cd->st);
	event_base_free(cd->srv.base);
	log_info("stopped");
	return 0;
}
