/*
 * api: the merchant's authenticated API under /v1/tenants/T/...
 *
 *   POST /v1/tenants/T/payments       payments:write, Idempotency-Key
 *   GET  /v1/tenants/T/payments/REF   ledger:read
 *   GET  /v1/tenants/T/balances       ledger:read (?at=RFC3339|unix)
 *   GET  /v1/tenants/T/exceptions     ledger:read
 *
 * Called by http.c for every URL under /v1/. Reads use a read-only
 * database connection per HTTP thread; writes go through the writer like
 * webhook events, so a 201 follows a commit.
 *
 * http.c keeps the request's life (body streaming, suspension, hand-off
 * to the writer, the log line); this module decides every answer. The
 * token is checked before anything else about the request, and a token
 * of another tenant gets the same 404 as a tenant that does not exist.
 */
#ifndef HL_API_H
#define HL_API_H

#include <stddef.h>

#include <microhttpd.h>

#include "config.h"
#include "digest.h"
#include "event.h"
#include "header.h"
#include "inflight.h"
#include "ledger.h"
#include "writer.h"

#define API_PREFIX		"/v1/"
#define API_BODY_MAX		4096	/* bytes in a POST body */
#define API_IDEM_KEY_MAX	HEADER_IDEM_KEY_MAX
#define API_EXCEPTIONS_MAX	1000	/* rows in one exceptions answer */

struct api;

/* What http.c does next with a request. */
enum api_next {
	API_DONE = 0,	/* a response is queued (or MHD_NO was returned) */
	API_BODY,	/* read the body (application/json, at most
			   API_BODY_MAX bytes), then call api_body() */
	API_SUBMIT	/* hand the job to the writer; answer its outcome
			   with api_answer() */
};

/* One request under API_PREFIX, part of http.c's per-request state and
 * zeroed with it. http.c reads next, status and code; the rest is this
 * module's. */
struct api_req {
	enum api_next	 next;
	unsigned int	 status;	/* the answer's status, for the log */
	const char	*code;		/* its code, a constant string */
	int		 route;
	int		 claimed;	/* holds the in-flight claim */
	char		 tenant[CONFIG_NAME_MAX + 1];
	char		 ref[EVENT_ID_MAX + 1];
	char		 idem_key[API_IDEM_KEY_MAX + 1];
	char		 claim_id[2 * DIGEST_SHA256_LEN + 1];
};

/* Create the API over the database at cfg->database; inf is the in-flight
 * set shared with the webhooks. Both must outlive the API. Returns NULL
 * with a line in err. */
struct api	*api_new(const struct config *cfg, struct inflight *inf,
		    char *err, size_t errlen);

/* Free, closing every thread's read connection; accepts NULL. Call after
 * the HTTP threads have stopped. */
void		 api_free(struct api *api);

/* The request's headers have arrived: route url, check the token, then
 * the method. A GET is answered here; a POST that may go on is left at
 * API_BODY. Returns MHD's result. Call from the connection's handler. */
enum MHD_Result	 api_begin(struct api *api, struct MHD_Connection *conn,
		    const char *url, const char *method, struct api_req *ar);

/* The whole body (len bytes) of a request left at API_BODY: check the
 * Idempotency-Key and the body, claim the key in flight and fill job's
 * type, expect and key, which point into ar. Leaves ar at API_SUBMIT, or
 * at API_DONE with an answer queued. Call from the connection's handler. */
enum MHD_Result	 api_body(struct api *api, struct MHD_Connection *conn,
		    struct api_req *ar, const unsigned char *body, size_t len,
		    struct writer_job *job);

/* Answer the writer's outcome of the job api_body() filled. Call from the
 * connection's handler. */
enum MHD_Result	 api_answer(struct MHD_Connection *conn, struct api_req *ar,
		    const struct ledger_outcome *out);

/* Release ar's in-flight claim, if it holds one. Call from whichever
 * thread owns the request at the time (the writer's done callback, or
 * the completion callback). */
void		 api_release(struct api *api, struct api_req *ar);

#endif
