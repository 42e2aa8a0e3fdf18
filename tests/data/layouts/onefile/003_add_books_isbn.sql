-- UP
SET lock_timeout = '5s';

ALTER TABLE books ADD COLUMN isbn text;
ALTER TABLE books ADD CONSTRAINT books_isbn_length CHECK (length(isbn) IN (10, 13)) NOT VALID;

-- DOWN
ALTER TABLE books DROP CONSTRAINT books_isbn_length;
ALTER TABLE books DROP COLUMN isbn;
