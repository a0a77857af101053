-- 003: when each submission was last dropped by its pole (a duplicate delivery counts). This is
-- the pole's latest choice: it decides which accepted version is in force after a withdrawal,
-- a refusal on reprocessing or a late retry, and feeds `completeness.last_received_at`.

ALTER TABLE submissions ADD COLUMN last_delivery_id BIGINT;
ALTER TABLE submissions ADD COLUMN last_received_at TIMESTAMPTZ;

UPDATE submissions
SET last_delivery_id = coalesce(d.last_id, submissions.submission_id),
    last_received_at = coalesce(d.last_at, submissions.received_at)
FROM (
    SELECT submission_id, max(delivery_id) AS last_id, max(received_at) AS last_at
    FROM deliveries
    WHERE submission_id IS NOT NULL
    GROUP BY submission_id
) d
WHERE d.submission_id = submissions.submission_id;

UPDATE submissions
SET last_delivery_id = submission_id, last_received_at = received_at
WHERE last_delivery_id IS NULL;
