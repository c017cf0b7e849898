/*
 * test_ratelimit.c: token buckets with a fake clock: exact refill,
 * all-or-nothing takes, Retry-After, the address table and its eviction.
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "ratelimit.h"

#define MS	1000000ull
#define SEC	1000000000ull

static const struct ratelimit_limit none = { 0, 0 };

static struct sockaddr_storage
v4(const char *a)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*s = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	s->sin_family = AF_INET;
	ck_assert_int_eq(inet_pton(AF_INET, a, &s->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage
v6(const char *a)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in6	*s = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	s->sin6_family = AF_INET6;
	ck_assert_int_eq(inet_pton(AF_INET6, a, &s->sin6_addr), 1);
	return ss;
}

/* Take for address a only; returns 0 or the Retry-After. */
static unsigned int
ip_take(struct ratelimit *rl, const struct sockaddr_storage *a, uint64_t t)
{
	unsigned int	ra = 0;
	size_t		by = 7;

	if (ratelimit_take(rl, (const struct sockaddr *)a, NULL, 0, t, &ra,
	    &by) == 0)
		return 0;
	ck_assert_uint_eq(by, RATELIMIT_BY_IP);
	ck_assert_uint_ge(ra, 1);
	return ra;
}

static int
key_take(struct ratelimit *rl, size_t key, uint64_t t, unsigned int *ra)
{
	size_t by = 7;

	return ratelimit_take(rl, NULL, &key, 1, t, ra, &by);
}

START_TEST(exact_refill)
{
	struct ratelimit_limit	 l = { 3, 2 };
	struct ratelimit	*rl = ratelimit_new(4, none, &l, 1);
	unsigned int		 ra = 0;

	ck_assert_ptr_nonnull(rl);
	/* A new bucket is full: burst 2 at once, then empty. */
	ck_assert_int_eq(key_take(rl, 0, 5 * SEC, &ra), 0);
	ck_assert_int_eq(key_take(rl, 0, 5 * SEC, &ra), 0);
	ck_assert_int_eq(key_take(rl, 0, 5 * SEC, &ra), 1);
	ck_assert_uint_eq(ra, 1);
	/* 3 a second: one token takes 1/3 s, i.e. 333333333.3 ns. One
	 * nanosecond short is not enough; the next is. */
	ck_assert_int_eq(key_take(rl, 0, 5 * SEC + 333333333, &ra), 1);
	ck_assert_int_eq(key_take(rl, 0, 5 * SEC + 333333334, &ra), 0);
	/* The 2 billionths left over carry: 666666665 ns later the bucket
	 * holds 1.999999997 tokens, enough for one take and not two. */
	ck_assert_int_eq(key_take(rl, 0, 5 * SEC + 999999999, &ra), 0);
	ck_assert_int_eq(key_take(rl, 0, 5 * SEC + 999999999, &ra), 1);
	/* After a long idle time the bucket holds burst, not more. */
	ck_assert_int_eq(key_take(rl, 0, 100 * SEC, &ra), 0);
	ck_assert_int_eq(key_take(rl, 0, 100 * SEC, &ra), 0);
	ck_assert_int_eq(key_take(rl, 0, 100 * SEC, &ra), 1);
	/* Refused takes consumed nothing: exactly 1/3 s later, one token. */
	ck_assert_int_eq(key_take(rl, 0, 100 * SEC + 333333334, &ra), 0);
	ck_assert_int_eq(key_take(rl, 0, 100 * SEC + 333333334, &ra), 1);
	ratelimit_free(rl);
}
END_TEST

START_TEST(retry_after)
{
	struct ratelimit_limit	 l[2] = { { 1, 1 }, { 1000000, 10000000 } };
	struct ratelimit	*rl = ratelimit_new(4, none, l, 2);
	unsigned int		 ra = 0;
	size_t			 keys[2] = { 1, 0 }, by = 9;

	ck_assert_ptr_nonnull(rl);
	ck_assert_int_eq(key_take(rl, 0, 0, &ra), 0);
	/* Empty at 1/s: a token in exactly one second. */
	ck_assert_int_eq(key_take(rl, 0, 0, &ra), 1);
	ck_assert_uint_eq(ra, 1);
	/* Almost there: still a whole second is announced, never 0. */
	ck_assert_int_eq(key_take(rl, 0, SEC - 1, &ra), 1);
	ck_assert_uint_eq(ra, 1);
	ck_assert_int_eq(key_take(rl, 0, SEC, &ra), 0);
	/* The refusing bucket is named by its position in keys. */
	ra = 0;
	ck_assert_int_eq(ratelimit_take(rl, NULL, keys, 2, SEC, &ra, &by), 1);
	ck_assert_uint_eq(by, 1);
	ck_assert_uint_eq(ra, 1);
	ratelimit_free(rl);
}
END_TEST

