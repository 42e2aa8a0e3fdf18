"""Resume: ``kill -9`` of a fleet run at 20 points chosen at random, each followed by ``up --fleet`` again.

The points are statements: a seeded draw picks, for each round, the number of the statement at
which the runner dies (among every statement an uninterrupted run sends, preflight included) and
how: before sending it, after its answer, or some milliseconds after sending it (mid-statement,
mid-COMMIT, between statements). Each round starts from an empty fleet, is killed, is checked
(every target at a version its records and its effects agree on, none dirty, none unreadable),
then resumed, and checked again (every target at the newest version, each migration applied
exactly once by its history and by its effects).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fleet_helpers import applied, query, write_migrations

REPO = Path(__file__).resolve().parents[2]
KILLABLE = Path(__file__).with_name("killable_runner.py")
VERSIONS = ["001", "002", "003"]
TENANTS = [f"tenant_{n}" for n in range(6)]
POINTS = 20
# Another seed explores other points: MIGRATIONS_FAULT_SEED=N pytest tests/fleet/test_fleet_resume.py
SEED = int(os.environ.get("MIGRATIONS_FAULT_SEED", "16"))

MIGRATIONS = {
    "001_accounts.sql": (
        "-- UP\nCREATE TABLE effects (version text NOT NULL);\n"
        "CREATE TABLE accounts (id bigint PRIMARY KEY, email text);\n"
        "INSERT INTO effects VALUES ('001');\n"
        "-- DOWN\nDROP TABLE accounts;\nDROP TABLE effects;\n"
    ),
    "002_plan.sql": (
        "-- UP\nALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free';\n"
        "INSERT INTO effects VALUES ('002');\nSELECT pg_sleep(0.02);\n"
        "-- DOWN\nALTER TABLE accounts DROP COLUMN plan;\n"
    ),
    "003_email_index.sql": (
        "-- UP\nCREATE UNIQUE INDEX accounts_email ON accounts (lower(email));\n"
        "SELECT pg_sleep(0.02);\nINSERT INTO effects VALUES ('003');\n"
        "-- DOWN\nDROP INDEX accounts_email;\n"
    ),
}


class Killable:
    """The fork server of killable_runner.py: one interpreter start for every round."""

    def __init__(self, count_file: Path) -> None:
        self.count_file = count_file
        self.process = subprocess.Popen(
            [sys.executable, str(KILLABLE)], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )

    def run(self, args: list[str], kill_at: int | None = None, mode: str = "before", delay_ms: int = 0) -> dict:
        assert self.process.stdin is not None and self.process.stdout is not None
        request = {"args": args, "kill_at": kill_at, "mode": mode, "delay_ms": delay_ms,
                   "count_file": str(self.count_file)}
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, "the killable runner died"
        return json.loads(answer)

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture
def killable(tmp_path):
    server = Killable(tmp_path / "count")
    try:
        yield server
    finally:
        server.close()


def wait_for_runner_backends_to_end(dsn: str, databases: list[str]) -> None:
    """A killed client's statement can still run on the server; its outcome must be in before we look."""
    deadline = time.monotonic() + 20
    while query(dsn, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pytest-migrations'"
                     " AND datname = ANY(%s)", databases) != [(0,)]:
        assert time.monotonic() < deadline, "the killed runner's backends did not end"
        time.sleep(0.02)


def effects(dsn: str, schema: str) -> list[str]:
    if query(dsn, "SELECT to_regclass(%s)", f'"{schema}".effects') == [(None,)]:
        return []
    return [v for (v,) in query(dsn, f'SELECT version FROM "{schema}".effects ORDER BY version')]


def history_ups(dsn: str, schema: str) -> list[tuple[str, int]]:
    return query(dsn, f'SELECT version, count(*)::int FROM "{schema}".migration_history'
                      " WHERE direction = 'up' AND outcome = 'applied' GROUP BY version ORDER BY version")


def test_kill_9_at_20_random_points_then_up_again_finishes_with_nothing_applied_twice(
    cli, databases, killable, tmp_path,
):
    directory = write_migrations(tmp_path / "m", MIGRATIONS)
    shared, *own = databases
    # (dsn, schema holding the tracking tables and the effects): six tenants of one database
    # and two databases of their own.
    places = [(shared.dsn, name) for name in TENANTS] + [(db.dsn, "public") for db in own]
    targets = tmp_path / "targets.txt"
    targets.write_text("".join(f"{shared.dsn} {name}\n" for name in TENANTS) + "".join(f"{db.dsn}\n" for db in own),
                       encoding="utf-8")
    args = ["up", "--dir", str(directory), "--fleet", str(targets), "--jobs", "4", "--no-lint"]
    names = [db.name for db in databases]

    def reset() -> None:
        for dsn, schema in places:
            query(dsn, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE; CREATE SCHEMA "{schema}"')

    reset()
    clean = killable.run(args)
    assert clean["code"] == 0 and not clean["killed"], clean
    total = clean["sent"]
    assert all(effects(dsn, schema) == VERSIONS for dsn, schema in places)

    draw = random.Random(SEED)
    points = []
    for _ in range(POINTS):
        mode = draw.choice(["before", "during", "after"])
        # A "during" kill lands up to 20 ms after its statement was sent: not among the last
        # statements, which a run sends faster than that, or it would end on its own first.
        last = total - 1 if mode != "during" else total - 20
        points.append((draw.randint(1, last), mode, draw.randint(0, 20)))
    partly_migrated = 0
    for kill_at, mode, delay_ms in points:
        where = f"killed at statement {kill_at}/{total} ({mode}, {delay_ms} ms)"
        reset()
        outcome = killable.run(args, kill_at, mode, delay_ms)
        assert outcome["killed"], f"{where}: the run was not killed: {outcome}"
        wait_for_runner_backends_to_end(shared.dsn, names)

        # No target unknown: the fleet's own status reads every one, none dirty or disagreeing.
        status = cli("status", "--dir", directory, "--fleet", targets, "--format", "json")
        assert status.code == 0, f"{where}: {status.text}"
        reported = json.loads(status.out)["targets"]
        levels = []
        for (dsn, schema), entry in zip(places, reported):
            recorded = applied(dsn, schema)
            # At a version, never between two: every effect has its record and the reverse.
            assert recorded == VERSIONS[: len(recorded)], (where, schema, recorded)
            assert effects(dsn, schema) == recorded, (where, schema, effects(dsn, schema), recorded)
            assert (entry["version"], entry["dirty"], entry["error"]) == (recorded[-1] if recorded else None, [], None)
            levels.append(len(recorded))
        partly_migrated += 0 < sum(levels) < len(VERSIONS) * len(places)

        resumed = cli(*args)
        assert resumed.code == 0, f"{where}: {resumed.text}"
        for dsn, schema in places:
            assert effects(dsn, schema) == VERSIONS, (where, schema)
            assert history_ups(dsn, schema) == [(v, 1) for v in VERSIONS], (where, schema)
            assert query(dsn, f'SELECT count(*) FROM "{schema}".applied_migrations WHERE dirty') == [(0,)]
    # Most points fall in the apply phase (the preflight sends fewer statements than the runs).
    assert partly_migrated >= POINTS // 2, f"only {partly_migrated} of {POINTS} kills left a fleet part-migrated"
