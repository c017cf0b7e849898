/*
 * http: the webhook endpoint, on libmicrohttpd 0.9.75, and the carrier of
 * the merchant API (api.h), whose POSTs take the same path to the writer.
 *
 * A request is checked in the order that costs the sender most and us
 * least: route, method, pause (pause.h), media type and declared length
 * before any body byte is read; the body is streamed into a buffer capped
 * at max_body; then signature, JSON, card data (pan.h), event mapping and
 * idempotency claim; then the
 * connection is suspended and the event handed to the writer, and resumed
 * to answer once the batch holding it has committed.
 */
#ifndef HL_HTTP_H
#define HL_HTTP_H

#include <stddef.h>

#include "api.h"
#include "config.h"
#include "inflight.h"
#include "pause.h"
#include "writer.h"

struct http_server;

/* Start serving on fd, a listening socket from http_listen() bound to
 * port, which the server then owns (closed on failure too). URLs under
 * /v1/ go to api, unless it is NULL (then they are 404). A paused tenant
 * (pauses, may be NULL) gets 503 "paused" for its deliveries and API
 * writes. cfg, w, inf, api and pauses must outlive the server. Returns
 * NULL with one line in err. */
struct http_server *http_start(const struct config *cfg, int fd,
		    unsigned short port, struct writer *w,
		    struct inflight *inf, struct api *api,
		    struct pause_watch *pauses, char *err, size_t errlen);

/* The port actually bound (the configured one, or the ephemeral one
 * chosen for port 0). */
unsigned short	 http_port(const struct http_server *srv);

/* Stop accepting, answer 503 to requests not yet handed to the writer,
 * wait for those that were, then stop every thread and free srv. Accepts
 * NULL. The writer must still be running. */
void		 http_stop(struct http_server *srv);

#endif
