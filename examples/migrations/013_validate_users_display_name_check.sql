-- UP
SET lock_timeout = '5s';

-- SHARE UPDATE EXCLUSIVE only: reads and writes go on during the scan.
ALTER TABLE users VALIDATE CONSTRAINT users_display_name_is_set;

-- DOWN
SET lock_timeout = '5s';

-- A constraint cannot be marked NOT VALID again: recreate it as 012 made it.
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_display_name_is_set;
ALTER TABLE users
    ADD CONSTRAINT users_display_name_is_set CHECK (display_name IS NOT NULL) NOT VALID;
