-- migrate:up
ALTER TABLE invoices ADD COLUMN due_on date;
ALTER TABLE invoices ADD CONSTRAINT invoices_due_after_issue CHECK (due_on >= issued_on) NOT VALID;

-- migrate:down
ALTER TABLE invoices DROP CONSTRAINT invoices_due_after_issue;
ALTER TABLE invoices DROP COLUMN due_on;
