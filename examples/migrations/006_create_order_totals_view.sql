-- UP
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

-- DOWN
SET lock_timeout = '5s';

DROP VIEW order_totals;
