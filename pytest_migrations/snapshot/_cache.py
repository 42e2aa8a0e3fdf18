"""Consecutive snapshots of one database that read again only what changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from ..catalog import CatalogQuery, read_catalog, text_array
from ._queries import _arguments, _attributes, _Part, _Queries, _together, _versions_and_relations

if TYPE_CHECKING:
    from ._read import Snapshot


@dataclass
class _Objects:
    """What one relation (or everything that hangs on none) contributes to a snapshot."""

    objects: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> attributes
    names: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, identity) -> key


class SnapshotCache:
    """Lets consecutive snapshots of one database read only the relations that changed.

    Most objects hang on a relation (a table, view or sequence): its columns, constraints,
    indexes, triggers, policies, rules, comments. Each snapshot's first round trip also sums a
    hash of the version (``xmin``, ``ctid``) of every catalog row that describes each relation;
    PostgreSQL writes a new row version for every change, and a version never comes back once
    it is gone, so an equal sum means the very rows already read. Relations whose sum is cached
    are not read again. Everything that hangs on no relation (schemas, types, functions,
    extensions, ...) is versioned the same way as one pseudo-relation, 0, and read again only
    when that changed; the roles' names (which privileges print) are -1. The parts that are
    read go to the server as one statement each for relations and for the rest: starting a
    statement costs about as much as reading a few objects.

    What the pg_get_*def functions print also names other objects: renaming one would change
    the text of objects whose own rows did not change. A rename changes the renamed object's
    rows, so it is read again and found under a new key for the same identity (its oid):
    then the cache is dropped and everything is read afresh. Objects a snapshot does not show
    (built-in ones, members of extensions, excluded schemas) are assumed not to be renamed
    between snapshots; a changed extension or role drops the cache too.

    Keep one per database and set of exclusions (it starts over when either changes).
    ``tests/test_snapshot.py`` checks cached snapshots against full ones over a catalogue of
    changes and of renames, each also rolled back; ``tests/plugin/test_roundtrip.py`` at every
    snapshot of the walks of the examples and the corpus, DOWNs included.
    """

    _KEEP = 3  # snapshots whose relations stay cached: the walk goes back and forth between states

    def __init__(self) -> None:
        self._relations: dict[tuple[int, Any], _Objects] = {}
        self._recent: list[set[tuple[int, Any]]] = []
        self._names: dict[tuple[str, str], str] = {}
        self._extensions: dict[str, Any] = {}
        self._scope: tuple[Any, ...] | None = None
        self._roles: Any = None  # the version of the roles' names
        self._census: Any = None  # the last census: which kinds of unattached objects there are

    def clear(self) -> None:
        self._census = None
        self._relations.clear()
        self._recent.clear()
        self._names.clear()
        self._extensions.clear()

    def take(
        self, conn: psycopg.Connection[Any], queries: _Queries, exclusions: tuple[tuple[str, ...], tuple[str, ...]],
        lead: str | None = None, lead_in_transaction: bool = False,
    ) -> Snapshot:
        scope = (conn.info.host, conn.info.port, conn.info.dbname, conn.info.server_version, exclusions)
        if scope != self._scope:
            self.clear()
            self._scope = scope
        relation_parts = tuple(part for part in queries.parts if part.cluster)
        while True:
            # First round trip: the versions, and the parts of the relations whose versions the
            # cache lacks (all relation parts, whatever the census: one statement, planned once
            # per session, where each set of parts would be planned anew). Second, only if the
            # version of everything else changed: the census and the parts of everything else
            # the last census found (a third when it finds more).
            cached = [key for key in self._relations if key[0] > 0]
            first: list[tuple[CatalogQuery, sql.Composable | None]] = [(
                _versions_and_relations(conn.info.server_version),
                sql.SQL(f"({text_array(exclusions[0])}, {text_array(exclusions[1])},"
                        f" {text_array([oid for oid, _ in cached])}, {text_array([version for _, version in cached])})"),
            )]  # fmt: skip
            if self._census is None:
                first.append((queries.census, None))
            [version_and_relation_rows, *census] = read_catalog(
                conn, first, lead=lead, lead_in_transaction=lead_in_transaction
            )
            lead = None  # it ran
            if census:
                [[(self._census,)]] = census
            versions = {}
            rows = []
            for index, *row in version_and_relation_rows:
                if index < 0:
                    versions[int(row[1])] = row[2]
                else:
                    rows.append((relation_parts[index], row))
            roles = versions.pop(-1)
            if self._roles is not None and roles != self._roles:
                self.clear()  # a role renamed, or made: privileges print roles by name
                self._roles = roles
                continue  # the relations read are not all that changed
            self._roles = roles
            changed = {oid for oid, version in versions.items() if (oid, version) not in self._relations}
            statements: list[tuple[tuple[_Part, ...], CatalogQuery, sql.Composable | None]] = []
            if 0 in changed:
                statements.append(((), queries.census, None))
                statements.extend(self._unattached(queries, self._census, exclusions))
            results = read_catalog(conn, [(query, arguments) for _, query, arguments in statements]) if statements else []
            grown: list[_Part] = []
            for (chosen, query, _), result in zip(statements, results):
                if query is queries.census:
                    [(census,)] = result
                    known = set(queries.present_parts(self._census))
                    grown = [part for part in queries.present_parts(census) if part not in known]
                    self._census = census
                else:
                    rows.extend((chosen[index], row) for index, *row in result)
            extra = self._unattached(queries, self._census, exclusions, only=grown) if grown else []
            if extra:  # objects of a new kind: read them too
                [[chosen, query, arguments]] = extra
                [result] = read_catalog(conn, [(query, arguments)])
                rows.extend((chosen[index], row) for index, *row in result)
            snapshot, renamed = self._assemble(rows, versions)
            if not renamed:
                return snapshot
            self.clear()

    @staticmethod
    def _unattached(
        queries: _Queries, census: Sequence[bool], exclusions: tuple[tuple[str, ...], tuple[str, ...]],
        only: Sequence[_Part] | None = None,
    ) -> list[tuple[tuple[_Part, ...], CatalogQuery, sql.Composable | None]]:  # fmt: skip
        """The statement reading what hangs on no relation, of the kinds ``census`` found."""
        chosen = tuple(part for part in (only or queries.present_parts(census)) if not part.cluster)
        return [(chosen, _together(chosen), _arguments(exclusions, None))] if chosen else []

    def _assemble(self, rows: Sequence[tuple[_Part, Sequence[Any]]], versions: dict[int, Any]) -> tuple[Snapshot, bool]:
        """(the snapshot, whether an object was renamed since the cached ones were read)."""
        cached = {oid: self._relations[(oid, version)] for oid, version in versions.items() if (oid, version) in self._relations}
        changed = [oid for oid in versions if oid not in cached]
        fresh = {oid: _Objects() for oid in changed}
        for part, (cluster, identity, object_type, name, values) in rows:
            into = fresh[0 if cluster is None else cluster]  # 0: what hangs on no relation
            key = f"{object_type} {name}"
            into.objects[key] = _attributes(part, values)
            into.names[(part.kind, identity)] = key
        extensions = {}
        if 0 in fresh:
            extensions = {key: value for key, value in fresh[0].objects.items() if key.startswith("extension ")}
        groups = [*cached.values(), *fresh.values()]
        # Every cached relation was read under the names in self._names, kept for objects gone
        # since (a rolled-back DOWN brings them back): a cached relation's own names are its
        # rows', so any object, read again or not, under another name than that is a rename.
        names = self._names
        if any(names.get(identity, key) != key for group in groups for identity, key in group.names.items()):
            return {}, True
        if any(self._extensions.get(key, attributes) != attributes for key, attributes in extensions.items()):
            return {}, True
        objects: dict[str, dict[str, Any]] = {}
        for group in groups:
            objects.update(group.objects)
            names.update(group.names)
        self._extensions.update(extensions)
        for oid in changed:
            self._relations[(oid, versions[oid])] = fresh[oid]
        self._recent.append({(oid, versions[oid]) for oid in versions})
        if len(self._recent) > self._KEEP:
            self._recent.pop(0)
            keep = set().union(*self._recent)
            for stale in [entry for entry in self._relations if entry not in keep]:
                del self._relations[stale]
        return dict(sorted(objects.items())), False
