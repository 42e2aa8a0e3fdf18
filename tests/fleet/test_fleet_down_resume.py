"""``down --fleet`` killed mid-run, then the same command with the ``--to`` it printed; and the
live line under a real terminal."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
from pathlib import Path

from fleet_helpers import applied, query, write_migrations

REPO = Path(__file__).resolve().parents[2]
VERSIONS = ["001", "002"]


def migration(version: str) -> str:
    create = "CREATE TABLE IF NOT EXISTS effects (version text);\n" if version == "001" else ""
    return (f"-- UP\n{create}INSERT INTO effects VALUES ('{version}');\n"
            f"-- DOWN\nDELETE FROM effects WHERE version = '{version}';\nSELECT pg_sleep(0.2);\n")


def migrations_cli(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "pytest_migrations.cli", *map(str, args)]


def test_a_killed_down_is_finished_by_the_same_command_with_the_version_it_printed(databases, tmp_path):
    directory = write_migrations(tmp_path / "m", {f"{v}_step.sql": migration(v) for v in VERSIONS})
    dsn = databases[0].dsn
    names = [f"tenant_{n}" for n in range(6)]
    for name in names:
        query(dsn, f"CREATE SCHEMA {name}")
    targets = tmp_path / "targets.txt"
    targets.write_text("".join(f"{dsn} {name}\n" for name in names))
    up = subprocess.run(migrations_cli("up", "--dir", directory, "--fleet", targets, "--no-lint"), cwd=REPO,
                        capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, up.stdout + up.stderr

    down = subprocess.Popen(migrations_cli("down", "--dir", directory, "--fleet", targets, "--jobs", "2"),
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert down.stdout is not None
    printed = ""
    for line in down.stdout:
        printed += line
        if ": rolled back " in line:  # one target done, the next one mid-DOWN (its pg_sleep)
            break
    os.kill(down.pid, signal.SIGKILL)
    down.communicate(timeout=60)
    assert "rolling back to version 001 (after an interruption, run again with --to 001)" in printed
    levels = [applied(dsn, name) for name in names]
    assert ["001"] in levels and ["001", "002"] in levels  # cut short: the fleet is at two versions
    for name, level in zip(names, levels):
        effects = [v for (v,) in query(dsn, f"SELECT version FROM {name}.effects ORDER BY version")]
        assert effects == level, name  # each target at a version, its effects with its records

    again = subprocess.run(migrations_cli("down", "--dir", directory, "--fleet", targets), cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "give --to VERSION" in again.stderr  # --steps again would roll back twice
    finish = subprocess.run(migrations_cli("down", "--dir", directory, "--fleet", targets, "--to", "001"), cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert finish.returncode == 0, finish.stdout + finish.stderr
    for name in names:
        assert applied(dsn, name) == ["001"]
        downs = query(dsn, f"SELECT count(*) FROM {name}.migration_history WHERE direction = 'down'"
                           " AND outcome = 'rolled back' AND version = '002'")
        assert downs == [(1,)]  # rolled back once, never twice


def test_under_a_real_terminal_the_live_line_is_drawn(databases, tmp_path):
    directory = write_migrations(tmp_path / "m", {"001_t.sql": "-- UP\nCREATE TABLE t (id int);\n"})
    targets = tmp_path / "targets.txt"
    targets.write_text("".join(f"{db.dsn}\n" for db in databases))
    leader, follower = pty.openpty()
    process = subprocess.Popen(migrations_cli("up", "--dir", directory, "--fleet", targets, "--no-lint"),
                               cwd=REPO, stdout=follower, stderr=follower, stdin=subprocess.DEVNULL)
    os.close(follower)
    screen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        try:
            chunk = os.read(leader, 4096) if ready else b""
        except OSError:  # the terminal closed with the process
            chunk = b""
        if not chunk:
            break
        screen += chunk
    os.close(leader)
    assert process.wait(timeout=60) == 0, screen
    text = screen.decode()
    assert "\r\x1b[Kfleet: 3 done, 0 running, 0 failed, 0 left" in text
    assert "applied 1 migration(s)" not in text and "fleet: 3 applied in " in text
