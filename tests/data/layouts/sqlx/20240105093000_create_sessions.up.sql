CREATE TABLE sessions (
    id          uuid PRIMARY KEY,
    user_name   text NOT NULL,
    data        jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
