"""The catalogs as every module that reads them reads them: which objects are the project's, and
how a catalog query goes to the server.

Objects made after initdb, in a database or in its template, have an oid from
:data:`FIRST_USER_OID` (FirstNormalObjectId) on: the snapshot, the seeder and the tracer read
only those, outside the system schemas (:func:`user_schema`) and, but for the extensions
themselves, not the members of an extension (:func:`not_extension_member`). Queries name
``pg_catalog`` objects in full where a migration may have emptied ``search_path``.

:class:`CatalogQuery` and :func:`read_catalog` send queries prepared once per session, several in
one round trip, with the settings that make the catalogs' text functions print the same
everywhere; :func:`run_script` sends statements as one script and returns each one's rows. The
catalogs read are those any role may read (``pg_user_mappings``, not ``pg_user_mapping``): a
role with CREATEDB is all the tools need.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import psycopg
from psycopg import sql
from psycopg.types.json import JsonLoader

__all__ = [
    "FIRST_USER_OID", "CatalogQuery", "not_extension_member", "quote_identifier", "quote_literal", "read_catalog",
    "run_script", "text_array", "user_schema",
]  # fmt: skip

# FirstNormalObjectId: every object made after initdb, in this database or in its template, has
# an oid from here on. Objects in the schemas the tools read (all but the system ones) are all
# such objects, the public schema itself excepted, so scans start at this oid (an index range
# scan of each catalog instead of reading all its built-in rows), and a catalog without any
# such row holds nothing to read.
FIRST_USER_OID = 16384


def user_schema(name: str) -> str:
    """SQL: the schema named by the expression ``name`` is not a system one (catalogs, TOAST,
    temporary schemas)."""
    return (
        f"{name} NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
        f" AND {name} NOT LIKE 'pg\\_temp\\_%' AND {name} NOT LIKE 'pg\\_toast\\_temp\\_%'"
    )


def not_extension_member(catalog: str, oid: str) -> str:
    """SQL: the object ``oid`` of ``catalog`` belongs to no extension."""
    # the members of all extensions, read once by the index on what they depend on (hashed), not
    # looked up object by object
    return (
        f"{oid} NOT IN (SELECT e.objid FROM pg_catalog.pg_depend e"
        f" WHERE e.refclassid = 'pg_catalog.pg_extension'::pg_catalog.regclass"
        f" AND e.classid = 'pg_catalog.{catalog}'::pg_catalog.regclass AND e.deptype = 'e')"
    )


# -- SQL written as text -----------------------------------------------------------------------------
# What psycopg's sql.Literal and sql.Identifier write, without the connection's adapters: composing
# sql objects value by value costs more client time than the server spends on the statements.


def quote_literal(text: str) -> str:
    """``text`` as an SQL string constant, as libpq's PQescapeLiteral writes it (E'' when it
    holds a backslash, so that it reads the same whatever standard_conforming_strings says)."""
    if "\\" in text:
        return "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'"
    return "'" + text.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    """``name`` quoted as an SQL identifier, as libpq's PQescapeIdentifier writes it."""
    return '"' + name.replace('"', '""') + '"'


