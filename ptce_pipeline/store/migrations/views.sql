-- Views for analysts (re-created each time the warehouse or its snapshot is written).
-- Documented in docs/dictionnaire.md (one example query per view).

CREATE OR REPLACE VIEW current_submissions AS
SELECT s.*
FROM submissions s
WHERE s.status IN ('acceptee', 'acceptee_avec_avertissements');

CREATE OR REPLACE VIEW current_indicator_values AS
SELECT s.pole_id, s.period, v.indicator_code, v.value, v.submission_id,
       s.original_name AS source_file, v.sheet, v.cell, v.comment, s.archived_path
FROM indicator_values v
JOIN current_submissions s USING (submission_id);

CREATE OR REPLACE VIEW current_identity AS
SELECT s.pole_id, s.period, i.field, i.value, i.submission_id,
       s.original_name AS source_file, i.sheet, i.cell
FROM identity_values i
JOIN current_submissions s USING (submission_id);

CREATE OR REPLACE VIEW current_members AS
SELECT s.pole_id, s.period, m.member_no, m.nom, m.siret, m.categorie, m.forme_juridique,
       m.commune, m.annee_adhesion, m.etp, m.submission_id, s.original_name AS source_file,
       m.sheet, m.row_number
FROM members m
JOIN current_submissions s USING (submission_id);

CREATE OR REPLACE VIEW current_criteria AS
SELECT s.pole_id, s.period, c.criterion_code, r.type AS criterion_type, c.answer, c.justification,
       c.submission_id, s.original_name AS source_file, c.sheet, c.cell
FROM criteria_answers c
JOIN current_submissions s USING (submission_id)
LEFT JOIN ref_criteria r ON r.code = c.criterion_code;

-- The poles expected for each period: every registered pole whose participation covers it, for
-- every period that has a campaign or at least one submission.
CREATE OR REPLACE VIEW expected_poles AS
WITH periods AS (
    SELECT period FROM submissions WHERE period IS NOT NULL
    UNION SELECT period FROM campaigns
)
SELECT p.period, r.pole_id, r.nom AS pole_name
FROM periods p
JOIN poles r ON r.premiere_periode <= p.period
            AND (r.derniere_periode IS NULL OR p.period <= r.derniere_periode);

-- One row per expected pole and period. status: the version in force (acceptee /
-- acceptee_avec_avertissements) if there is one, otherwise the status of the submission the
-- pole dropped last (refusee, en_attente, en_erreur, retenue, retiree), otherwise 'manquante'.
-- late: the version in force arrived after the deadline; without one, the deadline has passed
-- (or the last file arrived after it). Deadlines are read from `campaigns` at query time, so
-- extending one in campagnes.csv clears the flag at the next run.
-- review_state: the national team's review of the version in force (a_revoir / validee /
-- a_corriger), NULL without one.
CREATE OR REPLACE VIEW completeness AS
WITH ranked AS (
    SELECT s.*,
           row_number() OVER (
               PARTITION BY s.pole_id, s.period
               ORDER BY CASE WHEN s.status IN ('acceptee', 'acceptee_avec_avertissements') THEN 0 ELSE 1 END,
                        coalesce(s.last_delivery_id, s.submission_id) DESC
           ) AS rk
    FROM submissions s
    WHERE s.pole_id IS NOT NULL AND s.period IS NOT NULL
      AND s.status <> 'remplacee'
),
chosen AS (SELECT * FROM ranked WHERE rk = 1),
last_received AS (
    SELECT pole_id, period, max(coalesce(last_received_at, received_at)) AS last_received_at
    FROM submissions WHERE pole_id IS NOT NULL AND period IS NOT NULL
    GROUP BY pole_id, period
),
deadlines AS (
    SELECT e.period, e.pole_id, e.pole_name,
           coalesce(k.deadline, make_date(e.period + 1, 3, 31)) AS deadline,
           coalesce(k.closed, false) AS campaign_closed
    FROM expected_poles e
    LEFT JOIN campaigns k ON k.period = e.period
)
SELECT e.period, e.pole_id, e.pole_name,
       coalesce(c.status, 'manquante') AS status,
       CASE WHEN c.status IN ('acceptee', 'acceptee_avec_avertissements')
                THEN c.received_at >= timezone('Europe/Paris', (e.deadline + 1)::TIMESTAMP)
            ELSE now() >= timezone('Europe/Paris', (e.deadline + 1)::TIMESTAMP)
                 OR coalesce(c.received_at >= timezone('Europe/Paris', (e.deadline + 1)::TIMESTAMP), false)
       END AS late,
       l.last_received_at,
       c.submission_id,
       e.deadline,
       e.campaign_closed,
       c.n_errors,
       c.n_warnings,
       CASE WHEN c.status IN ('acceptee', 'acceptee_avec_avertissements')
            THEN c.review_state END AS review_state
FROM deadlines e
LEFT JOIN chosen c ON c.pole_id = e.pole_id AND c.period = e.period
LEFT JOIN last_received l ON l.pole_id = e.pole_id AND l.period = e.period;

CREATE OR REPLACE VIEW national_indicators AS
SELECT v.period, v.indicator_code,
       count(v.value) AS n_poles,
       CASE WHEN any_value(r.summable) THEN sum(v.value) END AS total,
       quantile_cont(v.value, 0.5) AS median,
       quantile_cont(v.value, 0.25) AS q1,
       quantile_cont(v.value, 0.75) AS q3,
       min(v.value) AS min,
       max(v.value) AS max
FROM current_indicator_values v
JOIN ref_indicators r ON r.code = v.indicator_code
WHERE v.value IS NOT NULL
GROUP BY v.period, v.indicator_code;
