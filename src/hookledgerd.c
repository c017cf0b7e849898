/*
 * hookledgerd: the webhook receiver.
 *
 * This file only parses options, loads the config and wires the modules
 * together: ledger -> writer -> api -> http. Signals are handled
 * synchronously by the main thread with sigwait(), so no handler runs
 * inside a library.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <jansson.h>
#include <sodium.h>

#include "api.h"
#include "config.h"
#include "cpwriter.h"
#include "digest.h"
#include "http.h"
#include "http_listen.h"
#include "inflight.h"
#include "ledger.h"
#include "log.h"
#include "pause.h"
#include "writer.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: hookledgerd --config FILE [--check-config]\n"
	    "\n"
	    "Receive payment webhooks, verify them, and append their money\n"
	    "movements to a hash-chained SQLite ledger.\n"
	    "\n"
	    "  -c, --config FILE   configuration file (see etc/hookledgerd.conf)\n"
	    "  -n, --check-config  check the configuration and secrets, then exit\n"
	    "  -h, --help          show this help\n"
	    "  -V, --version       show the version\n");
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct config		*cfg = NULL;
	struct ledger		*lg = NULL;
	struct writer		*w = NULL;
	struct cpwriter		*cw = NULL;
	struct inflight		*inf = NULL;
	struct api		*api = NULL;
	struct http_server	*srv = NULL;
	struct pause_watch	*pw = NULL;
	const char		*path = NULL;
	char			 err[512], addr[96];
	sigset_t		 sigs;
	int			 ch, check_only = 0, sig, rc = EXIT_FAILURE;
	int			 lfd = -1;
	unsigned short		 port = 0;

	while ((ch = getopt_long(argc, argv, "c:nhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check_only = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			printf("hookledgerd %s\n", PACKAGE_VERSION);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return 2;
	}

	/* Everything this process creates (the ledger, its WAL) is ours
	 * alone. */
	umask(077);
	if (sodium_init() < 0 || digest_init() == -1) {
		fprintf(stderr, "hookledgerd: cannot initialise the crypto "
		    "libraries\n");
		return EXIT_FAILURE;
	}
	json_object_seed(0);
	if ((cfg = config_load(path, 1, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return EXIT_FAILURE;
	}
	/* A daemon without endpoints would receive nothing: most likely the
	 * wrong file, or one whose sections were lost. Refused at start-up
	 * and by --check-config alike, before the ledger is touched. */
	if (cfg->nendpoints == 0) {
		fprintf(stderr, "%s: no [endpoint] section\n", path);
		config_free(cfg);
		return EXIT_FAILURE;
	}
	/* The signing key is read here too, so that --check-config refuses
	 * what the daemon would refuse at start-up. */
	if (check_only && (cw = cpwriter_new(cfg, err, sizeof(err))) == NULL &&
	    err[0] != '\0') {
		fprintf(stderr, "%s: checkpoint_key: %s\n", path, err);
		config_free(cfg);
		return EXIT_FAILURE;
	}
	if (check_only) {
		cpwriter_free(cw);
		printf("%s: ok, %zu endpoint%s\n", path, cfg->nendpoints,
		    cfg->nendpoints == 1 ? "" : "s");
		config_free(cfg);
		return EXIT_SUCCESS;
	}

	/* Block the stop signals before any thread starts, so that they all
	 * inherit the mask and only sigwait() below receives them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A file-size limit reached while appending must be an error the
	 * writer answers 503 for (EFBIG), not a signal that kills the
	 * daemon with requests in flight. */
	signal(SIGXFSZ, SIG_IGN);

	if ((lfd = http_listen(cfg, &port, err, sizeof(err))) == -1) {
		fprintf(stderr, "%s: %s\n", path, err);
		goto out;
	}
	if ((lg = ledger_open(cfg->database, LEDGER_READ_WRITE, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "hookledgerd: %s\n", err);
		goto out;
	}
	if ((inf = inflight_new(cfg->max_connections)) == NULL) {
		fprintf(stderr, "hookledgerd: out of memory\n");
		goto out;
	}
	if ((cw = cpwriter_new(cfg, err, sizeof(err))) == NULL &&
	    err[0] != '\0') {
		fprintf(stderr, "%s: checkpoint_key: %s\n", path, err);
		goto out;
	}
	if ((w = writer_start(lg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "hookledgerd: %s\n", err);
		goto out;
	}
	if (cw != NULL)
		writer_after_commit(w, cpwriter_after_commit, cw);
	if ((api = api_new(cfg, inf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "hookledgerd: %s\n", err);
		goto out;
	}
	if ((pw = pause_watch_start(cfg->database, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "hookledgerd: %s\n", err);
		goto out;
	}
	srv = http_start(cfg, lfd, port, w, inf, api, pw, err, sizeof(err));
	lfd = -1;	/* the server's now, or closed */
	if (srv == NULL) {
		fprintf(stderr, "%s: %s\n", path, err);
		goto out;
	}
	snprintf(addr, sizeof(addr), strchr(cfg->listen_host, ':') != NULL ?
	    "[%s]:%u" : "%s:%u", cfg->listen_host, http_port(srv));
	log_json("info", "listening", json_pack("{s:s, s:s, s:i}",
	    "listen", addr, "database", cfg->database,
	    "endpoints", (int)cfg->nendpoints));

	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			log_msg("info", "SIGHUP ignored: restart to reload "
			    "the configuration");
			continue;
		}
		break;
	}
	log_msg("info", "stopping on signal %d", sig);
	rc = EXIT_SUCCESS;
out:
	if (lfd != -1)
		close(lfd);
	http_stop(srv);
	pause_watch_stop(pw);
	api_free(api);
	writer_stop(w);
	/* The writer has stopped: sign the head as it is left, so that the
	 * last entries are covered by a checkpoint too. */
	if (cw != NULL && lg != NULL && rc == EXIT_SUCCESS)
		cpwriter_write(cw, lg);
	cpwriter_free(cw);
	inflight_free(inf);
	ledger_close(lg);
	config_free(cfg);
	digest_fini();
	if (rc == EXIT_SUCCESS)
		log_msg("info", "stopped");
	return rc;
}
