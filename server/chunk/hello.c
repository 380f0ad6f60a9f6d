/*
 * Registration with the leader: HELLO at start, then every
 * --hello-interval, so that a restarted leader relearns this server
 * without anyone's help.  Until the first OK it retries quickly.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "banned.h"
#include "chunkd.h"
#include "proto.h"

#define HELLO_RETRY_MS	200

static struct event		*hello_timer;
static struct bufferevent	*hello_bev;
static int			 hello_failed;	/* log once per outage */
static uint64_t			 hello_epoch;	/* of the last OK, for the log */

static void	hello_schedule(void);

static void
hello_done(int ok, const char *why)
{
	if (hello_bev) {
		bufferevent_free(hello_bev);
		hello_bev = NULL;
	}
	if (!ok) {
		if (!hello_failed)
			log_warnx("leader %s: %s; retrying", cd->leader, why);
		hello_failed = 1;
		cd->registered = 0;
	} else {
		if (hello_failed || !cd->registered)
			log_info("registered with leader %s as %s, ring "
			    "epoch %llu", cd->leader, cd->addr,
			    (unsigned long long)hello_epoch);
		hello_failed = 0;
		cd->registered = 1;
	}
	hello_schedule();
}

static void
hello_read_cb(struct bufferevent *bev, void *arg)
{
	char		*line, *argv[4];
	size_t		 n;
	uint64_t	 epoch, gcseq = 0;
	int		 argc;

	(void)arg;
	line = evbuffer_readln(bufferevent_get_input(bev), &n, EVBUFFER_EOL_CRLF);
	if (line == NULL)
		return;
	argc = proto_split(line, argv, 4);
	if ((argc == 2 || argc == 3) && strcmp(argv[0], "OK") == 0 &&
	    parse_u64(argv[1], 0, UINT64_MAX, &epoch) == 0 &&
	    (argc == 2 || parse_u64(argv[2], 0, UINT64_MAX, &gcseq) == 0)) {
		hello_epoch = epoch;
		gc_hello(gcseq);
		CD_LOCK();
		if (cd->epoch != epoch) {
			cd->epoch = epoch;
			pthread_cond_signal(&cd->wake);	/* repair looks */
		}
		CD_UNLOCK();
		free(line);
		hello_done(1, NULL);
		return;
	}
	log_warnx("leader refused HELLO: %s", line);
	free(line);
	hello_done(0, "HELLO refused");
}

static void
hello_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)arg;
	if (what & BEV_EVENT_CONNECTED) {
		evbuffer_add_printf(bufferevent_get_output(bev),
		    "HELLO %s %s\r\n", cd->id, cd->addr);
		return;
	}
	hello_done(0, what & BEV_EVENT_TIMEOUT ? "no answer" :
	    "cannot connect");
}

static void
hello_fire(evutil_socket_t fd, short what, void *arg)
{
	struct sockaddr_in	sin;
	struct timeval		tv = { 5, 0 };
	char			host[64];
	uint16_t		port;

	(void)fd;
	(void)what;
	(void)arg;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (parse_hostport(cd->leader, host, sizeof(host), &port) < 0 ||
	    inet_pton(AF_INET, host, &sin.sin_addr) != 1) {
		hello_done(0, "bad leader address");
		return;
	}
	sin.sin_port = htons(port);
	hello_bev = bufferevent_socket_new(cd->srv.base, -1,
	    BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(hello_bev, hello_read_cb, NULL, hello_event_cb, NULL);
	bufferevent_set_timeouts(hello_bev, &tv, &tv);
	bufferevent_enable(hello_bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(hello_bev, (struct sockaddr *)&sin,
	    sizeof(sin)) < 0)
		hello_done(0, "cannot connect");
}

static void
hello_schedule(void)
{
	uint64_t	ms = cd->registered ? cd->hello_ms :
			    (cd->hello_ms < HELLO_RETRY_MS ? cd->hello_ms :
			    HELLO_RETRY_MS);
	struct timeval	tv = { (time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(hello_timer, &tv);
}

void
hello_start(void)
{
	struct timeval now = { 0, 0 };

	hello_timer = evtimer_new(cd->srv.base, hello_fire, NULL);
	evtimer_add(hello_timer, &now);
}

void
hello_stop(void)
{
	if (hello_bev)
		bufferevent_free(hello_bev);
	hello_bev = NULL;
	if (hello_timer)
		event_free(hello_timer);
	hello_timer = NULL;
}
