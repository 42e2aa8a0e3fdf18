"""Inline suppressions written in SQL comments.

``-- migration-lint: ignore[rule-name, ML002] reason`` on a statement (trailing) or on the lines
above it silences those rules for that statement; ``ignore`` without a list silences every rule.
``disable[...]`` ... ``enable[...]`` silences a range of lines (to the end of the file without an
``enable``), and ``ignore-file[...]`` the whole file. Rules are named by name or code. A
suppression that silences nothing is reported by the ``unused-suppression`` rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MARKER = "migration-lint:"
_COMMENT = re.compile(
    r"--\s*migration-lint:\s*(?P<kind>ignore-file|ignore|disable|enable)\b"
    r"(?:\[(?P<rules>[^\]]*)\])?(?P<reason>.*)$",
    re.IGNORECASE,
)


@dataclass
class Suppression:
    kind: str  # ignore | disable | enable | ignore-file
    rules: tuple[str, ...]  # names or codes as written; empty means all rules
    line: int
    column: int
    reason: str
    first_line: int = 0  # the lines it covers, resolved by the engine
    last_line: int = 0
    used: set[str] = field(default_factory=set)

    def matches(self, code: str, name: str) -> bool:
        return not self.rules or code in self.rules or name in self.rules

    def covers(self, line: int) -> bool:
        return self.first_line <= line <= self.last_line


def find_suppressions(text: str) -> list[Suppression]:
    """Every suppression comment of a file, in order."""
    if MARKER not in text.lower():
        return []
    found = []
    for number, line in enumerate(text.split("\n"), start=1):
        position = line.lower().find(MARKER)
        if position < 0:
            continue
        start = line.rfind("--", 0, position)
        if start < 0:
            continue
        match = _COMMENT.match(line, start)
        if match is None:
            continue
        rules = tuple(r.strip() for r in (match["rules"] or "").split(",") if r.strip())
        rules = tuple(r.upper() if re.fullmatch(r"(?i)ml\d{3}", r) else r.lower() for r in rules)
        found.append(Suppression(match["kind"].lower(), rules, number, start + 1, match["reason"].strip()))
    return found


def resolve_ranges(
    suppressions: list[Suppression], statement_spans: list[tuple[int, int]], last_line: int
) -> None:
    """Set the lines each suppression covers, given the (first, last) lines of the file's statements."""
    spans = sorted(statement_spans)
    for suppression in suppressions:
        if suppression.kind == "ignore-file":
            suppression.first_line, suppression.last_line = 1, last_line
        elif suppression.kind == "ignore":
            target = _statement_at_or_after(spans, suppression.line)
            if target is None:
                suppression.first_line = suppression.last_line = suppression.line
            else:
                suppression.first_line, suppression.last_line = target
        elif suppression.kind == "disable":
            suppression.first_line = suppression.line
            suppression.last_line = last_line
            for later in suppressions:
                if later.kind == "enable" and later.line > suppression.line and (
                    not later.rules or set(later.rules) & set(suppression.rules) or not suppression.rules
                ):
                    suppression.last_line = later.line
                    break


def _statement_at_or_after(spans: list[tuple[int, int]], line: int) -> tuple[int, int] | None:
    for first, last in spans:
        if first <= line <= last:
            return first, last
        if first > line:
            return line, last
    return None
