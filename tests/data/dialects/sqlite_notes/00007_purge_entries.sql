-- +goose Up
DELETE FROM entries;
ALTER TABLE entries DROP COLUMN pinned;
DROP TABLE notebooks;
