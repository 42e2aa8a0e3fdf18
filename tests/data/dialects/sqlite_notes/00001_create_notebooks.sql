-- +goose Up
CREATE TABLE notebooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    notebook_id INTEGER NOT NULL REFERENCES notebooks (id) ON DELETE CASCADE,
    body TEXT NOT NULL DEFAULT '',
    updated_at TEXT
);
CREATE INDEX notes_notebook_id_idx ON notes (notebook_id);

-- +goose Down
DROP TABLE IF EXISTS notes;
DROP TABLE IF EXISTS notebooks;
