"""The one PostgreSQL error layer: describe(), error_line(), the error root, and dsn_error()."""

from __future__ import annotations

import psycopg
import pytest

from pytest_migrations.config import ConfigError
from pytest_migrations.database import DatabaseError, dsn_error
from pytest_migrations.pgerrors import PytestMigrationsError, describe, error_line
from pytest_migrations.roundtrip import ScriptError, SetupSqlError
from pytest_migrations.runner import RunnerError
from pytest_migrations.trace import TraceError


def _error_of(conn: psycopg.Connection, text: str) -> psycopg.Error:
    with pytest.raises(psycopg.Error) as caught:
        conn.execute(text)
    return caught.value


def test_describe_is_message_detail_and_sqlstate_on_one_line(pg_server) -> None:
    with pg_server.fresh_database() as db, psycopg.connect(db.dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)")
        duplicate = _error_of(conn, "INSERT INTO t VALUES (1)")
        assert isinstance(duplicate, psycopg.errors.UniqueViolation)
        assert describe(duplicate) == (
            'duplicate key value violates unique constraint "t_pkey"; Key (id)=(1) already exists. (SQLSTATE 23505)'
        )
        statement = "SELECT 1\nFROM t\nWHERE nope = 1"
        missing = _error_of(conn, statement)
        assert describe(missing) == 'column "nope" does not exist (SQLSTATE 42703)'
        assert error_line(missing, statement, first_line=10) == 12
        assert error_line(missing, statement) == 3


def test_describe_flattens_what_is_not_postgres_own() -> None:
    assert describe(ValueError("two\n  lines")) == "two lines"
    assert describe(OSError()) == "OSError"
    assert error_line(ValueError("x"), "SELECT 1") is None


def test_a_connection_failure_is_one_line() -> None:
    with pytest.raises(psycopg.OperationalError) as caught:
        psycopg.connect("postgresql://someone@127.0.0.1:1/x", connect_timeout=2)
    text = describe(caught.value)
    assert "\n" not in text and "127.0.0.1" in text


def test_every_error_the_package_raises_on_purpose_has_one_root() -> None:
    for error in (DatabaseError, RunnerError, ScriptError, SetupSqlError, TraceError, ConfigError):
        assert issubclass(error, PytestMigrationsError), error


@pytest.mark.parametrize("dsn", [
    "postgresql://u:s3cret%zzpw@127.0.0.1/db",
    "postgresql://u:s3cret pw@127.0.0.1/db",
    "postgresql://u:s3cretpw@[::1/db",
    "host=127.0.0.1 password='s3cretpw",
    "postgresql://u:s3c@retpw@127.0.0.1:1/db",
])
def test_dsn_error_masks_a_quoted_password_and_keeps_the_rest(dsn: str) -> None:
    with pytest.raises(psycopg.Error) as caught:
        psycopg.connect(dsn, connect_timeout=2)
    # libpq (or psycopg) quoted a part of the password, or stopped at an unclosed quote.
    assert any(part in str(caught.value) for part in ("s3c", "retpw", "quoted string"))
    text = dsn_error(dsn, caught.value)
    assert "s3c" not in text and "retpw" not in text
    assert "\n" not in text


def test_dsn_error_keeps_what_the_redacted_dsn_shows() -> None:
    dsn = "postgresql://u:e@127.0.0.1:5432x/db"  # a one-letter password: nothing else is masked
    with pytest.raises(psycopg.Error) as caught:
        psycopg.connect(dsn)
    assert dsn_error(dsn, caught.value) == 'connection is bad: invalid integer value "5432x" for connection option "port"'


def test_dsn_error_masks_a_short_password_quoted_whole() -> None:
    dsn = "postgresql://u:e e@127.0.0.1/db"
    with pytest.raises(psycopg.Error) as caught:
        psycopg.connect(dsn)
    assert '"e e"' in str(caught.value)
    assert dsn_error(dsn, caught.value) == 'unexpected spaces found in "***", use percent-encoded spaces (%20) instead'
