RENAME TABLE archived_carts TO carts;
