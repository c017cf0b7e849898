/*
 * ledger.c: open and migrate the ledger database, keep its head, and
 * append entries with their postings.
 *
 * Appending happens only from ledger_apply() (apply.c), called by the
 * writer thread inside a transaction it owns. The head (last seq and hash)
 * is kept in memory, restored when a savepoint rolls back and reloaded
 * from the file when a commit fails.
 */
#include "ledger.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <jansson.h>

#include "entry.h"
#include "ledger_int.h"
#include "schema_sql.h"

static int	load_frontier(struct ledger *);

static void
errf(char *err, size_t errlen, const char *path, const char *what,
    sqlite3 *db)
{
	snprintf(err, errlen, "%s: %s: %s", path, what,
	    db != NULL ? sqlite3_errmsg(db) : "out of memory");
}

static int
exec1(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int
user_version(sqlite3 *db, int *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/* Apply each schema file above the file's version, each in its own
 * transaction together with its user_version bump. */
static int
migrate(struct ledger *lg, const char *path, char *err, size_t errlen)
{
	const int	 latest = (int)(sizeof(schema_sql) / sizeof(schema_sql[0]));
	char		 bump[64];
	int		 v;

	if (user_version(lg->db, &v) == -1) {
		errf(err, errlen, path, "cannot read user_version", lg->db);
		return -1;
	}
	if (v > latest) {
		snprintf(err, errlen, "%s: schema version %d is newer than this "
		    "build knows (%d)", path, v, latest);
		return -1;
	}
	for (; v < latest; v++) {
		snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
		if (exec1(lg->db, "BEGIN IMMEDIATE") == -1 ||
		    exec1(lg->db, schema_sql[v]) == -1 ||
		    exec1(lg->db, bump) == -1 ||
		    exec1(lg->db, "COMMIT") == -1) {
			errf(err, errlen, path, "migration failed", lg->db);
			exec1(lg->db, "ROLLBACK");
			return -1;
		}
	}
	return 0;
}

/* 1 when the file is a SQLite database of something else (schema
 * version 0, yet holding tables): the daemon must not add a ledger's
 * tables to another application's data. 0 for an empty file. */
static int
foreign(struct ledger *lg, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt	*st;
	int		 v, n = -1;

	if (user_version(lg->db, &v) == -1 || v != 0)
		return 0;	/* migrate() reports what it cannot read */
	if (sqlite3_prepare_v2(lg->db, "SELECT count(*) FROM sqlite_schema",
	    -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (n == 0)
		return 0;
	snprintf(err, errlen, "%s: %s", path, n < 0 ? "not a readable SQLite "
	    "database" : "a SQLite database of something else (schema "
	    "version 0 with tables in it); hookledgerd adds a ledger only to "
	    "an empty or new file");
	return 1;
}

static int
load_head(struct ledger *lg)
{
	sqlite3_stmt	*st;
	int		 rc;

	lg->head_seq = 0;
	memset(lg->head_hash, 0, sizeof(lg->head_hash));
	if (sqlite3_prepare_v2(lg->db, "SELECT seq, hash FROM ledger ORDER BY"
	    " seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		if (sqlite3_column_bytes(st, 1) != DIGEST_SHA256_LEN) {
			sqlite3_finalize(st);
			return -1;
		}
		lg->head_seq = sqlite3_column_int64(st, 0);
		memcpy(lg->head_hash, sqlite3_column_blob(st, 1),
		    DIGEST_SHA256_LEN);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* The writer needs the file and its directory (the WAL and its index are
 * created beside it). access() answers for this process as it is, so a
 * read-only mount (EROFS) fails here even for root, who bypasses mode
 * bits. A missing file is fine: SQLite creates it. */
static int
writable(const char *path, char *err, size_t errlen)
{
	char		 dir[4096];
	struct stat	 sb;

	if (strlen(path) >= sizeof(dir)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	memcpy(dir, path, strlen(path) + 1);
	if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file; the ledger "
		    "database is one", path);
		return -1;
	}
	if (access(path, W_OK) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "%s: the ledger database is not writable "
		    "(%s); hookledgerd appends to it", path, strerror(errno));
		return -1;
	}
	if (access(dirname(dir), W_OK) == -1) {
		snprintf(err, errlen, "%s: its directory is not writable (%s); "
		    "the write-ahead log lives beside the database", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* 1 when SQLite could not create the -shm index beside path: the file
 * system is mounted read-only, or there is no index yet and this process
 * may not write the directory (an auditor's account reading a copy it
 * does not own). */
static int
no_index(const char *path, const char *shm)
{
	struct statvfs	 vfs;
	char		 dir[4096];

	if (statvfs(path, &vfs) == 0 && (vfs.f_flag & ST_RDONLY) != 0)
		return 1;
	if (access(shm, F_OK) == 0 || strlen(path) >= sizeof(dir))
		return 0;
	memcpy(dir, path, strlen(path) + 1);
	return access(dirname(dir), W_OK) == -1;
}

/* A reader cannot open a WAL-mode file the usual way where SQLite cannot
 * create its -shm index (no_index()). When, besides, no write-ahead log
 * with content is beside it (the file alone is the whole ledger, as after
 * the daemon stopped cleanly), open it as immutable instead: fills uri
 * with "file:" and the percent-encoded path and returns 1; else 0. A
 * -wal with content (a running daemon, or a crash) keeps the usual open,
 * which reads it if its -shm exists. */
static int
immutable_uri(const char *path, char *uri, size_t urilen)
{
	static const char hex[] = "0123456789ABCDEF";
	char		 wal[4096], shm[4096];
	struct stat	 st;
	size_t		 i, n;

	if ((size_t)snprintf(wal, sizeof(wal), "%s-wal", path) >=
	    sizeof(wal) ||
	    (size_t)snprintf(shm, sizeof(shm), "%s-shm", path) >= sizeof(shm))
		return 0;
	if (!no_index(path, shm))
		return 0;
	if (stat(wal, &st) == 0 && st.st_size > 0)
		return 0;
	n = (size_t)snprintf(uri, urilen, "file:");
	for (i = 0; path[i] != '\0'; i++) {
		unsigned char c = (unsigned char)path[i];

		if (n + 3 + sizeof("?immutable=1") > urilen)
			return 0;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("/-._~", c) != NULL) {
			uri[n++] = (char)c;
		} else {
			uri[n++] = '%';
			uri[n++] = hex[c >> 4];
			uri[n++] = hex[c & 15];
		}
	}
	memcpy(uri + n, "?immutable=1", sizeof("?immutable=1"));
	return 1;
}

/* 0 when the open file is a ledger of exactly this build's schema
 * version; -1 with a line in err. */
static int
check_current(struct ledger *lg, const char *path, char *err, size_t errlen)
{
	int v;

	if (user_version(lg->db, &v) == -1) {
		errf(err, errlen, path, "not a readable SQLite database",
		    lg->db);
		return -1;
	}
	if (v == 0)
		snprintf(err, errlen, "%s: not a hookledger ledger (schema "
		    "version 0)", path);
	else if (v < LEDGER_SCHEMA_VERSION)
		snprintf(err, errlen, "%s: schema version %d is older than this "
		    "build's %d; start hookledgerd on it once to upgrade it",
		    path, v, LEDGER_SCHEMA_VERSION);
	else if (v > LEDGER_SCHEMA_VERSION)
		snprintf(err, errlen, "%s: schema version %d is newer than this "
		    "build knows (%d)", path, v, LEDGER_SCHEMA_VERSION);
	return v == LEDGER_SCHEMA_VERSION ? 0 : -1;
}

int
ledger_check_path(const char *path, char *err, size_t errlen)
{
	return writable(path, err, errlen);
}

int
ledger_lock(const char *path, char *err, size_t errlen)
{
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		snprintf(err, errlen, "%s: cannot open the ledger (%s)", path,
		    strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(err, errlen, "%s: %s", path, errno == EWOULDBLOCK ?
		    "another hookledgerd has this ledger open" :
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct ledger *
ledger_open(const char *path, enum ledger_mode mode, char *err, size_t errlen)
{
	struct ledger	*lg;
	char		 uri[3 * 4096 + 32];
	const char	*name = path;
	struct stat	 sb;
	int		 flags, i, v;

	if ((lg = calloc(1, sizeof(*lg))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return NULL;
	}
	lg->mode = mode;
	/* Only the daemon creates a ledger: a mistyped path given to the
	 * command must not become a new, empty one. */
	if (mode != LEDGER_READ_WRITE && stat(path, &sb) == -1 &&
	    errno == ENOENT) {
		snprintf(err, errlen, "%s: no such ledger (only hookledgerd "
		    "creates one)", path);
		goto fail;
	}
	if (mode != LEDGER_READ_ONLY && writable(path, err, errlen) == -1)
		goto fail;
	flags = SQLITE_OPEN_NOMUTEX | (mode == LEDGER_READ_WRITE ?
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : mode ==
	    LEDGER_READ_WRITE_EXISTING ? SQLITE_OPEN_READWRITE :
	    SQLITE_OPEN_READONLY);
	if (mode == LEDGER_READ_ONLY && immutable_uri(path, uri, sizeof(uri))) {
		name = uri;
		flags |= SQLITE_OPEN_URI;
	}
	if (sqlite3_open_v2(name, &lg->db, flags, NULL) != SQLITE_OK) {
		errf(err, errlen, path, "cannot open", lg->db);
		goto fail;
	}
	sqlite3_extended_result_codes(lg->db, 1);
	sqlite3_busy_timeout(lg->db, 5000);
	/* SQLite quietly opens a file it cannot write read-only; the daemon
	 * would then fail every request instead of refusing to start. */
	if (mode == LEDGER_READ_WRITE && sqlite3_db_readonly(lg->db, "main")
	    == 1) {
		snprintf(err, errlen, "%s: the ledger database is read-only; "
		    "hookledgerd appends to it", path);
		goto fail;
	}
	if (sqlite3_db_config(lg->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL) !=
	    SQLITE_OK ||
	    sqlite3_db_config(lg->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL) !=
	    SQLITE_OK) {
		errf(err, errlen, path, "cannot enable defensive mode", lg->db);
		goto fail;
	}
	if (mode == LEDGER_READ_ONLY) {
		/* Readers walk the whole file (verify, reports): a large page
		 * cache and memory-mapped reads keep that from turning into
		 * one system call per page. Failures only cost speed. */
		exec1(lg->db, "PRAGMA cache_size = -131072");
		exec1(lg->db, "PRAGMA mmap_size = 1073741824");
		if (user_version(lg->db, &v) == -1) {
			errf(err, errlen, path, "not a readable SQLite database",
			    lg->db);
			goto fail;
		}
		if (v < 1 || v > LEDGER_SCHEMA_VERSION) {
			snprintf(err, errlen, "%s: schema version %d is not a "
			    "hookledger ledger this build knows", path, v);
			goto fail;
		}
		if (v < 2) {
			snprintf(err, errlen, "%s: schema version %d predates "
			    "postings; start hookledgerd on it once to upgrade "
			    "it", path, v);
			goto fail;
		}
		return lg;
	}
	/* The command writes only to a ledger the daemon made and brought
	 * to this schema: it checks before changing anything, even the
	 * journal mode, and leaves migrations to the daemon. */
	if (mode == LEDGER_READ_WRITE_EXISTING &&
	    check_current(lg, path, err, errlen) == -1)
		goto fail;
	/* WAL lets readers (verify, reports) run beside the writer; FULL
	 * makes every commit durable before a 2xx is sent. */
	if (exec1(lg->db, "PRAGMA journal_mode = WAL") == -1 ||
	    exec1(lg->db, "PRAGMA synchronous = FULL") == -1 ||
	    exec1(lg->db, "PRAGMA recursive_triggers = ON") == -1 ||
	    exec1(lg->db, "PRAGMA foreign_keys = ON") == -1) {
		errf(err, errlen, path, "cannot set pragmas", lg->db);
		goto fail;
	}
	if (mode == LEDGER_READ_WRITE && foreign(lg, path, err, errlen))
		goto fail;
	if (migrate(lg, path, err, errlen) == -1)
		goto fail;
	for (i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(lg->db, ledger_stmt_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &lg->stmt[i], NULL) != SQLITE_OK) {
			errf(err, errlen, path, "cannot prepare", lg->db);
			goto fail;
		}
	}
	if (load_head(lg) == -1) {
		errf(err, errlen, path, "cannot read the ledger head", lg->db);
		goto fail;
	}
	if (load_frontier(lg) == -1) {
		errf(err, errlen, path, "cannot read the Merkle tree", lg->db);
		goto fail;
	}
	return lg;
fail:
	ledger_close(lg);
	return NULL;
}

void
ledger_close(struct ledger *lg)
{
	int i;

	if (lg == NULL)
		return;
	for (i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(lg->stmt[i]);
	sqlite3_finalize(lg->merkle_get);
	sqlite3_close(lg->db);
	free(lg);
}

sqlite3 *
ledger_db(struct ledger *lg)
{
	return lg->db;
}

int64_t
ledger_head(const struct ledger *lg, unsigned char hash[DIGEST_SHA256_LEN])
{
	memcpy(hash, lg->head_hash, DIGEST_SHA256_LEN);
	return lg->head_seq;
}

void
ledger_keep_error(struct ledger *lg, const char *what)
{
	/* The extended code tells a failed write (778) from a failed fsync
	 * (1034) or a full disk (13); the system's errno is not kept by
	 * SQLite once the transaction has been rolled back. */
	snprintf(lg->last_error, sizeof(lg->last_error), "%s: %s, SQLite "
	    "code %d", what, sqlite3_errmsg(lg->db),
	    sqlite3_extended_errcode(lg->db));
}

int
ledger_begin(struct ledger *lg)
{
	/* A ROLLBACK that itself failed (I/O error) leaves the transaction
	 * open; without this every later BEGIN would fail for good. */
	if (!sqlite3_get_autocommit(lg->db) &&
	    exec1(lg->db, "ROLLBACK") == -1) {
		ledger_keep_error(lg, "rollback");
		return -1;
	}
	if (lg->head_seq < 0 && (load_head(lg) == -1 ||
	    load_frontier(lg) == -1)) {
		ledger_keep_error(lg, "reloading the head");
		lg->head_seq = -1;
		return -1;
	}
	if (exec1(lg->db, "BEGIN IMMEDIATE") == -1) {
		ledger_keep_error(lg, "begin");
		return -1;
	}
	return 0;
}

int
ledger_probe(struct ledger *lg)
{
	char	sql[64];
	int	v;

	if (ledger_begin(lg) == -1)
		return -1;
	/* Rewriting the header with the value it has: a real page written
	 * to the log and synced at commit, and no change to the ledger. */
	if (user_version(lg->db, &v) == -1) {
		ledger_keep_error(lg, "probe");
		goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v);
	if (exec1(lg->db, sql) == -1) {
		ledger_keep_error(lg, "probe");
		goto fail;
	}
	return ledger_commit(lg);
fail:
	if (ledger_in_txn(lg))
		exec1(lg->db, "ROLLBACK");
	return -1;
}

const char *
ledger_errmsg(const struct ledger *lg)
{
	return lg->last_error[0] != '\0' ? lg->last_error : "unknown error";
}

int
ledger_in_txn(struct ledger *lg)
{
	return !sqlite3_get_autocommit(lg->db);
}

int
ledger_commit(struct ledger *lg)
{
	/* SQLite may have rolled the whole transaction back on its own
	 * (SQLITE_FULL, SQLITE_IOERR): then there is nothing to commit and
	 * every outcome of the batch is void. */
	if (!ledger_in_txn(lg))
		snprintf(lg->last_error, sizeof(lg->last_error), "commit: the "
		    "transaction was rolled back after a storage error");
	else if (exec1(lg->db, "COMMIT") == 0)
		return 0;
	else
		ledger_keep_error(lg, "commit");
	if (ledger_in_txn(lg))
		exec1(lg->db, "ROLLBACK");
	/* The in-memory head and Merkle frontier describe entries that are
	 * not in the file: read both back from what is. */
	if (load_head(lg) == -1 || load_frontier(lg) == -1)
		lg->head_seq = -1;	/* poisoned: the next begin reloads */
	return -1;
}

int
ledger_run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

void
ledger_respond(struct ledger_outcome *out, enum ledger_result r, int status,
    json_t *body)
{
	char *s;

	out->result = r;
	out->status = status;
	s = body != NULL ? json_dumps(body, JSON_COMPACT | JSON_ENSURE_ASCII)
	    : NULL;
	if (s == NULL || strlen(s) >= sizeof(out->response)) {
		/* Cannot happen with bounded ids; fail closed if it does. */
		free(s);
		json_decref(body);
		ledger_outcome_failed(out);
		return;
	}
	memcpy(out->response, s, strlen(s) + 1);
	free(s);
	json_decref(body);
}

void
ledger_outcome_failed(struct ledger_outcome *out)
{
	out->result = LEDGER_FAILED;
	out->status = 503;
	out->seq = 0;
	snprintf(out->response, sizeof(out->response), "{\"error\":"
	    "\"storage_unavailable\",\"message\":\"the ledger could not "
	    "record this event; nothing was recorded, retry later\"}");
}

void
ledger_save_head(const struct ledger *lg, struct ledger_head *h)
{
	h->seq = lg->head_seq;
	memcpy(h->hash, lg->head_hash, sizeof(h->hash));
	h->frontier = lg->frontier;
}

void
ledger_restore_head(struct ledger *lg, const struct ledger_head *h)
{
	lg->head_seq = h->seq;
	memcpy(lg->head_hash, h->hash, sizeof(h->hash));
	lg->frontier = h->frontier;
}

/* Add entry hash eh as the next leaf: store the leaf and every perfect
 * subtree it completes, then advance the in-memory frontier. */
static int
merkle_append(struct ledger *lg, const unsigned char eh[DIGEST_SHA256_LEN])
{
	sqlite3_stmt	*st = lg->stmt[ST_MERKLE_PUT];
	unsigned char	 cur[MERKLE_HASH_LEN];
	uint64_t	 n = lg->frontier.size;
	int		 h;

	if (merkle_leaf(eh, DIGEST_SHA256_LEN, cur) == -1)
		return -1;
	for (h = 0;; h++) {
		sqlite3_bind_int(st, 1, h);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)(n >> h));
		sqlite3_bind_blob(st, 3, cur, MERKLE_HASH_LEN, SQLITE_STATIC);
		if (ledger_run(st) == -1)
			return -1;
		if (h >= MERKLE_MAX_DEPTH - 1 || !(n >> h & 1))
			break;
		/* n's bit h set: this subtree completes a pair. */
		if (merkle_node(lg->frontier.node[h], cur, cur) == -1)
			return -1;
	}
	if (merkle_leaf(eh, DIGEST_SHA256_LEN, cur) == -1)
		return -1;
	return merkle_frontier_append(&lg->frontier, cur);
}

/* Recursion: count at least halves per level, so at most 64 deep. */
/* NOLINTBEGIN(misc-no-recursion) */
int
ledger_merkle_subtree(struct ledger *lg, uint64_t start, uint64_t count,
    unsigned char out[MERKLE_HASH_LEN])
{
	unsigned char	 l[MERKLE_HASH_LEN], r[MERKLE_HASH_LEN];
	uint64_t	 k;
	int		 h, rc;

	if (count == 0)
		return -1;
	/* An aligned power of two is one stored row. */
	if ((count & (count - 1)) == 0 && start % count == 0) {
		for (h = 0; (UINT64_C(1) << h) != count; h++)
			;
		if (lg->merkle_get == NULL && sqlite3_prepare_v2(lg->db,
		    "SELECT hash FROM merkle_nodes WHERE level = ?1 AND"
		    " idx = ?2", -1, &lg->merkle_get, NULL) != SQLITE_OK)
			return -1;
		sqlite3_bind_int(lg->merkle_get, 1, h);
		sqlite3_bind_int64(lg->merkle_get, 2,
		    (sqlite3_int64)(start >> h));
		rc = sqlite3_step(lg->merkle_get);
		if (rc == SQLITE_ROW && sqlite3_column_bytes(lg->merkle_get,
		    0) == MERKLE_HASH_LEN)
			memcpy(out, sqlite3_column_blob(lg->merkle_get, 0),
			    MERKLE_HASH_LEN);
		else
			rc = SQLITE_ERROR;
		sqlite3_reset(lg->merkle_get);
		return rc == SQLITE_ROW ? 0 : -1;
	}
	for (k = 1; k < count - k; k <<= 1)
		;		/* the largest power of two below count */
	if (k >= count)
		k >>= 1;
	if (ledger_merkle_subtree(lg, start, k, l) == -1 ||
	    ledger_merkle_subtree(lg, start + k, count - k, r) == -1)
		return -1;
	return merkle_node(l, r, out);
}
/* NOLINTEND(misc-no-recursion) */

/* Rebuild the frontier for head_seq leaves from the stored subtrees, and
 * store the leaves of entries written before the tree existed. */
static int
load_frontier(struct ledger *lg)
{
	sqlite3_stmt	*st;
	int64_t		 stored = 0, seq;
	uint64_t	 n;
	int		 h, rc;

	merkle_frontier_init(&lg->frontier);
	if (sqlite3_prepare_v2(lg->db, "SELECT count(*) FROM merkle_nodes"
	    " WHERE level = 0", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		stored = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (stored > lg->head_seq)
		return -1;
	n = (uint64_t)stored;
	for (h = 0; h < MERKLE_MAX_DEPTH; h++) {
		if (!(n >> h & 1))
			continue;
		if (ledger_merkle_subtree(lg, ((n >> h) - 1) << h,
		    UINT64_C(1) << h, lg->frontier.node[h]) == -1)
			return -1;
	}
	lg->frontier.size = n;
	if (stored == lg->head_seq)
		return 0;
	/* Entries from before schema 4: add their leaves now. */
	if (sqlite3_prepare_v2(lg->db, "SELECT seq, hash FROM ledger WHERE"
	    " seq > ?1 ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, stored);
	if (sqlite3_exec(lg->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		sqlite3_finalize(st);
		return -1;
	}
	seq = stored;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_int64(st, 0) != ++seq ||
		    sqlite3_column_bytes(st, 1) != DIGEST_SHA256_LEN ||
		    merkle_append(lg, sqlite3_column_blob(st, 1)) == -1)
			break;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE || sqlite3_exec(lg->db, "COMMIT", NULL, NULL,
	    NULL) != SQLITE_OK) {
		sqlite3_exec(lg->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

int
ledger_append(struct ledger *lg, struct entry *e, int64_t *seq_out)
{
	sqlite3_stmt	*st = lg->stmt[ST_ENTRY_PUT];
	unsigned char	 hash[DIGEST_SHA256_LEN];
	size_t		 i;

	if (lg->head_seq < 0 || lg->head_seq == INT64_MAX)
		return -1;
	e->seq = lg->head_seq + 1;
	e->format = ENTRY_FORMAT_VERSION;
	memcpy(e->prev_hash, lg->head_hash, DIGEST_SHA256_LEN);
	if (entry_hash(e, hash) == -1)
		return -1;
	sqlite3_bind_int64(st, 1, e->seq);
	sqlite3_bind_text(st, 2, e->tenant, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e->endpoint, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e->event_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, e->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, e->payment_ref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, e->amount);
	sqlite3_bind_text(st, 8, e->currency, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, e->occurred_at);
	sqlite3_bind_int64(st, 10, e->recorded_at);
	sqlite3_bind_blob(st, 11, e->body_sha256, DIGEST_SHA256_LEN,
	    SQLITE_STATIC);
	sqlite3_bind_blob(st, 12, e->prev_hash, DIGEST_SHA256_LEN,
	    SQLITE_STATIC);
	sqlite3_bind_blob(st, 13, hash, DIGEST_SHA256_LEN, SQLITE_STATIC);
	sqlite3_bind_int(st, 14, e->format);
	if (ledger_run(st) == -1)
		return -1;
	st = lg->stmt[ST_POSTING_PUT];
	for (i = 0; i < e->npostings; i++) {
		sqlite3_bind_int64(st, 1, e->seq);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
		sqlite3_bind_text(st, 3, e->postings[i].account, -1,
		    SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, e->postings[i].debit);
		sqlite3_bind_int64(st, 5, e->postings[i].credit);
		if (ledger_run(st) == -1)
			return -1;
	}
	if (merkle_append(lg, hash) == -1)
		return -1;
	lg->head_seq = e->seq;
	memcpy(lg->head_hash, hash, DIGEST_SHA256_LEN);
	*seq_out = e->seq;
	return 0;
}

int
ledger_trigger_sql(const char *name, char *buf, size_t cap)
{
	const size_t	 nfiles = sizeof(schema_sql) / sizeof(schema_sql[0]);
	char		 head[96];
	const char	*start, *end;
	size_t		 i, n;

	snprintf(head, sizeof(head), "CREATE TRIGGER %s ", name);
	for (i = 0; i < nfiles; i++) {
		if ((start = strstr(schema_sql[i], head)) == NULL)
			continue;
		if ((end = strstr(start, "END;")) == NULL)
			return -1;
		n = (size_t)(end - start) + 3;	/* up to END, without ; */
		if (n >= cap)
			return -1;
		memcpy(buf, start, n);
		buf[n] = '\0';
		return 0;
	}
	return -1;
}

int64_t
ledger_tree_root(const struct ledger *lg, unsigned char root[32])
{
	if (lg->head_seq < 0 || merkle_frontier_root(&lg->frontier, root) == -1)
		return -1;
	return (int64_t)lg->frontier.size;
}
