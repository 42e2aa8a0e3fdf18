-- UP
SET lock_timeout = '5s';

CREATE TABLE books (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    author_id     bigint NOT NULL REFERENCES authors (id),
    title         text NOT NULL,
    published_on  date
);

CREATE INDEX books_author_id_idx ON books (author_id);

-- DOWN
-- DROP INDEX books_author_id_idx;
-- DROP TABLE books;
