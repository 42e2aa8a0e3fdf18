"""``file:line:col: severity: [rule] message``, one line per finding, for editors (like gcc)."""

from __future__ import annotations

from typing import IO, Sequence


def render(findings: Sequence, stream: IO[str], context: object) -> None:
    # One write: thousands of small writes cost more than the text.
    stream.write("".join([f"{f.path}:{f.line}:{f.column}: {f.severity}: [{f.rule}] {f.message}\n" for f in findings]))
