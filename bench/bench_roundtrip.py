"""Time the up/down/up round trip against its floor: the same SQL run raw through psycopg.

    python bench/bench_roundtrip.py [--repeat 3] [--dsn postgresql://...] [--alembic-python PATH]

For the examples and the largest corpus set (docsrs, 33 migrations), on one server:

- floor: a fresh database, then for every migration UP, DOWN, UP executed as plain scripts
  through psycopg (a failing script is rolled back and the walk goes on), nothing checked;
- round trip: :class:`pytest_migrations.roundtrip.ChainWalker` over the same migrations, with
  and without the data check: two schema snapshots per migration (read through a
  SnapshotCache), rollbacks, diffs, and with the data check seeded rows checked; as the plugin
  runs it (two walkers sharing the walk where there are two cores), and with one walker;
- snapshot: one ``take_snapshot`` of the database at head;
- pytest-alembic (with ``--alembic-python``, a Python whose environment has pytest<9,
  pytest-alembic, alembic, SQLAlchemy and psycopg): its ``test_up_down_consistency`` over an
  Alembic environment whose revisions execute the same SQL files (up to head, then down to
  base), on the same server; the time of the test's call phase, and whether it passed. Our
  walk makes (with the set-up SQL) and drops its database within its time; pytest-alembic is
  given one, so the verdict also says its time with the making and dropping of that database.

The measures take turns within each round (floor, round trips, pytest-alembic, then again), so
that other work on the machine weighs on all of them alike. Prints the median of ``--repeat``
runs for each and the ratio to the floor (goals: within 3x, and no slower than pytest-alembic),
then our round trip with the data check (as the plugin runs it) beside pytest-alembic, both
medians of the same rounds, and the machine's load average before and after: figures taken on a
busy machine are not comparable.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from migration_lint.execution import plan_section
from migration_lint.layouts import discover
from migration_lint.model import Migration
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
        times.append(timed(run))
    return min(times)


def timed(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _execute(conn: psycopg.Connection[Any], migration: Migration, sql: str | None) -> None:
    if not sql or not sql.strip():
        return
    try:
        direction = "up" if sql == migration.up_sql else "down"
        if plan_section(migration, direction).in_tool_transaction:
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


def round_trip(
    server: Server, migrations: list[Migration], setup_sql: str | None, check_data: bool, jobs: int | None = None
) -> None:
    with ChainWalker(server, migrations, setup_sql=setup_sql, check_data=check_data, jobs=jobs) as walker:
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


_ALEMBIC_ENV = """
import os
import psycopg
from alembic import context
from sqlalchemy import Engine, create_engine


def run_migrations_online():
    connectable = context.config.attributes.get("connection")
    if connectable is None:
        connectable = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(os.environ["BENCH_DSN"]))
    if isinstance(connectable, Engine):
        with connectable.connect() as connection:
            _run(connection)
    else:
        _run(connectable)


def _run(connection):
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()

run_migrations_online()
"""

_ALEMBIC_CONFTEST = """
import os
import psycopg
import pytest
from sqlalchemy import create_engine

@pytest.fixture
def alembic_engine():
    return create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(os.environ["BENCH_DSN"]))
"""

_REVISION = """
from alembic import op

revision = {revision!r}
down_revision = {down_revision!r}
UP = {up!r}
DOWN = {down!r}
OUTSIDE_TRANSACTION = {outside!r}


def _execute(statements):
    # The psycopg connection itself: without parameters the SQL goes as written ('%' included).
    driver = op.get_bind().connection.driver_connection
    for statement in statements:
        driver.execute(statement)


def _run(statements):
    if OUTSIDE_TRANSACTION:
        with op.get_context().autocommit_block():
            _execute(statements)
    else:
        _execute(statements)


def upgrade():
    _run(UP)


def downgrade():
    _run(DOWN)
