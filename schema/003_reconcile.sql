-- hookledger schema, version 3: what the nightly reconciler reads.
--
-- Captures keep who paid (customer and card fingerprint, identifiers only,
-- never a card number), the card's country and brand, for dispute
-- clusters, the SCA report and the card networks' programmes; indexes serve one day's window per tenant.

ALTER TABLE facts ADD COLUMN customer TEXT NOT NULL DEFAULT '';
ALTER TABLE facts ADD COLUMN card_fingerprint TEXT NOT NULL DEFAULT '';
ALTER TABLE facts ADD COLUMN card_country TEXT NOT NULL DEFAULT '';
ALTER TABLE facts ADD COLUMN card_brand TEXT NOT NULL DEFAULT '';

CREATE INDEX ledger_occurred ON ledger (tenant, occurred_at);
CREATE INDEX facts_occurred ON facts (tenant, occurred_at);
