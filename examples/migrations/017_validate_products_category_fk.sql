-- UP
SET lock_timeout = '5s';

ALTER TABLE products VALIDATE CONSTRAINT products_category_id_fkey;

-- DOWN
SET lock_timeout = '5s';

-- A constraint cannot be marked NOT VALID again: recreate it as 015 made it.
ALTER TABLE products DROP CONSTRAINT IF EXISTS products_category_id_fkey;
ALTER TABLE products
    ADD CONSTRAINT products_category_id_fkey
    FOREIGN KEY (category_id) REFERENCES categories (id) NOT VALID;