START_TEST(all_or_nothing)
{
	struct ratelimit_limit	 ip = { 1, 2 }, l = { 1000, 1 };
	struct ratelimit	*rl = ratelimit_new(4, ip, &l, 1);
	struct sockaddr_storage	 a = v4("192.0.2.1");
	unsigned int		 ra = 0;
	size_t			 key = 0, by = 9;

	ck_assert_ptr_nonnull(rl);
	ck_assert_int_eq(ratelimit_take(rl, (struct sockaddr *)&a, &key, 1, 0,
	    &ra, &by), 0);
	/* The endpoint's bucket is empty: refused by it, and the address
	 * keeps its token. */
	ck_assert_int_eq(ratelimit_take(rl, (struct sockaddr *)&a, &key, 1, 0,
	    &ra, &by), 1);
	ck_assert_uint_eq(by, 0);
	ck_assert_uint_eq(ra, 1);
	ck_assert_int_eq(ratelimit_take(rl, (struct sockaddr *)&a, &key, 1,
	    1 * MS, &ra, &by), 0);
	/* Now the address is empty (0.002 tokens): refused by it, with
	 * 0.998 s to wait, announced as 1. */
	ck_assert_int_eq(ratelimit_take(rl, (struct sockaddr *)&a, &key, 1,
	    2 * MS, &ra, &by), 1);
	ck_assert_uint_eq(by, RATELIMIT_BY_IP);
	ck_assert_uint_eq(ra, 1);
	ratelimit_free(rl);
}
END_TEST

START_TEST(no_limit)
{
	struct ratelimit_limit	 l = { 0, 0 };
	struct ratelimit	*rl = ratelimit_new(1, none, &l, 1);
	struct sockaddr_storage	 a = v4("192.0.2.1");
	unsigned int		 ra = 0;
	int			 i;

	ck_assert_ptr_nonnull(rl);
	for (i = 0; i < 10000; i++) {
		ck_assert_int_eq(key_take(rl, 0, 0, &ra), 0);
		ck_assert_uint_eq(ip_take(rl, &a, 0), 0);
	}
	/* Without a per-address limit no slot is used. */
	ck_assert_uint_eq(ratelimit_ip_count(rl), 0);
	ratelimit_free(rl);
}
END_TEST

START_TEST(refuses_bad_limits)
{
	struct ratelimit_limit	 ok = { 1, 1 }, zero_burst = { 5, 0 };
	struct ratelimit_limit	 fast = { RATELIMIT_RATE_MAX + 1, 1 };
	struct ratelimit_limit	 deep = { 1, RATELIMIT_BURST_MAX + 1 };

	ck_assert_ptr_null(ratelimit_new(0, ok, NULL, 0));
	ck_assert_ptr_null(ratelimit_new(RATELIMIT_SLOTS_MAX + 1, ok, NULL, 0));
	ck_assert_ptr_null(ratelimit_new(1, zero_burst, NULL, 0));
	ck_assert_ptr_null(ratelimit_new(1, ok, &fast, 1));
	ck_assert_ptr_null(ratelimit_new(1, ok, &deep, 1));
	ratelimit_free(NULL);
}
END_TEST

START_TEST(addresses)
{
	struct ratelimit_limit	 ip = { 1, 1 };
	struct ratelimit	*rl = ratelimit_new(16, ip, NULL, 0);
	struct sockaddr_storage	 a = v6("2001:db8:1:2::1");
	struct sockaddr_storage	 a2 = v6("2001:db8:1:2:ffff:1:2:3");
	struct sockaddr_storage	 b = v6("2001:db8:1:3::1");
	struct sockaddr_storage	 m = v6("::ffff:198.51.100.7");
	struct sockaddr_storage	 m4 = v4("198.51.100.7");
	struct sockaddr_storage	 other = v4("198.51.100.8");
	struct sockaddr_storage	 un;

	ck_assert_ptr_nonnull(rl);
	ck_assert_uint_eq(ip_take(rl, &a, 0), 0);
	/* Same /64: the same bucket. */
	ck_assert_uint_eq(ip_take(rl, &a2, 0), 1);
	/* Another /64: its own. */
	ck_assert_uint_eq(ip_take(rl, &b, 0), 0);
	/* IPv4-mapped is the IPv4 address. */
	ck_assert_uint_eq(ip_take(rl, &m, 0), 0);
	ck_assert_uint_eq(ip_take(rl, &m4, 0), 1);
	ck_assert_uint_eq(ip_take(rl, &other, 0), 0);
	ck_assert_uint_eq(ratelimit_ip_count(rl), 4);
	/* No address, or a family without one: no address bucket. */
	memset(&un, 0, sizeof(un));
	un.ss_family = AF_UNIX;
	ck_assert_uint_eq(ip_take(rl, &un, 0), 0);
	ck_assert_uint_eq(ip_take(rl, &un, 0), 0);
	ck_assert_uint_eq(ip_take(rl, NULL, 0), 0);
	ck_assert_uint_eq(ratelimit_ip_count(rl), 4);
	ratelimit_free(rl);
}
END_TEST

