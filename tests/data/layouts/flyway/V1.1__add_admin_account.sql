-- Data only, no undo file.
INSERT INTO accounts (name) VALUES ('admin');
