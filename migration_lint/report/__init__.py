"""Reporters: turn findings into text for people, editors, CI and code scanning.

Each module exposes ``render(findings, stream, context)``; :data:`FORMATS` maps the
``--format`` names to modules, imported only when used.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import IO, Callable, Sequence

FORMATS = ("text", "json", "gcc", "sarif", "github", "gitlab")


@dataclass
class ReportContext:
    """What a reporter may need besides the findings."""

    sources: Callable[[str], str] = lambda path: ""  # file text by path, for excerpts
    color: bool = False
    files_checked: int = 0
    fix_hint: bool = True
    rules: Sequence[object] = field(default_factory=tuple)  # rule classes run, for SARIF
    input_errors: int = 0  # files that could not be read: a run with any did not pass


def render(format_name: str, findings: Sequence, stream: IO[str], context: ReportContext) -> None:
    if format_name not in FORMATS:
        raise ValueError(f"unknown format {format_name!r}")
    module = importlib.import_module(f"{__name__}.{format_name}_format")
    module.render(findings, stream, context)
