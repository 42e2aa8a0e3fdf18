"""The throwaway-server layer, against real servers: embedded PostgreSQL 18 and the system one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import shutil
import tempfile
import textwrap
from pathlib import Path

import psutil
import psycopg
import pytest

from pytest_migrations.database import (
    DATABASE_PREFIX,
    DSN_ENV_VAR,
    EMBEDDED_DIR_ENV_VAR,
    DatabaseError,
    DockerUnavailable,
    DsnServer,
    EmbeddedServer,
    InvalidDsn,
    PermissionDenied,
    Server,
    ServerUnavailable,
    describe_dsn,
    open_server,
    redact_dsn,
)


def database_names(server: Server) -> set[str]:
    with server.connect() as conn:
        return {row[0] for row in conn.execute("SELECT datname FROM pg_database")}


REPO = Path(__file__).resolve().parents[1]


# --- redact_dsn -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("postgresql://alice:hunter2@db:5432/app", "postgresql://alice:***@db:5432/app"),
        ("postgres://alice:hun%40ter2@db/app?sslmode=require", "postgres://alice:***@db/app?sslmode=require"),
        ("postgresql://alice@db/app", "postgresql://alice@db/app"),
        ("postgresql://db/app?user=alice&password=hunter2&sslmode=disable",
         "postgresql://db/app?user=alice&password=***&sslmode=disable"),
        ("postgresql://alice:hun?ter2@db/app", "postgresql://alice:***@db/app"),
        ("postgresql://alice:hun/ter2@db/app", "postgresql://alice:***@db/app"),
        ("postgresql://alice:hun@ter2@db/app", "postgresql://alice:***@db/app"),
        ("postgresql://alice:hunter2@h1:5432,h2:5433/app", "postgresql://alice:***@h1:5432,h2:5433/app"),
        ("host=db password=hunter2 dbname=app", "host=db password=*** dbname=app"),
        ("host=db password = 'hun ter\\'2' dbname=app", "host=db password = *** dbname=app"),
        ("password=hunter2", "password=***"),
        ("host=db password='hunter 2", "host=db password=***"),
        ("host=db user=alice dbname=app", "host=db user=alice dbname=app"),
    ],
)
def test_redact_dsn(dsn: str, expected: str) -> None:
    assert redact_dsn(dsn) == expected


def test_describe_dsn_names_host_port_and_database_without_password() -> None:
    assert describe_dsn("postgresql://alice:hunter2@db.internal:6543/app") == "db.internal:6543/app"
    assert describe_dsn("host=db password=hunter2 user=alice") == "db:5432/alice"


# --- errors ---------------------------------------------------------------------------------------


def test_unreachable_dsn_is_one_line_naming_the_server_without_password() -> None:
    with pytest.raises(ServerUnavailable) as caught:
        open_server(dsn="postgresql://alice:hunter2@127.0.0.1:1/app")
    message = str(caught.value)
    assert "\n" not in message
    assert "127.0.0.1:1/app" in message
    assert "postgresql://alice:***@127.0.0.1:1/app" in message
    assert "refused" in message.lower()  # psycopg's reason is passed on
    assert "hunter2" not in message


def test_invalid_dsn_error_hides_password() -> None:
    with pytest.raises(InvalidDsn) as caught:
        open_server(dsn="nonsense password=hunter2")
    assert "hunter2" not in str(caught.value)
    assert "invalid DSN" in str(caught.value)


def test_environment_variable_names_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DSN_ENV_VAR, "postgresql://alice:hunter2@127.0.0.1:1/fromenv")
    with pytest.raises(ServerUnavailable, match="127.0.0.1:1/fromenv"):
        open_server()


def test_role_without_createdb_is_refused_up_front(pg_server: EmbeddedServer) -> None:
    role = "pytest_migrations_nocreatedb"
    with pg_server.connect() as conn:
        conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute(f"CREATE ROLE {role} LOGIN NOCREATEDB")
    try:
        dsn = psycopg.conninfo.make_conninfo(pg_server.admin_dsn, user=role)
        with pytest.raises(PermissionDenied, match=f"role '{role}' .*CREATEDB"):
            open_server(dsn=dsn)
    finally:
        with pg_server.connect() as conn:
            conn.execute(f"DROP ROLE {role}")


def test_losing_createdb_later_gives_a_clear_error(pg_server: EmbeddedServer) -> None:
    role = "pytest_migrations_lost_createdb"
    with pg_server.connect() as conn:
        conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute(f"CREATE ROLE {role} LOGIN CREATEDB")
    try:
        server = open_server(dsn=psycopg.conninfo.make_conninfo(pg_server.admin_dsn, user=role))
        with pg_server.connect() as conn:
            conn.execute(f"ALTER ROLE {role} NOCREATEDB")
        with pytest.raises(PermissionDenied, match=r"may not create databases.*\(SQLSTATE 42501\)"):
            server.create_database()
    finally:
        with pg_server.connect() as conn:
            conn.execute(f"DROP ROLE {role}")


# --- embedded server --------------------------------------------------------------------------------


def test_embedded_server_is_postgresql_18(pg_server: EmbeddedServer) -> None:
    assert pg_server.kind == "embedded"
    assert pg_server.major == 18
    assert pg_server.version.startswith("18.")
    assert pg_server.running
    assert psutil.Process(pg_server.pid).name() == "postgres"
    assert open_server() is pg_server  # one per process


def test_private_server_in_a_chosen_directory_is_removed_on_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(EMBEDDED_DIR_ENV_VAR, str(tmp_path))
    server = EmbeddedServer.start()
    try:
        assert server.data_dir.parent.parent == tmp_path.resolve()
        assert server.major == 18
    finally:
        server.close()
    assert not server.running
    assert _gone(server.pid)
    assert list(tmp_path.iterdir()) == []


def test_fresh_database_is_created_and_dropped(pg_server: EmbeddedServer) -> None:
    with pg_server.fresh_database() as database:
        assert database.name.startswith(DATABASE_PREFIX)
        assert database.name in database_names(pg_server)
        with database.connect() as conn:
            assert conn.execute("SELECT current_database()").fetchone() == (database.name,)
    assert database.name not in database_names(pg_server)


def test_database_names_are_unique(pg_server: EmbeddedServer) -> None:
    names = [pg_server.create_database() for _ in range(3)]
    try:
        assert len(set(names)) == 3
    finally:
        for name in names:
            pg_server.drop_database(name)


def test_drop_ends_open_sessions(pg_server: EmbeddedServer) -> None:
    name = pg_server.create_database()
    with psycopg.connect(pg_server.dsn(name)) as conn:
        pg_server.drop_database(name)
        assert name not in database_names(pg_server)
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")


def test_drop_refuses_databases_it_did_not_make(pg_server: EmbeddedServer) -> None:
    with pytest.raises(DatabaseError, match="refusing to drop 'postgres'"):
        pg_server.drop_database("postgres")
    assert "postgres" in database_names(pg_server)


def test_clone_from_template_copies_schema_and_rows(pg_server: EmbeddedServer) -> None:
    with pg_server.fresh_database() as template:
        with template.connect(autocommit=True) as conn:
            conn.execute("CREATE TABLE migrated (id int PRIMARY KEY, note text)")
            conn.execute("INSERT INTO migrated VALUES (1, 'at migration k')")
        with pg_server.fresh_database(template=template.name) as clone:
            with clone.connect() as conn:
                assert conn.execute("SELECT id, note FROM migrated").fetchall() == [(1, "at migration k")]
                conn.execute("INSERT INTO migrated VALUES (2, 'only in the clone')")
                conn.commit()
        with template.connect() as conn:
            assert conn.execute("SELECT count(*) FROM migrated").fetchone() == (1,)


def test_clone_ends_sessions_still_on_our_template(pg_server: EmbeddedServer) -> None:
    with pg_server.fresh_database() as template:
        with template.connect(autocommit=True) as lingering:
            lingering.execute("CREATE TABLE t (x int)")
            with pg_server.fresh_database(template=template.name) as clone:
                with clone.connect() as conn:
                    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)
            assert _is_dead(lingering)


def test_clone_of_a_template_made_through_another_handle(pg_server: EmbeddedServer) -> None:
    with open_server(dsn=pg_server.admin_dsn) as other_handle, other_handle.fresh_database() as template:
        with template.connect(autocommit=True) as lingering:
            lingering.execute("CREATE TABLE t (x int)")
            with pg_server.fresh_database(template=template.name) as clone:
                assert clone.name != template.name
            assert _is_dead(lingering)


def _is_dead(conn: psycopg.Connection) -> bool:
    try:
        conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return True
    return False


def test_server_dsn_points_at_the_database(pg_server: EmbeddedServer) -> None:
    with pg_server.fresh_database() as database:
        assert database.dsn == pg_server.dsn(database.name)
        with psycopg.connect(pg_server.dsn(database.name)) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == (database.name,)


# --- DSN backend ------------------------------------------------------------------------------------


@pytest.mark.system_pg
def test_system_server_is_postgresql_15(system_pg_server: DsnServer) -> None:
    assert system_pg_server.kind == "dsn"
    assert system_pg_server.major == 15
    assert system_pg_server.version.startswith("15.")


@pytest.mark.system_pg
def test_dsn_backend_creates_clones_and_drops_its_own_databases(system_pg_server: DsnServer) -> None:
    # Other test sessions may share this server, so check only the databases this test made.
    with system_pg_server.fresh_database() as template:
        with template.connect(autocommit=True) as conn:
            conn.execute("CREATE TABLE t (x int)")
            conn.execute("INSERT INTO t VALUES (42)")
        with system_pg_server.fresh_database(template=template.name) as clone:
            with clone.connect() as conn:
                assert conn.execute("SELECT x FROM t").fetchall() == [(42,)]
            assert {template.name, clone.name} <= database_names(system_pg_server)
    assert {template.name, clone.name} & database_names(system_pg_server) == set()


@pytest.mark.system_pg
def test_closing_a_dsn_server_drops_leftover_databases(system_pg_server: DsnServer) -> None:
    with open_server(dsn=system_pg_server.admin_dsn) as server:
        leftover = server.create_database()
        assert leftover in database_names(system_pg_server)
    assert leftover not in database_names(system_pg_server)


def test_dsn_backend_on_the_embedded_server(pg_server: EmbeddedServer) -> None:
    with open_server(dsn=pg_server.admin_dsn) as server:
        assert isinstance(server, DsnServer)
        assert server.major == 18
        with server.fresh_database() as database:
            assert database.name in database_names(pg_server)


def test_repr_never_shows_the_password(pg_server: EmbeddedServer) -> None:
    role = "pytest_migrations_secretive"
    with pg_server.connect() as conn:
        conn.execute(f"DROP ROLE IF EXISTS {role}")
        conn.execute(f"CREATE ROLE {role} LOGIN CREATEDB PASSWORD 'hunter2'")
    try:
        dsn = psycopg.conninfo.make_conninfo(pg_server.admin_dsn, user=role, password="hunter2")
        with open_server(dsn=dsn) as server:
            with server.fresh_database() as database:
                shown = [repr(server), str(server), repr(database)]
                assert all("hunter2" not in text for text in shown), shown
                assert "***" in repr(server)
    finally:
        with pg_server.connect() as conn:
            conn.execute(f"DROP ROLE {role}")


# --- Docker backend ---------------------------------------------------------------------------------


@pytest.mark.docker
def test_docker_backend() -> None:
    try:
        server = open_server(image="postgres:16-alpine")
    except DockerUnavailable as exc:
        assert "\n" not in str(exc)
        pytest.skip(str(exc))
    with server:
        assert server.major == 16
        with server.fresh_database() as database:
            assert database.name in database_names(server)


# --- no leftovers from the embedded server ------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import signal, sys, time
    # An interactive run gets KeyboardInterrupt on SIGINT even if our parent ignores SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from pytest_migrations.database import open_server
    server = open_server()
    with server.fresh_database() as database:
        session = database.connect()
        print(server.pid, server.data_dir, flush=True)
        if sys.argv[1] == "raise":
            raise RuntimeError("boom")
        if sys.argv[1] == "wait":
            time.sleep(120)
    """
)


