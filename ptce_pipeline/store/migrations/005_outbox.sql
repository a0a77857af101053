-- 005: the outbox (issue 20), mirrored from warehouse/courriels.jsonl: one row per e-mail the
-- pipeline meant to send, with its recipients. Personal data: live warehouse only (never the
-- snapshot, Parquet or publications: store/snapshot.py PERSONAL_TABLES).
CREATE TABLE IF NOT EXISTS outbox (
    message_key VARCHAR PRIMARY KEY,  -- stable: decision:<n° de dépôt>:<kind>, relance:<pôle>:<période>:<jalon>, ...
    kind VARCHAR NOT NULL,
    pole_id VARCHAR,
    period INTEGER,
    submission_id BIGINT,
    milestone VARCHAR,
    recipients VARCHAR NOT NULL,      -- ';'-separated
    subject VARCHAR NOT NULL,
    queued_at TIMESTAMPTZ NOT NULL,
    attempts INTEGER NOT NULL,        -- intents journaled (a send killed half-way counts)
    last_attempt_at TIMESTAMPTZ,
    sent_at TIMESTAMPTZ,
    refused VARCHAR,                  -- addresses the server refused (';'-separated)
    failure VARCHAR                   -- why it will not be sent (permanent)
);
