ALTER TABLE customers ADD COLUMN country_code CHAR(2) NULL, ALGORITHM=INSTANT;
ALTER TABLE customers ADD CONSTRAINT customers_country_chk CHECK (country_code REGEXP '^[A-Z]{2}$');
