"""``--fix`` and ``--diff``: the rules' suggested rewrites applied to the files, or shown.

A migration older than the ``since`` line is never rewritten: it has been applied already, and
a runner refuses an applied migration whose file changed. Its fixes are left out and the run
says so.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable, TextIO

from .finding import Finding


def apply_fixes(
    findings: Iterable[Finding],
    sources: dict[Path, str],
    *,
    write: bool,
    protected: dict[str, str] | None = None,
    since: str | None = None,
    out: TextIO | None = None,
    notes: list[str] | None = None,
) -> bool:
    """Apply (or with ``write=False`` print as a diff to ``out``) every non-overlapping edit;
    whether any file changed. ``protected``: files (as findings name them) of migrations older
    than ``since``, by version: left alone, each named once in ``notes``."""
    import difflib

    from .model import read_sql_file

    out = out or sys.stdout
    protected = protected or {}
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.edits:
            by_path.setdefault(finding.path, []).append(finding)
    changed = False
    for path, fixable in by_path.items():
        if path in protected:
            if notes is not None:
                note = (f"{path}: not fixed: migration {protected[path]} is older than since {since}"
                        " (already applied; make the change in a new migration)")
                if note not in notes:
                    notes.append(note)
            continue
        try:
            original = sources.get(Path(path)) or read_sql_file(Path(path))
        except Exception:
            continue
        chosen, taken = [], []
        for finding in sorted(fixable, key=lambda f: f.edits[0].start):
            spans = [(e.start, e.end) for e in finding.edits]
            if any(not (end < s or start > e) for start, end in spans for s, e in taken):
                continue
            taken.extend(spans)
            chosen.append(finding)
        text = original
        for edit in sorted((e for f in chosen for e in f.edits), key=lambda e: e.start, reverse=True):
            text = text[: edit.start] + edit.replacement + text[edit.end :]
        if text == original:
            continue
        changed = True
        if write:
            Path(path).write_text(text, encoding="utf-8")
            sources.pop(Path(path), None)
        else:
            out.writelines(difflib.unified_diff(
                original.splitlines(keepends=True), text.splitlines(keepends=True),
                fromfile=f"a/{path.lstrip('/')}", tofile=f"b/{path.lstrip('/')}",
            ))
    return changed
