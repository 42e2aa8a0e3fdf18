"""Which PostgreSQL extensions a chain of migrations creates, read from the parse trees.

A server that lacks one fails the chain at that migration ("extension ... is not available"),
after every migration before it ran; the tools that run a chain ask this first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .model import Migration, Section


@dataclass(frozen=True)
class ExtensionUse:
    """A ``CREATE EXTENSION`` of ``name`` at ``path``:``line``, in ``migration`` (an id), or in
    the set-up SQL when ``migration`` is ``None``."""

    name: str
    path: Path
    line: int
    migration: str | None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


def created_extensions(migrations: Iterable[Migration], setup: Section | None = None) -> list[ExtensionUse]:
    """The first ``CREATE EXTENSION`` of each extension, in the set-up SQL then in the UPs and
    DOWNs of ``migrations``, in the order they run."""
    found: dict[str, ExtensionUse] = {}
    sections: list[tuple[Section, str | None]] = [] if setup is None else [(setup, None)]
    for migration in migrations:
        sections.extend((section, migration.id) for section in (migration.up, migration.down) if section is not None)
    for section, owner in sections:
        for statement in section.statements:
            if statement.kind == "CreateExtensionStmt":
                name = statement.node.get("extname")
                if name and name not in found:
                    found[name] = ExtensionUse(name, section.path, statement.line, owner)
    return list(found.values())
