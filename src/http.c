/*
 * http.c: request handling for POST /webhooks/NAME and, through api.c,
 * for the merchant API under /v1/.
 *
 * Per-request state lives in *req_cls from the first call of the access
 * handler to the completion callback, which also runs for aborted
 * connections and is where the request is logged and freed.
 */
#include "http.h"

#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sodium.h>

#include "api.h"
#include "body.h"
#include "digest.h"
#include "event.h"
#include "header.h"
#include "http_admit.h"
#include "http_guard.h"
#include "http_reply.h"
#include "log.h"
#include "pan.h"
#include "pause.h"
#include "sig.h"

#define WEBHOOK_PREFIX	"/webhooks/"
#define PATH_LOG_MAX	128
#define BODY_INITIAL	4096
#define MSG_EVENT_ID	"the event id must be 1 to 255 of [A-Za-z0-9_.:-]"

struct http_server {
	struct MHD_Daemon	*mhd;
	const struct config	*cfg;
	struct writer		*writer;
	struct inflight		*inflight;
	struct api		*api;		/* NULL: no /v1/ routes */
	struct http_admit	*admit;		/* header and rate limits */
	struct http_guard	*guard;		/* request deadlines */
	struct pause_watch	*pauses;	/* NULL: never paused */
	int			 fd;		/* the listening socket */
	unsigned short		 port;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	unsigned int		 pending;	/* jobs handed to the writer */
	int			 draining;
};

enum req_stage {
	STAGE_HEAD,		/* body-less: answered on the next call */
	STAGE_BODY,		/* reading the body */
	STAGE_QUEUED,		/* suspended, waiting for the writer */
	STAGE_ANSWER,		/* resumed with an outcome to send */
	STAGE_DONE		/* a response is queued */
};

struct req {
	struct http_server		*srv;
	struct MHD_Connection		*conn;
	const struct config_endpoint	*ep;
	int				 is_api;	/* under /v1/ */
	struct api_req			 api;
	enum req_stage			 stage;
	unsigned char			*body;
	size_t				 len, cap;
	size_t				 max;		/* body cap */
	int				 too_large;
	size_t				 discarded;	/* bytes past the cap */
	struct timespec			 start;
	char				 method[8];
	char				 path[PATH_LOG_MAX + 1];
	char				 event_id[EVENT_ID_MAX + 1];
	int				 claimed;
	int				 submitted;	/* counted in pending */
	unsigned int			 status;
	const char			*code;
	const char			*limit;		/* which refused, 429 */
	struct writer_job		 job;
};

/* Copy s for a log line: printable ASCII only, so that no byte a sender
 * chose can break the JSON line or hide in it. */
static void
log_safe(char *dst, size_t cap, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < cap && s[i] != '\0'; i++)
		dst[i] = (unsigned char)s[i] >= 0x20 &&
		    (unsigned char)s[i] < 0x7f ? s[i] : '?';
	dst[i] = '\0';
}

/* URL unescaping: %HH sequences are decoded, except %00, which is left
 * as it is so that no path is cut short at a NUL ("/webhooks/x%00y" must
 * not become "/webhooks/x"). */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t
unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char	*r = s, *w = s;
	int	 hi, lo;

	for (; *r != '\0'; r++) {
		if (*r == '%' && (hi = hexval(r[1])) >= 0 &&
		    (lo = hexval(r[2])) >= 0 && (hi | lo) != 0) {
			*w++ = (char)(hi << 4 | lo);
			r += 2;
		} else
			*w++ = *r;
	}
	*w = '\0';
	return (size_t)(w - s);
}

/* Request framing the daemon refuses, whatever libmicrohttpd accepts:
 * two Content-Length headers, or Content-Length with Transfer-Encoding
 * (request smuggling behind a proxy), and header values with a NUL or
 * another control byte. A signature header given twice is refused too:
 * only the first would be read, and which one a proxy keeps first is
 * not for the sender to choose. */
