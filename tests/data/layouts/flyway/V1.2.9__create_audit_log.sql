CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES accounts (id),
    action      text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
