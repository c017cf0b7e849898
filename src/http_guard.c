/*
 * http_guard.c: connection tracking and the deadline reaper.
 *
 * The entries form one doubly linked list under one mutex. The reaper
 * wakes every REAP_PERIOD_MS and walks the list, which holds at most
 * max_connections entries; a request is thus cut between request_timeout
 * and request_timeout + REAP_PERIOD_MS after its deadline started.
 */
#include "http_guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>

#include "log.h"

#define REAP_PERIOD_MS	200

struct guard_conn {
	struct guard_conn	*prev, *next;
	int			 fd;
	uint64_t		 start;		/* the deadline runs from here */
	int			 held;		/* waiting for the writer */
	int			 cut;		/* shut down already */
};

struct http_guard {
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	pthread_t		 reaper;
	struct guard_conn	*head;
	uint64_t		 limit;		/* ns */
	unsigned int		 timeout;	/* s, for the log */
	int			 stop;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Cut every connection past its deadline; returns how many. Called with
 * the mutex held, which keeps each descriptor open (see http_guard.h). */
static unsigned int
reap(struct http_guard *g, uint64_t now)
{
	struct guard_conn	*c;
	unsigned int		 n = 0;

	for (c = g->head; c != NULL; c = c->next) {
		if (c->held || c->cut || c->fd < 0 || now - c->start < g->limit)
			continue;
		/* shutdown, not close: the descriptor stays libmicrohttpd's,
		 * which sees the end of the stream and cleans up. */
		(void)shutdown(c->fd, SHUT_RDWR);
		c->cut = 1;
		n++;
	}
	return n;
}

static void *
reaper_main(void *arg)
{
	struct http_guard	*g = arg;
	struct timespec		 until;
	unsigned int		 n;

	pthread_mutex_lock(&g->mu);
	while (!g->stop) {
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += REAP_PERIOD_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!g->stop && pthread_cond_timedwait(&g->cv, &g->mu,
		    &until) != ETIMEDOUT)
			;
		if (g->stop)
			break;
		if ((n = reap(g, now_ns())) == 0)
			continue;
		pthread_mutex_unlock(&g->mu);
		log_json("warning", "request timeout", json_pack("{s:i, s:i}",
		    "connections_cut", (int)n, "request_timeout",
		    (int)g->timeout));
		pthread_mutex_lock(&g->mu);
	}
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

struct http_guard *
http_guard_new(unsigned int request_timeout, char *err, size_t errlen)
{
	struct http_guard	*g;
	pthread_condattr_t	 ca;

	if (request_timeout == 0)
		abort();	/* config.c allows 1 to 3600 */
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	g->limit = (uint64_t)request_timeout * 1000000000u;
	g->timeout = request_timeout;
	pthread_mutex_init(&g->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&g->reaper, NULL, reaper_main, g) != 0) {
		snprintf(err, errlen, "cannot start the request-timeout thread");
		pthread_cond_destroy(&g->cv);
		pthread_mutex_destroy(&g->mu);
		free(g);
		return NULL;
	}
	return g;
}

void
http_guard_free(struct http_guard *g)
{
	struct guard_conn *c, *next;

	if (g == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	g->stop = 1;
	pthread_cond_signal(&g->cv);
	pthread_mutex_unlock(&g->mu);
	pthread_join(g->reaper, NULL);
	/* libmicrohttpd has notified CLOSED for every connection by now;
	 * free whatever is left all the same. */
	for (c = g->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	pthread_cond_destroy(&g->cv);
	pthread_mutex_destroy(&g->mu);
	free(g);
}

void
http_guard_notify(void *cls, struct MHD_Connection *conn,
    void **socket_context, enum MHD_ConnectionNotificationCode toe)
{
	struct http_guard		*g = cls;
	struct guard_conn		*c;
	const union MHD_ConnectionInfo	*ci;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		/* Out of memory: the connection goes untracked, with only the
		 * idle timeout, rather than being refused here. */
		if ((c = calloc(1, sizeof(*c))) == NULL)
			return;
		ci = MHD_get_connection_info(conn,
		    MHD_CONNECTION_INFO_CONNECTION_FD);
		c->fd = ci != NULL ? ci->connect_fd : -1;
		c->start = now_ns();
		pthread_mutex_lock(&g->mu);
		c->next = g->head;
		if (g->head != NULL)
			g->head->prev = c;
		g->head = c;
		pthread_mutex_unlock(&g->mu);
		*socket_context = c;
		return;
	}
	if ((c = *socket_context) == NULL)
		return;
	*socket_context = NULL;
	pthread_mutex_lock(&g->mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		g->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&g->mu);
	free(c);
}

static struct guard_conn *
entry(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

void
http_guard_hold(struct http_guard *g, struct MHD_Connection *conn)
{
	struct guard_conn *c = entry(conn);

	if (c == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	c->held = 1;
	pthread_mutex_unlock(&g->mu);
}

void
http_guard_done(struct http_guard *g, struct MHD_Connection *conn)
{
	struct guard_conn *c = entry(conn);

	if (c == NULL)
		return;
	pthread_mutex_lock(&g->mu);
	c->held = 0;
	c->start = now_ns();
	pthread_mutex_unlock(&g->mu);
}
