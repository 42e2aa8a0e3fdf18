"""A fleet run that loses a connection or a server mid-migration, then ``up --fleet`` again.

Each target's second migration waits at a gate (a row the test flips) so that the fault lands
while it runs: ``pg_terminate_backend`` of the migration's session or of the session that holds
the runners' lock, and a restart of the server that holds some of the targets. The run reports
those targets failed, leaves each at its old version (or, after a lost lock, at the last
migration it committed), never dirty, and the next ``up --fleet`` finishes them with nothing
repaired by hand and nothing applied twice.

Two kills of the runner process complete the picture: one during a long statement (the server
ends the statement with its client, so the next run does not wait behind it), one during a
statement of a migration outside a transaction whose effect the catalog cannot show (that target
is recorded dirty with that statement, shown by ``status --fleet``, and refused until a human
repairs it; test_fleet_resume_outside_transaction.py resumes one the catalog can decide).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fleet_helpers import applied, query, write_migrations

from pytest_migrations.database import Database, EmbeddedServer
from pytest_migrations.database._embedded import _pg_ctl

REPO = Path(__file__).resolve().parents[2]
VERSIONS = ["001", "002", "003"]
MIGRATIONS = {
    "001_accounts.sql": (
        "-- UP\nCREATE TABLE accounts (id bigint PRIMARY KEY, email text);\n"
        "INSERT INTO effects VALUES ('001');\n"
    ),
    "002_wait_at_the_gate.sql": (
        "-- UP\nALTER TABLE accounts ADD COLUMN plan text NOT NULL DEFAULT 'free';\n"
        "INSERT INTO effects VALUES ('002');\n"
        "DO $$ BEGIN WHILE NOT (SELECT open FROM gate) LOOP PERFORM pg_sleep(0.02); END LOOP; END $$;\n"
    ),
    "003_email_index.sql": (
        "-- UP\nCREATE UNIQUE INDEX accounts_email ON accounts (lower(email));\n"
        "INSERT INTO effects VALUES ('003');\n"
    ),
}
WAITING = "SELECT pid FROM pg_stat_activity WHERE application_name = 'pytest-migrations' AND query LIKE 'DO $$%gate%'"


def prepare(dsn: str, *, gate_open: bool) -> None:
    query(dsn, "CREATE TABLE effects (version text NOT NULL); CREATE TABLE gate (open boolean NOT NULL)")
    query(dsn, "INSERT INTO gate VALUES (%s)", gate_open)


def effects(dsn: str) -> list[str]:
    return [v for (v,) in query(dsn, "SELECT version FROM effects ORDER BY version")]


def history(dsn: str) -> list[tuple[str, str]]:
    return query(dsn, "SELECT version, outcome FROM migration_history WHERE direction = 'up' ORDER BY id")


def wait_for(dsn: str, text: str, *params: object, seconds: float = 30) -> list[tuple]:
    deadline = time.monotonic() + seconds
    while not (rows := query(dsn, text, *params)):
        assert time.monotonic() < deadline, f"nothing came of {text!r}"
        time.sleep(0.02)
    return rows


def in_background(run, *args):
    """``run(*args)`` in a thread; returns a callable giving its result once it ended."""
    box: dict = {}
    thread = threading.Thread(target=lambda: box.setdefault("result", run(*args)))
    thread.start()

    def result():
        thread.join(timeout=120)
        assert not thread.is_alive(), "the fleet run did not end"
        return box["result"]

    return result


def counts(out: str) -> dict[str, int]:
    """The fleet's closing line as {state: targets}: ``fleet: 2 applied, 1 failed in 102 ms``."""
    [line] = [line for line in out.splitlines() if line.startswith("fleet: ")]
    parts = line.removeprefix("fleet: ").rsplit(" in ", 1)[0].split(", ")
    return {state: int(number) for number, state in (part.split(" ", 1) for part in parts)}


def fleet_file(tmp_path: Path, dsns: list[str]) -> Path:
    path = tmp_path / "targets.txt"
    path.write_text("".join(f"{dsn}\n" for dsn in dsns), encoding="utf-8")
    return path


def assert_finished_once(dsn: str) -> None:
    assert applied(dsn) == VERSIONS and effects(dsn) == VERSIONS
    assert [v for v, outcome in history(dsn) if outcome == "applied"] == VERSIONS


