DROP TABLE IF EXISTS totp_configurations;
