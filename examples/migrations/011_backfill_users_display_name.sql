-- UP
-- Data only. The DOWN is empty on purpose: the schema does not change here, and 010's DOWN
-- drops the column.
SET lock_timeout = '5s';

UPDATE users
SET display_name = split_part(email, '@', 1)
WHERE display_name IS NULL;

-- DOWN
