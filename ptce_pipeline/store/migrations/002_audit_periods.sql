-- 002: corrections audit trail, and a version per period (what publications compare against).

CREATE TABLE audit (
    audit_id BIGINT PRIMARY KEY,     -- journal sequence number of the correction
    done_at TIMESTAMPTZ NOT NULL,
    by_user VARCHAR NOT NULL,
    action VARCHAR NOT NULL,         -- withdraw | reprocess | campaign_close | campaign_reopen | reinstate
    submission_id BIGINT,
    period INTEGER,
    reason VARCHAR,
    details VARCHAR
);

-- Bumped every time a decision or a correction changes what a period's figures rest on.
CREATE TABLE period_versions (
    period INTEGER PRIMARY KEY,
    version BIGINT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL
);
