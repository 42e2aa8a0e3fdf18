-- Needs audit_log from 1.2.9: numeric order, not lexical, puts it after.
CREATE INDEX audit_log_account_id_at_idx ON audit_log (account_id, at);
