-- UP
CREATE TABLE t (a int;

-- DOWN
DROP TABLE t;
