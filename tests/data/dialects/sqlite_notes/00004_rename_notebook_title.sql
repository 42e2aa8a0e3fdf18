-- +goose Up
ALTER TABLE notebooks RENAME COLUMN title TO name;

-- +goose Down
ALTER TABLE notebooks RENAME COLUMN name TO title;
