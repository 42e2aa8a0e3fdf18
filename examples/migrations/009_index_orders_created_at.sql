-- UP
-- orders is large and busy: build the index without blocking writes. CONCURRENTLY cannot run
-- inside a transaction block, so this migration holds nothing else. If the build fails it
-- leaves an INVALID index behind: drop it before running the migration again.
SET lock_timeout = '5s';

CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at);

-- DOWN
SET lock_timeout = '5s';

DROP INDEX CONCURRENTLY IF EXISTS orders_created_at_idx;
