-- UP
-- orders is large and busy: build the index without blocking writes. CONCURRENTLY cannot run
-- inside a transaction block, so this migration holds nothing else. A failed build leaves an
-- INVALID index behind: the DROP removes it when the migration runs again (IF NOT EXISTS on
-- the CREATE would keep it instead).
SET lock_timeout = '5s';

DROP INDEX CONCURRENTLY IF EXISTS orders_created_at_idx;
CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at);

-- DOWN
SET lock_timeout = '5s';

DROP INDEX CONCURRENTLY IF EXISTS orders_created_at_idx;
