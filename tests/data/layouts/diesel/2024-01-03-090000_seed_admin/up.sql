-- Data only: Diesel accepts a migration without down.sql.
INSERT INTO users (name, email) VALUES ('admin', 'admin@example.com');
