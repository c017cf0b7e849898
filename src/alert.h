/*
 * alert: run the operator's alert program (alert_command) for a flagged
 * report, bounded in time, and say whether the alert went out. An alert
 * that cannot be delivered must never look like a delivered one: the
 * caller turns -1 into an exit status of its own (docs/reconcile.md).
 */
#ifndef HL_ALERT_H
#define HL_ALERT_H

#include <stddef.h>

#include <jansson.h>

#define ALERT_TIMEOUT_DEFAULT	60	/* seconds */
#define ALERT_TIMEOUT_MAX	3600
#define ALERT_SUMMARY_MAX	1024	/* bytes of HOOKLEDGER_SUMMARY */

/*
 * Run program (an absolute path, no shell) as `program HTML_PATH`, with
 * standard input from /dev/null, our standard output and error, and the
 * report described in the environment (HOOKLEDGER_REPORT_HTML, _TEXT,
 * _JSON, HOOKLEDGER_DATE, HOOKLEDGER_SCOPE, HOOKLEDGER_SUMMARY). It runs
 * in a process group of its own; after timeout seconds (1 to
 * ALERT_TIMEOUT_MAX) the whole group is killed. html_path NULL means no
 * report was written, which is itself a failure to deliver.
 * Returns 0 when the program exited 0, or -1 with one line in err (could
 * not start, exited N, killed by signal S, timed out). Not thread-safe
 * (it blocks SIGCHLD while it waits).
 */
int	alert_run(const char *program, unsigned int timeout,
	    const json_t *report, const char *html_path, char *err,
	    size_t errlen);

#endif
