-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY invoices_user_id_idx ON invoices (user_id);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY invoices_user_id_idx;
