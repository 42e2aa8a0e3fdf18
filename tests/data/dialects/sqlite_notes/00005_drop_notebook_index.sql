-- +goose Up
DROP INDEX notes_notebook_id_idx;

-- +goose Down
CREATE INDEX notes_notebook_id_idx ON notes (notebook_id);
