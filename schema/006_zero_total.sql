-- hookledger schema, version 6: a running refund total may be 0, and
-- parked events are indexed.
--
-- Stripe's charge.refunded carries amount_refunded, the total refunded on
-- the charge so far. When a refund it counted fails, a later total can be
-- lower, down to 0; that fact must be kept for the books to undo the
-- refund. Every other amount stays positive. SQLite cannot change a
-- CHECK constraint in place, so facts is copied into a table that allows
-- it, row for row with the same arrival numbers.

DROP TRIGGER facts_no_update;
DROP TRIGGER facts_no_delete;
CREATE TABLE facts_v6 (
	arrival		INTEGER PRIMARY KEY,	-- order of arrival, 1, 2, ...
	endpoint	TEXT NOT NULL,
	event_id	TEXT NOT NULL,
	tenant		TEXT NOT NULL,
	kind		TEXT NOT NULL,		-- capture, refund, dispute_*, payout
	payment_ref	TEXT NOT NULL,
	object_id	TEXT NOT NULL,		-- refund, dispute or payout id, or ''
	amount		INTEGER NOT NULL CHECK (amount > 0 OR (amount = 0
			    AND kind = 'refund' AND cumulative = 1)),
	currency	TEXT NOT NULL,
	status		TEXT NOT NULL,		-- none, pending, succeeded, failed
	cumulative	INTEGER NOT NULL,	-- 1: amount is a running total
	fee		INTEGER NOT NULL,
	occurred_at	INTEGER NOT NULL,
	verdict		TEXT NOT NULL,		-- captures: verified, unverified,
						-- amount_mismatch, no_expectation
	sca_result	TEXT NOT NULL,		-- '' when the event had none
	liability_shift	INTEGER NOT NULL,	-- 1, 0, or -1 unknown
	customer	TEXT NOT NULL DEFAULT '',
	card_fingerprint TEXT NOT NULL DEFAULT '',
	card_country	TEXT NOT NULL DEFAULT '',
	card_brand	TEXT NOT NULL DEFAULT '',
	UNIQUE (endpoint, event_id)
) STRICT;
INSERT INTO facts_v6 (arrival, endpoint, event_id, tenant, kind,
    payment_ref, object_id, amount, currency, status, cumulative, fee,
    occurred_at, verdict, sca_result, liability_shift, customer,
    card_fingerprint, card_country, card_brand)
SELECT arrival, endpoint, event_id, tenant, kind, payment_ref, object_id,
    amount, currency, status, cumulative, fee, occurred_at, verdict,
    sca_result, liability_shift, customer, card_fingerprint, card_country,
    card_brand FROM facts;
DROP TABLE facts;
ALTER TABLE facts_v6 RENAME TO facts;
CREATE INDEX facts_payment ON facts (tenant, payment_ref);
CREATE INDEX facts_occurred ON facts (tenant, occurred_at);
CREATE TRIGGER facts_no_update BEFORE UPDATE ON facts
BEGIN SELECT RAISE(ABORT, 'facts are append-only'); END;
CREATE TRIGGER facts_no_delete BEFORE DELETE ON facts
BEGIN SELECT RAISE(ABORT, 'facts are append-only'); END;

-- Events parked until their payment's capture arrives, for `hookledger
-- exceptions`, the exceptions API and the nightly report.
CREATE INDEX receipts_parked ON receipts (tenant, received_at)
WHERE outcome = 'parked';
