/*
 * cpwriter.c: periodic signed checkpoints from the daemon.
 */
#include "cpwriter.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "note.h"

struct cpwriter {
	struct note_signer	 signer;
	char			 origin[NOTE_NAME_MAX + 1];
	char			*dir;
	unsigned int		 every;		/* entries */
	unsigned int		 interval;	/* seconds */
	int64_t			 last_size;
	int64_t			 last_time;
};

struct cpwriter *
cpwriter_new(const struct config *cfg, char *err, size_t errlen)
{
	struct cpwriter *cw;

	*err = '\0';
	if (cfg->checkpoint_key == NULL)
		return NULL;
	if ((cw = calloc(1, sizeof(*cw))) == NULL ||
	    (cw->dir = strdup(cfg->checkpoint_dir)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(cw);
		return NULL;
	}
	if (note_signer_load(cfg->checkpoint_key, &cw->signer, err, errlen) ==
	    -1) {
		free(cw->dir);
		free(cw);
		return NULL;
	}
	snprintf(cw->origin, sizeof(cw->origin), "%s",
	    cfg->checkpoint_origin != NULL ? cfg->checkpoint_origin :
	    cw->signer.name);
	cw->every = cfg->checkpoint_every;
	cw->interval = cfg->checkpoint_interval * 60;
	cw->last_size = -1;
	cw->last_time = (int64_t)time(NULL);
	return cw;
}

void
cpwriter_free(struct cpwriter *cw)
{
	if (cw == NULL)
		return;
	note_signer_free(&cw->signer);
	free(cw->dir);
	free(cw);
}

/* Write text to dir/name through a temporary file, fsynced. */
static int
put_file(const char *dir, const char *name, const char *text, size_t len)
{
	char	 tmp[1024], path[1024];
	int	 fd, ok;

	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) == -1)
		return -1;
	ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
	if (close(fd) != 0 || !ok || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
cpwriter_write(struct cpwriter *cw, struct ledger *lg)
{
	struct note_checkpoint	 cp;
	char			 note[NOTE_MAX], name[64], err[256];
	size_t			 len;
	int64_t			 size;

	memset(&cp, 0, sizeof(cp));
	if ((size = ledger_tree_root(lg, cp.root)) < 0)
		return -1;
	/* An empty tree commits to nothing worth shipping. */
	if (size == cw->last_size || size == 0)
		return 0;
	snprintf(cp.origin, sizeof(cp.origin), "%s", cw->origin);
	cp.size = (uint64_t)size;
	if (note_sign_checkpoint(&cw->signer, &cp, note, sizeof(note), &len,
	    err, sizeof(err)) == -1) {
		log_msg("error", "checkpoint: %s", err);
		return -1;
	}
	snprintf(name, sizeof(name), "checkpoint-%020" PRId64 ".txt", size);
	if (put_file(cw->dir, name, note, len) == -1 ||
	    put_file(cw->dir, "latest.txt", note, len) == -1) {
		log_msg("error", "checkpoint: cannot write %s/%s: %s", cw->dir,
		    name, strerror(errno));
		return -1;
	}
	cw->last_size = size;
	cw->last_time = (int64_t)time(NULL);
	log_json("info", "checkpoint", json_pack("{s:I, s:s}", "tree_size",
	    (json_int_t)size, "file", name));
	return 0;
}

void
cpwriter_after_commit(void *cls, struct ledger *lg)
{
	struct cpwriter	*cw = cls;
	unsigned char	 root[32];
	int64_t		 size = ledger_tree_root(lg, root);
	int64_t		 now = (int64_t)time(NULL);

	if (size < 0 || size == cw->last_size)
		return;
	if (cw->last_size < 0 || size - cw->last_size >= (int64_t)cw->every ||
	    now - cw->last_time >= (int64_t)cw->interval)
		cpwriter_write(cw, lg);
}
