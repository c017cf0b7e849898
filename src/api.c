/*
 * api.c: the merchant API's routes, authentication and answers.
 *
 * Every answer here is final and safe to show: error messages are our own
 * constant sentences, never request data. A 404 for "no such tenant",
 * "not your tenant" and "no such payment" is one and the same body, so
 * that a token cannot be used to probe for other tenants.
 */
#include "api.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "balances.h"
#include "body.h"
#include "currency.h"
#include "header.h"
#include "http_reply.h"
#include "log.h"
#include "pan.h"
#include "token.h"

#define TENANTS_PREFIX	API_PREFIX "tenants/"
/* The in-flight namespace of API keys: ':' is not allowed in an endpoint
 * name, so no webhook endpoint can share it. */
#define INFLIGHT_NS	"api:"
#define AT_MAX		253402300799LL	/* 9999-12-31T23:59:59Z */

#define MSG_NOT_FOUND	"no such resource"
#define MSG_STORAGE	"storage is unavailable; retry later"

enum route_id {
	ROUTE_PAYMENTS = 1,	/* POST .../payments */
	ROUTE_PAYMENT,		/* GET .../payments/REF */
	ROUTE_BALANCES,		/* GET .../balances */
	ROUTE_EXCEPTIONS	/* GET .../exceptions */
};

static const struct route {
	enum route_id	 id;
	const char	*segment;	/* after /v1/tenants/T/ */
	int		 has_ref;	/* followed by /REF */
	const char	*method;	/* the only one allowed */
	enum token_scope scope;
} routes[] = {
	{ ROUTE_PAYMENTS, "payments", 0, "POST", TOKEN_SCOPE_PAYMENTS_WRITE },
	{ ROUTE_PAYMENT, "payments", 1, "GET", TOKEN_SCOPE_LEDGER_READ },
	{ ROUTE_BALANCES, "balances", 0, "GET", TOKEN_SCOPE_LEDGER_READ },
	{ ROUTE_EXCEPTIONS, "exceptions", 0, "GET", TOKEN_SCOPE_LEDGER_READ },
};

/* An HTTP thread's read-only connection. */
struct api_conn {
	struct api	*api;
	struct ledger	*lg;
	struct api_conn	*next;
};

struct api {
	const struct config	*cfg;
	struct inflight		*inf;
	pthread_key_t		 key;		/* -> struct api_conn */
	pthread_mutex_t		 mu;
	struct api_conn		*conns;		/* all of them, under mu */
};

/* ------------------------------------------------------------ answers */

static enum MHD_Result
reply_error(struct MHD_Connection *conn, struct api_req *ar,
    unsigned int status, const char *code, const char *message,
    const char *allow)
{
	static const char *const auth[][2] = {
		{ "WWW-Authenticate", "Bearer" }
	};
	json_t		*o;
	char		*s;
	enum MHD_Result	 ret;

	ar->next = API_DONE;
	ar->status = status;
	ar->code = code;
	o = json_pack("{s:s, s:s}", "error", code, "message", message);
	s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(o);
	if (s == NULL)
		return MHD_NO;
	ret = http_reply_with(conn, status, s, 0, allow,
	    status == 503 ? 5 : 0, auth, status == 401 ? 1 : 0);
	free(s);
	return ret;
}

static enum MHD_Result
storage_error(struct MHD_Connection *conn, struct api_req *ar,
    const char *what, const char *err)
{
	if (strstr(err, BALANCES_OVERFLOW) != NULL) {
		/* Not a storage fault: retrying would give the same. */
		log_json("error", "api sum out of range", json_pack(
		    "{s:s, s:s}", "what", what, "detail", err));
		return reply_error(conn, ar, 500, "balance_out_of_range",
		    "a balance exceeds the 64-bit range of minor units and "
		    "cannot be given; the ledger itself is intact", NULL);
	}
	log_json("error", "api storage failure", json_pack("{s:s, s:s}",
	    "what", what, "detail", err));
	return reply_error(conn, ar, 503, "storage_unavailable", MSG_STORAGE,
	    NULL);
}

/* Answer 200 with body (stolen). */
static enum MHD_Result
reply_json(struct MHD_Connection *conn, struct api_req *ar, json_t *body)
{
	char		*s;
	enum MHD_Result	 ret;

	s = json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(body);
	if (s == NULL)
		return reply_error(conn, ar, 503, "storage_unavailable",
		    MSG_STORAGE, NULL);
	ar->next = API_DONE;
	ar->status = 200;
	ar->code = "ok";
	ret = http_reply(conn, 200, s, 0, NULL, 0);
	free(s);
	return ret;
}