def _gone(pid: int) -> bool:
    # A zombie has exited; it lingers only where PID 1 does not reap orphans (some sandboxes).
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.parametrize(
    ("mode", "send"),
    [("exit", None), ("raise", None), ("wait", signal.SIGINT), ("wait", signal.SIGTERM), ("wait", signal.SIGHUP)],
    ids=["normal-exit", "exception", "sigint", "sigterm", "sighup"],
)
def test_embedded_server_leaves_nothing_behind(mode: str, send: signal.Signals | None) -> None:
    env = {key: value for key, value in os.environ.items() if key != DSN_ENV_VAR}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        pid_text, data_dir_text = child.stdout.readline().strip().split(" ", 1)  # type: ignore[union-attr]
        pid, data_dir = int(pid_text), Path(data_dir_text)
        assert data_dir.is_dir()
        assert not _gone(pid)
        if send is not None:
            child.send_signal(send)
        _, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    if mode == "exit":
        assert child.returncode == 0, stderr
    else:
        assert child.returncode != 0
    if mode == "raise":
        assert "RuntimeError: boom" in stderr
    assert _gone(pid)
    assert not data_dir.exists()
    assert not data_dir.parent.exists()
    leftovers = [p.pid for p in psutil.process_iter(["cmdline"]) if str(data_dir) in (p.info["cmdline"] or [])]
    assert [p for p in leftovers if not _gone(p)] == []


