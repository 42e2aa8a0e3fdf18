-- Runs after 2 (numeric order), which creates members: applied in lexical order it would fail.
ALTER TABLE members ADD COLUMN role text NOT NULL DEFAULT 'member'
    CONSTRAINT members_role_known CHECK (role IN ('owner', 'admin', 'member'));
