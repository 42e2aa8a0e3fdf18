-- migrate:up
CREATE TYPE invoice_state AS ENUM ('draft', 'sent', 'paid', 'void');

CREATE TABLE invoices (
    id bigserial PRIMARY KEY,
    user_id bigint NOT NULL REFERENCES users (id),
    state invoice_state NOT NULL DEFAULT 'draft',
    amount numeric(12, 2) NOT NULL CHECK (amount >= 0),
    issued_on date
);

-- migrate:down
DROP TABLE invoices;
DROP TYPE invoice_state;
