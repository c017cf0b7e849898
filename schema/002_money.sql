-- hookledger schema, version 2: double-entry postings, event facts,
-- expectations, exceptions, API tokens and API idempotency.
--
-- Format-2 ledger entries carry balanced postings, and their hash covers
-- them (docs/ledger-format.md). Entries written before this version keep
-- format 1 and have no postings. Every table is append-only.

ALTER TABLE ledger ADD COLUMN format INTEGER NOT NULL DEFAULT 1
	CHECK (format IN (1, 2));

-- The postings of each format-2 entry: debits equal credits per entry.
-- Balances are sums over this table, never stored.
CREATE TABLE postings (
	seq		INTEGER NOT NULL,	-- the ledger entry
	n		INTEGER NOT NULL CHECK (n >= 0),	-- 0, 1, 2, ...
	account		TEXT NOT NULL,
	debit		INTEGER NOT NULL CHECK (debit >= 0),
	credit		INTEGER NOT NULL CHECK (credit >= 0),
	CHECK ((debit = 0) <> (credit = 0)),
	PRIMARY KEY (seq, n)
) STRICT, WITHOUT ROWID;

-- What each money event said, as mapped from its body: the input from
-- which every payment's postings are derived, whatever the order of
-- arrival. One row per receipt that moves money.
CREATE TABLE facts (
	arrival		INTEGER PRIMARY KEY,	-- order of arrival, 1, 2, ...
	endpoint	TEXT NOT NULL,
	event_id	TEXT NOT NULL,
	tenant		TEXT NOT NULL,
	kind		TEXT NOT NULL,		-- capture, refund, dispute_*, payout
	payment_ref	TEXT NOT NULL,
	object_id	TEXT NOT NULL,		-- refund, dispute or payout id, or ''
	amount		INTEGER NOT NULL CHECK (amount > 0),
	currency	TEXT NOT NULL,
	status		TEXT NOT NULL,		-- none, pending, succeeded, failed
	cumulative	INTEGER NOT NULL,	-- 1: amount is a running total
	fee		INTEGER NOT NULL,
	occurred_at	INTEGER NOT NULL,
	verdict		TEXT NOT NULL,		-- captures: verified, unverified,
						-- amount_mismatch, no_expectation
	sca_result	TEXT NOT NULL,		-- '' when the event had none
	liability_shift	INTEGER NOT NULL,	-- 1, 0, or -1 unknown
	UNIQUE (endpoint, event_id)
) STRICT;
CREATE INDEX facts_payment ON facts (tenant, payment_ref);

-- Events that broke a rule, or captures that do not count as paid.
-- posted = 0: the event posts nothing; 1: it posted (to suspense).
CREATE TABLE exceptions (
	id		INTEGER PRIMARY KEY,
	endpoint	TEXT NOT NULL,
	event_id	TEXT NOT NULL,
	tenant		TEXT NOT NULL,
	payment_ref	TEXT NOT NULL,
	reason		TEXT NOT NULL,
	posted		INTEGER NOT NULL CHECK (posted IN (0, 1)),
	recorded_at	INTEGER NOT NULL
) STRICT;
CREATE INDEX exceptions_tenant ON exceptions (tenant, id);
CREATE INDEX exceptions_event ON exceptions (endpoint, event_id);

-- What the merchant expects each payment to be.
CREATE TABLE expectations (
	tenant		TEXT NOT NULL,
	payment_ref	TEXT NOT NULL,
	amount		INTEGER NOT NULL CHECK (amount > 0),
	currency	TEXT NOT NULL CHECK (length(currency) = 3),
	created_at	INTEGER NOT NULL,
	PRIMARY KEY (tenant, payment_ref)
) STRICT, WITHOUT ROWID;

-- API tokens, by the SHA-256 of their text; the text is never stored.
CREATE TABLE tokens (
	token_sha256	BLOB PRIMARY KEY CHECK (length(token_sha256) = 32),
	tenant		TEXT NOT NULL,
	scope		TEXT NOT NULL CHECK (scope IN ('payments:write',
			    'ledger:read')),
	created_at	INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- Idempotency-Key records of the API's POSTs, kept permanently.
CREATE TABLE api_requests (
	tenant		TEXT NOT NULL,
	idem_key	TEXT NOT NULL,
	request_sha256	BLOB NOT NULL CHECK (length(request_sha256) = 32),
	status		INTEGER NOT NULL,
	response	TEXT NOT NULL,
	created_at	INTEGER NOT NULL,
	PRIMARY KEY (tenant, idem_key)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER postings_no_update BEFORE UPDATE ON postings
BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END;
CREATE TRIGGER postings_no_delete BEFORE DELETE ON postings
BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END;
CREATE TRIGGER postings_no_replace BEFORE INSERT ON postings
WHEN EXISTS (SELECT 1 FROM postings WHERE seq = NEW.seq AND n = NEW.n)
BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END;
CREATE TRIGGER facts_no_update BEFORE UPDATE ON facts
BEGIN SELECT RAISE(ABORT, 'facts are append-only'); END;
CREATE TRIGGER facts_no_delete BEFORE DELETE ON facts
BEGIN SELECT RAISE(ABORT, 'facts are append-only'); END;
CREATE TRIGGER exceptions_no_update BEFORE UPDATE ON exceptions
BEGIN SELECT RAISE(ABORT, 'exceptions are append-only'); END;
CREATE TRIGGER exceptions_no_delete BEFORE DELETE ON exceptions
BEGIN SELECT RAISE(ABORT, 'exceptions are append-only'); END;
CREATE TRIGGER expectations_no_update BEFORE UPDATE ON expectations
BEGIN SELECT RAISE(ABORT, 'expectations are append-only'); END;
CREATE TRIGGER expectations_no_delete BEFORE DELETE ON expectations
BEGIN SELECT RAISE(ABORT, 'expectations are append-only'); END;
CREATE TRIGGER api_requests_no_update BEFORE UPDATE ON api_requests
BEGIN SELECT RAISE(ABORT, 'api requests are append-only'); END;
CREATE TRIGGER api_requests_no_delete BEFORE DELETE ON api_requests
BEGIN SELECT RAISE(ABORT, 'api requests are append-only'); END;
