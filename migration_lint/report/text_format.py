"""For people: each finding with the source excerpt, its span marked, and the suggested rewrite."""

from __future__ import annotations

from typing import IO, Sequence

_RESET = "\033[0m"
_STYLES = {"error": "\033[1;31m", "warning": "\033[1;33m", "path": "\033[1m", "code": "\033[1;36m",
           "help": "\033[1;32m", "gutter": "\033[34m"}
_MAX_EXCERPT_LINES = 6


def render(findings: Sequence, stream: IO[str], context) -> None:
    def paint(style: str, text: str) -> str:
        return f"{_STYLES[style]}{text}{_RESET}" if context.color else text

    out: list[str] = []  # one write at the end: thousands of small writes cost more than the text
    append = out.append
    lines_of: dict[str, list[str]] = {}  # findings come sorted by file: split each file once
    bar, help_word, plus = paint("gutter", "|"), paint("help", "help"), paint("help", "+")
    severity_of = {level: paint(level, level) for level in ("error", "warning")}
    for f in findings:
        severity = severity_of.get(f.severity) or paint(f.severity, f.severity)
        append(f"{paint('path', f'{f.path}:{f.line}:{f.column}')}: {severity} {paint('code', f.code)} [{f.rule}] {f.message}\n")
        lines = lines_of.get(f.path)
        if lines is None:
            lines = lines_of[f.path] = context.sources(f.path).split("\n")
        if 1 <= f.line <= len(lines):
            last = min(max(f.end_line, f.line), len(lines), f.line + _MAX_EXCERPT_LINES - 1)
            width = len(str(last))
            for number in range(f.line, last + 1):
                append(f"{paint('gutter', str(number).rjust(width) + ' |')} {lines[number - 1].expandtabs(4)}\n")
                if f.end_line == f.line == number:
                    start = max(f.column - 1, 0)
                    end = max(f.end_column - 1, start + 1) if f.end_column > f.column else start + 1
                    append(f"{' ' * width} {bar} {' ' * start}{paint(f.severity, '^' * (end - start))}\n")
            if last < f.end_line:
                append(f"{' ' * width} {bar} ...\n")
        if f.fix_title:
            append(f"  {help_word}: {f.fix_title}\n")
        if f.suggestion:
            for line in f.suggestion.split("\n"):
                append(f"  {plus} {line}\n")
        append("\n")
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    fixable = sum(1 for f in findings if f.edits)
    files = f" in {context.files_checked} file{'s' if context.files_checked != 1 else ''}" if context.files_checked else ""
    if findings:
        summary = f"Found {len(findings)} problem{'s' if len(findings) != 1 else ''}{files} ({errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''})"
        if fixable and context.fix_hint:
            summary += f"; {fixable} fixable with --fix"
        out.append(summary + ".\n")
    elif not context.input_errors:
        out.append(f"All checks passed{files}.\n")
    stream.write("".join(out))
