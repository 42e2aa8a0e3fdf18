"""Resume: ``kill -9`` of a fleet run at several points, then ``migrations up --fleet`` again."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from fleet_helpers import applied, query, write_migrations

REPO = Path(__file__).resolve().parents[2]
VERSIONS = ["001", "002", "003"]


def migration(version: str) -> str:
    create = "CREATE TABLE IF NOT EXISTS effects (version text);\n" if version == "001" else ""
    return (
        f"-- UP\n{create}INSERT INTO effects VALUES ('{version}');\nSELECT pg_sleep(0.15);\n"
        f"-- DOWN\nDELETE FROM effects WHERE version = '{version}';\n"
    )


def fleet_up(directory: Path, targets: Path) -> list[str]:
    return [sys.executable, "-m", "pytest_migrations.cli", "up", "--dir", str(directory), "--fleet", str(targets),
            "--jobs", "4", "--no-lint"]


def state(dsn: str, schema: str) -> tuple[list[str], list[str], bool]:
    """The versions recorded, the versions whose effect is in the tables, and whether any record is dirty."""
    recorded = applied(dsn, schema)
    effects = []
    if query(dsn, "SELECT to_regclass(%s)", f"{schema}.effects") != [(None,)]:
        effects = [v for (v,) in query(dsn, f"SELECT version FROM {schema}.effects ORDER BY version")]
    dirty = recorded != [] and query(dsn, f"SELECT bool_or(dirty) FROM {schema}.applied_migrations") == [(True,)]
    return recorded, effects, dirty


def test_kill_9_at_several_points_then_up_again_finishes_with_nothing_applied_twice(databases, tmp_path):
    directory = write_migrations(tmp_path / "m", {f"{v}_step.sql": migration(v) for v in VERSIONS})
    shared = databases[0]
    names = [f"tenant_{n}" for n in range(8)]
    for name in names:
        query(shared.dsn, f"CREATE SCHEMA {name}")
    targets = tmp_path / "targets.txt"
    targets.write_text("".join(f"{shared.dsn} {name}\n" for name in names), encoding="utf-8")

    # Each round waits for one target to finish (so every round makes progress), then kills the
    # runner a random moment later, while other targets are mid-migration.
    pauses = random.Random(16).sample([x / 100 for x in range(0, 40, 3)], 4)
    interrupted = 0
    for pause in pauses:
        process = subprocess.Popen(fleet_up(directory, targets), cwd=REPO, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        assert process.stdout is not None
        for line in process.stdout:
            if ": applied " in line:
                break
        time.sleep(pause)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
        process.communicate(timeout=60)
        levels = []
        for name in names:
            recorded, effects, dirty = state(shared.dsn, name)
            # Each target is at a version, never between two: every effect has its record.
            assert recorded == VERSIONS[: len(recorded)], (name, recorded)
            assert effects == recorded, (name, effects, recorded)
            assert not dirty
            levels.append(len(recorded))
        interrupted += process.returncode == -signal.SIGKILL and min(levels) < len(VERSIONS)
    assert interrupted >= 3, "the fleet finished before most kills: make the migrations slower"

    final = subprocess.run(fleet_up(directory, targets), cwd=REPO, capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stdout + final.stderr
    for name in names:
        assert state(shared.dsn, name) == (VERSIONS, VERSIONS, False)
        ups = query(shared.dsn, f"SELECT version, count(*) FROM {name}.migration_history"
                                " WHERE direction = 'up' AND outcome = 'applied' GROUP BY version ORDER BY version")
        assert ups == [(v, 1) for v in VERSIONS]
