"""A fleet run against a serial loop of ``migrations up`` over the same kind of targets.

N schemas in one database and M databases, on one embedded PostgreSQL 18. Two equal sets of
targets are made, so that each side migrates targets that start empty: the serial loop calls
``migrations up`` once per target (in this process: the interpreter's start-up, which a shell
loop pays per target on top, is measured apart and printed beside it), the fleet runs
``migrations up --fleet`` once. Printed: wall time, peak connections (sampled from
pg_stat_activity), and time per target.

Run: python bench/bench_fleet.py [--schemas N] [--databases M] [--jobs J]
     (defaults: 40 schemas, 10 databases, 8 jobs; the issue's figures: --schemas 1000 --databases 200)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys
import tempfile
import threading
import time
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
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            while not self._stop.is_set():
                (count,) = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pytest-migrations'"
                ).fetchone()
                self.peak = max(self.peak, count)
                time.sleep(0.005)


def make_targets(server, prefix: str, schemas: int, databases: int, path: Path) -> int:
    lines = []
    if schemas:
        shared = server.create_database()
        with psycopg.connect(server.dsn(shared), autocommit=True) as conn:
            for number in range(schemas):
                conn.execute(f"CREATE SCHEMA {prefix}_{number}")
        lines += [f"{server.dsn(shared)} {prefix}_{number}" for number in range(schemas)]
    for _ in range(databases):
        lines.append(server.dsn(server.create_database()))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


def quiet(args: list[str]) -> int:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        return main(args)


def run(schemas: int, databases: int, jobs: int) -> None:
    server = embedded_server()
    with tempfile.TemporaryDirectory() as temp:
        root = Path(temp)
        directory = root / "migrations"
        directory.mkdir()
        for name, text in MIGRATIONS.items():
            (directory / name).write_text(text, encoding="utf-8")
        started = time.perf_counter()
        count = make_targets(server, "serial", schemas, databases, root / "serial.txt")
        make_targets(server, "fleet", schemas, databases, root / "fleet.txt")
        print(f"{schemas} schema(s) in one database + {databases} database(s) = {count} targets per side"
              f" (set up in {time.perf_counter() - started:.1f} s)")

        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pytest_migrations.cli", "--help"], capture_output=True, check=True)
        startup = time.perf_counter() - started

        with PeakConnections(server.admin_dsn) as peak, OpenConnections() as held:
            started = time.perf_counter()
            for target in read_targets(root / "serial.txt"):
                schema = ["--schema", target.schema] if target.schema else []
                code = quiet(["up", "--dir", str(directory), "--database-url", target.connection_dsn(),
                              "--no-lint", *schema])
                assert code == 0, f"serial up failed on {target.label}"
            serial = time.perf_counter() - started
        serial_peak, serial_held = peak.peak, held.peak

        with PeakConnections(server.admin_dsn) as peak, OpenConnections() as held:
            started = time.perf_counter()
            code = quiet(["up", "--dir", str(directory), "--fleet", str(root / "fleet.txt"),
                          "--jobs", str(jobs), "--no-lint"])
            fleet = time.perf_counter() - started
        assert code == 0, "fleet up failed"

        print(f"{'':<34}{'wall':>10}{'peak open':>11}{'peak backends':>15}{'per target':>12}")
        print(f"{'serial loop of migrations up':<34}{serial:>9.2f}s{serial_held:>11}{serial_peak:>15}"
              f"{serial / count * 1000:>10.1f}ms")
        print(f"{f'migrations up --fleet --jobs {jobs}':<34}{fleet:>9.2f}s{held.peak:>11}{peak.peak:>15}"
              f"{fleet / count * 1000:>10.1f}ms")
        print("peak open: connections the process held at once; peak backends: the server's count, which"
              " includes backends still exiting after their client closed")
        print(f"fleet / serial: {fleet / serial:.2f}; a shell loop also starts Python per target"
              f" ({startup * 1000:.0f} ms measured here, {startup * count:.1f} s for {count} targets)")
        server.drop_created_databases()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schemas", type=int, default=40)
    parser.add_argument("--databases", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=8)
    options = parser.parse_args()
    run(options.schemas, options.databases, options.jobs)
