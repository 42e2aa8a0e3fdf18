"""SQL written as text (catalog.quote_literal, quote_identifier, text_array) reads back on a real
server as the value it was made from, as psycopg's sql.Literal and sql.Identifier do."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pytest_migrations.catalog import quote_identifier, quote_literal, text_array
from pytest_migrations.database import EmbeddedServer

AWKWARD = ["", "plain", "it's", "back\\slash", "\\x00ff", "both ' and \\", "ünï €", 'dou"ble', "{braces}", "NULL", "a,b"]


@pytest.fixture(scope="module")
def conn(pg_server: EmbeddedServer) -> Iterator[psycopg.Connection[Any]]:
    with pg_server.connect() as connection:
        yield connection


@pytest.mark.parametrize("conforming", ["on", "off"])
def test_a_literal_reads_back_as_its_text(conn: psycopg.Connection[Any], conforming: str) -> None:
    conn.execute(f"SET standard_conforming_strings = {conforming}")
    try:
        for text in AWKWARD:
            [(value,)] = conn.execute(sql.SQL(f"SELECT {quote_literal(text)}::text")).fetchall()
            assert value == text
    finally:
        conn.execute("RESET standard_conforming_strings")


def test_an_identifier_names_what_it_quotes(conn: psycopg.Connection[Any]) -> None:
    for name in [text for text in AWKWARD if text] + ["Mixed Case", "select"]:
        cursor = conn.execute(sql.SQL(f"SELECT 1 AS {quote_identifier(name)}"))
        assert cursor.description is not None and cursor.description[0].name == name
        assert quote_identifier(name) == sql.Identifier(name).as_string(conn)


@pytest.mark.parametrize("values", [None, [], ["a"], AWKWARD, [16384, 16385]])
def test_an_array_reads_back_as_psycopg_would_send_it(conn: psycopg.Connection[Any], values: list[Any] | None) -> None:
    [(ours,)] = conn.execute(sql.SQL(f"SELECT {text_array(values)}::text[]")).fetchall()
    [(theirs,)] = conn.execute(sql.SQL("SELECT {}::text[]").format(sql.Literal(values))).fetchall()
    assert ours == theirs
    assert ours == (None if values is None else [str(value) for value in values])
