-- 001: the warehouse model (deliveries, submissions, issues, pole data, reference tables).

CREATE TABLE IF NOT EXISTS meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR
);

CREATE TABLE referentiel_versions (
    sha256 VARCHAR PRIMARY KEY,
    version VARCHAR NOT NULL,
    provisional BOOLEAN NOT NULL,
    first_used_at TIMESTAMPTZ NOT NULL
);

-- The current référentiel tree (replaced when the catalogue changes; every submission
-- records the version it was validated with).
CREATE TABLE ref_objectives (
    code VARCHAR PRIMARY KEY,
    level VARCHAR NOT NULL,          -- general | main
    parent VARCHAR,
    label VARCHAR NOT NULL,
    position INTEGER NOT NULL
);

CREATE TABLE ref_indicators (
    code VARCHAR PRIMARY KEY,
    objective VARCHAR NOT NULL,
    general_objective VARCHAR NOT NULL,
    label VARCHAR NOT NULL,
    help VARCHAR,
    kind VARCHAR NOT NULL,
    unit VARCHAR,
    is_integer BOOLEAN NOT NULL,
    min_value DOUBLE,
    max_value DOUBLE,
    required BOOLEAN NOT NULL,
    summable BOOLEAN NOT NULL,       -- whether a national total makes sense
    position INTEGER NOT NULL
);

CREATE TABLE ref_criteria (
    code VARCHAR PRIMARY KEY,
    type VARCHAR NOT NULL,           -- incontournable | a_tester
    label VARCHAR NOT NULL,
    position INTEGER NOT NULL
);

-- The registry of expected poles (poles.csv as in force at the last decision).
CREATE TABLE poles (
    pole_id VARCHAR PRIMARY KEY,
    nom VARCHAR NOT NULL,
    departement VARCHAR,
    premiere_periode INTEGER NOT NULL,
    derniere_periode INTEGER
);

CREATE TABLE campaigns (
    period INTEGER PRIMARY KEY,
    deadline DATE NOT NULL,
    closed BOOLEAN NOT NULL DEFAULT FALSE,
    closed_at TIMESTAMPTZ,
    closed_by VARCHAR
);

-- One row per file that arrived (journal sequence number = delivery_id).
CREATE TABLE deliveries (
    delivery_id BIGINT PRIMARY KEY,
    received_at TIMESTAMPTZ NOT NULL,
    inbox_folder VARCHAR NOT NULL,   -- '' for the inbox root
    original_name VARCHAR NOT NULL,
    size BIGINT NOT NULL,
    sha256 VARCHAR NOT NULL,
    outcome VARCHAR,                 -- nouvelle | doublon | expediteur_inconnu (NULL until decided)
    submission_id BIGINT
);

-- One row per distinct content per pole folder.
CREATE TABLE submissions (
    submission_id BIGINT PRIMARY KEY,
    sha256 VARCHAR NOT NULL,
    inbox_folder VARCHAR NOT NULL,
    pole_id VARCHAR,
    period INTEGER,
    status VARCHAR NOT NULL,
    accepted_status VARCHAR,         -- the acceptance status it had (for reinstatement)
    file_format VARCHAR,
    template_version VARCHAR,
    referentiel_version VARCHAR,
    referentiel_sha256 VARCHAR,
    rules_version VARCHAR,
    registry_sha256 VARCHAR,
    campaigns_sha256 VARCHAR,
    n_errors INTEGER NOT NULL DEFAULT 0,
    n_warnings INTEGER NOT NULL DEFAULT 0,
    original_name VARCHAR NOT NULL,
    archived_path VARCHAR NOT NULL,
    feedback_annotated VARCHAR,
    feedback_receipt VARCHAR,
    received_at TIMESTAMPTZ NOT NULL,
    decided_at TIMESTAMPTZ,
    late BOOLEAN NOT NULL DEFAULT FALSE,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error VARCHAR,
    previous_submission_id BIGINT,   -- the submission compared with for cross-period checks
    UNIQUE (sha256, inbox_folder)
);

CREATE TABLE validation_issues (
    submission_id BIGINT NOT NULL,
    seq INTEGER NOT NULL,
    sheet VARCHAR,
    cell VARCHAR,
    column_name VARCHAR,
    code VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,
    message VARCHAR NOT NULL,
    value VARCHAR,
    PRIMARY KEY (submission_id, seq)
);

-- The pole's data; every row carries its submission and source cell.
CREATE TABLE identity_values (
    submission_id BIGINT NOT NULL,
    field VARCHAR NOT NULL,
    value VARCHAR,
    sheet VARCHAR NOT NULL,
    cell VARCHAR NOT NULL,
    PRIMARY KEY (submission_id, field)
);

-- Personal data (contacts): kept in the live warehouse only, never in snapshots or publications.
CREATE TABLE contacts (
    submission_id BIGINT NOT NULL,
    field VARCHAR NOT NULL,
    value VARCHAR,
    sheet VARCHAR NOT NULL,
    cell VARCHAR NOT NULL,
    PRIMARY KEY (submission_id, field)
);

CREATE TABLE members (
    submission_id BIGINT NOT NULL,
    member_no INTEGER NOT NULL,
    nom VARCHAR,
    siret VARCHAR,
    categorie VARCHAR,
    forme_juridique VARCHAR,
    commune VARCHAR,
    annee_adhesion INTEGER,
    etp DOUBLE,
    sheet VARCHAR NOT NULL,
    row_number INTEGER NOT NULL,     -- Excel row of the member
    columns VARCHAR NOT NULL,        -- JSON: field → column letter, for cell-level lineage
    PRIMARY KEY (submission_id, member_no)
);

CREATE TABLE indicator_values (
    submission_id BIGINT NOT NULL,
    indicator_code VARCHAR NOT NULL,
    value DOUBLE,
    comment VARCHAR,
    sheet VARCHAR NOT NULL,
    cell VARCHAR NOT NULL,
    PRIMARY KEY (submission_id, indicator_code)
);

CREATE TABLE criteria_answers (
    submission_id BIGINT NOT NULL,
    criterion_code VARCHAR NOT NULL,
    answer VARCHAR,
    justification VARCHAR,
    sheet VARCHAR NOT NULL,
    cell VARCHAR NOT NULL,
    justification_cell VARCHAR,
    PRIMARY KEY (submission_id, criterion_code)
);
