/*
 * log.c: JSON log lines, with personal data masked in every string.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "pan.h"

#define MASK_DEPTH_MAX	8	/* nesting of fields walked */
#define PHONE_MIN	7
#define PHONE_MAX	15	/* E.164 */
#define NATIONAL_MIN	10

static void	(*sink)(const char *, size_t, void *);
static void	*sink_cls;

/* Output that never overflows: bytes past cap - 1 are dropped. */
struct out {
	char	*p;
	size_t	 cap, len;
};

static void
put(struct out *o, char c)
{
	if (o->len + 1 < o->cap)
		o->p[o->len++] = c;
}

static void
puts_(struct out *o, const char *s, size_t n)
{
	while (n-- > 0)
		put(o, *s++);
}

static int
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_local(char c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' ||
	    c == '-';
}

static int
is_domain(char c)
{
	return is_alnum(c) || c == '.' || c == '-';
}

/*
 * An email address whose '@' is at s[at]: its start in *from and end in
 * *to, and the top-level domain at *tld, *tldlen long. 0, or -1 when s[at] is
 * not the '@' of an address.
 */
static int
email_at(const char *s, size_t len, size_t at, size_t *from, size_t *to,
    size_t *tld, size_t *tldlen)
{
	size_t	b = at, e = at + 1, dot = 0;

	while (b > 0 && is_local(s[b - 1]))
		b--;
	while (e < len && is_domain(s[e]))
		e++;
	/* A domain ends on a letter or digit, not on "." or "-". */
	while (e > at + 1 && !is_alnum(s[e - 1]))
		e--;
	if (b == at || e == at + 1)
		return -1;
	for (dot = e; dot > at + 1 && s[dot - 1] != '.'; dot--)
		;
	if (dot <= at + 2)	/* no dot, or nothing before it */
		return -1;
	*from = b;
	*to = e;
	*tld = dot;
	*tldlen = e - dot;
	return 0;
}

/*
 * A phone number starting at s[i]: its end in *end and its digits in d
 * (PHONE_MAX + 1 bytes). Returns the number of digits, or 0 when s[i]
 * does not start one.
 */
static size_t
phone_at(const char *s, size_t len, size_t i, char d[PHONE_MAX + 1],
    size_t *end)
{
	size_t	n = 0, groups = 1, j;
	int	intl = s[i] == '+';

	if (i > 0 && (is_alnum(s[i - 1]) || s[i - 1] == '+' ||
	    (!intl && s[i - 1] == '*')))
		return 0;
	if (!intl && s[i] != '0')
		return 0;
	j = intl ? i + 1 : i;
	if (j >= len || !is_digit(s[j]))
		return 0;
	for (;;) {
		if (n < PHONE_MAX + 1)
			d[n] = s[j];
		n++;
		j++;
		if (j < len && is_digit(s[j]))
			continue;
		if (j + 1 < len && (s[j] == ' ' || s[j] == '-' ||
		    (intl && s[j] == '.')) && is_digit(s[j + 1])) {
			groups++;
			j++;
			continue;
		}
		break;
	}
	/* A number glued to letters is an identifier, not a phone. */
	if (j < len && is_alnum(s[j]))
		return 0;
	if (n > PHONE_MAX || n < (intl ? PHONE_MIN : NATIONAL_MIN) ||
	    (!intl && groups < 2))
		return 0;
	*end = j;
	return n;
}

/* Secrets by their prefix: a Stripe signing secret or an API token that
 * reached a string (a mistyped URL, a pasted header) keeps only its
 * prefix. Returns the prefix's length when s[i] starts one. */
static size_t
secret_at(const char *s, size_t len, size_t i)
{
	static const char *const prefixes[] = { "whsec_", "hlt_" };
	size_t	k, n;

	if (i > 0 && is_alnum(s[i - 1]))
		return 0;
	for (k = 0; k < sizeof(prefixes) / sizeof(prefixes[0]); k++) {
		n = strlen(prefixes[k]);
		if (len - i > n && memcmp(s + i, prefixes[k], n) == 0)
			return n;
	}
	return 0;
}

static int
is_secret_char(char c)
{
	return is_alnum(c) || c == '+' || c == '/' || c == '=' || c == '_' ||
	    c == '-';
}