"""


def alembic_project(root: Path, migrations: list[Migration], setup_sql: str | None) -> None:
    """An Alembic environment whose revision k executes the UP (DOWN) statements of migration k."""
    (root / "alembic" / "versions").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "alembic.ini").write_text("[alembic]\nscript_location = alembic\n")
    (root / "alembic" / "env.py").write_text(_ALEMBIC_ENV)
    (root / "tests" / "conftest.py").write_text(_ALEMBIC_CONFTEST)
    previous = None
    for index, migration in enumerate(migrations):
        revision = f"r{index:04d}"
        outside = not all(plan_section(migration, d).in_tool_transaction for d in ("up", "down")
                          if (migration.up if d == "up" else migration.down) is not None)
        down = [] if migration.down is None else [s.text for s in migration.down.statements]
        text = _REVISION.format(
            revision=revision, down_revision=previous, up=[s.text for s in migration.up.statements],
            down=down, outside=outside,
        )  # fmt: skip
        (root / "alembic" / "versions" / f"{revision}.py").write_text(text)
        previous = revision


def pytest_alembic(
    python: str, server: Server, migrations: list[Migration], setup_sql: str | None
) -> tuple[float, float, str]:
    """(seconds of test_up_down_consistency's call phase, seconds of making and dropping its
    database with the set-up SQL, its outcome). Our walk makes and drops its own database, in
    the time it is measured by; pytest-alembic's test is given one."""
    with tempfile.TemporaryDirectory(prefix="bench_alembic_") as directory:
        root = Path(directory)
        alembic_project(root, migrations, setup_sql)
        started = time.perf_counter()
        name = make_base_database(server, setup_sql)
        database_s = time.perf_counter() - started
        try:
            completed = subprocess.run(
                [python, "-m", "pytest", "--test-alembic", "-k", "test_up_down_consistency", "-p", "no:cacheprovider",
                 "--durations=0", "--durations-min=0", "-q", "-rA"],
                cwd=root, env={**os.environ, "BENCH_DSN": server.dsn(name)},
                capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
        finally:
            started = time.perf_counter()
            server.drop_database(name)
            database_s += time.perf_counter() - started
    match = re.search(r"([0-9.]+)s call\s+\S*test_up_down_consistency", completed.stdout)
    outcome = "passed" if completed.returncode == 0 else "FAILED"
    if match is None:
        raise RuntimeError(f"pytest-alembic did not run:\n{completed.stdout[-2000:]}{completed.stderr[-2000:]}")
    return float(match.group(1)), database_s, outcome


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dsn", default=None, help="a server to use instead of the embedded one")
    parser.add_argument("--alembic-python", default=None, help="python of a venv with pytest<9 and pytest-alembic")
    args = parser.parse_args(argv)
    server = open_server(dsn=args.dsn)
    print(f"server: {server}; {os.cpu_count()} cores, load average {_load()}")
    alembic_header = f" {'pytest-alembic':>24}" if args.alembic_python else ""
    print(
        f"{'set':10} {'migr.':>5} {'floor':>8} {'snapshot':>9} {'no data check':>20} {'with data check':>20}"
        f" {'same, one walker':>20}{alembic_header}"
    )
    verdicts: list[str] = []
    for label, (directory, setup_sql) in SETS.items():
        if not directory.is_dir():
            print(f"{label:10} (missing: {directory})")
            continue
        migrations = discover(directory)
        snap_s = snapshot_at_head(server, migrations, setup_sql, args.repeat)
        measures = _measures(server, migrations, setup_sql)
        for run in measures.values():
            run()  # warm the server's and the OS's caches
        times: dict[str, list[float]] = {name: [] for name in measures}
        times["alembic"] = []
        times["alembic+db"] = []  # the same, with the making and dropping of its database
        outcome = ""
        for _ in range(args.repeat):
            for name, run in measures.items():
                times[name].append(timed(run))
            if args.alembic_python:
                seconds, database_s, outcome = pytest_alembic(args.alembic_python, server, migrations, setup_sql)
                times["alembic"].append(seconds)
                times["alembic+db"].append(seconds + database_s)
        median = {name: statistics.median(values) for name, values in times.items() if values}
        floor_s, lean_s, full_s, alone_s = (median[name] for name in ("floor", "lean", "full", "alone"))
        alembic = ""
        if args.alembic_python:
            alembic_s = median["alembic"]
            alembic = f" {alembic_s:7.3f}s ({alembic_s / floor_s:4.1f}x, {outcome})"
        print(
            f"{label:10} {len(migrations):5d} {floor_s:7.3f}s {snap_s * 1000:7.1f}ms"
            f" {lean_s:9.3f}s ({lean_s / floor_s:4.1f}x) {full_s:9.3f}s ({full_s / floor_s:4.1f}x)"
            f" {alone_s:9.3f}s ({alone_s / floor_s:4.1f}x){alembic}"
        )
        if args.alembic_python:
            with_db = median["alembic+db"]
            verdicts.append(
                f"{label}: round trip with data check {full_s:.3f}s (one walker {alone_s:.3f}s)"
                f" vs pytest-alembic {median['alembic']:.3f}s: {median['alembic'] / full_s:.2f}x as fast"
                f" (one walker {median['alembic'] / alone_s:.2f}x); counting the database it is given,"
                f" made and dropped as our walk makes and drops its own, {with_db:.3f}s:"
                f" {with_db / full_s:.2f}x as fast (one walker {with_db / alone_s:.2f}x);"
                f" runs, ours: {_listed(times['full'])}; pytest-alembic: {_listed(times['alembic'])};"
                f" with its database: {_listed(times['alembic+db'])}"
            )
    for verdict in verdicts:
        print(verdict)
    print(f"load average after: {_load()}")
    server.close()
    return 0


def _measures(server: Server, migrations: list[Migration], setup_sql: str | None) -> dict[str, Callable[[], Any]]:
    """What each round times, by name, besides pytest-alembic."""
    return {
        "floor": lambda: floor(server, migrations, setup_sql),
        "lean": lambda: round_trip(server, migrations, setup_sql, check_data=False),
        "full": lambda: round_trip(server, migrations, setup_sql, check_data=True),
        "alone": lambda: round_trip(server, migrations, setup_sql, check_data=True, jobs=1),
    }


def _listed(values: list[float]) -> str:
    return " ".join(f"{value:.3f}" for value in values)


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
