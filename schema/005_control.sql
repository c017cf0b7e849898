-- hookledger schema, version 5: control state (docs/ledger-format.md).
--
-- pauses is the kill switch: `hookledger pause` adds a row, `resume`
-- deletes it, and hookledgerd answers 503 "paused" to the deliveries of a
-- paused tenant ('*': every tenant). It is operator state, not ledger
-- data: mutable, outside the hash chain, and not checked by verify.
CREATE TABLE pauses (
	tenant		TEXT NOT NULL PRIMARY KEY
			CHECK (length(tenant) BETWEEN 1 AND 64),
	reason		TEXT NOT NULL DEFAULT ''
			CHECK (length(reason) <= 200),
	paused_at	INTEGER NOT NULL CHECK (paused_at >= 0)
) STRICT;