size_t
log_mask(const char *s, size_t len, char *buf, size_t cap)
{
	struct out	 o = { buf, cap, 0 };
	char		 d[PHONE_MAX + 1];
	size_t		 i = 0, j, at, from, to, tld, tldlen, n, end;

	if (cap == 0)
		return 0;
	while (i < len) {
		if ((s[i] == 'w' || s[i] == 'h') &&
		    (n = secret_at(s, len, i)) > 0) {
			puts_(&o, s + i, n);
			puts_(&o, "***", 3);
			for (i += n; i < len && is_secret_char(s[i]); i++)
				;
			continue;
		}
		/* An email address: find its '@' ahead in this word. */
		for (at = i; at < len && is_local(s[at]); at++)
			;
		if (at < len && s[at] == '@' && email_at(s, len, at, &from,
		    &to, &tld, &tldlen) == 0 && from == i) {
			put(&o, s[from]);
			puts_(&o, "***@***.", 8);
			puts_(&o, s + tld, tldlen);
			i = to;
			continue;
		}
		if ((s[i] == '+' || s[i] == '0') &&
		    (n = phone_at(s, len, i, d, &end)) > 0) {
			if (s[i] == '+')
				put(&o, '+');
			put(&o, d[0]);
			put(&o, d[1]);
			for (j = 2; j + 2 < n; j++)
				put(&o, '*');
			put(&o, d[n - 2]);
			put(&o, d[n - 1]);
			i = end;
			continue;
		}
		/* Copy up to the next place an address or a number may
		 * start, so that the search above is not quadratic. */
		do
			put(&o, s[i++]);
		while (i < len && is_local(s[i - 1]) && is_local(s[i]) &&
		    s[i] != '+' && s[i] != '0' && s[i] != 'w' && s[i] != 'h');
	}
	o.p[o.len] = '\0';
	/* Digits only become '*': the length stays. */
	pan_mask(o.p, o.len);
	return o.len;
}

/* Replace every string in v (an object or array) by its masked form. */
/* Recursion: at most MASK_DEPTH_MAX deep, checked on entry. */
/* NOLINTBEGIN(misc-no-recursion) */
static void
mask_tree(json_t *v, int depth)
{
	const char	*key;
	json_t		*m;
	char		*buf;
	size_t		 i, n, len;

	if (depth > MASK_DEPTH_MAX)
		return;
	if (json_is_object(v)) {
		json_object_foreach(v, key, m) {
			if (json_is_string(m)) {
				len = json_string_length(m);
				if (len > LOG_STRING_MAX)
					len = LOG_STRING_MAX;
				if ((buf = malloc(2 * len + 16)) == NULL) {
					json_object_set_new(v, key,
					    json_string("(unloggable)"));
					continue;
				}
				n = log_mask(json_string_value(m), len, buf,
				    2 * len + 16);
				json_object_set_new(v, key,
				    json_stringn(buf, n));
				free(buf);
			} else
				mask_tree(m, depth + 1);
		}
	} else if (json_is_array(v)) {
		for (i = 0; i < json_array_size(v); i++) {
			m = json_array_get(v, i);
			if (!json_is_string(m)) {
				mask_tree(m, depth + 1);
				continue;
			}
			len = json_string_length(m);
			if (len > LOG_STRING_MAX)
				len = LOG_STRING_MAX;
			if ((buf = malloc(2 * len + 16)) == NULL) {
				json_array_set_new(v, i,
				    json_string("(unloggable)"));
				continue;
			}
			n = log_mask(json_string_value(m), len, buf,
			    2 * len + 16);
			json_array_set_new(v, i, json_stringn(buf, n));
			free(buf);
		}
	}
}
/* NOLINTEND(misc-no-recursion) */

void
log_set_sink(void (*fn)(const char *, size_t, void *), void *cls)
{
	sink = fn;
	sink_cls = cls;
}

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
	mask_tree(o, 0);
	line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII |
	    JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (line == NULL)
		return;
	len = strlen(line);
	line[len] = '\n';	/* json_dumps leaves room: replace the NUL */
	if (sink != NULL)
		sink(line, len + 1, sink_cls);
	else
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
