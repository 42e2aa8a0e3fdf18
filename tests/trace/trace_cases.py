"""Statement kinds and what PostgreSQL does on them, version by version, as the tracer sees it.

Each case is one migration run on a copy of the database built by ``schema.sql``. ``locks`` is
the strongest mode the statement took on each relation that existed before (tables, views,
materialized views, sequences; indexes are in ``index_locks``), by name without ``public.``.
``rewritten``, ``scanned`` and ``validated`` are what changed. A case lists the versions on
which it runs; where PostgreSQL 15 and 18 differ, a case per version pins each.
``docs/lock-tracing.md`` is this table in prose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

AE = "ACCESS EXCLUSIVE"
EX = "EXCLUSIVE"
SRE = "SHARE ROW EXCLUSIVE"
SH = "SHARE"
SUE = "SHARE UPDATE EXCLUSIVE"
RE = "ROW EXCLUSIVE"
RS = "ROW SHARE"
AS = "ACCESS SHARE"

BOTH = (15, 18)


@dataclass(frozen=True)
class Case:
    id: str
    sql: str
    locks: dict[str, str]
    rewritten: frozenset[str] = frozenset()
    scanned: frozenset[str] = frozenset()
    validated: tuple[str, ...] = ()
    index_locks: dict[str, str] = field(default_factory=dict)
    versions: tuple[int, ...] = BOTH
    method: str = "transaction"


def case(id: str, sql: str, locks: dict[str, str], *, rewritten: set[str] = frozenset(),
         scanned: set[str] = frozenset(), validated: tuple[str, ...] = (),
         index_locks: dict[str, str] | None = None, versions: tuple[int, ...] = BOTH,
         method: str = "transaction") -> Case:
    return Case(id, sql, locks, frozenset(rewritten), frozenset(scanned), validated, index_locks or {}, versions, method)


CASE_INDEXES = {"child_pkey", "child_qty"}  # every index of child: a rewrite of child rebuilds them

CASES = [
    # -- adding columns ------------------------------------------------------------------------------
    case("add-column-nullable", "ALTER TABLE child ADD COLUMN extra int", {"child": AE}),
    # PostgreSQL 11+ stores a constant default in the catalog: no rewrite, and no scan for NOT NULL.
    case("add-column-constant-default", "ALTER TABLE child ADD COLUMN flag boolean NOT NULL DEFAULT false",
         {"child": AE}, validated=("NOT NULL child.flag",)),
    case("add-column-stable-default", "ALTER TABLE parent ADD COLUMN created timestamptz NOT NULL DEFAULT now()",
         {"parent": AE}, validated=("NOT NULL parent.created",)),
    case("add-column-volatile-default", "ALTER TABLE child ADD COLUMN r float8 DEFAULT random()",
         {"child": AE}, rewritten={"child", *CASE_INDEXES}, scanned={"child"},
         index_locks={"child_pkey": AE, "child_qty": AE}),
    case("add-column-uuid-default", "ALTER TABLE child ADD COLUMN uid uuid DEFAULT gen_random_uuid()",
         {"child": AE}, rewritten={"child", *CASE_INDEXES}, scanned={"child"},
         index_locks={"child_pkey": AE, "child_qty": AE}),
    case("add-column-generated-stored", "ALTER TABLE child ADD COLUMN twice int GENERATED ALWAYS AS (qty * 2) STORED",
         {"child": AE}, rewritten={"child", *CASE_INDEXES}, scanned={"child"},
         index_locks={"child_pkey": AE, "child_qty": AE}),
    # PostgreSQL 18: generated columns are VIRTUAL by default and cost no rewrite.
    case("add-column-generated-virtual", "ALTER TABLE child ADD COLUMN twice int GENERATED ALWAYS AS (qty * 2) VIRTUAL",
         {"child": AE}, versions=(18,)),
    # -- changing column types -------------------------------------------------------------------------
    case("alter-type-varchar-widen", "ALTER TABLE child ALTER COLUMN label TYPE varchar(20)", {"child": AE}),
    case("alter-type-varchar-widen-using", "ALTER TABLE child ALTER COLUMN label TYPE varchar(20) USING label::varchar(20)",
         {"child": AE}),
    case("alter-type-varchar-to-text", "ALTER TABLE child ALTER COLUMN label TYPE text", {"child": AE}),
    case("alter-type-varchar-narrow", "ALTER TABLE child ALTER COLUMN label TYPE varchar(5)",
         {"child": AE}, rewritten={"child", *CASE_INDEXES}, scanned={"child"},
         index_locks={"child_pkey": AE, "child_qty": AE}),
    case("alter-type-text-to-varchar", "ALTER TABLE child ALTER COLUMN note TYPE varchar(10)",
         {"child": AE}, rewritten={"child", *CASE_INDEXES}, scanned={"child"},
         index_locks={"child_pkey": AE, "child_qty": AE}),
    case("alter-type-enum-to-text", "ALTER TABLE child ALTER COLUMN feeling TYPE text",
         {"child": AE}, rewritten={"child", *CASE_INDEXES}, scanned={"child"},
         index_locks={"child_pkey": AE, "child_qty": AE}),
    # The primary key index on id is built anew (a new relation), the other index is rewritten.
    case("alter-type-int-to-bigint", "ALTER TABLE child ALTER COLUMN id TYPE bigint",
         {"child": AE}, rewritten={"child", "child_qty"}, scanned={"child"},
         index_locks={"child_pkey": AE, "child_qty": AE}),
    case("alter-type-same-type", "ALTER TABLE child ALTER COLUMN id TYPE int", {"child": AE},
         index_locks={"child_pkey": AE}),
    # With TimeZone UTC, timestamptz and timestamp store the same values: no rewrite either way
    # (ML006 knows it for a DOWN undoing timestamp -> timestamptz); in another zone, a rewrite.
    case("alter-type-timestamptz-to-timestamp-utc",
         "SET TimeZone = 'UTC';\nALTER TABLE stamped ALTER COLUMN at TYPE timestamp", {"stamped": AE}),
    case("alter-type-timestamptz-to-timestamp-elsewhere",
         "SET TimeZone = 'Europe/Paris';\nALTER TABLE stamped ALTER COLUMN at TYPE timestamp",
         {"stamped": AE}, rewritten={"stamped", "stamped_pkey"}, scanned={"stamped"},
         index_locks={"stamped_pkey": AE}),
    # -- NOT NULL and defaults ------------------------------------------------------------------------
    # PostgreSQL 12+ skips the scan when a validated CHECK (qty IS NOT NULL) proves it.
    case("set-not-null-with-check", "ALTER TABLE child ALTER COLUMN qty SET NOT NULL",
         {"child": AE}, validated=("NOT NULL child.qty",)),
    case("set-not-null-scan", "ALTER TABLE child ALTER COLUMN note SET NOT NULL",
         {"child": AE}, scanned={"child"}, validated=("NOT NULL child.note",)),
    # PostgreSQL 18: NOT NULL as a constraint, NOT VALID: no scan now, VALIDATE later.
    case("add-not-null-not-valid", "ALTER TABLE child ADD CONSTRAINT child_note_nn NOT NULL note NOT VALID",
         {"child": AE}, validated=("NOT NULL child.note",), versions=(18,)),
    # In one ALTER TABLE the CHECK is dropped first, then the table is scanned for SET NOT NULL,
    # in either order of the actions: the linter never suggests combining them (ML032).
    case("set-not-null-dropping-its-check",
         "ALTER TABLE child ALTER COLUMN qty SET NOT NULL, DROP CONSTRAINT child_qty_not_null",
         {"child": AE}, scanned={"child"}, validated=("NOT NULL child.qty",)),
    case("drop-check-then-set-not-null",
         "ALTER TABLE child DROP CONSTRAINT child_qty_not_null, ALTER COLUMN qty SET NOT NULL",
         {"child": AE}, scanned={"child"}, validated=("NOT NULL child.qty",)),
    case("drop-not-null", "ALTER TABLE child ALTER COLUMN qty DROP NOT NULL", {"child": AE}),
    case("set-default", "ALTER TABLE child ALTER COLUMN note SET DEFAULT 'x'", {"child": AE}),
    case("set-statistics", "ALTER TABLE child ALTER COLUMN qty SET STATISTICS 500", {"child": SUE}),
    case("set-storage", "ALTER TABLE child ALTER COLUMN label SET STORAGE EXTERNAL", {"child": AE}),
    # -- enums ---------------------------------------------------------------------------------------------
    case("enum-add-value", "ALTER TYPE mood ADD VALUE 'meh'", {}),
    case("enum-rename-value", "ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'", {}),
    # -- indexes ---------------------------------------------------------------------------------------------
    case("create-index", "CREATE INDEX child_note ON child (note)", {"child": SH}, scanned={"child"}),
    case("create-index-partitioned", "CREATE INDEX events_at ON events (at)",
         {"events": SH, "events_2024": SH}, scanned={"events_2024"}),
    case("create-index-concurrently", "CREATE INDEX CONCURRENTLY child_note ON child (note)",
         {"child": SUE}, method="sampled"),
    case("create-unique-index-concurrently", "CREATE UNIQUE INDEX CONCURRENTLY child_note_u ON child (id, note)",
         {"child": SUE}, method="sampled"),
    case("drop-index", "DROP INDEX child_qty", {"child": AE}, index_locks={"child_qty": AE}),
    case("drop-index-concurrently", "DROP INDEX CONCURRENTLY child_qty", {"child": SUE}, method="sampled"),
    case("rename-index", "ALTER INDEX child_qty RENAME TO child_quantity", {}, index_locks={"child_qty": SUE}),
    case("reindex-index", "REINDEX INDEX child_qty", {"child": SH}, rewritten={"child_qty"}, scanned={"child"},
         index_locks={"child_qty": AE}),
    case("reindex-index-concurrently", "REINDEX INDEX CONCURRENTLY child_qty", {"child": SUE}, method="sampled"),
    # -- constraints -------------------------------------------------------------------------------------------
    case("add-foreign-key", "ALTER TABLE child ADD CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id)",
         {"child": SRE, "parent": SRE}, scanned={"child", "parent"},
         validated=("FOREIGN KEY child_parent on child",),
         index_locks={"child_pkey": AS, "child_qty": AS, "parent_pkey": AS}),
    case("add-foreign-key-not-valid",
         "ALTER TABLE child ADD CONSTRAINT child_parent FOREIGN KEY (parent_id) REFERENCES parent (id) NOT VALID",
         {"child": SRE, "parent": SRE}, index_locks={"parent_pkey": AS}),
    case("validate-foreign-key", "ALTER TABLE child VALIDATE CONSTRAINT child_parent_unchecked",
         {"child": SUE, "parent": RS}, scanned={"child", "parent"},
         validated=("FOREIGN KEY child_parent_unchecked on child",),
         index_locks={"child_pkey": AS, "child_qty": AS, "parent_pkey": AS}),
    # A column added without a default is NULL in every row: the key is marked valid unread (ML004
    # lets it pass); with a default, PostgreSQL reads the table to validate it.
    case("add-column-references", "ALTER TABLE child ADD COLUMN other_parent int REFERENCES parent (id)",
         {"child": AE, "parent": SRE}, validated=("FOREIGN KEY child_other_parent_fkey on child",),
         index_locks={"parent_pkey": AS}),
    case("add-column-references-with-default",
         "ALTER TABLE child ADD COLUMN other_parent int DEFAULT 1 REFERENCES parent (id)",
         {"child": AE, "parent": SRE}, scanned={"child", "parent"},
         validated=("FOREIGN KEY child_other_parent_fkey on child",),
         index_locks={"child_pkey": AS, "child_qty": AS, "parent_pkey": AS}),
    case("add-check", "ALTER TABLE child ADD CONSTRAINT child_qty_small CHECK (qty < 1000)",
         {"child": AE}, scanned={"child"}, validated=("CHECK child_qty_small on child",)),
    case("add-check-not-valid", "ALTER TABLE child ADD CONSTRAINT child_qty_small CHECK (qty < 1000) NOT VALID",
         {"child": AE}),
    case("validate-check", "ALTER TABLE child VALIDATE CONSTRAINT child_qty_positive",
         {"child": SUE}, scanned={"child"}, validated=("CHECK child_qty_positive on child",)),
    case("add-unique", "ALTER TABLE child ADD CONSTRAINT child_id_qty UNIQUE (id, qty)", {"child": AE}, scanned={"child"}),
    case("add-primary-key", "ALTER TABLE loose ADD PRIMARY KEY (id)", {"loose": AE}, scanned={"loose"}),
    case("add-primary-key-using-index", "ALTER TABLE loose ADD CONSTRAINT loose_pkey PRIMARY KEY USING INDEX loose_id",
         {"loose": AE}, index_locks={"loose_id": SUE}),
    case("drop-constraint", "ALTER TABLE child DROP CONSTRAINT child_qty_not_null", {"child": AE}),
    # -- renames and drops ------------------------------------------------------------------------------------
    case("rename-column", "ALTER TABLE child RENAME COLUMN note TO remark", {"child": AE}),
    # Relations are named as they were before the migration.
    case("rename-table", "ALTER TABLE child RENAME TO kid", {"child": AE}),
    case("drop-column", "ALTER TABLE child DROP COLUMN note", {"child": AE}),
    case("drop-table", "DROP TABLE loose", {"loose": AE}, index_locks={"loose_id": AE}),
    # Dropping a table that references another also locks the referenced one (its FK triggers go).
    case("drop-table-with-foreign-key", "DROP TABLE remark", {"remark": AE, "parent": AE},
         index_locks={"remark_pkey": AE}),
    # -- table maintenance -------------------------------------------------------------------------------------
    case("truncate", "TRUNCATE loose", {"loose": AE}, rewritten={"loose", "loose_id"}, scanned={"loose"},
         index_locks={"loose_id": AE}),
    case("cluster", "CLUSTER child USING child_qty", {"child": AE}, rewritten={"child", *CASE_INDEXES},
         scanned={"child"}, index_locks={"child_pkey": AE, "child_qty": AE}),
    case("vacuum-full", "VACUUM FULL loose", {"loose": AE}, rewritten={"loose", "loose_id"}, method="sampled"),
    case("vacuum", "VACUUM loose", {"loose": SUE}, method="sampled"),
    case("analyze", "ANALYZE child", {"child": SUE}, index_locks={"child_pkey": AS, "child_qty": AS}),
    case("refresh-materialized-view", "REFRESH MATERIALIZED VIEW child_totals",
         {"child_totals": AE, "child": AS}, rewritten={"child_totals", "child_totals_parent"},
         scanned={"child", "child_totals"},
         index_locks={"child_totals_parent": AE, "child_pkey": AS, "child_qty": AS}),
    case("refresh-materialized-view-concurrently", "REFRESH MATERIALIZED VIEW CONCURRENTLY child_totals",
         {"child_totals": EX, "child": AS}, scanned={"child", "child_totals"},
         index_locks={"child_totals_parent": RE, "child_pkey": AS, "child_qty": AS}),
    case("set-unlogged", "ALTER TABLE loose SET UNLOGGED", {"loose": AE}, rewritten={"loose", "loose_id"},
         scanned={"loose"}, index_locks={"loose_id": AE}),
    case("set-logged-already-logged", "ALTER TABLE child SET LOGGED", {"child": AE}),
    case("set-tablespace-same", "ALTER TABLE child SET TABLESPACE pg_default", {"child": AE}),
    case("set-fillfactor", "ALTER TABLE child SET (fillfactor = 70)", {"child": SUE}),
    case("create-statistics", "CREATE STATISTICS child_stats ON qty, parent_id FROM child", {"child": SUE}),
    # -- partitions --------------------------------------------------------------------------------------------
    case("attach-partition",
         "ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
         {"events": SUE, "events_2025": AE}, scanned={"events_2025"}),
    case("detach-partition", "ALTER TABLE events DETACH PARTITION events_2024", {"events": AE, "events_2024": AE}),
    case("detach-partition-concurrently", "ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY",
         {"events": SUE, "events_2024": SUE}, validated=("CHECK events_2024_at_check on events_2024",),
         method="sampled"),
    # -- triggers, policies, comments, privileges -------------------------------------------------------------
    case("create-trigger", "CREATE TRIGGER child_audit AFTER INSERT ON child FOR EACH ROW EXECUTE FUNCTION touch()",
         {"child": SRE}),
    case("disable-trigger", "ALTER TABLE child DISABLE TRIGGER child_touch", {"child": SRE}),
    case("drop-trigger", "DROP TRIGGER child_touch ON child", {"child": AE}),
    case("enable-row-level-security", "ALTER TABLE child ENABLE ROW LEVEL SECURITY", {"child": AE}),
    case("create-policy", "CREATE POLICY child_all ON child USING (true)", {"child": AE}),
    case("owner-to", "ALTER TABLE child OWNER TO CURRENT_USER", {"child": AE}),
    case("comment-on-table", "COMMENT ON TABLE child IS 'kids'", {"child": SUE}),
    case("comment-on-column", "COMMENT ON COLUMN child.note IS 'free text'", {"child": SUE}),
    # PostgreSQL 15 takes no lock on the table for GRANT; 18 takes ACCESS SHARE.
    case("grant-15", "GRANT SELECT ON child TO PUBLIC", {}, versions=(15,)),
    case("grant-18", "GRANT SELECT ON child TO PUBLIC", {"child": AS}, versions=(18,)),
    # -- new objects on existing ones, data, sequences -------------------------------------------------------
    case("create-view", "CREATE VIEW child_view AS SELECT id, qty FROM child", {"child": AS}),
    # Replacing a view locks it against its readers; a rule is a catalog change on its table.
    case("replace-view", "CREATE OR REPLACE VIEW parent_names AS SELECT id, name, 1 AS one FROM parent",
         {"parent_names": AE, "parent": AS}),
    case("create-rule", "CREATE RULE child_quiet AS ON DELETE TO child DO INSTEAD NOTHING", {"child": AE}),
    case("create-table-with-foreign-key", "CREATE TABLE grandchild (id int PRIMARY KEY, child_id int REFERENCES child (id))",
         {"child": SRE}, index_locks={"child_pkey": AS}),
    case("lock-table-share", "LOCK TABLE child IN SHARE MODE", {"child": SH}),
    case("update-rows", "UPDATE child SET note = 'm' WHERE id < 10", {"child": RE}, scanned={"child"},
         index_locks={"child_pkey": RE, "child_qty": RE}),
    case("insert-row", "INSERT INTO child (id, qty) VALUES (1000, 1)", {"child": RE}),
    case("alter-sequence-restart", "ALTER SEQUENCE counter RESTART WITH 100", {"counter": SRE}, rewritten={"counter"}),
    # Catalog-only and instant: no existing table is locked (ML031 lets them follow a lock).
    case("create-function", "CREATE FUNCTION twice(n int) RETURNS int LANGUAGE sql AS 'SELECT 2 * n'", {}),
    case("drop-function", "CREATE FUNCTION twice(n int) RETURNS int LANGUAGE sql AS 'SELECT 2 * n';\n"
         "DROP FUNCTION twice(int)", {}),
    case("create-type", "CREATE TYPE size AS ENUM ('s', 'm', 'l')", {}),
    case("drop-type", "CREATE TYPE size AS ENUM ('s', 'm', 'l');\nDROP TYPE size", {}),
    case("create-sequence", "CREATE SEQUENCE tickets", {}),
    # DROP SEQUENCE waits for ACCESS EXCLUSIVE behind every transaction that drew from it (ML046).
    case("drop-sequence", "DROP SEQUENCE counter", {"counter": AE}),
    case("create-table-alone", "CREATE TABLE notes (id int PRIMARY KEY, body text)", {}),
]
