-- The schema every statement-kind case starts from (a template database per server).
CREATE TYPE mood AS ENUM ('sad', 'happy');
CREATE TABLE parent (id int PRIMARY KEY, name text);
CREATE TABLE child (
    id int PRIMARY KEY,
    parent_id int,
    qty int,
    label varchar(10),
    note text,
    feeling mood
);
INSERT INTO parent SELECT g, 'p' || g FROM generate_series(1, 50) AS g;
INSERT INTO child SELECT g, g, g, 'l' || g, 'n', 'sad' FROM generate_series(1, 50) AS g;
CREATE INDEX child_qty ON child (qty);
ALTER TABLE child ADD CONSTRAINT child_qty_not_null CHECK (qty IS NOT NULL);
ALTER TABLE child ADD CONSTRAINT child_qty_positive CHECK (qty > 0) NOT VALID;
ALTER TABLE child ADD CONSTRAINT child_parent_unchecked FOREIGN KEY (parent_id) REFERENCES parent (id) NOT VALID;
CREATE TABLE loose (id int NOT NULL, v int);
CREATE UNIQUE INDEX loose_id ON loose (id);
INSERT INTO loose SELECT g, g FROM generate_series(1, 50) AS g;
CREATE MATERIALIZED VIEW child_totals AS SELECT parent_id, sum(qty) AS total FROM child GROUP BY parent_id;
CREATE UNIQUE INDEX child_totals_parent ON child_totals (parent_id);
CREATE TABLE events (id int, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 (id int, at date NOT NULL);
INSERT INTO events_2025 VALUES (1, '2025-06-01');
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER child_touch BEFORE UPDATE ON child FOR EACH ROW EXECUTE FUNCTION touch();
CREATE SEQUENCE counter;
CREATE TABLE remark (id int PRIMARY KEY, parent_id int REFERENCES parent (id));
CREATE VIEW parent_names AS SELECT id, name FROM parent;
CREATE TABLE stamped (id int PRIMARY KEY, at timestamptz NOT NULL);
INSERT INTO stamped SELECT g, now() FROM generate_series(1, 50) AS g;
