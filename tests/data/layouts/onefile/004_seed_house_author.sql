-- UP
-- Data only, nothing to undo: this file has no DOWN section.
INSERT INTO authors (full_name) VALUES ('Anonymous');
