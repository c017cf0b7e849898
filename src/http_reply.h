/*
 * http_reply: every response the daemon sends goes through here, so that
 * each one is JSON and carries the security headers.
 */
#ifndef HL_HTTP_REPLY_H
#define HL_HTTP_REPLY_H

#include <stddef.h>

#include <microhttpd.h>

/* Queue status with the JSON text body (copied). When replayed is set the
 * answer is marked Idempotent-Replayed; allow, if not NULL, becomes the
 * Allow header; retry_after > 0 adds Retry-After. Returns MHD's result.
 * Call only from the connection's handler. */
enum MHD_Result	http_reply(struct MHD_Connection *conn, unsigned int status,
		    const char *json, int replayed, const char *allow,
		    unsigned int retry_after);

/* http_reply() with n more headers: hdrs[i][0] is a name, hdrs[i][1] its
 * value, both constant strings of ours. */
enum MHD_Result	http_reply_with(struct MHD_Connection *conn, unsigned int status,
		    const char *json, int replayed, const char *allow,
		    unsigned int retry_after, const char *const hdrs[][2],
		    size_t n);

/* Queue {"error":code,"message":message}. code and message are constant
 * strings of ours, never request data. */
enum MHD_Result	http_reply_error(struct MHD_Connection *conn,
		    unsigned int status, const char *code, const char *message);

/* http_reply_error() announcing Retry-After: retry_after seconds (none
 * when 0) whatever the status. */
enum MHD_Result	http_reply_error_after(struct MHD_Connection *conn,
		    unsigned int status, const char *code, const char *message,
		    unsigned int retry_after);

#endif