/* ------------------------------------------------------------ storage */

static void
conn_destroy(void *p)
{
	struct api_conn	 *c = p, **pp;
	struct api	 *api = c->api;

	pthread_mutex_lock(&api->mu);
	for (pp = &api->conns; *pp != NULL; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	pthread_mutex_unlock(&api->mu);
	ledger_close(c->lg);
	free(c);
}

/* This thread's read-only connection, opened on first use. A failure is
 * not remembered: the next request tries again. */
static sqlite3 *
thread_db(struct api *api, char *err, size_t errlen)
{
	struct api_conn *c;

	if ((c = pthread_getspecific(api->key)) != NULL)
		return ledger_db(c->lg);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->api = api;
	if ((c->lg = ledger_open(api->cfg->database, LEDGER_READ_ONLY, err,
	    errlen)) == NULL) {
		free(c);
		return NULL;
	}
	if (pthread_setspecific(api->key, c) != 0) {
		snprintf(err, errlen, "cannot keep a connection per thread");
		ledger_close(c->lg);
		free(c);
		return NULL;
	}
	pthread_mutex_lock(&api->mu);
	c->next = api->conns;
	api->conns = c;
	pthread_mutex_unlock(&api->mu);
	return ledger_db(c->lg);
}

struct api *
api_new(const struct config *cfg, struct inflight *inf, char *err,
    size_t errlen)
{
	struct api	*api;
	int		 rc;

	if ((api = calloc(1, sizeof(*api))) == NULL) {
		snprintf(err, errlen, "api: out of memory");
		return NULL;
	}
	api->cfg = cfg;
	api->inf = inf;
	if ((rc = pthread_key_create(&api->key, conn_destroy)) != 0) {
		snprintf(err, errlen, "api: %s", strerror(rc));
		free(api);
		return NULL;
	}
	pthread_mutex_init(&api->mu, NULL);
	return api;
}

void
api_free(struct api *api)
{
	struct api_conn *c, *next;

	if (api == NULL)
		return;
	/* Threads that exited have closed their own; these belong to
	 * threads that are stopped or never exit through pthread. */
	pthread_key_delete(api->key);
	for (c = api->conns; c != NULL; c = next) {
		next = c->next;
		ledger_close(c->lg);
		free(c);
	}
	pthread_mutex_destroy(&api->mu);
	free(api);
}

/* ------------------------------------------------------------ routing */

/* The route of url, with ar's tenant and ref filled; NULL when url names
 * nothing, including a tenant or reference that cannot be valid. */
static const struct route *
route_of(const char *url, struct api_req *ar)
{
	const char	*t = url + sizeof(TENANTS_PREFIX) - 1, *seg, *ref;
	size_t		 tlen, slen, rlen = 0, i;

	if (strncmp(url, TENANTS_PREFIX, sizeof(TENANTS_PREFIX) - 1) != 0)
		return NULL;
	if ((seg = strchr(t, '/')) == NULL)
		return NULL;
	tlen = (size_t)(seg - t);
	if (!config_name_valid(t, tlen))
		return NULL;
	seg++;
	if ((ref = strchr(seg, '/')) != NULL) {
		slen = (size_t)(ref - seg);
		ref++;
		rlen = strlen(ref);
		if (!event_id_valid(ref, rlen))
			return NULL;
	} else
		slen = strlen(seg);
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strlen(routes[i].segment) != slen ||
		    memcmp(routes[i].segment, seg, slen) != 0 ||
		    routes[i].has_ref != (ref != NULL))
			continue;
		memcpy(ar->tenant, t, tlen);
		ar->tenant[tlen] = '\0';
		if (ref != NULL) {
			memcpy(ar->ref, ref, rlen);
			ar->ref[rlen] = '\0';
		}
		ar->route = routes[i].id;
		return &routes[i];
	}
	return NULL;
}

/*
 * 0 when the token grants scope on ar's tenant, or when it is a token of
 * this tenant and the method is wrong anyway (any_scope): its holder may
 * learn which method the resource answers. Otherwise -1 with the answer
 * queued and MHD's result in *ret.
 */
