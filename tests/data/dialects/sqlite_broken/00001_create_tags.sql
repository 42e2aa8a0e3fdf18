-- +goose Up
CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT);
INSERT INTO tags (label) VALUES ('unterminated);

-- +goose Down
DROP TABLE tags;
