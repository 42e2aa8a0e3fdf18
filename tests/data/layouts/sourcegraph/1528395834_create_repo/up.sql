CREATE TABLE IF NOT EXISTS repo (
    id serial PRIMARY KEY,
    name text NOT NULL,
    description text,
    created_at timestamp with time zone NOT NULL DEFAULT now(),
    updated_at timestamp with time zone
);
