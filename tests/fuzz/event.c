/*
 * event: the Stripe and neutral event mappers over whatever body_parse()
 * accepts.
 *
 * Input: the body, whole; the seeds are real provider events. Each
 * accepted body goes through both mappers, since a sender may post
 * either shape to either endpoint. A mapped movement must keep the
 * contract of struct event_move: terminated strings, a positive amount
 * and a known currency when it moves money, a fee below the amount.
 */
#include <jansson.h>

#include "body.h"
#include "event.h"

#include "fuzz.h"

static void
check(enum event_result r, const struct event_move *m, const char *why)
{
	if (r != EVENT_OK) {
		if (r != EVENT_INVALID || memchr(why, '\0', 128) == NULL ||
		    why[0] == '\0')
			abort();
		return;
	}
	if (memchr(m->type, '\0', sizeof(m->type)) == NULL ||
	    memchr(m->id, '\0', sizeof(m->id)) == NULL ||
	    memchr(m->payment_ref, '\0', sizeof(m->payment_ref)) == NULL ||
	    memchr(m->object_id, '\0', sizeof(m->object_id)) == NULL ||
	    memchr(m->currency, '\0', sizeof(m->currency)) == NULL ||
	    memchr(m->sca_result, '\0', sizeof(m->sca_result)) == NULL ||
	    memchr(m->customer, '\0', sizeof(m->customer)) == NULL ||
	    memchr(m->card_fingerprint, '\0',
	    sizeof(m->card_fingerprint)) == NULL ||
	    memchr(m->card_country, '\0', sizeof(m->card_country)) == NULL ||
	    memchr(m->card_brand, '\0', sizeof(m->card_brand)) == NULL)
		abort();
	if (event_kind_parse(event_kind_name(m->kind)) != (int)m->kind)
		abort();
	if (m->kind == EVENT_NONE)
		return;
	if (m->amount <= 0 || strlen(m->currency) != 3 ||
	    !event_id_valid(m->payment_ref, strlen(m->payment_ref)))
		abort();
	if (m->fee < 0 || (m->fee > 0 && m->fee >= m->amount))
		abort();
	if (event_status_name(m->status) == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct event_move	 m;
	unsigned char		*buf;
	json_t			*root;
	char			 why[128];

	buf = fuzz_copy(data, size);
	if (body_parse(buf, size, &root) != BODY_OK) {
		free(buf);
		return -1;	/* not worth keeping in the corpus */
	}
	memset(&m, 0xa5, sizeof(m));
	why[0] = '\0';
	check(event_map_stripe(root, &m, why, sizeof(why)), &m, why);
	memset(&m, 0xa5, sizeof(m));
	why[0] = '\0';
	check(event_map_neutral(root, &m, why, sizeof(why)), &m, why);
	json_decref(root);
	free(buf);
	return 0;
}
