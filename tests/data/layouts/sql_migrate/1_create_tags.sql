-- +migrate Up
CREATE TABLE tags (
    id serial PRIMARY KEY,
    label text NOT NULL UNIQUE
);

-- +migrate Down
DROP TABLE tags;
