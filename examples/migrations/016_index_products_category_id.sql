-- UP
-- Deleting a category checks products through the foreign key: index the referencing column.
-- CONCURRENTLY keeps products writable during the build and needs its own migration.
SET lock_timeout = '5s';

DROP INDEX CONCURRENTLY IF EXISTS products_category_id_idx;  -- the INVALID leftover of a failed build
CREATE INDEX CONCURRENTLY products_category_id_idx ON products (category_id);

-- DOWN
SET lock_timeout = '5s';

DROP INDEX CONCURRENTLY IF EXISTS products_category_id_idx;
