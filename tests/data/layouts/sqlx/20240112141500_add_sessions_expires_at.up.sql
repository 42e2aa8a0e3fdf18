-- A constant default: PostgreSQL 11+ stores it in the catalog, no table rewrite.
ALTER TABLE sessions ADD COLUMN expires_at timestamptz NOT NULL DEFAULT 'infinity';
