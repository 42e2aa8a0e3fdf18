"""Every rule's fixture (tests/lint/rules/<rule>.toml) run by one parametrised test.

A case holds ``sql`` and either ``fail = N`` (the rule reports N findings) or nothing (the rule
is silent). ``fixed`` is the SQL after ``--fix``; without it the fix must change nothing, and
the fixed SQL must lint clean. Optional: ``pg-version``, ``assume-in-transaction``, ``file``
(the migration's file name in a directory), ``does-not-parse`` (a statement of the case is
meant not to parse), ``[case.earlier]`` and ``[case.later]`` (earlier and
later migrations of that directory: file name -> SQL), ``[case.options]`` (rule options), ``lines`` (expected lines).
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the backport the project depends on there
    import tomli as tomllib

import pytest

from migration_lint.rules import catalogue, code_of

from .harness import apply_edits, lint_sql

FIXTURES = Path(__file__).parent / "rules"
_META_RULES = {"syntax-error", "unused-suppression"}


def _cases():
    for fixture in sorted(FIXTURES.glob("*.toml")):
        data = tomllib.loads(fixture.read_text(encoding="utf-8"))
        for case in data.get("case", []):
            yield pytest.param(fixture.stem, case, id=f"{fixture.stem}::{case['name']}")


def _lint(tmp_path: Path, rule: str, case: dict, sql: str):
    return lint_sql(
        tmp_path, sql, rules=[rule, "syntax-error"], file=case.get("file"), earlier=case.get("earlier"), later=case.get("later"),
        pg_version=case.get("pg-version", 13), assume_in_transaction=case.get("assume-in-transaction", False),
        options={rule: case["options"]} if "options" in case else None,
    )


@pytest.mark.parametrize(("rule", "case"), list(_cases()))
def test_rule_case(tmp_path: Path, rule: str, case: dict) -> None:
    assert code_of(rule) is not None, f"fixture for unknown rule {rule}"
    findings, path = _lint(tmp_path, rule, case, case["sql"])
    syntax = [f for f in findings if f.rule == "syntax-error"]
    if case.get("does-not-parse"):
        assert syntax, "the case says its SQL does not parse, but it does"
    else:
        assert not syntax, f"the fixture's SQL does not parse: {syntax[0].message}"
    mine = [f for f in findings if f.rule == rule]
    expected = case.get("fail", 0)
    assert len(mine) == expected, "\n".join(f"{f.line}: {f.message}" for f in mine) or "no findings"
    if "lines" in case:
        assert [f.line for f in mine] == case["lines"]
    fixed = apply_edits(path, mine)
    if "fixed" in case:
        assert fixed == case["fixed"]
        refixed_findings, _ = _lint(tmp_path / "fixed", rule, case, fixed) if (tmp_path / "fixed").mkdir() is None else ([], None)
        still = [f for f in refixed_findings if f.rule == rule]
        assert not still, f"the fixed SQL still fails: {still[0].message}"
    else:
        assert fixed == case["sql"], "a fix changed the SQL but the case has no 'fixed'"


def test_every_rule_has_a_flagged_and_a_clean_case() -> None:
    missing = []
    for code, (name, _) in catalogue().items():
        if name in _META_RULES:
            continue
        fixture = FIXTURES / f"{name}.toml"
        if not fixture.exists():
            missing.append(f"{name}: no fixture")
            continue
        cases = tomllib.loads(fixture.read_text(encoding="utf-8")).get("case", [])
        if not any(c.get("fail") for c in cases) or not any(not c.get("fail") for c in cases):
            missing.append(f"{name}: needs a flagged and a clean case")
    assert not missing, missing
