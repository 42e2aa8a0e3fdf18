ALTER TABLE repo ADD COLUMN IF NOT EXISTS archived boolean NOT NULL DEFAULT false;

COMMENT ON COLUMN repo.archived IS 'Whether the code host marks the repository read-only.';