def test_a_killed_process_leaves_an_embedded_server_the_next_start_removes(tmp_path: Path) -> None:
    from pytest_migrations.database._embedded import remove_stale_clusters

    # On tmpfs, where the server's own user can reach it (a pytest tmp_path may be private).
    parent = Path(tempfile.mkdtemp(prefix="pytest_migrations_test_", dir="/dev/shm" if Path("/dev/shm").is_dir() else None))
    parent.chmod(0o755)
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", (
                "import time; from pytest_migrations.database import embedded_server;"
                " server = embedded_server(); print(server.data_dir, server.pid, flush=True); time.sleep(120)"
            )],
            env={**os.environ, "MIGRATIONS_EMBEDDED_DIR": str(parent), "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE, text=True,
        )
        data_dir, postmaster = child.stdout.readline().split()
        child.kill()  # kill -9: no atexit, no signal handler
        child.wait(timeout=30)
        assert Path(data_dir).is_dir() and psutil.pid_exists(int(postmaster)), "kill -9 leaves the server"

        assert remove_stale_clusters(str(parent)) == [Path(data_dir).parent]
        assert not Path(data_dir).parent.exists()
        assert not psutil.pid_exists(int(postmaster)) or psutil.Process(int(postmaster)).status() == psutil.STATUS_ZOMBIE
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def test_a_running_embedded_server_is_not_removed_as_stale(pg_server: EmbeddedServer) -> None:
    from pytest_migrations.database._embedded import remove_stale_clusters

    assert pg_server.data_dir.parent not in remove_stale_clusters(str(pg_server.data_dir.parent.parent))
    assert pg_server.running and pg_server.data_dir.is_dir()
