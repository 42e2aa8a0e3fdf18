"""Comparing two snapshots: one :class:`Difference` per way they differ."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ._render import _display_name, describe

_TYPE_ORDER = [
    "schema", "extension", "collation", "type", "domain", "domain-constraint", "sequence",
    "table", "column", "constraint", "index", "view", "materialized-view", "function",
    "procedure", "aggregate", "operator", "cast", "trigger", "event-trigger", "rule", "policy",
    "statistics", "publication", "default-privileges", "text-search-parser",
    "text-search-template", "text-search-dictionary", "text-search-configuration",
    "foreign-data-wrapper", "foreign-server", "user-mapping", "conversion", "access-method",
    "operator-family", "operator-class",
]  # fmt: skip
_TYPE_RANK = {object_type: rank for rank, object_type in enumerate(_TYPE_ORDER)}

# Children vanish and appear with their parent; the parent's line says it all.
_CHILD_TYPES = {"column", "constraint", "trigger", "policy", "rule", "domain-constraint"}
_PARENT_TYPES = {"table", "view", "materialized-view", "domain"}

@dataclass(frozen=True)
class Difference:
    """One way two snapshots differ.

    ``kind`` is ``"missing"`` (in *before* only), ``"unexpected"`` (in *after* only),
    ``"changed"`` (an attribute differs) or ``"column-order"`` (same columns, other order; a
    ``"warning"`` unless compared strictly). ``str()`` renders one readable line.
    """

    kind: str
    object_type: str
    name: str
    attribute: str | None = None
    before: Any = None
    after: Any = None
    severity: str = "error"

    @property
    def display_name(self) -> str:
        return _display_name(self.name)

    def __str__(self) -> str:
        return describe(self)

    def text(self, reference: str) -> str:
        """``str()``, the first snapshot named ``reference`` (e.g. "the schema of its version")."""
        return describe(self, reference)


def diff_snapshots(
    before: Mapping[str, Mapping[str, Any]],
    after: Mapping[str, Mapping[str, Any]],
    *,
    strict_column_order: bool = False,
) -> list[Difference]:
    """Every way ``after`` differs from ``before``, sorted by object type, name and attribute.

    Columns are compared by name. A table whose columns are the same but in another order gives
    a ``column-order`` difference of severity ``"warning"``, or ``"error"`` when
    ``strict_column_order``. Everything else is an error.
    """
    differences: list[Difference] = []
    gone = {key for key in before if key not in after}
    came = {key for key in after if key not in before}
    gone_parents = {_split_key(key)[1] for key in gone if _split_key(key)[0] in _PARENT_TYPES}
    came_parents = {_split_key(key)[1] for key in came if _split_key(key)[0] in _PARENT_TYPES}

    for key in gone:
        object_type, name = _split_key(key)
        if not _goes_with_parent(object_type, name, before[key], gone_parents):
            differences.append(Difference("missing", object_type, name, before=dict(before[key])))
    for key in came:
        object_type, name = _split_key(key)
        if not _goes_with_parent(object_type, name, after[key], came_parents):
            differences.append(Difference("unexpected", object_type, name, after=dict(after[key])))
    for key in before.keys() & after.keys():
        object_type, name = _split_key(key)
        old, new = before[key], after[key]
        for attribute in old.keys() | new.keys():
            was, now = old.get(attribute), new.get(attribute)
            if was == now:
                continue
            if object_type == "table" and attribute == "columns":
                common = set(was or []) & set(now or [])
                old_order = [column for column in was or [] if column in common]
                new_order = [column for column in now or [] if column in common]
                if old_order != new_order:
                    differences.append(
                        Difference(
                            "column-order", object_type, name, attribute, was, now,
                            severity="error" if strict_column_order else "warning",
                        )
                    )  # fmt: skip
                continue  # added and dropped columns are reported as columns
            differences.append(Difference("changed", object_type, name, attribute, was, now))

    differences.sort(key=_sort_key)
    return differences


def errors(differences: Iterable[Difference]) -> list[Difference]:
    """The differences that fail a round trip (all but warnings)."""
    return [difference for difference in differences if difference.severity == "error"]


def format_diff(differences: Iterable[Difference]) -> str:
    """One line per difference, in the given order; empty string for no differences."""
    return "\n".join(str(difference) for difference in differences)


def _sort_key(difference: Difference) -> tuple[Any, ...]:
    return (
        difference.severity != "error",
        _TYPE_RANK.get(difference.object_type, len(_TYPE_RANK)),
        difference.name,
        difference.attribute or "",
    )


def _goes_with_parent(
    object_type: str, name: str, attributes: Mapping[str, Any], parents: set[str]
) -> bool:
    """Whether the object came or went with its table (or view, or domain), said once by it."""
    if object_type in _CHILD_TYPES:
        return _parent_name(name) in parents
    if object_type == "index":
        return attributes.get("table") in parents
    if object_type == "sequence" and attributes.get("owned_by"):
        return _parent_name(attributes["owned_by"]) in parents
    return False


def _split_key(key: str) -> tuple[str, str]:
    object_type, _, name = key.partition(" ")
    return object_type, name


_LAST_PART = re.compile(r'\.(?:"(?:[^"]|"")*"|[^."]+)$')


def _parent_name(name: str) -> str:
    """``public.orders`` for ``public.orders.status`` (names are quote_ident'ed parts)."""
    match = _LAST_PART.search(name)
    return name[: match.start()] if match else name
