"""A generated DOWN as the text of a migration file: one statement a line, the UP's lock_timeout.

:class:`Down` is what a generator decided (statements, comments, irreversible reasons, whether it
must run outside a transaction); :func:`render` writes it in the style of the UP it undoes.
:func:`tree_down` is the generator of the parse tree alone, for editors with no server.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import Migration, Section
from .tree import invert_section

__all__ = ["Down", "IRREVERSIBLE", "lock_timeout_of", "render", "tree_down"]

IRREVERSIBLE = "-- irreversible: "


@dataclass
class Down:
    """A DOWN: ``lines`` are statements (ending in ``;``) or ``-- `` comments, in order."""

    lines: list[str] = field(default_factory=list)
    irreversible: list[str] = field(default_factory=list)
    outside_transaction: bool = False
    header: str = ""

    @property
    def statements(self) -> list[str]:
        return [line for line in self.lines if not line.startswith("--")]


def lock_timeout_of(up: Section) -> str | None:
    """The UP's own ``SET [LOCAL] lock_timeout ...`` statement, as written, for the DOWN to set too."""
    for statement in up.statements:
        if statement.kind == "VariableSetStmt" and statement.node.get("name") == "lock_timeout":
            return statement.text.strip().rstrip(";") + ";"
    return None


def render(down: Down, up: Section) -> str:
    """The DOWN's text: header, irreversible reasons, the UP's lock_timeout, then the statements,
    their keywords in the case the UP writes its own."""
    out = []
    if down.header:
        out.append(down.header)
    out.extend(f"{IRREVERSIBLE}{reason}" for reason in _unique(down.irreversible))
    if down.statements:
        timeout = lock_timeout_of(up)
        if timeout:
            out.append(timeout)
    lower = writes_lowercase(up)
    out.extend(line if line.startswith("--") or not lower else lowercase_keywords(line) for line in down.lines)
    return "\n".join(out) + "\n"


def writes_lowercase(up: Section) -> bool:
    """Whether most keywords of the UP are written in lower case (``create table ...``)."""
    from .._pglast import parser

    lower = upper = 0
    for statement in up.statements[:20]:
        encoded = statement.text.encode("utf-8")
        try:
            tokens = parser.scan(statement.text)
        except Exception:  # noqa: BLE001 - a text the scanner refuses says nothing about case
            continue
        for token in tokens:
            if token.kind != "NO_KEYWORD":
                word = encoded[token.start : token.end + 1].decode("utf-8", "replace")
                lower += word.islower()
                upper += word.isupper()
    return lower > upper


def lowercase_keywords(statement: str) -> str:
    """``ALTER TABLE t DROP COLUMN IF EXISTS a;`` -> ``alter table t drop column if exists a;``
    (keywords only: names, strings and function bodies stay as they are)."""
    from .._pglast import parser

    encoded = bytearray(statement.encode("utf-8"))
    try:
        tokens = parser.scan(statement)
    except Exception:  # noqa: BLE001 - left as it is
        return statement
    for token in tokens:
        if token.kind != "NO_KEYWORD":
            encoded[token.start : token.end + 1] = bytes(encoded[token.start : token.end + 1]).lower()
    return encoded.decode("utf-8")


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def tree_down(migration: Migration) -> tuple[Down, int]:
    """The DOWN the UP's parse tree alone gives, and how many of its statements only a catalog
    could undo (written as ``-- TODO`` comments, or as the tree's guess with what it assumes)."""
    down = Down(header="-- generated from the UP's parse tree alone (no server): check it, or run `migrations gen-down`")
    unknown = 0
    for inverse in reversed(invert_section(migration.up.statements)):
        if inverse.nothing:
            continue
        if inverse.irreversible:
            down.irreversible.append(inverse.irreversible)
        if inverse.sql and inverse.exact:
            down.lines.extend(inverse.sql)
        elif inverse.sql:
            unknown += 1
            down.lines.append(f"-- assumes {inverse.restore}")
            down.lines.extend(inverse.sql)
        elif inverse.restore:
            unknown += 1
            down.lines.append(f"-- TODO line {inverse.statement.line}: restore {inverse.restore}")
        down.outside_transaction |= inverse.outside_transaction
    return down, unknown
