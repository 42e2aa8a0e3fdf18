ALTER TABLE user_preferences DROP COLUMN updated_at;
