-- UP
-- The foreign key takes a SHARE ROW EXCLUSIVE lock on users: give up rather than queue behind a long query.
SET lock_timeout = '5s';

BEGIN;

CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'cancelled');

CREATE TABLE orders (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id),
    status       order_status NOT NULL DEFAULT 'pending',
    total_cents  integer NOT NULL DEFAULT 0 CHECK (total_cents >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- The table is new and empty: a plain CREATE INDEX blocks nobody.
CREATE INDEX orders_user_id_idx ON orders (user_id);

CREATE TRIGGER orders_set_updated_at
    BEFORE UPDATE ON orders
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();

COMMIT;

-- DOWN
SET lock_timeout = '5s';

DROP TABLE orders;
DROP TYPE order_status;
