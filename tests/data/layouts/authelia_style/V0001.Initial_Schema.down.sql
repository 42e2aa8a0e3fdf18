DROP TABLE IF EXISTS user_preferences;
DROP TABLE IF EXISTS authentication_logs;