struct framing {
	int	 content_length;
	int	 transfer_encoding;
	int	 bad_value;
	int	 signed_fields[4];
};

static const char *const signed_headers[4] = {
	"Stripe-Signature", "webhook-id", "webhook-timestamp",
	"webhook-signature"
};

static enum MHD_Result
framing_header(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct framing	*f = cls;
	size_t		 i;

	if (key != NULL && strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
		f->content_length++;
	if (key != NULL &&
	    strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
		f->transfer_encoding++;
	for (i = 0; key != NULL && i < 4; i++)
		if (strcasecmp(key, signed_headers[i]) == 0)
			f->signed_fields[i]++;
	for (i = 0; value != NULL && i < value_size; i++)
		if (((unsigned char)value[i] < 0x20 && value[i] != '\t') ||
		    (unsigned char)value[i] == 0x7f)
			f->bad_value = 1;
	return MHD_YES;
}

static int
framing_ok(struct MHD_Connection *conn)
{
	struct framing	f;
	size_t		i;

	memset(&f, 0, sizeof(f));
	MHD_get_connection_values_n(conn, MHD_HEADER_KIND, framing_header, &f);
	for (i = 0; i < 4; i++)
		if (f.signed_fields[i] > 1)
			return 0;
	return f.content_length <= 1 && f.transfer_encoding <= 1 &&
	    !(f.content_length && f.transfer_encoding) && !f.bad_value;
}

/* Answer and remember what was answered, for the log line. */
static enum MHD_Result
answer_error(struct req *rq, unsigned int status, const char *code,
    const char *message)
{
	rq->status = status;
	rq->code = code;
	rq->stage = STAGE_DONE;
	return http_reply_error(rq->conn, status, code, message);
}

/* The kill switch (pause.h): 503 with Retry-After, nothing read or kept. */
static enum MHD_Result
answer_paused(struct req *rq)
{
	rq->status = 503;
	rq->code = "paused";
	rq->stage = STAGE_DONE;
	return http_reply(rq->conn, 503, rq->is_api ?
	    "{\"error\":\"paused\",\"message\":\"writes for this tenant "
	    "are paused; nothing was recorded, retry later\"}" :
	    "{\"error\":\"paused\",\"message\":\"deliveries for this "
	    "tenant are paused; nothing was recorded, retry later\"}", 0, NULL,
	    PAUSE_RETRY_AFTER);
}

/* Card data (pan.h) in a signed body: 422, and the body is wiped now. */
static enum MHD_Result
answer_card_data(struct req *rq)
{
	sodium_memzero(rq->body, rq->cap);
	rq->len = 0;
	return answer_error(rq, 422, "card_data", "the body holds what looks "
	    "like a card number; card data is never accepted");
}

static const char *
header(struct req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

/* The Content-Length the sender declared, or -1 when absent or chunked.
 * MHD has already rejected malformed values. */
static long long
declared_length(struct req *rq)
{
	const char	*v = header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
	char		*end;
	long long	 n;

	if (v == NULL)
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || n < 0)
		return LLONG_MAX;
	return n;
}

/* Take over what api.c answered, for the log line. */
static enum MHD_Result
api_done(struct req *rq, enum MHD_Result ret)
{
	rq->status = rq->api.status;
	rq->code = rq->api.code;
	rq->stage = STAGE_DONE;
	return ret;
}

/* api.c routes and authenticates; a POST it lets through is then held to
 * the same media type and length rules as a webhook, with the API's cap. */
static enum MHD_Result
start_api(struct req *rq, const char *url, const char *method)
{
	enum MHD_Result ret;

	rq->is_api = 1;
	ret = api_begin(rq->srv->api, rq->conn, url, method, &rq->api);
	if (rq->api.next != API_BODY)
		return api_done(rq, ret);
	/* Reads stay available; a paused tenant's writes wait. */
	if (pause_active(rq->srv->pauses, rq->api.tenant))
		return answer_paused(rq);
	if (!header_is_json(header(rq, MHD_HTTP_HEADER_CONTENT_TYPE)))
		return answer_error(rq, 415, "unsupported_media_type",
		    "the body must be sent as application/json");
	if (declared_length(rq) > (long long)API_BODY_MAX)
		return answer_error(rq, 413, "body_too_large",
		    "the body is larger than this endpoint accepts");
	rq->max = API_BODY_MAX;
	rq->stage = STAGE_BODY;
	return MHD_YES;
}

/* GET or HEAD /healthz: 200 while the ledger takes writes, 503 while
 * storage fails (a load balancer then sends elsewhere). */
static enum MHD_Result
answer_health(struct req *rq, const char *method)
{
	rq->stage = STAGE_DONE;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		rq->status = 405;
		rq->code = "method_not_allowed";
		return http_reply(rq->conn, 405, "{\"error\":"
		    "\"method_not_allowed\",\"message\":\"the health check "
		    "answers GET and HEAD\"}", 0, "GET, HEAD", 0);
	}
	if (!writer_storage_ok(rq->srv->writer, NULL)) {
		rq->status = 503;
		rq->code = "storage_unavailable";
		return http_reply(rq->conn, 503, "{\"status\":"
		    "\"storage_unavailable\"}", 0, NULL, 5);
	}
	rq->status = 200;
	rq->code = "ok";
	return http_reply(rq->conn, 200, "{\"status\":\"ok\"}", 0, NULL, 0);
}

static enum MHD_Result
start_request(struct req *rq, const char *url, const char *method)
{
	const struct config	*cfg = rq->srv->cfg;
	const char		*name, *limit = NULL;
	unsigned int		 ra = 0;
	long long		 cl;
	int			 hook;

	/* The endpoint is known before admission so that the log line of a
	 * 429 or 431 names it too. */
	hook = strncmp(url, WEBHOOK_PREFIX, sizeof(WEBHOOK_PREFIX) - 1) == 0;
	if (hook) {
		name = url + sizeof(WEBHOOK_PREFIX) - 1;
		if (config_name_valid(name, strlen(name)))
			rq->ep = config_endpoint(cfg, name, strlen(name));
	}
	switch (http_admit(rq->srv->admit, rq->conn, url, method, &ra,
	    &limit)) {
	case HTTP_ADMIT_HEADERS:
		return answer_error(rq, 431, "headers_too_large", "the request "
		    "has more header fields, or more header bytes, than this "
		    "service accepts");
	case HTTP_ADMIT_RATE:
		rq->status = 429;
		rq->code = "rate_limited";
		rq->limit = limit;
		rq->stage = STAGE_DONE;
		return http_reply_error_after(rq->conn, 429, "rate_limited",
		    "too many requests; retry after the time in Retry-After",
		    ra);
	case HTTP_ADMIT_PASS:
		break;
	}
	if (!framing_ok(rq->conn))
		return answer_error(rq, 400, "bad_request", "conflicting "
		    "Content-Length or Transfer-Encoding headers, a signature "
		    "header given twice, or a control byte in a header value");
	if (rq->srv->api != NULL &&
	    strncmp(url, API_PREFIX, sizeof(API_PREFIX) - 1) == 0)
		return start_api(rq, url, method);
	if (!hook) {
		if (strcmp(url, "/healthz") == 0)
			return answer_health(rq, method);
		return answer_error(rq, 404, "not_found", "no such resource");
	}
	if (rq->ep == NULL)
		return answer_error(rq, 404, "unknown_endpoint",
		    "no webhook endpoint has this name");
	if (strcmp(method, "POST") != 0)
		return answer_error(rq, 405, "method_not_allowed",
		    "webhooks are delivered with POST");
	if (pause_active(rq->srv->pauses, rq->ep->tenant))
		return answer_paused(rq);
	if (!header_is_json(header(rq, MHD_HTTP_HEADER_CONTENT_TYPE)))
		return answer_error(rq, 415, "unsupported_media_type",
		    "the body must be sent as application/json");
	cl = declared_length(rq);
	if (cl > (long long)cfg->max_body)
		return answer_error(rq, 413, "body_too_large",
		    "the body is larger than this endpoint accepts");
	rq->max = cfg->max_body;
	rq->stage = STAGE_BODY;
	return MHD_YES;
}

static int
append_body(struct req *rq, const char *data, size_t n)
{
	size_t		 max = rq->max, ncap;
	unsigned char	*p;

	if (n > max - rq->len)
		return -1;
	if (rq->len + n > rq->cap) {
		ncap = rq->cap == 0 ? BODY_INITIAL : rq->cap;
		while (ncap < rq->len + n)
			ncap = ncap > max / 2 ? max : ncap * 2;
		if ((p = realloc(rq->body, ncap)) == NULL)
			return -1;
		rq->body = p;
		rq->cap = ncap;
	}
	memcpy(rq->body + rq->len, data, n);
	rq->len += n;
	return 0;
}

/*
 * libmicrohttpd 0.9.75 cannot queue a response while a body is still
 * arriving, so a chunked body that outgrows max_body is read on and
 * thrown away, up to max_body bytes more, and then answered 413. A sender
 * that goes on past that gets its connection closed without an answer.
 */
static enum MHD_Result
discard_body(struct req *rq, size_t *upload_data_size)
{
	size_t max = rq->max;

	if (*upload_data_size > max - rq->discarded) {
		rq->status = 0;		/* nothing could be sent */
		rq->code = "body_too_large_closed";
		return MHD_NO;
	}
	rq->discarded += *upload_data_size;
	*upload_data_size = 0;
	return MHD_YES;
}

static int64_t
now_seconds(void)
{
	return (int64_t)time(NULL);
}

static enum sig_result
check_signature(struct req *rq)
{
	const struct config_endpoint *ep = rq->ep;

	if (ep->scheme == CONFIG_SCHEME_STRIPE)
		return sig_verify_stripe(ep->secrets, ep->nsecrets,
		    header(rq, "Stripe-Signature"), rq->body, rq->len,
		    now_seconds(), ep->tolerance);
	return sig_verify_stdwh(ep->secrets, ep->nsecrets,
	    header(rq, "webhook-id"), header(rq, "webhook-timestamp"),
	    header(rq, "webhook-signature"), rq->body, rq->len,
	    now_seconds(), ep->tolerance);
}

/* Release the request's in-flight claim, if it holds one. */
static void
release_claim(struct req *rq)
{
	if (rq->is_api) {
		api_release(rq->srv->api, &rq->api);
		return;
	}
	if (rq->claimed) {
		inflight_release(rq->srv->inflight, rq->ep->name,
		    rq->event_id);
		rq->claimed = 0;
	}
}

/* Writer thread: the outcome is final. Wake the connection; after the
 * resume the request may be freed at any moment, so touch it no more.
 * The request stays counted in pending until on_completed(), so that a
 * shutdown waits until its answer has been sent. */
static void
job_done(struct writer_job *job, void *arg)
{
	struct req		*rq = arg;
	struct http_server	*srv = rq->srv;

	(void)srv;
	release_claim(rq);
	rq->stage = STAGE_ANSWER;
	MHD_resume_connection(rq->conn);
}

/* Hand rq's job to the writer; its claim is held until job_done(). When
 * shutting down, release the claim and answer 503 instead. */
static enum MHD_Result
submit(struct req *rq)
{
	struct http_server	*srv = rq->srv;
	struct writer_job	*job = &rq->job;

	job->done = job_done;
	job->arg = rq;

	pthread_mutex_lock(&srv->mu);
	if (srv->draining) {
		pthread_mutex_unlock(&srv->mu);
		release_claim(rq);
		return answer_error(rq, 503, "shutting_down", "the service is "
		    "restarting; nothing was recorded, retry later");
	}
	srv->pending++;
	rq->submitted = 1;
	pthread_mutex_unlock(&srv->mu);

	/* Suspend before submitting, so the writer's resume always finds
	 * the connection suspended. */
	rq->stage = STAGE_QUEUED;
	http_guard_hold(srv->guard, rq->conn);
	MHD_suspend_connection(rq->conn);
	writer_submit(srv->writer, job);
	return MHD_YES;
}

static enum MHD_Result
finish_body(struct req *rq)
{
	const struct config_tenant *tn;
	struct http_server	*srv = rq->srv;
	struct writer_job	*job = &rq->job;
	enum sig_result		 sr;
	enum body_result	 br;
	json_t			*root = NULL;
	char			 why[160];
	const char		*id;
	int			 rc;

	if (rq->too_large)
		return answer_error(rq, 413, "body_too_large",
		    "the body is larger than this endpoint accepts");
	/* A webhook-id outside the event id grammar is a bad request, not a
	 * bad signature: say so before the HMAC is spent on it. */
	if (rq->ep->scheme == CONFIG_SCHEME_STDWH &&
	    (id = header(rq, "webhook-id")) != NULL &&
	    !event_id_valid(id, strnlen(id, EVENT_ID_MAX + 1)))
		return answer_error(rq, 400, "invalid_event_id", MSG_EVENT_ID);
	if ((sr = check_signature(rq)) != SIG_OK)
		return answer_error(rq, 401, sig_result_code(sr),
		    sig_result_message(sr));
	if ((br = body_parse(rq->body, rq->len, &root)) != BODY_OK)
		return answer_error(rq, 400, body_result_code(br),
		    body_result_message(br));
	if (pan_in_json(root, rq->body, rq->len)) {
		json_decref(root);
		return answer_card_data(rq);
	}

	memset(job, 0, sizeof(*job));
	rc = rq->ep->scheme == CONFIG_SCHEME_STRIPE ?
	    event_map_stripe(root, &job->ev.move, why, sizeof(why)) :
	    event_map_neutral(root, &job->ev.move, why, sizeof(why));
	json_decref(root);
	if (rc != EVENT_OK) {
		rq->status = 422;
		rq->code = "invalid_event";
		rq->stage = STAGE_DONE;
		return http_reply_error(rq->conn, 422, "invalid_event", why);
	}
	id = rq->ep->scheme == CONFIG_SCHEME_STRIPE ? job->ev.move.id :
	    header(rq, "webhook-id");
	if (id == NULL || !event_id_valid(id, strlen(id)))
		return answer_error(rq, 400, "invalid_event_id", MSG_EVENT_ID);
	/* The id is kept for ever, in the ledger and in every receipt. */
	if (pan_in_text(id, strlen(id)))
		return answer_card_data(rq);
	memcpy(rq->event_id, id, strlen(id) + 1);

	switch (inflight_claim(srv->inflight, rq->ep->name, rq->event_id)) {
	case 0:
		rq->claimed = 1;
		break;
	case 1:
		return answer_error(rq, 409, "in_flight", "another copy of "
		    "this event is being processed; retry shortly");
	default:
		return answer_error(rq, 503, "busy", "too many events in "
		    "flight; retry shortly");
	}

	job->ev.tenant = rq->ep->tenant;
	tn = config_tenant(rq->srv->cfg, rq->ep->tenant);
	job->ev.require_expectations = tn != NULL && tn->require_expectations;
	job->ev.endpoint = rq->ep->name;
	job->ev.event_id = rq->event_id;
	if (digest_sha256(rq->body, rq->len, job->ev.body_sha256) == -1) {
		release_claim(rq);
		return answer_error(rq, 503, "storage_unavailable",
		    "internal failure; nothing was recorded, retry later");
	}
	return submit(rq);
}

static enum MHD_Result
finish_api(struct req *rq)
{
	enum MHD_Result ret;

	if (rq->too_large)
		return answer_error(rq, 413, "body_too_large",
		    "the body is larger than this endpoint accepts");
	ret = api_body(rq->srv->api, rq->conn, &rq->api, rq->body, rq->len,
	    &rq->job);
	if (rq->api.next != API_SUBMIT) {
		/* Refused (card data among the reasons): wipe it now. */
		sodium_memzero(rq->body, rq->cap);
		return api_done(rq, ret);
	}
	return submit(rq);
}

static enum MHD_Result
answer_outcome(struct req *rq)
{
	const struct ledger_outcome *out = &rq->job.out;

	rq->status = (unsigned int)out->status;
	switch (out->result) {
	case LEDGER_APPLIED:	rq->code = "applied"; break;
	case LEDGER_RECORDED:	rq->code = "recorded"; break;
	case LEDGER_REPLAYED:	rq->code = "replayed"; break;
	case LEDGER_CONFLICT:	rq->code = "idempotency_conflict"; break;
	default:		rq->code = "storage_unavailable"; break;
	}
	rq->stage = STAGE_DONE;
	return http_reply(rq->conn, rq->status, out->response,
	    out->result == LEDGER_REPLAYED, NULL,
	    out->result == LEDGER_FAILED ? 5 : 0);
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **req_cls)
{
	struct http_server	*srv = cls;
	struct req		*rq = *req_cls;

	if (rq == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		rq->srv = srv;
		rq->conn = conn;
		clock_gettime(CLOCK_MONOTONIC, &rq->start);
		log_safe(rq->method, sizeof(rq->method), method);
		log_safe(rq->path, sizeof(rq->path), url);
		*req_cls = rq;
		/* libmicrohttpd 0.9.75 closes the connection after a response
		 * queued on this first call, lest an upload follow. A GET (or
		 * any request but a POST) that declares no body is answered on
		 * the next call instead, so a poller's connection stays open. */
		if (strcmp(method, "POST") != 0 &&
		    header(rq, MHD_HTTP_HEADER_TRANSFER_ENCODING) == NULL &&
		    declared_length(rq) <= 0) {
			rq->stage = STAGE_HEAD;
			return MHD_YES;
		}
		return start_request(rq, url, method);
	}
	switch (rq->stage) {
	case STAGE_HEAD:
		if (*upload_data_size != 0) {
			/* Bytes libmicrohttpd framed as a body after all. */
			rq->stage = STAGE_DONE;
			*upload_data_size = 0;
			return answer_error(rq, 400, "bad_request", "a body "
			    "without Content-Length or Transfer-Encoding");
		}
		return start_request(rq, url, method);
	case STAGE_BODY:
		if (*upload_data_size == 0)
			return rq->is_api ? finish_api(rq) : finish_body(rq);
		if (rq->too_large)
			return discard_body(rq, upload_data_size);
		if (append_body(rq, upload_data, *upload_data_size) == -1) {
			/* Only a chunked body gets here: a declared length
			 * over the cap was answered before any byte. */
			rq->too_large = 1;
			sodium_memzero(rq->body, rq->cap);
			free(rq->body);
			rq->body = NULL;
			rq->len = rq->cap = 0;
			return discard_body(rq, upload_data_size);
		}
		*upload_data_size = 0;
		return MHD_YES;
	case STAGE_ANSWER:
		if (rq->is_api)
			return api_done(rq, api_answer(rq->conn, &rq->api,
			    &rq->job.out));
		return answer_outcome(rq);
	case STAGE_QUEUED:
		/* Spurious call while suspended: nothing to do yet. */
		return MHD_YES;
	case STAGE_DONE:
	default:
		*upload_data_size = 0;	/* discard what follows a response */
		return MHD_YES;
	}
}

static void
on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct req		*rq = *req_cls;
	struct timespec		 end;
	double			 ms;
	json_t			*f;

	http_guard_done(((struct http_server *)cls)->guard, conn);
	if (rq == NULL)
		return;
	*req_cls = NULL;
	release_claim(rq);
	if (rq->submitted) {
		pthread_mutex_lock(&rq->srv->mu);
		rq->srv->pending--;
		pthread_cond_broadcast(&rq->srv->cv);
		pthread_mutex_unlock(&rq->srv->mu);
	}
	clock_gettime(CLOCK_MONOTONIC, &end);
	ms = (double)(end.tv_sec - rq->start.tv_sec) * 1e3 +
	    (double)(end.tv_nsec - rq->start.tv_nsec) / 1e6;
	f = json_pack("{s:s, s:s, s:s*, s:o*, s:s*, s:s*, s:f, s:s*}",
	    "method", rq->method, "path", rq->path,
	    "endpoint", rq->ep != NULL ? rq->ep->name : NULL,
	    "status", rq->status > 0 ? json_integer(rq->status) : NULL,
	    "code", rq->code != NULL ? rq->code :
	    (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? NULL : "aborted"),
	    "limit", rq->limit,
	    "latency_ms", ms,
	    "event_id", rq->event_id[0] != '\0' ? rq->event_id : NULL);
	log_json("info", "request", f);
	if (rq->body != NULL)
		sodium_memzero(rq->body, rq->cap);
	free(rq->body);
	free(rq);
}

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	log_json("warning", "libmicrohttpd", json_pack("{s:s}", "detail", buf));
}

