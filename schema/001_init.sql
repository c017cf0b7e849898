-- hookledger schema, version 1.
--
-- Applied by the daemon inside one transaction when PRAGMA user_version is
-- below 1; the migration then sets user_version = 1. Later versions add
-- files schema/NNN_*.sql, each applied in order, never edited once shipped.
--
-- Both tables are append-only: triggers abort every UPDATE and DELETE. The
-- triggers stop accidents, not an attacker with the file; the hash chain in
-- ledger (docs/ledger-format.md) is what detects tampering.

-- One row per verified event, money or not: the idempotency record. The
-- key (endpoint, event_id) is kept permanently. The stored response is
-- what a redelivery of the same body gets back.
CREATE TABLE receipts (
	endpoint	TEXT NOT NULL,
	event_id	TEXT NOT NULL,
	tenant		TEXT NOT NULL,
	event_type	TEXT NOT NULL,
	body_sha256	BLOB NOT NULL CHECK (length(body_sha256) = 32),
	received_at	INTEGER NOT NULL,	-- Unix seconds, server clock
	outcome		TEXT NOT NULL,		-- applied | recorded | duplicate
	entry_seq	INTEGER,		-- the ledger entry it posted, if any
	status		INTEGER NOT NULL,	-- HTTP status first answered
	response	TEXT NOT NULL,		-- JSON body first answered
	PRIMARY KEY (endpoint, event_id)
) STRICT, WITHOUT ROWID;

-- The ledger: one row per money movement, hash-chained by seq.
CREATE TABLE ledger (
	seq		INTEGER PRIMARY KEY CHECK (seq >= 1),
	tenant		TEXT NOT NULL,
	endpoint	TEXT NOT NULL,
	event_id	TEXT NOT NULL,
	kind		TEXT NOT NULL,
	payment_ref	TEXT NOT NULL,
	amount		INTEGER NOT NULL CHECK (amount > 0),
	currency	TEXT NOT NULL CHECK (length(currency) = 3),
	occurred_at	INTEGER NOT NULL,	-- provider's event time, Unix seconds
	recorded_at	INTEGER NOT NULL,	-- server clock at commit, Unix seconds
	body_sha256	BLOB NOT NULL CHECK (length(body_sha256) = 32),
	prev_hash	BLOB NOT NULL CHECK (length(prev_hash) = 32),
	hash		BLOB NOT NULL CHECK (length(hash) = 32),
	UNIQUE (endpoint, event_id)
) STRICT;

CREATE INDEX ledger_payment ON ledger (tenant, payment_ref, kind);

-- INSERT OR REPLACE deletes the row it replaces without firing the delete
-- triggers (unless recursive_triggers is on in that connection), so a
-- replacing insert is refused before it reaches the conflict, and ledger
-- rows may only be appended at the end of the chain.
CREATE TRIGGER receipts_no_replace BEFORE INSERT ON receipts
WHEN EXISTS (SELECT 1 FROM receipts
	WHERE endpoint = NEW.endpoint AND event_id = NEW.event_id)
BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
CREATE TRIGGER ledger_append_only BEFORE INSERT ON ledger
WHEN NEW.seq IS NOT (SELECT coalesce(max(seq), 0) + 1 FROM ledger)
	OR EXISTS (SELECT 1 FROM ledger
		WHERE endpoint = NEW.endpoint AND event_id = NEW.event_id)
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER receipts_no_update BEFORE UPDATE ON receipts
BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
CREATE TRIGGER receipts_no_delete BEFORE DELETE ON receipts
BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