static int
authenticate(struct MHD_Connection *conn, struct api_req *ar, sqlite3 *db,
    enum token_scope scope, int any_scope, enum MHD_Result *ret)
{
	const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);

	switch (token_check(db, authz, ar->tenant, strlen(ar->tenant),
	    scope)) {
	case TOKEN_OK:
		return 0;
	case TOKEN_MISSING:
	case TOKEN_INVALID:
		*ret = reply_error(conn, ar, 401, "unauthorized", "a valid "
		    "bearer token is required", NULL);
		break;
	case TOKEN_WRONG_TENANT:
		*ret = reply_error(conn, ar, 404, "not_found", MSG_NOT_FOUND,
		    NULL);
		break;
	case TOKEN_NO_SCOPE:
		if (any_scope)
			return 0;
		*ret = reply_error(conn, ar, 403, "forbidden", "this token "
		    "does not grant what this request needs", NULL);
		break;
	case TOKEN_ERROR:
	default:
		*ret = reply_error(conn, ar, 503, "storage_unavailable",
		    MSG_STORAGE, NULL);
		break;
	}
	return -1;
}

/* ------------------------------------------------------------ reads */

static int
digits(const char *s, size_t n, int64_t *out)
{
	int64_t	v = 0;
	size_t	i;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/*
 * The value of ?at=: Unix seconds (digits only), or an RFC 3339 time
 * "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)". A fraction is dropped:
 * "at or before" a time includes its whole second.
 */
static int
parse_at(const char *s, size_t n, int64_t *out)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int64_t	y, mo, d, h, mi, sec, oh = 0, om = 0, t;
	size_t	i = 19;
	int	sign = 0;

	if (n >= 1 && n <= 12 && digits(s, n, &t) == 0) {
		if (t > AT_MAX)
			return -1;
		*out = t;
		return 0;
	}
	if (n < 20 || n > 64 || s[4] != '-' || s[7] != '-' ||
	    (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':' ||
	    digits(s, 4, &y) == -1 || digits(s + 5, 2, &mo) == -1 ||
	    digits(s + 8, 2, &d) == -1 || digits(s + 11, 2, &h) == -1 ||
	    digits(s + 14, 2, &mi) == -1 || digits(s + 17, 2, &sec) == -1)
		return -1;
	if (s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == 20)
			return -1;
	}
	if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z'))
		sign = 0;
	else if (i + 6 == n && (s[i] == '+' || s[i] == '-') &&
	    s[i + 3] == ':' && digits(s + i + 1, 2, &oh) == 0 &&
	    digits(s + i + 4, 2, &om) == 0 && oh <= 23 && om <= 59)
		sign = s[i] == '+' ? 1 : -1;
	else
		return -1;
	if (mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y)) || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	    sign * (oh * 3600 + om * 60);
	if (t < 0 || t > AT_MAX)
		return -1;
	*out = t;
	return 0;
}

static enum MHD_Result
get_balances(struct MHD_Connection *conn, struct api_req *ar, sqlite3 *db)
{
	const char	*v = NULL;
	size_t		 vlen = 0;
	int64_t		 at = BALANCES_NOW;
	char		 err[256];
	json_t		*j;

	if (MHD_lookup_connection_value_n(conn, MHD_GET_ARGUMENT_KIND, "at", 2,
	    &v, &vlen) == MHD_YES &&
	    (v == NULL || parse_at(v, vlen, &at) == -1))
		return reply_error(conn, ar, 400, "invalid_parameter", "at "
		    "must be an RFC 3339 time such as 2025-01-31T23:59:59Z, "
		    "or Unix seconds", NULL);
	if ((j = balances_query(db, ar->tenant, at, err, sizeof(err))) ==
	    NULL)
		return storage_error(conn, ar, "balances", err);
	return reply_json(conn, ar, j);
}

static enum MHD_Result
get_exceptions(struct MHD_Connection *conn, struct api_req *ar, sqlite3 *db)
{
	char	 err[256];
	json_t	*j;

	if ((j = exceptions_query(db, ar->tenant, API_EXCEPTIONS_MAX, err,
	    sizeof(err))) == NULL)
		return storage_error(conn, ar, "exceptions", err);
	return reply_json(conn, ar, j);
}

static enum MHD_Result
get_payment(struct MHD_Connection *conn, struct api_req *ar, sqlite3 *db)
{
	char	 err[256];
	json_t	*j;
	int	 found = 0;

	/* A NULL answer is "no such payment" only when nothing failed. */
	err[0] = '\0';
	if ((j = balances_payment(db, ar->tenant, ar->ref, &found, err,
	    sizeof(err))) != NULL)
		return reply_json(conn, ar, j);
	if (!found && err[0] == '\0')
		return reply_error(conn, ar, 404, "not_found", MSG_NOT_FOUND,
		    NULL);
	return storage_error(conn, ar, "payment", err[0] != '\0' ? err :
	    "unknown");
}