struct http_server *
http_start(const struct config *cfg, int fd, unsigned short port,
    struct writer *w, struct inflight *inf, struct api *api,
    struct pause_watch *pauses, char *err, size_t errlen)
{
	struct http_server	*srv;

	if ((srv = calloc(1, sizeof(*srv))) == NULL) {
		snprintf(err, errlen, "out of memory");
		close(fd);
		return NULL;
	}
	srv->cfg = cfg;
	srv->writer = w;
	srv->inflight = inf;
	srv->api = api;
	srv->pauses = pauses;
	srv->fd = fd;
	srv->port = port;
	pthread_mutex_init(&srv->mu, NULL);
	pthread_cond_init(&srv->cv, NULL);
	if ((srv->admit = http_admit_new(cfg)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if ((srv->guard = http_guard_new(cfg->request_timeout, err,
	    errlen)) == NULL)
		goto fail;

	srv->mhd = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, port, NULL, NULL,
	    on_request, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_THREAD_POOL_SIZE, cfg->threads,
	    MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_per_ip,
	    MHD_OPTION_CONNECTION_TIMEOUT, cfg->timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->connection_memory,
	    MHD_OPTION_NOTIFY_CONNECTION, http_guard_notify, srv->guard,
	    MHD_OPTION_STRICT_FOR_CLIENT, 1,
	    MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_END);
	if (srv->mhd == NULL) {
		snprintf(err, errlen, "listen %s:%u: cannot start the HTTP "
		    "server", cfg->listen_host, cfg->listen_port);
		goto fail;
	}
	return srv;
fail:
	close(fd);
	http_guard_free(srv->guard);
	http_admit_free(srv->admit);
	pthread_cond_destroy(&srv->cv);
	pthread_mutex_destroy(&srv->mu);
	free(srv);
	return NULL;
}

unsigned short
http_port(const struct http_server *srv)
{
	return srv->port;
}

void
http_stop(struct http_server *srv)
{
	MHD_socket lfd;

	if (srv == NULL)
		return;
	/* Quiesced, libmicrohttpd no longer accepts and hands the socket
	 * back: closed now, new connections are refused, not queued. */
	if ((lfd = MHD_quiesce_daemon(srv->mhd)) != MHD_INVALID_SOCKET)
		close(lfd);
	/* Every job handed to the writer is answered before the threads
	 * stop: a suspended connection must not outlive its request. The
	 * writer always finishes a job, so this wait ends. */
	pthread_mutex_lock(&srv->mu);
	srv->draining = 1;
	while (srv->pending > 0)
		pthread_cond_wait(&srv->cv, &srv->mu);
	pthread_mutex_unlock(&srv->mu);
	MHD_stop_daemon(srv->mhd);
	http_guard_free(srv->guard);
	http_admit_free(srv->admit);
	pthread_cond_destroy(&srv->cv);
	pthread_mutex_destroy(&srv->mu);
	free(srv);
}
