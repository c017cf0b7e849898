/*
 * inflight.c: an open-addressed hash set of "endpoint\0id" keys under one
 * mutex. The hash is keyed with a random secret per process, so a sender
 * cannot choose ids that collide.
 */
#include "inflight.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "config.h"
#include "event.h"

#define KEY_MAX	(CONFIG_NAME_MAX + 1 + EVENT_ID_MAX + 1)

struct slot {
	int		 used;		/* 0 empty, 1 used, 2 deleted */
	size_t		 len;
	char		 key[KEY_MAX];
};

struct inflight {
	pthread_mutex_t	 mu;
	struct slot	*slots;
	size_t		 nslots;	/* a power of two, >= 2 * cap */
	size_t		 count;
	size_t		 tombs;		/* deleted slots, until a rehash */
	size_t		 cap;
	unsigned char	 hkey[crypto_shorthash_KEYBYTES];
};

static int
make_key(const char *endpoint, const char *id, char *key, size_t *len)
{
	size_t a = strnlen(endpoint, CONFIG_NAME_MAX + 1);
	size_t b = strnlen(id, EVENT_ID_MAX + 1);

	if (a > CONFIG_NAME_MAX || b > EVENT_ID_MAX)
		return -1;
	memcpy(key, endpoint, a);
	key[a] = '\0';
	memcpy(key + a + 1, id, b);
	*len = a + 1 + b;
	return 0;
}

static size_t
slot_of(const struct inflight *set, const char *key, size_t len)
{
	unsigned char	 h[crypto_shorthash_BYTES];
	uint64_t	 v = 0;
	size_t		 i;

	crypto_shorthash(h, (const unsigned char *)key, len, set->hkey);
	for (i = 0; i < sizeof(h); i++)
		v = v << 8 | h[i];
	return (size_t)v & (set->nslots - 1);
}

struct inflight *
inflight_new(size_t cap)
{
	struct inflight	*set;
	size_t		 n = 16;

	if (cap == 0 || cap > (1u << 20))
		return NULL;
	while (n < 2 * cap)
		n <<= 1;
	if ((set = calloc(1, sizeof(*set))) == NULL)
		return NULL;
	if ((set->slots = calloc(n, sizeof(*set->slots))) == NULL) {
		free(set);
		return NULL;
	}
	set->nslots = n;
	set->cap = cap;
	crypto_shorthash_keygen(set->hkey);
	pthread_mutex_init(&set->mu, NULL);
	return set;
}

void
inflight_free(struct inflight *set)
{
	if (set == NULL)
		return;
	pthread_mutex_destroy(&set->mu);
	free(set->slots);
	free(set);
}

/* Find key; returns its slot, or the first reusable slot with *found = 0. */
static size_t
find(const struct inflight *set, const char *key, size_t len, int *found)
{
	size_t	 i = slot_of(set, key, len), n, free_at = SIZE_MAX;

	*found = 0;
	for (n = 0; n < set->nslots; n++, i = (i + 1) & (set->nslots - 1)) {
		const struct slot *s = &set->slots[i];

		if (s->used == 0)
			return free_at != SIZE_MAX ? free_at : i;
		if (s->used == 2) {
			if (free_at == SIZE_MAX)
				free_at = i;
			continue;
		}
		if (s->len == len && memcmp(s->key, key, len) == 0) {
			*found = 1;
			return i;
		}
	}
	return free_at;
}

/* Tombstones lengthen every probe; rebuild the table once they are a
 * quarter of it. Called with the mutex held. */
static void
rehash(struct inflight *set)
{
	struct slot	*old = set->slots, *fresh;
	size_t		 i, j;
	int		 found;

	if ((fresh = calloc(set->nslots, sizeof(*fresh))) == NULL)
		return;		/* keep probing the old table */
	set->slots = fresh;
	for (i = 0; i < set->nslots; i++) {
		if (old[i].used != 1)
			continue;
		j = find(set, old[i].key, old[i].len, &found);
		fresh[j] = old[i];
	}
	set->tombs = 0;
	free(old);
}

int
inflight_claim(struct inflight *set, const char *endpoint, const char *id)
{
	char	 key[KEY_MAX];
	size_t	 len, i;
	int	 found, rc;

	if (make_key(endpoint, id, key, &len) == -1)
		return -1;
	pthread_mutex_lock(&set->mu);
	i = find(set, key, len, &found);
	if (found)
		rc = 1;
	else if (set->count >= set->cap || i == SIZE_MAX)
		rc = -1;
	else {
		if (set->slots[i].used == 2)
			set->tombs--;
		set->slots[i].used = 1;
		set->slots[i].len = len;
		memcpy(set->slots[i].key, key, len);
		set->count++;
		rc = 0;
	}
	pthread_mutex_unlock(&set->mu);
	return rc;
}

void
inflight_release(struct inflight *set, const char *endpoint, const char *id)
{
	char	 key[KEY_MAX];
	size_t	 len, i;
	int	 found;

	if (make_key(endpoint, id, key, &len) == -1)
		return;
	pthread_mutex_lock(&set->mu);
	i = find(set, key, len, &found);
	if (found) {
		set->slots[i].used = 2;
		set->count--;
		if (++set->tombs > set->nslots / 4)
			rehash(set);
	}
	pthread_mutex_unlock(&set->mu);
}