enum MHD_Result
api_begin(struct api *api, struct MHD_Connection *conn, const char *url,
    const char *method, struct api_req *ar)
{
	const struct route	*rt;
	sqlite3			*db;
	enum MHD_Result		 ret;
	char			 err[256];
	int			 wrong_method;

	ar->next = API_DONE;
	if ((rt = route_of(url, ar)) == NULL)
		return reply_error(conn, ar, 404, "not_found", MSG_NOT_FOUND,
		    NULL);
	if ((db = thread_db(api, err, sizeof(err))) == NULL)
		return storage_error(conn, ar, "open", err);
	wrong_method = strcmp(method, rt->method) != 0;
	if (authenticate(conn, ar, db, rt->scope, wrong_method, &ret) == -1)
		return ret;
	if (wrong_method)
		return reply_error(conn, ar, 405, "method_not_allowed", "this "
		    "resource does not answer that method", rt->method);
	switch (rt->id) {
	case ROUTE_PAYMENTS:
		ar->next = API_BODY;
		return MHD_YES;
	case ROUTE_PAYMENT:
		return get_payment(conn, ar, db);
	case ROUTE_BALANCES:
		return get_balances(conn, ar, db);
	case ROUTE_EXCEPTIONS:
	default:
		return get_exceptions(conn, ar, db);
	}
}

/* ------------------------------------------------------------ writes */

/*
 * The body must be exactly {"payment": REF, "amount": N, "currency": C}.
 * Jansson keeps integers and reals apart, so 10.5, 1e3 and 1000.0 are
 * all reals here and refused, like "1000". On failure why names the
 * field, in a sentence of ours.
 */
static int
parse_expectation(json_t *root, struct api_req *ar,
    struct ledger_expectation *x, const char **why)
{
	const struct currency	*cur;
	const json_t		*p, *a, *c;
	const char		*name;
	json_t			*v;
	json_int_t		 n;

	json_object_foreach(root, name, v) {
		if (strcmp(name, "payment") != 0 &&
		    strcmp(name, "amount") != 0 &&
		    strcmp(name, "currency") != 0) {
			*why = "the body may hold only payment, amount and "
			    "currency";
			return -1;
		}
	}
	p = json_object_get(root, "payment");
	if (!json_is_string(p) ||
	    !event_id_valid(json_string_value(p), json_string_length(p))) {
		*why = "payment must be a string of 1 to 255 of "
		    "[A-Za-z0-9_.:-]";
		return -1;
	}
	c = json_object_get(root, "currency");
	if (!json_is_string(c) || (cur = currency_lookup(json_string_value(c),
	    json_string_length(c))) == NULL) {
		*why = "currency must be an active ISO 4217 code, such as "
		    "\"EUR\"";
		return -1;
	}
	a = json_object_get(root, "amount");
	if (!json_is_integer(a)) {
		*why = "amount must be an integer number of minor units";
		return -1;
	}
	if ((n = json_integer_value(a)) <= 0) {
		*why = "amount must be greater than zero";
		return -1;
	}
	if (n > currency_max_amount(cur)) {
		*why = "amount is larger than this currency allows";
		return -1;
	}
	memcpy(ar->ref, json_string_value(p), json_string_length(p) + 1);
	memset(x, 0, sizeof(*x));
	x->tenant = ar->tenant;
	x->payment_ref = ar->ref;
	x->amount = (int64_t)n;
	memcpy(x->currency, cur->code, sizeof(x->currency));
	return 0;
}

/* What "the same request" means for an Idempotency-Key: method, path
 * and body, with separators that none of them can hold where they meet. */
static int
request_digest(const struct api_req *ar, const unsigned char *body,
    size_t len, unsigned char out[DIGEST_SHA256_LEN])
{
	const struct digest_part parts[] = {
		{ "POST\n", 5 },
		{ TENANTS_PREFIX, sizeof(TENANTS_PREFIX) - 1 },
		{ ar->tenant, strlen(ar->tenant) },
		{ "/payments\n", 10 },
		{ body, len },
	};

	return digest_sha256_parts(parts, sizeof(parts) / sizeof(parts[0]),
	    out);
}

