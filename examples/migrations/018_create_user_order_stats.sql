-- UP
CREATE MATERIALIZED VIEW user_order_stats AS
SELECT o.user_id,
       count(*) AS order_count,
       sum(o.total_cents) AS lifetime_cents,
       max(o.created_at) AS last_order_at
FROM orders o
WHERE o.status IN ('paid', 'shipped')
GROUP BY o.user_id
WITH DATA;

-- REFRESH MATERIALIZED VIEW CONCURRENTLY needs a unique index.
CREATE UNIQUE INDEX user_order_stats_user_id_key ON user_order_stats (user_id);

COMMENT ON MATERIALIZED VIEW user_order_stats IS 'Refreshed nightly by the reporting job.';

-- DOWN
DROP MATERIALIZED VIEW user_order_stats;
