/*
 * log.c: JSON log lines.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

void
log_json(const char *level, const char *msg, json_t *fields)
{
	struct timeval	 tv;
	struct tm	 tm;
	char		 ts[40], *line;
	json_t		*o;
	size_t		 len;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100,
	    tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
	    tm.tm_sec % 100, (int)(tv.tv_usec / 1000) % 1000);
	if ((o = json_pack("{s:s, s:s, s:s}", "ts", ts, "level", level,
	    "msg", msg)) == NULL) {
		json_decref(fields);
		return;
	}
	if (fields != NULL)
		json_object_update(o, fields);
	json_decref(fields);
	line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII |
	    JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (line == NULL)
		return;
	len = strlen(line);
	line[len] = '\n';	/* json_dumps leaves room: replace the NUL */
	/* A failed write has nowhere to be reported. */
	(void)!write(STDERR_FILENO, line, len + 1);
	free(line);
}

void
log_msg(const char *level, const char *fmt, ...)
{
	char	 buf[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_json(level, buf, NULL);
}
