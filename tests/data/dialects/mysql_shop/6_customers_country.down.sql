ALTER TABLE customers DROP CONSTRAINT customers_country_chk;
ALTER TABLE customers DROP COLUMN country_code, ALGORITHM=INPLACE, LOCK=NONE;
