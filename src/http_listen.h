/*
 * http_listen: the daemon's listening socket, made before anything else
 * is opened, so that a daemon that cannot listen (the port taken, the
 * address not local) stops without having created a ledger.
 */
#ifndef HL_HTTP_LISTEN_H
#define HL_HTTP_LISTEN_H

#include "config.h"

/* Bind cfg's listen address (numeric host, port 0 for an ephemeral one)
 * and listen on it: a non-blocking, close-on-exec socket the caller owns,
 * with the port actually bound in *port. -1 with one line in err, naming
 * the address and the reason. Start-up only: not thread-safe with
 * respect to cfg. */
int	http_listen(const struct config *cfg, unsigned short *port, char *err,
	    size_t errlen);

#endif
