"""A fleet run against a serial loop of ``migrations up`` over the same targets (the anchor).

Two shapes, each measured on its own: N schemas in one database, and M databases on one server,
all on a throwaway embedded PostgreSQL 18 (removed at exit; its databases dropped at the end).
For each shape the serial loop calls ``migrations up`` once per target (in this process: the
interpreter's start-up, which a shell loop pays per target on top, is measured apart and
printed), then the same targets are emptied again and ``migrations up --fleet`` migrates them
once. Printed per shape and runner: wall time, peak connections (held by the process, and the
runner's backends sampled from pg_stat_activity), and time per target.

Run: python bench/bench_fleet.py [--schemas N] [--databases M] [--jobs J]
     (defaults: the issue's figures, 1000 schemas and 200 databases, 8 jobs; 0 skips a shape)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from pytest_migrations.cli import main
from pytest_migrations.database import embedded_server
from pytest_migrations.fleet import read_targets

MIGRATIONS = {
    "001_accounts.sql": "-- UP\nCREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);\n"
                        "-- DOWN\nDROP TABLE accounts;\n",
    "002_plan.sql": "-- UP\nALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free';\n"
                    "-- DOWN\nALTER TABLE accounts DROP COLUMN plan;\n",
    "003_email_index.sql": "-- UP\nCREATE UNIQUE INDEX accounts_email ON accounts (lower(email));\n"
                           "-- DOWN\nDROP INDEX accounts_email;\n",
}


class OpenConnections:
    """Counts this process's open psycopg connections (the fleet's own count of what it holds).

    The server's count (PeakConnections) can run above it for a moment: a backend outlives its
    client's close by the time it takes to exit, which a loaded machine stretches.
    """

    def __init__(self) -> None:
        self.open = 0
        self.peak = 0
        self._lock = threading.Lock()
        self._connect = psycopg.connect
        self._close = psycopg.Connection.close

    def __enter__(self) -> OpenConnections:
        counter = self

        def connect(*args, **kwargs):
            conn = counter._connect(*args, **kwargs)
            with counter._lock:
                counter.open += 1
                counter.peak = max(counter.peak, counter.open)
            return conn

        def close(conn):
            if not conn.closed:
                with counter._lock:
                    counter.open -= 1
            counter._close(conn)

        psycopg.connect = connect  # type: ignore[assignment]
        psycopg.Connection.close = close  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc_info: object) -> None:
        psycopg.connect = self._connect  # type: ignore[assignment]
        psycopg.Connection.close = self._close  # type: ignore[method-assign]


class PeakConnections:
    """Samples the runner's connections (application_name pytest-migrations) on the server."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample)

    def __enter__(self) -> PeakConnections:
        # Connected here, before OpenConnections counts: the sampler is not the runner's.
        self._conn = psycopg.connect(self.dsn, autocommit=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        with self._conn as conn:
            while not self._stop.is_set():
                (count,) = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pytest-migrations'"
                ).fetchone()
                self.peak = max(self.peak, count)
                time.sleep(0.005)


@dataclass
class Measured:
    wall: float
    open_peak: int  # connections this process held at once
    backend_peak: int  # the server's count of the runner's backends


def measure(server, body) -> Measured:
    with PeakConnections(server.admin_dsn) as backends, OpenConnections() as held:
        started = time.perf_counter()
        body()
        wall = time.perf_counter() - started
    return Measured(wall, held.peak, backends.peak)


def schema_targets(server, count: int, path: Path) -> list[tuple[str, str]]:
    """``count`` schemas in one new database; returns (dsn, schema) to reset."""
    database = server.dsn(server.create_database())
    with psycopg.connect(database, autocommit=True) as conn:
        for number in range(count):
            conn.execute(f"CREATE SCHEMA tenant_{number}")
    path.write_text("".join(f"{database} tenant_{n}\n" for n in range(count)), encoding="utf-8")
    return [(database, f"tenant_{n}") for n in range(count)]


def database_targets(server, count: int, path: Path) -> list[tuple[str, str]]:
    """``count`` new databases; returns (dsn, "public") to reset."""
    dsns = [server.dsn(server.create_database()) for _ in range(count)]
    path.write_text("".join(f"{dsn}\n" for dsn in dsns), encoding="utf-8")
    return [(dsn, "public") for dsn in dsns]


def reset(places: list[tuple[str, str]]) -> None:
    """The same targets, empty again: what the serial loop migrated, the fleet migrates anew."""
    for dsn, schema in places:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE; CREATE SCHEMA {schema}")


def quiet(args: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(args)


def serial_loop(directory: Path, targets: Path) -> None:
    for target in read_targets(targets):
        schema = ["--schema", target.schema] if target.schema else []
        code = quiet(["up", "--dir", str(directory), "--database-url", target.connection_dsn(), "--no-lint", *schema])
        assert code == 0, f"serial up failed on {target.label}"


def fleet(directory: Path, targets: Path, jobs: int) -> None:
    code = quiet(["up", "--dir", str(directory), "--fleet", str(targets), "--jobs", str(jobs), "--no-lint"])
    assert code == 0, "fleet up failed"


def run(schemas: int, databases: int, jobs: int) -> None:
    server = embedded_server()
    print(f"{server}; {os.cpu_count()} CPU(s); {len(MIGRATIONS)} migrations per target")
    rows = []
    try:
        with tempfile.TemporaryDirectory() as temp:
            root = Path(temp)
            directory = root / "migrations"
            directory.mkdir()
            for name, text in MIGRATIONS.items():
                (directory / name).write_text(text, encoding="utf-8")
            shapes = [(f"{schemas} schemas in one database", schema_targets, schemas),
                      (f"{databases} databases on one server", database_targets, databases)]
            for label, make, count in shapes:
                if not count:
                    continue
                path = root / "targets.txt"
                started = time.perf_counter()
                places = make(server, count, path)
                print(f"{label}: targets made in {time.perf_counter() - started:.1f} s", flush=True)
                serial = measure(server, lambda: serial_loop(directory, path))
                reset(places)
                parallel = measure(server, lambda: fleet(directory, path, jobs))
                rows.append((label, "serial loop of migrations up", count, serial))
                rows.append((label, f"migrations up --fleet --jobs {jobs}", count, parallel))
                print(f"{label}: fleet / serial wall time {parallel.wall / serial.wall:.2f}", flush=True)
                server.drop_created_databases()
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest_migrations.cli", "--help"], capture_output=True, check=True)
        startup = time.perf_counter() - started
    finally:
        server.drop_created_databases()

    print()
    print(f"{'targets':<34}{'runner':<34}{'wall':>10}{'peak open':>11}{'peak backends':>15}{'per target':>12}")
    for label, runner, count, figures in rows:
        print(f"{label:<34}{runner:<34}{figures.wall:>9.2f}s{figures.open_peak:>11}{figures.backend_peak:>15}"
              f"{figures.wall / count * 1000:>10.1f}ms")
    print("peak open: connections the process held at once; peak backends: the server's count of the"
          " runner's sessions (sampled), which includes backends still exiting after their client closed")
    print(f"the serial loop runs in this process; a shell loop also starts Python per target"
          f" ({startup * 1000:.0f} ms measured here)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schemas", type=int, default=1000)
    parser.add_argument("--databases", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=8)
    options = parser.parse_args()
    run(options.schemas, options.databases, options.jobs)
