-- UP
BEGIN;

CREATE TABLE authors (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    full_name   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE authors IS 'People who wrote at least one book in the catalogue.';

COMMIT;

-- DOWN
DROP TABLE authors;
