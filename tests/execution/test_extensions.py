"""Extensions a chain creates: read before the walk, and a server that offers them, on real
servers (the embedded PostgreSQL 18 lacks pgcrypto; Debian's PostgreSQL 15 binaries have it)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import psycopg
import pytest

from migration_lint.extensions import created_extensions
from migration_lint.layouts import discover
from migration_lint.model import Section
from pytest_migrations.cli import main as migrations_main
from pytest_migrations.database import (
    EmbeddedServer,
    ExtensionUnavailable,
    LocalServer,
    available_extensions,
    local_installs,
    server_for_extensions,
)
from pytest_migrations.roundtrip import ChainWalker

pytest_plugins = ["pytester"]

CHAIN = {
    "001_accounts.sql": """
        -- UP
        CREATE TABLE accounts (id int PRIMARY KEY);
        -- DOWN
        DROP TABLE accounts;
    """,
    "002_tokens.sql": """
        -- UP
        CREATE EXTENSION IF NOT EXISTS pgcrypto;
        CREATE TABLE tokens (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), secret bytea DEFAULT gen_random_bytes(16));
        -- DOWN
        DROP TABLE tokens;
        DROP EXTENSION pgcrypto;
    """,
}


def write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return root


def with_pgcrypto():
    installs = [install for install in local_installs() if install.offers("pgcrypto")]
    if not installs:
        pytest.skip("no PostgreSQL with pgcrypto installed on this machine")
    return installs


def test_the_extensions_a_chain_creates_are_read_from_its_parse_trees(tmp_path: Path) -> None:
    migrations = discover(write(tmp_path / "m", {
        **CHAIN,
        "003_more.sql": "-- UP\nCREATE EXTENSION \"uuid-ossp\" SCHEMA public;\nCREATE EXTENSION pgcrypto;\n"
                        "-- SELECT 'CREATE EXTENSION postgis';\n-- DOWN\nDROP EXTENSION \"uuid-ossp\";\n",
    }))
    setup = Section("CREATE EXTENSION IF NOT EXISTS pg_trgm;\n", tmp_path / "setup.sql")
    uses = created_extensions(migrations, setup)
    assert [(u.name, u.migration, u.path.name, u.line) for u in uses] == [
        ("pg_trgm", None, "setup.sql", 1),
        ("pgcrypto", "002_tokens", "002_tokens.sql", 2),
        ("uuid-ossp", "003_more", "003_more.sql", 2),
    ]


def test_the_embedded_server_lacks_pgcrypto_and_stops_the_walk_when_it_may_not_be_replaced(
    pg_server: EmbeddedServer, tmp_path: Path
) -> None:
    migrations = discover(write(tmp_path / "m", CHAIN))
    assert "pgcrypto" not in available_extensions(pg_server)
    with pytest.raises(ExtensionUnavailable) as raised:
        server_for_extensions(pg_server, created_extensions(migrations), replaceable=False)
    message = str(raised.value)
    assert message.startswith(f"{tmp_path / 'm' / '002_tokens.sql'}:2: extension pgcrypto, which migration 002_tokens creates")
    assert "--migrations-dsn" in message and "--migrations-image" in message and "install PostgreSQL" in message
    assert "\n" not in message


def test_a_local_install_with_pgcrypto_takes_the_embedded_servers_place_and_the_round_trip_passes(
    pg_server: EmbeddedServer, tmp_path: Path
) -> None:
    with_pgcrypto()
    migrations = discover(write(tmp_path / "m", CHAIN))
    server = server_for_extensions(pg_server, created_extensions(migrations), replaceable=True)
    assert isinstance(server, LocalServer) and "pgcrypto" in available_extensions(server)
    with ChainWalker(server, migrations) as walker:
        results = [walker.result_for(m.id) for m in migrations]
    assert [r.outcome for r in results] == ["passed", "passed"], [r.report() for r in results]
    # a chain the embedded server serves keeps it
    assert server_for_extensions(pg_server, created_extensions(migrations[:1]), replaceable=True) is pg_server


def test_the_local_cluster_is_removed_when_stopped(tmp_path: Path) -> None:
    install = with_pgcrypto()[0]
    server = LocalServer.start(install)
    root = server._cluster.root
    with server.fresh_database() as db, psycopg.connect(db.dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION pgcrypto")
        assert conn.execute("SELECT length(gen_random_bytes(4))").fetchone() == (4,)
    server.stop()
    assert not root.exists()


def test_an_extension_no_server_offers_stops_before_the_walk(pg_server: EmbeddedServer, tmp_path: Path) -> None:
    migrations = discover(write(tmp_path / "m", {
        **CHAIN, "003_geo.sql": "-- UP\nCREATE EXTENSION no_such_extension_here;\n-- DOWN\nSELECT 1;\n",
    }))
    with pytest.raises(ExtensionUnavailable, match=r"003_geo.sql:2: extension no_such_extension_here, which migration"
                       r" 003_geo creates, is not offered by .* nor by a PostgreSQL installed on this machine"):
        server_for_extensions(pg_server, created_extensions(migrations), replaceable=True)


def test_migrations_trace_uses_the_local_install_or_stops_with_the_message(
    pg_server: EmbeddedServer, tmp_path: Path, capsys, monkeypatch
) -> None:
    with_pgcrypto()
    monkeypatch.delenv("MIGRATIONS_DATABASE_URL", raising=False)
    directory = write(tmp_path / "m", CHAIN)
    assert migrations_main(["trace", "--dir", str(directory), "--lock-timeout", "1s"]) == 0, capsys.readouterr()
    capsys.readouterr()
    with pg_server.fresh_database() as db:
        code = migrations_main(["trace", "--dir", str(directory), "--database-url", db.dsn])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "002_tokens.sql:2: extension pgcrypto, which migration 002_tokens creates, is not offered by" in err


def test_pytest_migrations_walks_a_pgcrypto_chain_on_the_local_install(pytester: pytest.Pytester, monkeypatch) -> None:
    with_pgcrypto()
    for name in ("MIGRATIONS_DATABASE_URL", "MIGRATIONS_IMAGE", "MIGRATIONS_PG_VERSION", "MIGRATIONS_DIR"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini("[pytest]\n")
    write(pytester.path / "migrations", CHAIN)
    result = pytester.runpytest_inprocess("--migrations", "-p", "no:randomly", "-rA", "--migrations-no-lint")
    result.assert_outcomes(passed=4)


def test_pytest_migrations_stops_with_the_message_on_a_server_the_user_chose(
    pytester: pytest.Pytester, pg_server: EmbeddedServer, monkeypatch
) -> None:
    for name in ("MIGRATIONS_DATABASE_URL", "MIGRATIONS_IMAGE", "MIGRATIONS_PG_VERSION", "MIGRATIONS_DIR"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini("[pytest]\n")
    write(pytester.path / "migrations", CHAIN)
    result = pytester.runpytest_inprocess("--migrations", "-p", "no:randomly", "-rA", "--migrations-no-lint",
                                          "--migrations-no-locks", "--migrations-dsn", pg_server._admin_dsn)
    result.assert_outcomes(failed=2)
    assert result.stdout.str().count("extension pgcrypto, which migration 002_tokens creates") >= 2
