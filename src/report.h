/*
 * report: render a reconciliation report (the JSON object built by
 * reconcile.c, described in docs/reconcile.md) for people: a plain-text
 * summary for the cron mail, and a self-contained HTML page with SVG
 * charts. Rendering is deterministic: the same report gives the same
 * bytes, so re-running a date reproduces its files exactly.
 */
#ifndef HL_REPORT_H
#define HL_REPORT_H

#include <stddef.h>

#include <jansson.h>

/* The text summary; a malloc'd NUL-terminated string, or NULL when out
 * of memory. */
char	*report_text(const json_t *report);

/* The HTML page: no external resource, no script; every string from the
 * report is escaped. A malloc'd string, or NULL. */
char	*report_html(const json_t *report);

/* One line for an alert: "hookledger reconciliation for DATE: N flags
 * (TENANT: KIND, KIND; TENANT: KIND)", control bytes replaced, cut to
 * cap - 1 bytes (ending "...") when longer. Always NUL-terminates. */
void	 report_summary(const json_t *report, char *out, size_t cap);

/* Write reconcile-DATE-TENANT.json, .txt and .html (TENANT "all" when
 * the report covers every tenant) into dir, each through a temporary file
 * renamed into place. The path of the .html file is copied to html_path
 * (cap bytes). Returns 0, or -1 with a line in err. */
int	 report_write(const json_t *report, const char *dir, char *html_path,
	    size_t cap, char *err, size_t errlen);

#endif
