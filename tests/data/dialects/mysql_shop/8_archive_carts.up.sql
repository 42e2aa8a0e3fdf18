RENAME TABLE carts TO archived_carts;
