-- UP
-- PostgreSQL cannot remove an enum value, so the DOWN rebuilds the type (and the view that uses it).
ALTER TYPE order_status ADD VALUE 'refunded' AFTER 'shipped';

-- DOWN
SET lock_timeout = '5s';

BEGIN;

-- The old type has no 'refunded': those orders fall back to 'cancelled'.
UPDATE orders SET status = 'cancelled' WHERE status = 'refunded';

-- A view column pins the type of orders.status; it is recreated below exactly as 006 made it.
DROP VIEW IF EXISTS order_totals;

ALTER TYPE order_status RENAME TO order_status_old;
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'cancelled');

ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;
-- migration-lint: ignore[changing-column-type] PostgreSQL cannot drop an enum value: a rollback must rewrite orders
ALTER TABLE orders ALTER COLUMN status TYPE order_status USING status::text::order_status;
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'pending';

DROP TYPE IF EXISTS order_status_old;

CREATE VIEW order_totals AS
SELECT o.id AS order_id,
       o.user_id,
       o.status,
       count(i.product_id) AS item_count,
       coalesce(sum(i.quantity * i.unit_price_cents), 0) AS items_cents
FROM orders o
LEFT JOIN order_items i ON i.order_id = o.id
GROUP BY o.id;

COMMENT ON VIEW order_totals IS 'Per order: number of lines and sum of line prices.';

COMMIT;
