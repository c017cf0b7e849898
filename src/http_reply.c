/*
 * http_reply.c: JSON responses with security headers.
 */
#include "http_reply.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const struct {
	const char *name, *value;
} security_headers[] = {
	{ "Content-Type", "application/json" },
	{ "Cache-Control", "no-store" },
	{ "X-Content-Type-Options", "nosniff" },
	{ "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'" },
	{ "Referrer-Policy", "no-referrer" },
	{ "X-Frame-Options", "DENY" },
};

enum MHD_Result
http_reply(struct MHD_Connection *conn, unsigned int status, const char *json,
    int replayed, const char *allow, unsigned int retry_after)
{
	return http_reply_with(conn, status, json, replayed, allow,
	    retry_after, NULL, 0);
}

enum MHD_Result
http_reply_with(struct MHD_Connection *conn, unsigned int status,
    const char *json, int replayed, const char *allow,
    unsigned int retry_after, const char *const hdrs[][2], size_t n)
{
	struct MHD_Response	*r;
	enum MHD_Result		 ret;
	char			 ra[16];
	size_t			 i;
	int			 ok = 1;

	/* MUST_COPY: 0.9.75 has no _static/_copy variants (1.0 only). */
	r = MHD_create_response_from_buffer(strlen(json), (void *)(uintptr_t)json,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	for (i = 0; i < sizeof(security_headers) / sizeof(security_headers[0]);
	    i++)
		ok &= MHD_add_response_header(r, security_headers[i].name,
		    security_headers[i].value) == MHD_YES;
	if (replayed)
		ok &= MHD_add_response_header(r, "Idempotent-Replayed",
		    "true") == MHD_YES;
	if (allow != NULL)
		ok &= MHD_add_response_header(r, "Allow", allow) == MHD_YES;
	if (retry_after > 0) {
		snprintf(ra, sizeof(ra), "%u", retry_after);
		ok &= MHD_add_response_header(r, "Retry-After", ra) == MHD_YES;
	}
	for (i = 0; i < n; i++)
		ok &= MHD_add_response_header(r, hdrs[i][0], hdrs[i][1]) ==
		    MHD_YES;
	if (!ok) {
		/* A response without its security headers is not sent. */
		MHD_destroy_response(r);
		return MHD_NO;
	}
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

enum MHD_Result
http_reply_error(struct MHD_Connection *conn, unsigned int status,
    const char *code, const char *message)
{
	return http_reply_error_after(conn, status, code, message,
	    status == 503 ? 5 : 0);
}

enum MHD_Result
http_reply_error_after(struct MHD_Connection *conn, unsigned int status,
    const char *code, const char *message, unsigned int retry_after)
{
	json_t		*o;
	char		*s;
	enum MHD_Result	 ret;

	o = json_pack("{s:s, s:s}", "error", code, "message", message);
	s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	json_decref(o);
	if (s == NULL)
		return MHD_NO;
	ret = http_reply(conn, status, s, 0, status == 405 ? "POST" : NULL,
	    retry_after);
	free(s);
	return ret;
}
