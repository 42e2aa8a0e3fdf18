-- Carts moved to the session store in v4.2; the archive was exported to S3.
DROP TABLE archived_carts;
