"""GitHub Actions workflow commands: ``::error file=...,line=...::message`` annotations."""

from __future__ import annotations

from typing import IO, Sequence


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(findings: Sequence, stream: IO[str], context: object) -> None:
    for f in findings:
        command = "error" if f.severity == "error" else "warning"
        properties = ",".join(
            [
                f"file={_property(f.path)}",
                f"line={f.line}",
                f"col={f.column}",
                f"endLine={f.end_line}",
                f"endColumn={f.end_column}",
                f"title={_property(f'{f.code} {f.rule}')}",
            ]
        )
        message = f.message + (f"\n{f.fix_title}" if f.fix_title else "")
        stream.write(f"::{command} {properties}::{_data(message)}\n")
