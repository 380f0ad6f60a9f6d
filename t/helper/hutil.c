#include <sys/socket.h>

#include <arpa/inet.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "banned.h"
#include "hutil.h"

void
die(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", helper_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

int
parse_num(const char *s, unsigned long min, unsigned long max,
    unsigned long *out)
{
	unsigned long v = 0;

	if (*s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (unsigned long)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	if (v < min)
		return -1;
	*out = v;
	return 0;
}

void
parse_loopback(const char *addr, unsigned long minport, struct sockaddr_in *sin)
{
	char		 host[INET_ADDRSTRLEN];
	const char	*colon = strrchr(addr, ':');
	unsigned long	 port;
	size_t		 hlen;

	if (colon == NULL || (hlen = (size_t)(colon - addr)) >= sizeof(host))
		die(HELPER_EXIT_USAGE, "bad address '%s'", addr);
	memcpy(host, addr, hlen);
	host[hlen] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1 ||
	    parse_num(colon + 1, minport, 65535, &port) < 0)
		die(HELPER_EXIT_USAGE, "bad address '%s'", addr);
	if ((ntohl(sin->sin_addr.s_addr) >> 24) != 127)
		die(HELPER_EXIT_USAGE, "refusing '%s': not in 127.0.0.0/8",
		    addr);
	sin->sin_port = htons((unsigned short)port);
}

long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