/* The in-flight id of (tenant, key): a digest, because the pair can be
 * longer than the set's ids, and neither part alone is unique. */
static int
claim_id(struct api_req *ar)
{
	unsigned char			 h[DIGEST_SHA256_LEN];
	const struct digest_part	 parts[] = {
		{ ar->tenant, strlen(ar->tenant) + 1 },	/* with its NUL */
		{ ar->idem_key, strlen(ar->idem_key) },
	};

	if (digest_sha256_parts(parts, 2, h) == -1)
		return -1;
	digest_hex(h, sizeof(h), ar->claim_id);
	return 0;
}

enum MHD_Result
api_body(struct api *api, struct MHD_Connection *conn, struct api_req *ar,
    const unsigned char *body, size_t len, struct writer_job *job)
{
	const char		*key, *why = NULL;
	enum body_result	 br;
	json_t			*root = NULL;
	int			 rc;

	ar->next = API_DONE;
	key = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Idempotency-Key");
	if (key == NULL)
		return reply_error(conn, ar, 400, "idempotency_key_missing",
		    "an Idempotency-Key header is required", NULL);
	if (!header_idem_key_ok(key, API_IDEM_KEY_MAX))
		return reply_error(conn, ar, 400, "idempotency_key_invalid",
		    "the Idempotency-Key must be 1 to 255 printable ASCII "
		    "characters", NULL);
	/* The key is kept for ever with the request it named. */
	if (pan_in_text(key, strlen(key)))
		return reply_error(conn, ar, 422, "card_data", "the "
		    "Idempotency-Key looks like a card number; card data is "
		    "never accepted", NULL);
	memcpy(ar->idem_key, key, strlen(key) + 1);

	if ((br = body_parse(body, len, &root)) != BODY_OK)
		return reply_error(conn, ar, 400, body_result_code(br),
		    body_result_message(br), NULL);
	if (pan_in_json(root, body, len)) {
		json_decref(root);
		return reply_error(conn, ar, 422, "card_data", "the body holds "
		    "what looks like a card number; card data is never "
		    "accepted", NULL);
	}
	memset(job, 0, sizeof(*job));
	rc = parse_expectation(root, ar, &job->expect, &why);
	json_decref(root);
	if (rc == -1)
		return reply_error(conn, ar, 422, "invalid_request", why, NULL);
	job->type = WRITER_EXPECT;
	job->key.tenant = ar->tenant;
	job->key.key = ar->idem_key;
	if (request_digest(ar, body, len, job->key.request_sha256) == -1 ||
	    claim_id(ar) == -1)
		return reply_error(conn, ar, 503, "storage_unavailable",
		    MSG_STORAGE, NULL);

	switch (inflight_claim(api->inf, INFLIGHT_NS, ar->claim_id)) {
	case 0:
		ar->claimed = 1;
		break;
	case 1:
		return reply_error(conn, ar, 409, "in_flight", "a request "
		    "with this Idempotency-Key is being processed; retry "
		    "shortly", NULL);
	default:
		return reply_error(conn, ar, 503, "busy", "too many requests "
		    "in flight; retry shortly", NULL);
	}
	ar->next = API_SUBMIT;
	return MHD_YES;
}

static const char *
outcome_code(const struct ledger_outcome *out)
{
	switch (out->result) {
	case LEDGER_FAILED:
		return "storage_unavailable";
	case LEDGER_REPLAYED:
		return "replayed";
	default:
		break;
	}
	switch (out->status) {
	case 201:
		return "created";
	case 200:
		return "unchanged";
	case 409:
		return strstr(out->response, "\"payment_already_captured\"") !=
		    NULL ? "payment_already_captured" : "expectation_conflict";
	case 422:
		return "idempotency_conflict";
	default:
		return "error";
	}
}

enum MHD_Result
api_answer(struct MHD_Connection *conn, struct api_req *ar,
    const struct ledger_outcome *out)
{
	ar->next = API_DONE;
	ar->status = (unsigned int)out->status;
	ar->code = outcome_code(out);
	return http_reply(conn, ar->status, out->response,
	    out->result == LEDGER_REPLAYED, NULL,
	    out->result == LEDGER_FAILED ? 5 : 0);
}

void
api_release(struct api *api, struct api_req *ar)
{
	if (!ar->claimed)
		return;
	inflight_release(api->inf, INFLIGHT_NS, ar->claim_id);
	ar->claimed = 0;
}
