"""A catalog snapshot of a PostgreSQL database's schema, and a readable diff of two snapshots.

The up/down/up round trip rests on this module: a DOWN is correct only if the schema after it is
the schema before its UP, object for object and attribute for attribute.

A :data:`Snapshot` is a plain dict, ``"<object type> <qualified name>"`` -> attributes, built from
JSON values only, so it can be stored, compared with ``==`` and read back with :mod:`json`. It is
read from the system catalogs with SQL (no ``pg_dump``): schemas, tables, columns,
constraints, indexes, sequences, views, materialized views, functions, procedures, aggregates,
triggers, event triggers, rules, types (enum, composite, range, base), domains and their
constraints, extensions, policies and row-level security, partitions, statistics objects, casts,
operators, operator classes and families, collations, text search objects, foreign-data wrappers,
servers and user mappings (passwords hidden), conversions, access methods, publications, default
privileges, comments and privileges. ``tests/test_snapshot.py`` checks it against ``pg_dump
--schema-only`` over a catalogue of changes and over the real migration corpus.

It takes two round trips: a census of the catalogs that hold anything made after initdb, then
one prepared query per kind of object found (``bench/bench_snapshot.py``: a few milliseconds for
a schema of some hundreds of objects, a fraction of one for an empty database). A
:class:`SnapshotCache` kept from one snapshot of a database to the next reads again only what
changed (about 1 ms at the head of the docs.rs corpus when nothing did, 2 ms when a table did).

Owners are left out, and privileges are normalised so that the role taking the snapshot does not
matter: the owner appears as ``<owner>`` in grants. System schemas and objects that belong to an
extension (except the extension itself) are left out.

>>> before = take_snapshot(conn)
>>> ...  # UP then DOWN
>>> print(format_diff(diff_snapshots(before, take_snapshot(conn))))

The package, by job: :mod:`._queries` builds the SQL (one query per kind of object, the census,
the versions a cache compares), :mod:`._read` takes a snapshot, :mod:`._cache` keeps what a
later snapshot of the same database need not read again, :mod:`._diff` compares two snapshots
and :mod:`._render` writes a difference for a reader. Reading the catalogs (prepared
statements, the filter of the objects made after initdb) is :mod:`pytest_migrations.catalog`'s.
"""

from __future__ import annotations

from ._cache import SnapshotCache
from ._diff import Difference, diff_snapshots, errors, format_diff
from ._read import Snapshot, take_snapshot

__all__ = [
    "Difference",
    "Snapshot",
    "SnapshotCache",
    "diff_snapshots",
    "errors",
    "format_diff",
    "take_snapshot",
]
