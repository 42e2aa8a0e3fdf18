"""Taking a snapshot: the census, then the parts it says can find anything (or, with a cache,
only what changed)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import psycopg

from ..catalog import read_catalog
from ._queries import _arguments, _attributes, _queries

if TYPE_CHECKING:
    from ._cache import SnapshotCache

Snapshot = dict[str, dict[str, Any]]
"""Object key (``"column public.orders.status"``) -> its attributes (JSON values only)."""


def take_snapshot(
    conn: psycopg.Connection[Any],
    *,
    exclude_schemas: Iterable[str] = (),
    exclude_tables: Iterable[str] = (),
    cache: SnapshotCache | None = None,
    lead: str | None = None,
    lead_in_transaction: bool = False,
) -> Snapshot:
    """Read the schema of the database behind ``conn``.

    ``exclude_schemas`` adds schemas to leave out (e.g. a runner's tracking schema);
    ``exclude_tables`` names tables (``"name"`` for ``public.name``, or ``"schema.name"``) left out
    with everything that hangs on them: columns, constraints, indexes, triggers, policies, rules
    and owned sequences.

    Two round trips (:func:`read_catalog`): a census of the catalogs that hold objects made
    after initdb, then the queries of the kinds of objects found there. Nothing changes.

    ``cache``, kept by the caller from one snapshot of a database to the next, makes the second
    round trip read again only the relations whose catalog rows changed (see
    :class:`SnapshotCache`); the result is the same.

    ``lead``, a script that ends outside any transaction or, with ``lead_in_transaction``, in
    the one ``conn`` is in (see :func:`read_catalog`), goes with the first round trip, before
    it: the snapshot is of what it left. If the round trip fails, its error is raised.
    """
    queries = _queries(conn.info.server_version)
    exclusions = (tuple(exclude_schemas), tuple(name if "." in name else f"public.{name}" for name in exclude_tables))
    if cache is not None:
        return cache.take(conn, queries, exclusions, lead, lead_in_transaction)
    [[(census,)]] = read_catalog(conn, [(queries.census, None)], lead=lead, lead_in_transaction=lead_in_transaction)
    parts = queries.present_parts(census)
    arguments = _arguments(exclusions, None)
    objects: dict[str, Any] = {}
    for part, rows in zip(parts, read_catalog(conn, [(part, arguments) for part in parts])):
        for _cluster, _identity, object_type, name, *values in rows:
            objects[f"{object_type} {name}"] = _attributes(part, values)
    return dict(sorted(objects.items()))

