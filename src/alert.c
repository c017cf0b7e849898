/*
 * alert.c: the operator's alert program, run once per flagged report.
 *
 * No shell: the program is executed directly. A pipe closed on exec tells
 * a program that could not be started (the child writes its errno there)
 * from one that started and then failed. The wait is bounded with
 * sigtimedwait() on a blocked SIGCHLD; past the bound the program's whole
 * process group is killed, so that a child it left behind (a curl that
 * hangs) cannot keep our standard output open or outlive the run.
 */
#include "alert.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

/* The sibling of the .html report with extension ext, into out. */
static int
sibling(const char *html, const char *ext, char *out, size_t cap)
{
	size_t	 n = strlen(html);

	if (n < 5 || strcmp(html + n - 5, ".html") != 0 ||
	    n - 5 + strlen(ext) + 1 >= cap)
		return -1;
	memcpy(out, html, n - 5);
	snprintf(out + n - 5, cap - (n - 5), ".%s", ext);
	return 0;
}

/* In the child: describe the report, then become the program. Never
 * returns; on failure errno goes down the pipe. */
static void
child(const char *program, const char *html, const char *summary,
    const char *date, const char *scope, const sigset_t *mask, int errfd)
{
	char		 txt[PATH_MAX], js[PATH_MAX];
	int		 fd, e;

	sigprocmask(SIG_SETMASK, mask, NULL);
	setpgid(0, 0);
	if ((fd = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(fd, STDIN_FILENO) == -1)
		goto fail;
	if (fd != STDIN_FILENO)
		close(fd);
	if (sibling(html, "txt", txt, sizeof(txt)) == -1 ||
	    sibling(html, "json", js, sizeof(js)) == -1) {
		errno = ENAMETOOLONG;
		goto fail;
	}
	if (setenv("HOOKLEDGER_REPORT_HTML", html, 1) == -1 ||
	    setenv("HOOKLEDGER_REPORT_TEXT", txt, 1) == -1 ||
	    setenv("HOOKLEDGER_REPORT_JSON", js, 1) == -1 ||
	    setenv("HOOKLEDGER_DATE", date, 1) == -1 ||
	    setenv("HOOKLEDGER_SCOPE", scope, 1) == -1 ||
	    setenv("HOOKLEDGER_SUMMARY", summary, 1) == -1)
		goto fail;
	execl(program, program, html, (char *)NULL);
fail:
	e = errno;
	(void)!write(errfd, &e, sizeof(e));
	_exit(127);
}

/* Wait for pid at most timeout seconds. 0 reaped (status set), 1 timed
 * out, -1 error. SIGCHLD is blocked by the caller. */
static int
wait_bounded(pid_t pid, unsigned int timeout, int *status)
{
	struct timespec	 now, end, left;
	sigset_t	 chld;
	pid_t		 r;

	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)timeout;
	for (;;) {
		while ((r = waitpid(pid, status, WNOHANG)) == -1 &&
		    errno == EINTR)
			;
		if (r == pid)
			return 0;
		if (r == -1)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec &&
		    now.tv_nsec >= end.tv_nsec))
			return 1;
		left.tv_sec = end.tv_sec - now.tv_sec;
		left.tv_nsec = end.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		if (sigtimedwait(&chld, NULL, &left) == -1 &&
		    errno != EAGAIN && errno != EINTR)
			return -1;
	}
}

int
alert_run(const char *program, unsigned int timeout, const json_t *report,
    const char *html_path, char *err, size_t errlen)
{
	char		 summary[ALERT_SUMMARY_MAX];
	const char	*date, *scope;
	struct sigaction dfl, old;
	sigset_t	 chld, saved;
	pid_t		 pid;
	int		 pfd[2] = { -1, -1 }, status = 0, w, e = 0, rc = -1;
	ssize_t		 n;

	if (html_path == NULL) {
		snprintf(err, errlen, "alert not delivered: alert_command "
		    "needs --out DIR, for a report to pass to %s", program);
		return -1;
	}
	if (timeout < 1 || timeout > ALERT_TIMEOUT_MAX)
		timeout = ALERT_TIMEOUT_DEFAULT;
	report_summary(report, summary, sizeof(summary));
	date = json_string_value(json_object_get(report, "date"));
	scope = json_string_value(json_object_get(report, "scope"));
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		snprintf(err, errlen, "alert not delivered: cannot run %s: %s",
		    program, strerror(errno));
		return -1;
	}
	/* SIGCHLD ignored (inherited so from whoever started us) would reap
	 * the program before we could see how it ended. */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	sigaction(SIGCHLD, &dfl, &old);
	sigprocmask(SIG_BLOCK, &chld, &saved);
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		snprintf(err, errlen, "alert not delivered: cannot run %s: %s",
		    program, strerror(errno));
		goto fail;
	}
	if (pid == 0) {
		close(pfd[0]);
		child(program, html_path, summary, date != NULL ? date : "",
		    scope != NULL ? scope : "", &saved, pfd[1]);
	}
	close(pfd[1]);
	pfd[1] = -1;
	setpgid(pid, pid);	/* as the child does: whichever runs first */
	w = wait_bounded(pid, timeout, &status);
	if (w != 0) {
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		if (w == 1)
			snprintf(err, errlen, "alert not delivered: %s did not "
			    "finish within %u s and was killed", program,
			    timeout);
		else
			snprintf(err, errlen, "alert not delivered: waiting "
			    "for %s failed", program);
		goto fail;
	}
	while ((n = read(pfd[0], &e, sizeof(e))) == -1 && errno == EINTR)
		;
	if (n == (ssize_t)sizeof(e))
		snprintf(err, errlen, "alert not delivered: cannot run %s: %s",
		    program, strerror(e));
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		rc = 0;
	else if (WIFEXITED(status))
		snprintf(err, errlen, "alert not delivered: %s exited with "
		    "status %d", program, WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(err, errlen, "alert not delivered: %s was killed by "
		    "signal %d (%s)", program, WTERMSIG(status),
		    strsignal(WTERMSIG(status)));
	else
		snprintf(err, errlen, "alert not delivered: %s ended with "
		    "wait status %d", program, status);
fail:
	if (pfd[0] != -1)
		close(pfd[0]);
	if (pfd[1] != -1)
		close(pfd[1]);
	sigprocmask(SIG_SETMASK, &saved, NULL);
	sigaction(SIGCHLD, &old, NULL);
	return rc;
}