def text_array(values: Sequence[object] | None) -> str:
    """An SQL constant of the array ``values`` (strings or integers) in PostgreSQL's array input
    syntax, untyped like sql.Literal's; NULL for None."""
    if values is None:
        return "NULL"
    items = ('"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values)
    return quote_literal("{" + ",".join(items) + "}")


# -- prepared statements, one round trip -------------------------------------------------------------


@dataclass(frozen=True)
class CatalogQuery:
    """A query of the catalogs, prepared once per session, under a name made from its text."""

    query: str
    parameter_types: str = ""  # e.g. "(text[], text[])"

    PREFIX: ClassVar[str] = "pytest_migrations_"

    @functools.cached_property
    def name(self) -> str:
        return self.PREFIX + hashlib.sha256(self.query.encode()).hexdigest()[:16]


def read_catalog(
    conn: psycopg.Connection[Any], queries: Sequence[tuple[CatalogQuery, sql.Composable | None]],
    *, begin: str | None = None, lead: str | None = None, lead_in_transaction: bool = False,
) -> list[list[tuple[Any, ...]]]:  # fmt: skip
    """The rows of each query, run with its arguments (``(value, ...)``) in one round trip.

    The queries run with the settings that make the catalogs' text functions print the same
    everywhere, in a transaction of their own or, when ``conn`` is in one, in a savepoint rolled
    back: nothing changes. The statements are prepared in the same round trip the first time:
    planning them costs more than running them. PREPARE is not transactional, so they outlive
    the transaction, and DDL does not invalidate a plan over the catalogs.

    ``begin``, SQL that opens the caller's transaction on an autocommit ``conn``, runs first in
    the same round trip; the transaction stays open.

    ``lead``, a script on an autocommit ``conn``, runs first in the same round trip: the queries
    then see what it did. It ends outside any transaction (a section run in a transaction of its
    own), or, with ``lead_in_transaction``, inside the one ``conn`` is in (a section under a
    savepoint). When the round trip fails, its error is raised, ``conn`` left as the failure
    left it, unless the lead is known to have committed: then the queries are read again.
    """
    if not conn.autocommit and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        with conn.transaction():  # psycopg would leave the transaction it opens open
            return read_catalog(conn, queries)
    try:
        return _read_catalog(conn, queries, begin, lead, lead_in_transaction)
    except (psycopg.errors.InvalidSqlStatementName, psycopg.errors.DuplicatePreparedStatement):
        # out of a lead's own transaction, it committed: the missing statement is ours, not the lead's
        lead_committed = not lead_in_transaction and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        if lead is not None and not lead_committed:
            raise  # the lead may have failed: the caller knows what to undo
        # Our statements were deallocated (DEALLOCATE, DISCARD ALL), or prepared by another
        # copy of this module: learn which the session has.
        prepared = _prepared_statements(conn)
        prepared.clear()
        rows = conn.execute(
            "SELECT name FROM pg_catalog.pg_prepared_statements WHERE starts_with(name, %s)",
            [CatalogQuery.PREFIX], prepare=False,
        )  # fmt: skip
        prepared.update(name for (name,) in rows)
        return _read_catalog(conn, queries, begin)


# The pg_get_*def functions and regclass qualify names by the search_path, and constants in
# expressions print by DateStyle and TimeZone: pin them so that snapshots compare.
_SETTINGS = sql.SQL(
    """SELECT set_config('search_path', 'pg_catalog', true), set_config('datestyle', 'ISO, YMD', true),
       set_config('intervalstyle', 'postgres', true), set_config('timezone', 'UTC', true),
       set_config('extra_float_digits', '3', true), set_config('plan_cache_mode', 'force_generic_plan', true)"""
)
# A ROLLBACK would make psycopg forget its own prepared statements: only a savepoint is rolled back.
_BEGIN = sql.SQL("SAVEPOINT pytest_migrations_catalog")
_END = sql.SQL("ROLLBACK TO SAVEPOINT pytest_migrations_catalog; RELEASE SAVEPOINT pytest_migrations_catalog")


def _read_catalog(
    conn: psycopg.Connection[Any], queries: Sequence[tuple[CatalogQuery, sql.Composable | None]],
    begin: str | None = None, lead: str | None = None, lead_in_transaction: bool = False,
) -> list[list[tuple[Any, ...]]]:  # fmt: skip
    prepared = _prepared_statements(conn)
    if lead is not None:
        in_transaction = lead_in_transaction
    else:
        in_transaction = begin is not None or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    # Outside a transaction, the script is one: the settings end with it.
    script = [_BEGIN, _SETTINGS] if in_transaction else [_SETTINGS]
    if begin is not None:
        script.insert(0, sql.SQL(begin))  # type: ignore[arg-type]
    if lead is not None:
        script.insert(0, sql.SQL(lead))  # type: ignore[arg-type]
    for query, arguments in queries:
        name = quote_identifier(query.name)
        if query.name not in prepared:
            prepared.add(query.name)  # if the script fails before it, EXECUTE fails next time (26000)
            script.append(sql.SQL(f"PREPARE {name} {query.parameter_types} AS {query.query}"))
        script.append(sql.SQL(f"EXECUTE {name} ") + arguments if arguments is not None else sql.SQL(f"EXECUTE {name}"))
    if in_transaction:
        script.append(_END)
    try:
        results = run_script(conn, script)
    except BaseException:
        if in_transaction and lead is None and conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
            conn.execute(_END, prepare=False)
        raise
    return results[len(results) - len(queries):]  # after the settings' row (and what the lead returned)


def run_script(conn: psycopg.Connection[Any], statements: Sequence[sql.Composable]) -> list[list[tuple[Any, ...]]]:
    """Run ``statements`` as one script, in one round trip; the rows of each that returns rows."""
    results = []
    with conn.cursor() as cursor:
        cursor.adapters.register_loader("json", JsonLoader)  # whatever the caller's connection loads
        cursor.execute(sql.SQL(";\n").join(statements), prepare=False)
        while True:
            if cursor.pgresult is not None and cursor.pgresult.status == psycopg.pq.ExecStatus.TUPLES_OK:
                results.append(cursor.fetchall())
            if not cursor.nextset():
                return results


# connection -> (its server process, the names of our statements prepared in it)
_PREPARED: weakref.WeakKeyDictionary[psycopg.Connection[Any], tuple[int, set[str]]]
_PREPARED = weakref.WeakKeyDictionary()
_PREPARED_LOCK = threading.Lock()  # walkers of one chain run in two threads


def _prepared_statements(conn: psycopg.Connection[Any]) -> set[str]:
    """The names of our statements prepared in the session behind ``conn``."""
    pid = conn.info.backend_pid
    with _PREPARED_LOCK:
        known = _PREPARED.get(conn)
        if known is None or known[0] != pid:
            known = _PREPARED[conn] = (pid, set())
    return known[1]
