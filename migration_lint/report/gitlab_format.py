"""GitLab Code Quality report: the JSON array GitLab reads from ``artifacts:reports:codequality``.

Each finding becomes ``{description, check_name, fingerprint, severity, location: {path,
lines: {begin, end}}}``. GitLab compares reports of the source and target branches by
fingerprint, so the fingerprint is built from what identifies the problem (file, rule, the
statement's text, and which of the identical statements of that file it is), not from its line:
a migration that only moves down because lines were added above keeps its fingerprint.
Paths are made relative to the working directory (``$CI_PROJECT_DIR`` in a job), as GitLab wants.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import IO, Any, Sequence

# GitLab's levels: info, minor, major, critical, blocker.
SEVERITIES = {"error": "major", "warning": "minor"}


def relative_path(path: str, root: Path | None = None) -> str:
    base = (root or Path.cwd()).resolve()
    try:
        return Path(path).resolve().relative_to(base).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _statement_text(finding: Any, source: str) -> str:
    lines = source.split("\n")
    if not source or finding.line < 1 or finding.line > len(lines):
        return ""
    end_line = max(finding.line, min(finding.end_line, len(lines)))
    return " ".join(line.strip() for line in lines[finding.line - 1 : end_line])


def issues(findings: Sequence[Any], sources: Any = None, root: Path | None = None) -> list[dict[str, Any]]:
    """The Code Quality issues of ``findings``; ``sources(path) -> text`` names each statement."""
    seen: dict[str, int] = {}
    result = []
    for finding in findings:
        path = relative_path(finding.path, root)
        text = _statement_text(finding, sources(finding.path) if sources else "")
        identity = "\x1f".join((path, finding.code, finding.section, text or finding.message))
        occurrence = seen.get(identity, 0)
        seen[identity] = occurrence + 1
        fingerprint = hashlib.sha256(f"{identity}\x1f{occurrence}".encode("utf-8")).hexdigest()[:32]
        description = finding.message
        if finding.fix_title:
            description += f". {finding.fix_title}"
        result.append({
            "description": description,
            "check_name": f"{finding.code} {finding.rule}",
            "fingerprint": fingerprint,
            "severity": SEVERITIES.get(finding.severity, "info"),
            "location": {"path": path, "lines": {"begin": finding.line, "end": max(finding.line, finding.end_line)}},
        })
    return result


def render(findings: Sequence[Any], stream: IO[str], context: Any) -> None:
    root = Path(os.environ["CI_PROJECT_DIR"]) if os.environ.get("CI_PROJECT_DIR") else None
    sources = getattr(context, "sources", None)
    json.dump(issues(findings, sources, root), stream, indent=2)
    stream.write("\n")