def test_a_terminated_migration_session_fails_its_target_at_the_old_version_and_up_again_finishes(
    cli, databases, tmp_path,
):
    directory = write_migrations(tmp_path / "m", MIGRATIONS)
    victim, *others = databases
    prepare(victim.dsn, gate_open=False)
    for db in others:
        prepare(db.dsn, gate_open=True)
    targets = fleet_file(tmp_path, [db.dsn for db in databases])
    args = ["up", "--dir", directory, "--fleet", targets, "--jobs", "6", "--no-lint"]

    result = in_background(cli, *args)
    [(pid,)] = wait_for(victim.dsn, WAITING + " AND datname = current_database()")
    query(victim.dsn, "SELECT pg_terminate_backend(%s)", pid)
    first = result()

    assert first.code == 1
    assert "targets.txt:1: " in first.err
    assert "002_wait_at_the_gate.sql:4: the connection to the database was lost: terminating connection" in first.err
    assert counts(first.out) == {"applied": 2, "failed": 1}
    # 002 rolled back with its session; the failure is in the history through a new connection.
    assert applied(victim.dsn) == ["001"] and effects(victim.dsn) == ["001"]
    assert history(victim.dsn) == [("001", "applied"), ("002", "failed")]
    assert all(applied(db.dsn) == VERSIONS for db in others)
    status = cli("status", "--dir", directory, "--fleet", targets, "--format", "json")
    assert status.code == 0, status.text
    assert [(t["version"], t["pending"], t["dirty"]) for t in json.loads(status.out)["targets"]] == [
        ("001", 2, []), ("003", 0, []), ("003", 0, []),
    ]

    query(victim.dsn, "UPDATE gate SET open = true")
    again = cli(*args)
    assert again.code == 0, again.text
    assert counts(again.out) == {"applied": 1, "up to date": 2}
    for db in databases:
        assert_finished_once(db.dsn)


