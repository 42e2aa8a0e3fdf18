"""A difference between two snapshots as a reader reads it."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from typing import Any

# Attributes whose lists are sets: show what went and what came, not the whole list.
_SET_ATTRIBUTES = {
    "privileges", "options", "foreign_options", "roles", "tags", "tables", "schemas", "mappings",
    "operators", "functions",
}  # fmt: skip

_LABELS = {
    "values": "enum values",
    "not_null": "not null",
    "with_check": "with check",
    "partition_key": "partition key",
    "partition_of": "partition of",
    "partition_bound": "partition bound",
    "row_security": "row level security",
    "force_row_security": "forced row level security",
    "replica_identity": "replica identity",
    "access_method": "access method",
    "owned_by": "owned by",
    "base_type": "base type",
    "of_type": "of type",
    "parent_index": "parent index",
    "not_null_constraint": "not null constraint",
    "foreign_server": "foreign server",
    "foreign_options": "foreign options",
    "all_tables": "all tables",
    "via_root": "via root",
}


def describe(difference: Any, reference: str = "the previous schema") -> str:
    """A :class:`~._diff.Difference` as a reader reads it: one line, or for a changed body of
    many lines (a function, a view, a trigger) a line and a diff. ``reference`` names what the
    first snapshot was (an unexpected object is "not in" it)."""
    subject = f"{difference.object_type} {_display_name(difference.name)}"
    if difference.kind == "missing":
        summary = _summary(difference.object_type, difference.before or {})
        return f"{subject}: missing" + (f" (was: {summary})" if summary else "")
    if difference.kind == "unexpected":
        return f"{subject}: unexpected (not in {reference})"
    if difference.kind == "column-order":
        line = f"{subject}: column order {_render_column_order(difference.before or [], difference.after or [])}"
        return line + (" (warning: order only)" if difference.severity == "warning" else "")
    label = _LABELS.get(difference.attribute or "", (difference.attribute or "").replace("_", " "))
    if difference.attribute in _SET_ATTRIBUTES and isinstance(difference.before or [], list) and isinstance(difference.after or [], list):
        removed = [item for item in difference.before or [] if item not in (difference.after or [])]
        added = [item for item in difference.after or [] if item not in (difference.before or [])]
        changes = []
        if removed:
            changes.append(f"lost {_render(removed)}")
        if added:
            changes.append(f"gained {_render(added)}")
        if changes:
            return f"{subject}: {label} " + ", ".join(changes)
    if difference.attribute == "definition" and difference.object_type in _DEFINED_TYPES:
        if isinstance(difference.before, str) and isinstance(difference.after, str):
            return f"{subject}: {label} differs\n" + _definition_diff(difference.before, difference.after)
    before, after = _render_change(difference.before, difference.after)
    return f"{subject}: {label} {before} -> {after}"


def _display_name(name: str) -> str:
    return name[len("public.") :] if name.startswith("public.") else name


def _render(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "[" + ",".join(_quote(item) for item in value) + "]"
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


_SHORT_TABLE = 8


def _render_column_order(before: list[str], after: list[str]) -> str:
    """Both orders for a narrow table; for a wide one, which columns moved where."""
    if max(len(before), len(after)) <= _SHORT_TABLE:
        return f"{_render(before)} -> {_render(after)}"
    common = set(before) & set(after)
    old = [column for column in before if column in common]
    new = [column for column in after if column in common]
    kept = difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_matching_blocks()
    in_place = {column for block in kept for column in old[block.a : block.a + block.size]}
    moved = [
        f"{column} {before.index(column) + 1} -> {after.index(column) + 1}"
        for column in new
        if column not in in_place
    ]
    return "moved " + ", ".join(moved) + f" (of {len(after)} columns)"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_CONTEXT = 30
_LONG = 100


def _render_change(before: Any, after: Any) -> tuple[str, str]:
    """Both values; long texts cut down to where they differ, with a little context."""
    old, new = _render(before), _render(after)
    if not (isinstance(before, str) and isinstance(after, str)) or max(len(old), len(new)) <= _LONG:
        return old, new
    prefix = 0
    while prefix < min(len(old), len(new)) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while (
        suffix < min(len(old), len(new)) - prefix
        and old[len(old) - 1 - suffix] == new[len(new) - 1 - suffix]
    ):
        suffix += 1
    start = max(0, prefix - _CONTEXT)
    while start > 0 and old[start - 1] != " " and prefix - start < 2 * _CONTEXT:
        start -= 1  # back to a word's start

    def window(text: str) -> str:
        end = min(len(text), len(text) - suffix + _CONTEXT)
        while end < len(text) and text[end] != " " and end - (len(text) - suffix) < 2 * _CONTEXT:
            end += 1
        middle = text[start:end]
        return ("…" if start > 0 else "") + middle + ("…" if end < len(text) else "")

    return window(old), window(new)


# Objects whose definition is a body of many lines: a changed one shows the lines that differ.
_DEFINED_TYPES = {"function", "procedure", "view", "materialized-view", "trigger", "rule", "event-trigger"}
_DIFF_LINES = 40
_DIFF_INDENT = "    "


def _definition_diff(before: str, after: str) -> str:
    """A unified diff of two definitions (one line of context), indented; when they differ only
    in whitespace, spaces, tabs and carriage returns are made visible, and empty lines named."""
    whitespace_only = before.split() == after.split()
    if before.endswith("\n") and after.endswith("\n"):  # pg_get_functiondef ends its text so
        before, after = before[:-1], after[:-1]
    lines = difflib.unified_diff(before.split("\n"), after.split("\n"), "before", "after", n=1, lineterm="")
    shown = []
    for line in lines:
        if whitespace_only and line[:1] in ("-", "+", " ") and not line.startswith(("---", "+++")):
            body = line[1:].replace(" ", "·").replace("\t", "→").replace("\r", "␍")
            line = line[0] + (body or "(empty line)")
        shown.append(_DIFF_INDENT + line)
    if len(shown) > _DIFF_LINES:
        shown = [*shown[:_DIFF_LINES], f"{_DIFF_INDENT}... and {len(shown) - _DIFF_LINES} more lines"]
    if whitespace_only:
        shown.append(f"{_DIFF_INDENT}(whitespace only: · a space, → a tab, ␍ a carriage return)")
    return "\n".join(shown)


def _summary(object_type: str, attributes: Mapping[str, Any]) -> str:
    """What a missing object was, in a few words."""
    if "definition" in attributes:
        text = _render(attributes["definition"])
    elif object_type == "column":
        text = str(attributes.get("type", ""))
        if attributes.get("not_null"):
            text += " NOT NULL"
        if attributes.get("default") is not None:
            text += f" DEFAULT {attributes['default']}"
        if attributes.get("generated") is not None:
            text += f" GENERATED ALWAYS AS {attributes['generated']}"
        if attributes.get("identity") is not None:
            text += f" GENERATED {attributes['identity']} AS IDENTITY"
    elif object_type == "table":
        text = "columns " + _render(attributes.get("columns") or [])
    elif object_type == "type" and attributes.get("kind") == "enum":
        text = "enum " + _render(attributes.get("values") or [])
    elif object_type == "type" and attributes.get("kind") == "composite":
        text = "composite " + _render(attributes.get("attributes") or [])
    elif object_type == "domain":
        text = str(attributes.get("base_type", ""))
    elif object_type == "sequence":
        text = f"{attributes.get('type')} start {attributes.get('start')} increment {attributes.get('increment')}"
    elif object_type == "extension":
        text = f"version {attributes.get('version')}"
    else:
        shown = {key: value for key, value in attributes.items() if key != "privileges"}
        text = _render(shown) if shown else ""
    return text if len(text) <= 200 else text[:199] + "…"

