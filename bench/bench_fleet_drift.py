"""Drift over a fleet: ``verify --fleet`` against ``status --fleet`` on the same schemas.

N schemas in one database of the embedded PostgreSQL 18 are migrated with ``up --fleet``, one
of them is then edited by hand. Printed, from the same run: ``status --fleet`` (the anchor: it
reads each target's tracking tables only), ``verify --fleet`` (the runner's verify on each
target, the expected schema built once on a throwaway database, the database's catalog read
once for all its schemas), and a snapshot per target, each on its own connection, kept to the
tenant's schema (what a drift check that reads each tenant's catalog apart would pay for the
reading alone; measured on the first ``--apart`` targets, per target). Reading the whole
database and keeping one schema is the cheaper way: ``exclude_schemas`` with the other tenants
listed is slower still.

Run: python bench/bench_fleet_drift.py [--schemas N] [--jobs J] [--apart K]
     (defaults: 200 schemas, 8 jobs, 10 targets read apart)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from pytest_migrations.cli import main
from pytest_migrations.database import embedded_server
from pytest_migrations.snapshot import take_snapshot

MIGRATIONS = {
    "001_accounts.sql": "-- UP\nCREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL);\n"
                        "-- DOWN\nDROP TABLE accounts;\n",
    "002_plan.sql": "-- UP\nALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free';\n"
                    "CREATE VIEW paying AS SELECT id FROM accounts WHERE plan <> 'free';\n"
                    "-- DOWN\nDROP VIEW paying;\nALTER TABLE accounts DROP COLUMN plan;\n",
    "003_email_index.sql": "-- UP\nCREATE UNIQUE INDEX accounts_email ON accounts (lower(email));\n"
                           "-- DOWN\nDROP INDEX accounts_email;\n",
}


def quiet(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(argv)
    return code, out.getvalue()


def timed(argv: list[str]) -> tuple[float, int, str]:
    started = time.perf_counter()
    code, out = quiet(argv)
    return time.perf_counter() - started, code, out


def main_bench() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--schemas", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--apart", type=int, default=10)
    args = parser.parse_args()
    server = embedded_server()
    name = server.create_database()
    dsn = server.dsn(name)
    try:
        with tempfile.TemporaryDirectory() as root, psycopg.connect(dsn, autocommit=True) as conn:
            directory = Path(root) / "migrations"
            directory.mkdir()
            for file, text in MIGRATIONS.items():
                (directory / file).write_text(text)
            conn.execute("; ".join(f"CREATE SCHEMA tenant_{n:05}" for n in range(args.schemas)))
            common = ["--dir", str(directory), "--fleet-schemas", "tenant%", "--database-url", dsn,
                      "--jobs", str(args.jobs)]
            code, _ = quiet(["up", *common, "--no-lint"])
            assert code == 0, "up --fleet failed"
            conn.execute("DROP INDEX tenant_00001.accounts_email")

            status, code, _ = timed(["status", *common])
            assert code == 0, "status --fleet failed"
            verify, code, out = timed(["verify", *common])
            assert code == 1 and "drift: index tenant_00001.accounts_email: missing" in out, "verify --fleet missed the drift"
            assert out.count("drift: ") == 1, "verify --fleet found drift that is not there"
            names = [f"tenant_{n:05}" for n in range(args.schemas)]
            apart_count = min(args.apart, args.schemas)
            started = time.perf_counter()
            for n in range(apart_count):
                with psycopg.connect(dsn, autocommit=True) as tenant:
                    snapshot = take_snapshot(tenant)
                    prefix = f"{names[n]}."
                    mine = [key for key in snapshot if key.partition(" ")[2].startswith(prefix)]
                    assert mine, f"no objects in {prefix}"
            apart = time.perf_counter() - started
    finally:
        server.drop_database(name)

    count = args.schemas
    print(f"{count} schemas in one database, embedded PostgreSQL {server.major}, --jobs {args.jobs}")
    print(f"{'run':<52}{'wall':>10}{'per target':>13}")
    for label, seconds, targets in (
        ("status --fleet (anchor: tracking tables)", status, count),
        ("verify --fleet (verify + drift)", verify, count),
        (f"a snapshot per target, serial, on {apart_count} target(s)", apart, apart_count),
    ):
        print(f"{label:<52}{seconds:>9.2f}s{seconds / targets * 1000:>11.1f}ms")
    print(f"verify / status: {verify / status:.2f}")


if __name__ == "__main__":
    sys.exit(main_bench())
