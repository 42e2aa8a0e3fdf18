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
    lines_of: dict[str, list[str]] = {}  # findings come sorted by file: split each file once
    for f in findings:
        out.append(
            f"{paint('path', f'{f.path}:{f.line}:{f.column}')}: {paint(f.severity, f.severity)} "
            f"{paint('code', f.code)} [{f.rule}] {f.message}\n"
        )
        if f.path not in lines_of:
            lines_of[f.path] = context.sources(f.path).split("\n")
        lines = lines_of[f.path]
        if 1 <= f.line <= len(lines):
            last = min(max(f.end_line, f.line), len(lines), f.line + _MAX_EXCERPT_LINES - 1)
            width = len(str(last))
            for number in range(f.line, last + 1):
                text = lines[number - 1].expandtabs(4)
                out.append(f"{paint('gutter', f'{number:>{width}} |')} {text}\n")
                if f.end_line == f.line == number:
                    start = max(f.column - 1, 0)
                    end = max(f.end_column - 1, start + 1) if f.end_column > f.column else start + 1
                    out.append(f"{' ' * width} {paint('gutter', '|')} {' ' * start}{paint(f.severity, '^' * (end - start))}\n")
            if last < f.end_line:
                out.append(f"{' ' * width} {paint('gutter', '|')} ...\n")
        if f.fix_title:
            out.append(f"  {paint('help', 'help')}: {f.fix_title}\n")
        if f.suggestion:
            for line in f.suggestion.split("\n"):
                out.append(f"  {paint('help', '+')} {line}\n")
        out.append("\n")
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    fixable = sum(1 for f in findings if f.edits)
    files = f" in {context.files_checked} file{'s' if context.files_checked != 1 else ''}" if context.files_checked else ""
    if findings:
        summary = f"Found {len(findings)} problem{'s' if len(findings) != 1 else ''}{files} ({errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''})"
        if fixable and context.fix_hint:
            summary += f"; {fixable} fixable with --fix"
        out.append(summary + ".\n")
    else:
        out.append(f"All checks passed{files}.\n")
    stream.write("".join(out))
