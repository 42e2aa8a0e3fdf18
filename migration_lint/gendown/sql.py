"""Spelling names and values in generated SQL as PostgreSQL's ``quote_ident`` and ``quote_literal`` do."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

__all__ = ["ident", "literal", "qualified", "unqualified"]

_PLAIN = re.compile(r"^[a-z_][a-z0-9_$]*$")


@lru_cache(maxsize=1)
def _keywords() -> frozenset[str]:
    from pglast import keywords  # a small module: no parser node classes behind it

    return frozenset(keywords.RESERVED_KEYWORDS | keywords.TYPE_FUNC_NAME_KEYWORDS | keywords.COL_NAME_KEYWORDS)


def ident(name: str) -> str:
    """``orders`` -> ``orders``, ``Orders`` -> ``"Orders"``, ``user`` -> ``"user"``."""
    if _PLAIN.match(name) and name not in _keywords():
        return name
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def qualified(relation: dict[str, Any]) -> str:
    """A RangeVar of the parse tree as written: ``schema.name`` or ``name``."""
    name = ident(relation["relname"])
    return f"{ident(relation['schemaname'])}.{name}" if relation.get("schemaname") else name


def unqualified(name: str, schema: str = "public") -> str:
    """A catalog's ``public.orders`` as a migration writes it: ``orders`` (other schemas stay)."""
    prefix = f"{schema}."
    return name[len(prefix) :] if name.startswith(prefix) else name