START_TEST(evicts_the_idlest)
{
	struct ratelimit_limit	 ip = { 1, 1 };
	struct ratelimit	*rl = ratelimit_new(2, ip, NULL, 0);
	struct sockaddr_storage	 a = v4("192.0.2.1"), b = v4("192.0.2.2");
	struct sockaddr_storage	 c = v4("192.0.2.3");

	ck_assert_ptr_nonnull(rl);
	ck_assert_uint_eq(ip_take(rl, &a, 0), 0);	/* a empty */
	ck_assert_uint_eq(ip_take(rl, &b, 0), 0);	/* b empty */
	/* a is seen again (and refused): b is now the idlest. */
	ck_assert_uint_eq(ip_take(rl, &a, 1), 1);
	ck_assert_uint_eq(ip_take(rl, &c, 2), 0);	/* evicts b */
	ck_assert_uint_eq(ratelimit_ip_count(rl), 2);
	/* a kept its slot and is still empty; b comes back full. */
	ck_assert_uint_eq(ip_take(rl, &a, 3), 1);
	ck_assert_uint_eq(ip_take(rl, &b, 4), 0);	/* evicts c */
	ck_assert_uint_eq(ip_take(rl, &b, 5), 1);
	ck_assert_uint_eq(ip_take(rl, &c, 6), 0);	/* evicts a */
	ck_assert_uint_eq(ip_take(rl, &a, 7), 0);	/* evicts b */
	ck_assert_uint_eq(ratelimit_ip_count(rl), 2);
	ratelimit_free(rl);
}
END_TEST

START_TEST(table_churn)
{
	struct ratelimit_limit	 ip = { 1, 1 };
	struct ratelimit	*rl = ratelimit_new(64, ip, NULL, 0);
	struct sockaddr_storage	 a;
	struct sockaddr_in	*s = (struct sockaddr_in *)&a;
	uint32_t		 i;

	ck_assert_ptr_nonnull(rl);
	a = v4("10.0.0.0");
	/* 10000 addresses through 64 slots: each new one is full, the
	 * table stays at 64, and the last 64 are all still held. */
	for (i = 0; i < 10000; i++) {
		s->sin_addr.s_addr = htonl(0x0a000000u + i);
		ck_assert_uint_eq(ip_take(rl, &a, 0), 0);
	}
	ck_assert_uint_eq(ratelimit_ip_count(rl), 64);
	for (i = 10000 - 64; i < 10000; i++) {
		s->sin_addr.s_addr = htonl(0x0a000000u + i);
		ck_assert_uint_eq(ip_take(rl, &a, 0), 1);
	}
	ratelimit_free(rl);
}
END_TEST

struct race {
	struct ratelimit	*rl;
	int			 granted;
};

static void *
racer(void *arg)
{
	struct race	*r = arg;
	unsigned int	 ra;
	int		 i;

	for (i = 0; i < 20000; i++)
		if (key_take(r->rl, 0, 0, &ra) == 0)
			r->granted++;
	return NULL;
}

START_TEST(concurrent)
{
	struct ratelimit_limit	 l = { 1, 30000 };
	struct race		 r[4];
	pthread_t		 th[4];
	int			 i, total = 0;
	struct ratelimit	*rl = ratelimit_new(1, none, &l, 1);

	ck_assert_ptr_nonnull(rl);
	for (i = 0; i < 4; i++) {
		r[i].rl = rl;
		r[i].granted = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, racer, &r[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += r[i].granted;
	}
	/* 80000 tries at one instant: exactly the burst is granted. */
	ck_assert_int_eq(total, 30000);
	ratelimit_free(rl);
}
END_TEST

static Suite *
make_suite(void)
{
	Suite	*s = suite_create("ratelimit");
	TCase	*tc = tcase_create("buckets");

	if (sodium_init() < 0)
		abort();
	tcase_add_test(tc, exact_refill);
	tcase_add_test(tc, retry_after);
	tcase_add_test(tc, all_or_nothing);
	tcase_add_test(tc, no_limit);
	tcase_add_test(tc, refuses_bad_limits);
	tcase_add_test(tc, addresses);
	tcase_add_test(tc, evicts_the_idlest);
	tcase_add_test(tc, table_churn);
	tcase_add_test(tc, concurrent);
	suite_add_tcase(s, tc);
	return s;
}

#include "tap.h"
