"""What a lint run produces: :class:`Finding` (re-exported by :mod:`migration_lint.engine`).

It lives in its own small module so that a warm run, which only reads findings back from the
cache and prints them, imports neither the engine nor the parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FileEdit:
    """Replace ``text[start:end]`` of the file (normalised text, character offsets)."""

    start: int
    end: int
    replacement: str


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    rule: str
    severity: str
    message: str
    fix_title: str | None = None
    edits: tuple[FileEdit, ...] = ()
    suggestion: str | None = None  # the statement as the fix would rewrite it
    section: str = "up"

    @property
    def fixable(self) -> bool:
        return bool(self.edits)

    def to_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["edits"] = [[e.start, e.end, e.replacement] for e in self.edits]
        return data

    # -- compact form, for the cache and for results coming back from worker processes ----------
    def to_row(self) -> list[Any]:
        """The fields in declaration order (edits as ``[start, end, replacement]`` lists): JSON
        and pickle handle a list of plain values several times faster than a dict per finding."""
        values = self.__dict__
        row = [values[name] for name in _FIELDS]
        row[_EDITS] = [[e.start, e.end, e.replacement] for e in self.edits]
        return row

    @classmethod
    def from_row(cls, row: list[Any]) -> Finding:
        """The inverse of :meth:`to_row`. A warm run makes thousands of these, so it fills the
        instance's ``__dict__`` directly instead of through the frozen dataclass's ``__init__``
        (which sets each field with ``object.__setattr__``); the result is the same object."""
        finding = _new(cls)
        values = dict(zip(_FIELDS, row))
        edits = values["edits"]
        values["edits"] = tuple(FileEdit(*e) for e in edits) if edits else ()
        finding.__dict__.update(values)
        return finding


_FIELDS = tuple(Finding.__dataclass_fields__)
_EDITS = _FIELDS.index("edits")
_new = object.__new__
