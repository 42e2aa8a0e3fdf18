-- UP
SET lock_timeout = '5s';

-- Nullable, no default: a catalog-only change, no table rewrite.
ALTER TABLE orders ADD COLUMN shipped_at timestamptz;

COMMENT ON COLUMN orders.shipped_at IS 'When the parcel left the warehouse.';

-- DOWN
SET lock_timeout = '5s';

ALTER TABLE orders DROP COLUMN shipped_at;
