/*
 * http_guard: a total deadline per request, which libmicrohttpd 0.9.75
 * does not have (its timeout only counts idle time, so a client that
 * sends one byte every few seconds keeps a connection for ever).
 *
 * Every connection is tracked from MHD_CONNECTION_NOTIFY_STARTED to
 * MHD_CONNECTION_NOTIFY_CLOSED. Its deadline runs from when it opened, or
 * from when its previous request completed, and a reaper thread shuts
 * down (shutdown(2), both ways) the socket of any connection past it;
 * libmicrohttpd then sees the end of the stream and closes the connection
 * like any other. A connection whose request waits for the ledger writer
 * is never cut: its event is being committed, and its answer follows.
 *
 * libmicrohttpd notifies CLOSED before it closes the socket, and the
 * reaper only touches a socket under the mutex that the CLOSED
 * notification takes, so it never shuts down a descriptor that has been
 * closed and reused.
 */
#ifndef HL_HTTP_GUARD_H
#define HL_HTTP_GUARD_H

#include <stddef.h>

#include <microhttpd.h>

struct http_guard;

/* Start the reaper for a deadline of request_timeout seconds (>= 1).
 * Returns NULL with one line in err. */
struct http_guard *http_guard_new(unsigned int request_timeout, char *err,
		    size_t errlen);

/* Stop the reaper and free; accepts NULL. Call after MHD_stop_daemon(),
 * since the notifications use g. */
void		 http_guard_free(struct http_guard *g);

/* The MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. Keeps the
 * connection's entry in *socket_context. Thread-safe. */
void		 http_guard_notify(void *cls, struct MHD_Connection *conn,
		    void **socket_context,
		    enum MHD_ConnectionNotificationCode toe);

/* conn's request is about to be suspended for the writer: exempt it from
 * the deadline until it completes. Thread-safe. */
void		 http_guard_hold(struct http_guard *g,
		    struct MHD_Connection *conn);

/* conn's request has completed (MHD_OPTION_NOTIFY_COMPLETED): lift any
 * hold and start the next request's deadline. Thread-safe. */
void		 http_guard_done(struct http_guard *g,
		    struct MHD_Connection *conn);

#endif
