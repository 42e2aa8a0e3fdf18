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

    for f in findings:
        stream.write(
            f"{paint('path', f'{f.path}:{f.line}:{f.column}')}: {paint(f.severity, f.severity)} "
            f"{paint('code', f.code)} [{f.rule}] {f.message}\n"
        )
        lines = context.sources(f.path).split("\n")
        if 1 <= f.line <= len(lines):
            last = min(max(f.end_line, f.line), len(lines), f.line + _MAX_EXCERPT_LINES - 1)
            width = len(str(last))
            for number in range(f.line, last + 1):
                text = lines[number - 1].expandtabs(4)
                stream.write(f"{paint('gutter', f'{number:>{width}} |')} {text}\n")
                if f.end_line == f.line == number:
                    start = max(f.column - 1, 0)
                    end = max(f.end_column - 1, start + 1) if f.end_column > f.column else start + 1
                    stream.write(f"{' ' * width} {paint('gutter', '|')} {' ' * start}{paint(f.severity, '^' * (end - start))}\n")
            if last < f.end_line:
                stream.write(f"{' ' * width} {paint('gutter', '|')} ...\n")
        if f.fix_title:
            stream.write(f"  {paint('help', 'help')}: {f.fix_title}\n")
        if f.suggestion:
            for line in f.suggestion.split("\n"):
                stream.write(f"  {paint('help', '+')} {line}\n")
        stream.write("\n")
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = len(findings) - errors
    fixable = sum(1 for f in findings if f.edits)
    files = f" in {context.files_checked} file{'s' if context.files_checked != 1 else ''}" if context.files_checked else ""
    if findings:
        summary = f"Found {len(findings)} problem{'s' if len(findings) != 1 else ''}{files} ({errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''})"
        if fixable and context.fix_hint:
            summary += f"; {fixable} fixable with --fix"
        stream.write(summary + ".\n")
    else:
        stream.write(f"All checks passed{files}.\n")
