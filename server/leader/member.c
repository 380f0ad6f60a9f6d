/*
 * Membership: the chunk servers, their ring tokens and their health.
 *
 * A server joins with HELLO and gets ntokens tokens from ring_assign(),
 * kept in servers.db for good: the same id always comes back with the
 * same tokens.  Every --health-interval the leader PINGs each server
 * that is not removed; 1 to remove-after - 1 consecutive misses make it
 * unhealthy (writes skip it, reads try it last), remove-after misses
 * take it off the ring.  A HELLO brings it back.  Every change of a
 * server's state moves the ring epoch on, durably, so clients refetch
 * the ring.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "banned.h"
#include "client.h"
#include "db.h"
#include "leader.h"
#include "proto.h"
#include "xmalloc.h"

/* A health check in flight; callbacks get the index, the array moves. */
struct probe {
	struct bufferevent	*bev;
	int			 readmit;	/* said HELLO while not healthy */
};

static int		 epoch_bump(void);
static void		 probe_start(int);
static struct event	*health_timer;
static struct probe	*probes;	/* one per server, bev NULL if idle */
static int		 nprobes;

static int
load_one(const char *id, const char *addr, int removed, uint32_t ntokens,
    const uint64_t *tokens, void *arg)
{
	(void)arg;
	if (ld->ring->nservers == GFS_MAX_SERVERS)
		return 0;
	ring_add_server(ld->ring, id, addr, removed ? SRV_REMOVED : SRV_HEALTHY,
	    ntokens, tokens);
	return 0;
}

static void
grow_tables(void)
{
	int n = ld->ring->nservers;

	ld->last_seen = xreallocarray(ld->last_seen, (size_t)n + 1,
	    sizeof(*ld->last_seen));
	ld->last_seen[n - 1] = now_ms();
	probes = xreallocarray(probes, (size_t)n + 1, sizeof(*probes));
	memset(&probes[n - 1], 0, sizeof(*probes));
	nprobes = n;
}

int
member_load(void)
{
	int i;

	ld->ring = ring_new(db_epoch(), ld->replicas);
	if (db_servers(load_one, NULL) < 0)
		return -1;
	ring_build(ld->ring);
	ld->last_seen = xcalloc((size_t)ld->ring->nservers + 1,
	    sizeof(*ld->last_seen));
	probes = xcalloc((size_t)ld->ring->nservers + 1, sizeof(*probes));
	nprobes = ld->ring->nservers;
	for (i = 0; i < nprobes; i++)
		ld->last_seen[i] = now_ms();
	/*
	 * States other than removed are not stored: every server starts
	 * healthy, so this is a ring no epoch named before.
	 */
	return epoch_bump();
}

/* Move the epoch on, durably; the ring is rebuilt when tokens change. */
static int
epoch_bump(void)
{
	if (db_epoch_put(ld->ring->epoch + 1) < 0)
		return -1;
	ld->ring->epoch++;
	return 0;
}

static int
persist(int s)
{
	struct ring_server *rs = &ld->ring->servers[s];

	if (db_server_put(rs->id, rs->addr, rs->state == SRV_REMOVED,
	    rs->ntokens, rs->tokens, ld->ring->epoch + 1) < 0)
		return -1;
	ld->ring->epoch++;
	return 0;
}

int
member_hello(const char *id, const char *addr)
{
	struct ring		*r = ld->ring;
	struct ring_server	*rs;
	uint64_t		*tokens;
	int			 s, was;

	for (s = 0; s < r->nservers; s++)
		if (strcmp(r->servers[s].id, id) == 0)
			break;
	if (s == r->nservers) {
		if (s == GFS_MAX_SERVERS)
			return GFS_ETOOBIG;
		tokens = xreallocarray(NULL, ld->tokens + 1, sizeof(*tokens));
		ring_assign(r, id, ld->tokens, tokens);
		if (db_server_put(id, addr, 0, ld->tokens, tokens,
		    r->epoch + 1) < 0) {
			free(tokens);
			return GFS_EIO;
		}
		ring_add_server(r, id, addr, SRV_HEALTHY, ld->tokens, tokens);
		free(tokens);
		r->epoch++;
		ring_build(r);
		grow_tables();
		log_info("chunk server %s joined at %s with %u tokens, epoch %llu",
		    id, addr, ld->tokens, (unsigned long long)r->epoch);
		return 0;
	}
	rs = &r->servers[s];
	was = rs->state;
	if (was == SRV_HEALTHY && strcmp(rs->addr, addr) == 0) {
		ld->last_seen[s] = now_ms();
		rs->misses = 0;
		return 0;
	}
	if (strcmp(rs->addr, addr) != 0) {
		log_info("chunk server %s moved from %s to %s", id, rs->addr,
		    addr);
		snprintf(rs->addr, sizeof(rs->addr), "%s", addr);
		if (persist(s) < 0)
			return GFS_EIO;
	}
	if (was == SRV_HEALTHY)
		return 0;
	/*
	 * It can reach us; whether we (and so the clients) can reach it,
	 * a health check says: only an answer brings it back.  A server
	 * whose inbound link is cut would otherwise flap in and out.
	 */
	probes[s].readmit = 1;
	if (probes[s].bev == NULL)
		probe_start(s);
	return 0;
}

