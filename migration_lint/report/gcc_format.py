"""``file:line:col: severity: [rule] message``, one line per finding, for editors (like gcc)."""

from __future__ import annotations

from typing import IO, Sequence


def render(findings: Sequence, stream: IO[str], context: object) -> None:
    for f in findings:
        stream.write(f"{f.path}:{f.line}:{f.column}: {f.severity}: [{f.rule}] {f.message}\n")
