-- +goose Up
-- +goose StatementBegin
CREATE TRIGGER notes_touch AFTER UPDATE OF body ON notes
BEGIN
    UPDATE notes SET updated_at = datetime('now') WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER IF EXISTS notes_touch;
