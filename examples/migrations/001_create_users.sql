-- UP
BEGIN;

CREATE TABLE users (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email       text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_has_at CHECK (position('@' IN email) > 1)
);

-- The app compares e-mail addresses case-insensitively, so uniqueness must too.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));

COMMENT ON TABLE users IS 'Customer accounts of the shop.';

COMMIT;

-- DOWN
-- DROP TABLE users;
