-- no-transaction
-- The purge job deletes expired sessions; sessions is busy, so build the index concurrently.
CREATE INDEX CONCURRENTLY IF NOT EXISTS sessions_expires_at_idx ON sessions (expires_at);
