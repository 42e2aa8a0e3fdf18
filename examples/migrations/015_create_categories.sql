-- UP
SET lock_timeout = '5s';

BEGIN;

CREATE TABLE categories (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug       text NOT NULL UNIQUE,
    name       text NOT NULL,
    parent_id  bigint REFERENCES categories (id)
);

COMMENT ON TABLE categories IS 'Product tree shown in the shop menu.';

-- categories is new and empty: a plain index costs nothing here.
CREATE INDEX categories_parent_id_idx ON categories (parent_id);

-- NOT VALID skips the scan of products under a SHARE ROW EXCLUSIVE lock; 017 validates it,
-- and 016 indexes category_id without blocking writes.
ALTER TABLE products
    ADD COLUMN category_id bigint,
    ADD CONSTRAINT products_category_id_fkey
        FOREIGN KEY (category_id) REFERENCES categories (id) NOT VALID;

COMMIT;

-- DOWN
SET lock_timeout = '5s';

BEGIN;

ALTER TABLE products DROP CONSTRAINT products_category_id_fkey, DROP COLUMN category_id;
DROP TABLE categories;

COMMIT;
