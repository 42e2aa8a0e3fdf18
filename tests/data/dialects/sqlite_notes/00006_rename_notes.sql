-- +goose Up
ALTER TABLE notes RENAME TO entries;

-- +goose Down
ALTER TABLE entries RENAME TO notes;
