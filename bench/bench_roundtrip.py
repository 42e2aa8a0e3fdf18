"""Time the up/down/up round trip against its floor: the same SQL run raw through psycopg.

    python bench/bench_roundtrip.py [--repeat 3] [--dsn postgresql://...]

For the examples and the largest corpus set (docsrs, 33 migrations), on one server:

- floor: a fresh database, then for every migration UP, DOWN, UP executed as plain scripts
  through psycopg (a failing script is rolled back and the walk goes on), nothing checked;
- round trip: :class:`pytest_migrations.roundtrip.ChainWalker` over the same migrations, with
  and without the data check: three schema snapshots per migration, rollbacks, diffs;
- snapshot: one ``take_snapshot`` of the database at head.

Prints the best of ``--repeat`` runs for each and the ratio to the floor (goal: within 3x).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from migration_lint.model import Migration, discover
from pytest_migrations.database import Server, open_server
from pytest_migrations.roundtrip import ChainWalker, make_base_database
from pytest_migrations.snapshot import take_snapshot

REPO = Path(__file__).resolve().parents[1]
SETS = {
    "examples": (REPO / "examples" / "migrations", None),
    "docsrs": (REPO.parent / "shared" / "corpus" / "docsrs", "CREATE EXTENSION fuzzystrmatch;"),
}


def best_of(repeat: int, run: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def _execute(conn: psycopg.Connection[Any], migration: Migration, sql: str | None) -> None:
    if not sql or not sql.strip():
        return
    try:
        if migration.transactional and not migration.manages_transaction:
            with conn.transaction():
                conn.execute(sql.encode())
        else:
            for statement in (migration.up if sql == migration.up_sql else migration.down).statements:  # type: ignore[union-attr]
                conn.execute(statement.text.encode())
    except psycopg.Error:
        if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            conn.execute("ROLLBACK")


def floor(server: Server, migrations: list[Migration], setup_sql: str | None) -> None:
    name = make_base_database(server, setup_sql)
    try:
        with server.connect(name) as conn:
            for migration in migrations:
                _execute(conn, migration, migration.up_sql)
                _execute(conn, migration, migration.down_sql)
                _execute(conn, migration, migration.up_sql)
    finally:
        server.drop_database(name)


def round_trip(server: Server, migrations: list[Migration], setup_sql: str | None, check_data: bool) -> None:
    with ChainWalker(server, migrations, setup_sql=setup_sql, check_data=check_data) as walker:
        for _ in walker.walk():
            pass


def snapshot_at_head(server: Server, migrations: list[Migration], setup_sql: str | None, repeat: int) -> float:
    name = make_base_database(server, setup_sql)
    try:
        with server.connect(name) as conn:
            for migration in migrations:
                _execute(conn, migration, migration.up_sql)
            take_snapshot(conn)  # warm the caches
            return best_of(repeat * 5, lambda: take_snapshot(conn))
    finally:
        server.drop_database(name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dsn", default=None, help="a server to use instead of the embedded one")
    args = parser.parse_args(argv)
    server = open_server(dsn=args.dsn)
    print(f"server: {server}")
    print(f"{'set':10} {'migr.':>5} {'floor':>8} {'snapshot':>9} {'no data check':>20} {'with data check':>20}")
    for label, (directory, setup_sql) in SETS.items():
        if not directory.is_dir():
            print(f"{label:10} (missing: {directory})")
            continue
        migrations = discover(directory)
        floor_s = best_of(args.repeat, lambda: floor(server, migrations, setup_sql))
        snap_s = snapshot_at_head(server, migrations, setup_sql, args.repeat)
        lean_s = best_of(args.repeat, lambda: round_trip(server, migrations, setup_sql, check_data=False))
        full_s = best_of(args.repeat, lambda: round_trip(server, migrations, setup_sql, check_data=True))
        print(
            f"{label:10} {len(migrations):5d} {floor_s:7.3f}s {snap_s * 1000:7.1f}ms"
            f" {lean_s:9.3f}s ({lean_s / floor_s:4.1f}x) {full_s:9.3f}s ({full_s / floor_s:4.1f}x)"
        )
    server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
