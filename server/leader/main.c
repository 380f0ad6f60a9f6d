/*
 * gfs-leader: names, versions, chunk lists, chunk servers and the ring,
 * in Berkeley DB.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "banned.h"
#include "chunker.h"
#include "client.h"
#include "crash.h"
#include "daemon.h"
#include "db.h"
#include "leader.h"

#define PROG	"gfs-leader"

struct leader	*ld;

static void __attribute__((noreturn))
usage(int status)
{
	FILE *f = status ? stderr : stdout;

	fprintf(f,
"usage: " PROG " [-dhnvV] [--listen HOST:PORT] --data DIR [--replicas N]\n"
"                  [--pending-ttl DURATION] [--tokens N]\n"
"                  [--health-interval DURATION] [--remove-after N]\n"
"                  [--keep-versions N] [--trash-ttl DURATION]\n"
"                  [--gc-interval DURATION] [--chunking MODE]\n"
"\n"
"  --listen HOST:PORT        address to serve (default 127.0.0.1:8000; port 0 picks one)\n"
"  --data DIR                Berkeley DB environment (created if missing)\n"
"  --replicas N              copies of each chunk (default 2)\n"
"  --pending-ttl DURATION    drop uncommitted puts after this (default 10m)\n"
"  --tokens N                ring tokens per chunk server (default 128)\n"
"  --health-interval DURATION  check each chunk server this often (default 10s)\n"
"  --remove-after N          misses that take a server off the ring (default 5)\n"
"  --keep-versions N         keep the newest N versions of a name (default 0: all)\n"
"  --trash-ttl DURATION      purge removed files after this (default 24h)\n"
"  --gc-interval DURATION    delete unreferenced chunks this often (default 2s)\n"
"  --chunking MODE           how clients cut new files: fixed, 1 KB chunks\n"
"                            (default), or cdc, content-defined ones\n"
"  -d                        stay in the foreground, log to stderr (default)\n"
"  -v                        log more\n"
"  -n                        check options and data directory, then exit\n"
"  -h, --help                this text\n"
"  -V, --version             print the version\n"
"\n"
"Durations take ms, s, m or h; a bare number is seconds.\n");
	exit(status);
}

static void
expire_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	pending_expire(now_ms());
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "listen",		required_argument, NULL, 'l' },
		{ "data",		required_argument, NULL, 'D' },
		{ "replicas",		required_argument, NULL, 'r' },
		{ "pending-ttl",	required_argument, NULL, 't' },
		{ "tokens",		required_argument, NULL, 'T' },
		{ "health-interval",	required_argument, NULL, 'H' },
		{ "remove-after",	required_argument, NULL, 'R' },
		{ "keep-versions",	required_argument, NULL, 'K' },
		{ "trash-ttl",		required_argument, NULL, 'X' },
		{ "gc-interval",	required_argument, NULL, 'G' },
		{ "chunking",		required_argument, NULL, 'C' },
		{ "help",		no_argument, NULL, 'h' },
		{ "version",		no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct leader	 the;
	const char		*listen = "127.0.0.1:8000", *data = NULL;
	char			 host[48];
	uint16_t		 port;
	int			 ch, verbose = 0, check = 0;
	uint64_t		 tick;
	struct timeval		 tv;
	struct event		*expire;

	ld = &the;
	ld->replicas = 2;
	ld->tokens = 128;
	ld->health_ms = 10 * 1000;
	ld->remove_after = 5;
	ld->pending_ttl_ms = 10 * 60 * 1000;
	ld->trash_ttl_ms = 24 * 60 * 60 * 1000;
	ld->gc_ms = 2 * 1000;
	ld->chunking = CHUNK_FIXED;
	while ((ch = getopt_long(argc, argv, "dhnvV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l': listen = optarg; break;
		case 'D': data = optarg; break;
		case 'r':
			ld->replicas = (int)daemon_number(PROG, "--replicas",
			    optarg, 1, GFS_MAX_REPLICAS);
			break;
		case 't':
			ld->pending_ttl_ms = daemon_duration(PROG,
			    "--pending-ttl", optarg);
			break;
		case 'T':
			ld->tokens = (uint32_t)daemon_number(PROG, "--tokens",
			    optarg, 1, GFS_MAX_TOKENS);
			break;
		case 'H':
			ld->health_ms = daemon_duration(PROG,
			    "--health-interval", optarg);
			break;
		case 'R':
			ld->remove_after = (uint32_t)daemon_number(PROG,
			    "--remove-after", optarg, 1, 1000000);
			break;
		case 'K':
			ld->keep_versions = (uint32_t)daemon_number(PROG,
			    "--keep-versions", optarg, 0, UINT32_MAX);
			break;
		case 'X':
			ld->trash_ttl_ms = daemon_duration(PROG, "--trash-ttl",
			    optarg);
			break;
		case 'G':
			ld->gc_ms = daemon_duration(PROG, "--gc-interval",
			    optarg);
			break;
		case 'C':
			if ((ld->chunking = chunking_parse(optarg)) < 0) {
				fprintf(stderr, PROG ": bad --chunking '%s': "
				    "want fixed or cdc\n", optarg);
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
	ld->started_ms = now_ms();
	if (db_open(data) < 0)
		fatalx("cannot open the database in '%s'", data);
	if (check) {
		db_close();
		printf("configuration OK\n");
		return 0;
	}
	if (leader_load() < 0)
		fatalx("cannot load state from '%s'", data);
	log_info("%llu files, %d chunk servers, ring epoch %llu, %llu pending",
	    (unsigned long long)db_files(), ld->ring->nservers,
	    (unsigned long long)ld->ring->epoch, (unsigned long long)ld->npending);

	ld->srv.base = event_base_new();
	ld->srv.cmds = leader_cmds;
	ld->srv.max_data = 0;
	ld->srv.max_hashes = GFS_MAX_FILE_CHUNKS;
	ld->srv.sync = leader_sync;
	ld->srv.pass_begin = leader_pass_begin;
	ld->srv.pass_end = leader_pass_end;
	db_group_commit(leader_dirty);
	server_signals(ld->srv.base);
	if (server_listen(&ld->srv, host, port) < 0)
		fatal("cannot listen on %s", listen);

	tick = ld->pending_ttl_ms / 4;
	if (tick > 1000)
		tick = 1000;
	if (tick < 10)
		tick = 10;
	tv.tv_sec = (time_t)(tick / 1000);
	tv.tv_usec = (suseconds_t)(tick % 1000) * 1000;
	expire = event_new(ld->srv.base, -1, EV_PERSIST, expire_cb, NULL);
	event_add(expire, &tv);
	member_health_start();
	gc_start();

	log_info("serving %s:%u, %d replicas", host, ld->srv.port, ld->replicas);
	server_ready(&ld->srv, host);
	event_base_dispatch(ld->srv.base);

	event_free(expire);
	gc_stop();
	member_health_stop();
	server_close(&ld->srv);
	pending_free_all();
	member_free();
	db_close();
	event_base_free(ld->srv.base);
	log_info("stopped");
	return 0;
}