/* A server that said HELLO answered its health check: back in the ring. */
static void
readmit(int s)
{
	struct ring_server	*rs = &ld->ring->servers[s];
	int			 was = rs->state;

	probes[s].readmit = 0;
	rs->state = SRV_HEALTHY;
	rs->misses = 0;
	ld->last_seen[s] = now_ms();
	if (persist(s) < 0) {
		rs->state = was;
		return;
	}
	if (was == SRV_REMOVED)
		ring_build(ld->ring);
	log_info("chunk server %s at %s is back (was %s), epoch %llu",
	    rs->id, rs->addr, ring_state_name(was),
	    (unsigned long long)ld->ring->epoch);
}

/* A health check of server s answered (ok) or not. */
static void
health_result(int s, int ok)
{
	struct ring_server	*rs = &ld->ring->servers[s];
	int			 was = rs->state;

	if (ok && was != SRV_HEALTHY && probes[s].readmit) {
		readmit(s);
		return;
	}
	probes[s].readmit = 0;
	if (was == SRV_REMOVED)
		return;
	if (ok) {
		ld->last_seen[s] = now_ms();
		rs->misses = 0;
		if (was == SRV_UNHEALTHY) {
			rs->state = SRV_HEALTHY;
			if (epoch_bump() < 0)
				rs->state = was;
			else
				log_info("chunk server %s at %s is healthy "
				    "again", rs->id, rs->addr);
		}
		return;
	}
	rs->misses++;
	if (rs->misses >= ld->remove_after) {
		rs->state = SRV_REMOVED;
		if (persist(s) < 0) {
			rs->state = was;
			return;
		}
		ring_build(ld->ring);
		log_warnx("chunk server %s at %s missed %u health checks: "
		    "removed from the ring, epoch %llu", rs->id, rs->addr,
		    rs->misses, (unsigned long long)ld->ring->epoch);
	} else if (was == SRV_HEALTHY) {
		rs->state = SRV_UNHEALTHY;
		if (epoch_bump() < 0)
			rs->state = was;
		else
			log_warnx("chunk server %s at %s missed a health "
			    "check: unhealthy", rs->id, rs->addr);
	}
}

static void
probe_done(int s, int ok)
{
	if (probes[s].bev) {
		bufferevent_free(probes[s].bev);
		probes[s].bev = NULL;
	}
	health_result(s, ok);
}

static void
probe_read_cb(struct bufferevent *bev, void *arg)
{
	int		 s = (int)(intptr_t)arg;
	char		*line;
	size_t		 n;
	int		 ok;

	line = evbuffer_readln(bufferevent_get_input(bev), &n, EVBUFFER_EOL_CRLF);
	if (line == NULL)
		return;
	ok = strncmp(line, "PONG ", 5) == 0 &&
	    strcmp(line + 5, ld->ring->servers[s].id) == 0;
	if (!ok)
		log_warnx("health check of %s: unexpected reply '%.60s'",
		    ld->ring->servers[s].addr, line);
	free(line);
	probe_done(s, ok);
}

static void
probe_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	probe_done((int)(intptr_t)arg, 0);
}

/*
 * A bufferevent connecting to addr (HOST:PORT) with read and write
 * timeouts, or NULL when addr is not usable.
 */
struct bufferevent *
leader_connect(const char *addr, uint64_t timeout_ms, bufferevent_data_cb rd,
    bufferevent_event_cb ev, void *arg)
{
	struct bufferevent	*bev;
	struct sockaddr_in	 sin;
	char			 host[64];
	uint16_t		 port;
	struct timeval		 tv = { (time_t)(timeout_ms / 1000),
				    (suseconds_t)(timeout_ms % 1000) * 1000 };

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (parse_hostport(addr, host, sizeof(host), &port) < 0 ||
	    inet_pton(AF_INET, host, &sin.sin_addr) != 1)
		return NULL;
	sin.sin_port = htons(port);
	bev = bufferevent_socket_new(ld->srv.base, -1, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(bev, rd, NULL, ev, arg);
	bufferevent_set_timeouts(bev, &tv, &tv);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&sin,
	    sizeof(sin)) < 0) {
		bufferevent_free(bev);
		return NULL;
	}
	return bev;
}

static void
probe_start(int s)
{
	struct probe *p = &probes[s];

	p->bev = leader_connect(ld->ring->servers[s].addr, ld->health_ms,
	    probe_read_cb, probe_event_cb, (void *)(intptr_t)s);
	if (p->bev == NULL) {
		health_result(s, 0);
		return;
	}
	evbuffer_add(bufferevent_get_output(p->bev), "PING\r\n", 6);
}

static void
health_tick(evutil_socket_t fd, short what, void *arg)
{
	int s;

	(void)fd;
	(void)what;
	(void)arg;
	for (s = 0; s < nprobes; s++) {
		if (ld->ring->servers[s].state == SRV_REMOVED)
			continue;
		if (probes[s].bev)	/* no answer within a whole interval */
			probe_done(s, 0);
		probe_start(s);
	}
}

void
member_health_start(void)
{
	struct timeval tv = { (time_t)(ld->health_ms / 1000),
	    (suseconds_t)(ld->health_ms % 1000) * 1000 };

	health_timer = event_new(ld->srv.base, -1, EV_PERSIST, health_tick, NULL);
	event_add(health_timer, &tv);
}

void
member_health_stop(void)
{
	int s;

	if (health_timer)
		event_free(health_timer);
	health_timer = NULL;
	for (s = 0; s < nprobes; s++)
		if (probes[s].bev) {
			bufferevent_free(probes[s].bev);
			probes[s].bev = NULL;
		}
}

void
member_free(void)
{
	free(probes);
	probes = NULL;
	nprobes = 0;
	free(ld->last_seen);
	ring_free(ld->ring);
}
