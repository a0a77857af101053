-- 004: the national team's review of each accepted declaration (issue 19). Beside the
-- submission's status (unchanged), its review state: `a_revoir` until a reviewer decides
-- `validee` (signed off) or `a_corriger` (sent back with a comment to the pole); NULL for a
-- content that was never accepted. Existing data: accepted contents of closed campaigns are
-- signed off by the migration (`reviewed_by` = 'migration'), those of open campaigns wait for
-- review. The first unit of work after this migration journals that backfill (a
-- `review_migration` record) so `ptce rebuild` reproduces it, then sets the meta key to 'done'.

ALTER TABLE submissions ADD COLUMN review_state VARCHAR;
ALTER TABLE submissions ADD COLUMN reviewed_at TIMESTAMPTZ;
ALTER TABLE submissions ADD COLUMN reviewed_by VARCHAR;
ALTER TABLE submissions ADD COLUMN review_comment VARCHAR;
-- `ptce campaign close YEAR --keep-unreviewed`: the closed campaign's final figures keep the
-- declarations still waiting for review (default: only signed-off ones count).
ALTER TABLE campaigns ADD COLUMN keep_unreviewed BOOLEAN DEFAULT FALSE;

UPDATE submissions
SET review_state = 'a_revoir'
WHERE accepted_status IS NOT NULL OR status IN ('acceptee', 'acceptee_avec_avertissements');

UPDATE submissions
SET review_state = 'validee', reviewed_at = now(), reviewed_by = 'migration'
WHERE review_state = 'a_revoir'
  AND period IN (SELECT period FROM campaigns WHERE closed);

INSERT INTO meta
SELECT 'review_migration', 'pending'
WHERE EXISTS (SELECT 1 FROM submissions WHERE reviewed_by = 'migration')
ON CONFLICT (key) DO UPDATE SET value = excluded.value;