def test_a_terminated_lock_session_stops_its_target_after_the_running_migration_and_up_again_finishes(
    cli, databases, tmp_path,
):
    directory = write_migrations(tmp_path / "m", MIGRATIONS)
    victim = databases[0]
    prepare(victim.dsn, gate_open=False)
    targets = fleet_file(tmp_path, [victim.dsn])
    args = ["up", "--dir", directory, "--fleet", targets, "--no-lint"]

    result = in_background(cli, *args)
    wait_for(victim.dsn, WAITING + " AND datname = current_database()")
    [(holder,)] = query(victim.dsn, "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
    query(victim.dsn, "SELECT pg_terminate_backend(%s)", holder)
    query(victim.dsn, "UPDATE gate SET open = true")
    first = result()

    # The migration that was running commits (its own session is fine); none starts without the lock.
    assert first.code == 1
    assert "lost the connection that holds the migration lock; stopped before the next migration" in first.err
    assert applied(victim.dsn) == ["001", "002"] and effects(victim.dsn) == ["001", "002"]

    again = cli(*args)
    assert again.code == 0, again.text
    assert_finished_once(victim.dsn)


@pytest.fixture
def restartable_server() -> EmbeddedServer:
    """A server of this test's own, to restart without disturbing the session's."""
    server = EmbeddedServer.start()
    try:
        yield server
    finally:
        server.stop()


def restart(server: EmbeddedServer) -> None:
    """``pg_ctl restart -m fast``: the server ends every session, then starts again on the same port."""
    log = server.data_dir / "restart.log"
    owner = server.data_dir.owner() if os.geteuid() == 0 else None
    done = subprocess.run(
        [str(_pg_ctl()), "restart", "-D", str(server.data_dir), "-m", "fast", "-w", "-t", "60", "-l", str(log)],
        user=owner, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=90,
    )
    assert done.returncode == 0, log.read_text(errors="replace") if log.exists() else "pg_ctl restart failed"


def test_a_server_restarted_mid_run_fails_its_targets_at_their_old_version_and_up_again_finishes(
    cli, databases, restartable_server, tmp_path,
):
    directory = write_migrations(tmp_path / "m", MIGRATIONS)
    elsewhere = [Database(name, restartable_server.dsn(name))
                 for name in (restartable_server.create_database(), restartable_server.create_database())]
    for db in elsewhere:
        prepare(db.dsn, gate_open=False)
    for db in databases:
        prepare(db.dsn, gate_open=True)
    targets = fleet_file(tmp_path, [db.dsn for db in elsewhere + databases])
    args = ["up", "--dir", directory, "--fleet", targets, "--jobs", "10", "--no-lint", "--continue-on-error"]

    result = in_background(cli, *args)
    for db in elsewhere:
        wait_for(db.dsn, WAITING + " AND datname = current_database()")
    restart(restartable_server)
    first = result()

    assert first.code == 1
    assert counts(first.out) == {"applied": 3, "failed": 2}
    for line in (1, 2):
        assert f"targets.txt:{line}: " in first.err
    assert first.err.count("the connection to the database was lost") == 2
    for db in elsewhere:
        # Rolled back by the restart, not dirty. (The failure's history row is written only if
        # the server is back by the time the runner tries: not asserted.)
        assert applied(db.dsn) == ["001"] and effects(db.dsn) == ["001"]
        assert query(db.dsn, "SELECT count(*) FROM applied_migrations WHERE dirty") == [(0,)]
    assert all(applied(db.dsn) == VERSIONS for db in databases)

    for db in elsewhere:
        query(db.dsn, "UPDATE gate SET open = true")
    again = cli(*args)
    assert again.code == 0, again.text
    assert counts(again.out) == {"applied": 2, "up to date": 3}
    for db in elsewhere + databases:
        assert_finished_once(db.dsn)


def test_the_statement_of_a_killed_runner_ends_with_it_so_the_resumed_run_does_not_wait_for_it(
    cli, databases, tmp_path,
):
    # A statement keeps running on the server after its client is gone, holding its locks: a
    # resumed run would wait for it (or time out) for as long as it has left.
    directory = write_migrations(tmp_path / "m", {
        "001_accounts.sql": (
            "-- UP\nCREATE TABLE accounts (id bigint PRIMARY KEY);\nINSERT INTO effects VALUES ('001');\n"
            "SELECT pg_sleep(CASE WHEN (SELECT open FROM gate) THEN 0 ELSE 120 END);\n"
        ),
    })
    victim = databases[0]
    prepare(victim.dsn, gate_open=False)
    targets = fleet_file(tmp_path, [victim.dsn])
    args = ["up", "--dir", str(directory), "--fleet", str(targets), "--no-lint"]
    sleeping = (
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        " AND application_name = 'pytest-migrations' AND query LIKE 'SELECT pg_sleep%'"
    )
    process = subprocess.Popen([sys.executable, "-m", "pytest_migrations.cli", *args], cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(victim.dsn, sleeping)
    finally:
        process.kill()
        process.wait(timeout=30)

    # Far less than the two minutes the statement had left: the server saw its client go.
    deadline = time.monotonic() + 20
    while query(victim.dsn, sleeping):
        assert time.monotonic() < deadline, "the killed runner's statement still runs on the server"
        time.sleep(0.05)
    assert applied(victim.dsn) == [] and effects(victim.dsn) == []

    query(victim.dsn, "UPDATE gate SET open = true")
    again = cli(*args)
    assert again.code == 0, again.text
    assert applied(victim.dsn) == ["001"] and effects(victim.dsn) == ["001"]


def test_a_runner_killed_in_a_statement_outside_a_transaction_the_catalog_cannot_decide_leaves_it_dirty_and_known(
    cli, databases, tmp_path,
):
    # Outside a transaction nothing rolls back: the record says how far the target got, and
    # where the catalog cannot tell whether the running statement took effect (a SELECT may call
    # anything) a human says what the half-done migration did (repair) before the fleet goes on.
    directory = write_migrations(tmp_path / "m", {
        **{name: text for name, text in MIGRATIONS.items() if name.startswith("001")},
        "002_outside.sql": (  # CONCURRENTLY cannot run in a transaction: the file runs statement by statement
            "-- UP\nCREATE INDEX CONCURRENTLY IF NOT EXISTS accounts_email ON accounts (email);\n"
            "INSERT INTO effects VALUES ('002');\n"
            "SELECT pg_sleep(CASE WHEN (SELECT open FROM gate) THEN 0 ELSE 120 END);\n"
        ),
    })
    victim, other, _ = databases
    prepare(victim.dsn, gate_open=False)
    prepare(other.dsn, gate_open=True)
    targets = fleet_file(tmp_path, [victim.dsn, other.dsn])
    args = ["up", "--dir", str(directory), "--fleet", str(targets), "--no-lint"]
    process = subprocess.Popen([sys.executable, "-m", "pytest_migrations.cli", *args], cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(victim.dsn, "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                             " AND application_name = 'pytest-migrations' AND query LIKE 'SELECT pg_sleep%'")
        wait_for(other.dsn, "SELECT 1 FROM applied_migrations WHERE version = '002' AND NOT dirty")
    finally:
        process.kill()
        process.wait(timeout=30)

    status = cli("status", "--dir", directory, "--fleet", targets, "--format", "json")
    assert status.code == 1, status.out
    victim_status, other_status = json.loads(status.out)["targets"]
    assert victim_status["version"] == "001" and victim_status["error"] is None
    assert victim_status["dirty"] == ["002_outside: up was interrupted after 2 of its statements had run"]
    assert (other_status["version"], other_status["dirty"]) == ("002", [])

    refused = cli(*args)
    assert refused.code == 1
    assert "targets.txt:1: " in refused.err
    assert (
        "migration 002_outside is dirty: up was interrupted and cannot be resumed: statement 3 of 3"
        f" ({directory / '002_outside.sql'}:4) was running when the run stopped, and whether it took effect"
        " cannot be read from the catalog (SELECT pg_sleep(CASE WHEN (SELECT open FROM gate) THEN 0 ELSE 120 END))"
    ) in refused.err
    assert "see whether that statement took effect" in refused.err and "`migrations repair`" in refused.err
    assert effects(victim.dsn) == ["001", "002"]  # nothing ran again

    query(victim.dsn, "DELETE FROM effects WHERE version = '002'; UPDATE gate SET open = true")  # the human's part
    assert cli("repair", "--dir", directory, "--database-url", victim.dsn).code == 0
    again = cli(*args)
    assert again.code == 0, again.text
    for db in (victim, other):
        assert applied(db.dsn) == ["001", "002"] and effects(db.dsn) == ["001", "002"]
