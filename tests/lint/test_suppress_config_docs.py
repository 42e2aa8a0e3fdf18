"""Inline suppressions, configuration files and the generated rule pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from migration_lint.cli import main
from migration_lint.config import ConfigError, config_from_dict
from migration_lint.docs import DocsError, check_rule_doc, stale_pages
from migration_lint.rules import all_rule_classes, catalogue, RETIRED
from migration_lint.rules.base import STABLE, PREVIEW, DEPRECATED, REMOVED, Option, Rule

from .harness import lint_sql

ROOT = Path(__file__).resolve().parents[2]


def rules_of(findings):
    return [(f.rule, f.line) for f in findings]


def test_ignore_on_the_line_above(tmp_path):
    sql = "-- migration-lint: ignore[ban-truncate] staging table, reloaded nightly\nTRUNCATE t;\nTRUNCATE u;\n"
    findings, _ = lint_sql(tmp_path, sql, rules=["ban-truncate", "unused-suppression"])
    assert rules_of(findings) == [("ban-truncate", 3)]


def test_ignore_trailing_and_by_code(tmp_path):
    sql = "TRUNCATE t; -- migration-lint: ignore[ML014]\nTRUNCATE u;\n"
    findings, _ = lint_sql(tmp_path, sql, rules=["ban-truncate", "unused-suppression"])
    assert rules_of(findings) == [("ban-truncate", 2)]


def test_ignore_silences_only_named_rules(tmp_path):
    sql = "-- migration-lint: ignore[ban-truncate]\nTRUNCATE t CASCADE;\n"
    findings, _ = lint_sql(tmp_path, sql, rules=["ban-truncate", "ban-cascade", "unused-suppression"])
    assert rules_of(findings) == [("ban-cascade", 2)]


def test_disable_enable_range(tmp_path):
    sql = (
        "-- migration-lint: disable[ban-truncate]\nTRUNCATE a;\nTRUNCATE b;\n"
        "-- migration-lint: enable[ban-truncate]\nTRUNCATE c;\n"
    )
    findings, _ = lint_sql(tmp_path, sql, rules=["ban-truncate", "unused-suppression"])
    assert rules_of(findings) == [("ban-truncate", 5)]


def test_ignore_file(tmp_path):
    sql = "-- migration-lint: ignore-file[ban-truncate] fixture data\nTRUNCATE a;\nSELECT 1;\nTRUNCATE b;\n"
    findings, _ = lint_sql(tmp_path, sql, rules=["ban-truncate", "unused-suppression"])
    assert findings == []


def test_unused_and_unknown_suppressions_are_reported(tmp_path):
    sql = (
        "-- migration-lint: ignore[ban-truncate] not needed\nCREATE TABLE t (id int);\n"
        "-- migration-lint: ignore[no-such-rule]\nSELECT 1;\n"
    )
    findings, _ = lint_sql(tmp_path, sql, rules=["ban-truncate", "unused-suppression"])
    assert [(f.rule, f.line) for f in findings] == [("unused-suppression", 1), ("unused-suppression", 3)]
    assert "unknown rule 'no-such-rule'" in findings[1].message


def test_config_in_pyproject(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        "[tool.migration-lint]\npg-version = 10\nignore = ['ban-truncate']\nexclude = ['legacy']\n"
        "[tool.migration-lint.severity]\nrequire-lock-timeout = 'warning'\n"
        "[tool.migration-lint.per-file-ignores]\n'db/002_*.sql' = ['ML007']\n"
    )
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "001_a.sql").write_text("-- UP\nTRUNCATE t;\nALTER TABLE t ADD COLUMN c text DEFAULT 'x';\n-- DOWN\nSELECT 1;\n")
    (tmp_path / "db" / "002_b.sql").write_text("-- UP\nALTER TABLE t ADD COLUMN d text DEFAULT 'x';\n-- DOWN\nSELECT 1;\n")
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "001_x.sql").write_text("TRUNCATE t CASCADE;\n")
    code = main(["--no-cache", "--format", "gcc", "db", "legacy"])
    out = capsys.readouterr().out
    assert "ban-truncate" not in out  # ignored
    assert "legacy" not in out  # excluded
    assert "001_a.sql:3:33: error: [adding-field-with-default]" in out  # pg-version 10 from config
    assert "002_b.sql:2:33" not in out  # per-file ignore
    assert "warning: [require-lock-timeout]" in out  # severity override
    assert code == 1
    # The command line overrides the configuration.
    assert main(["--no-cache", "--format", "gcc", "--pg-version", "13", "db"]) == 0


def test_severity_takes_groups_and_prefixes_as_select_does(tmp_path, capsys, monkeypatch):
    """``[severity]`` keys resolve as ``select``'s: a group or a prefix sets the level of each of
    its rules, and a rule named on its own keeps its level inside them."""
    from migration_lint.config import build_rules

    config = config_from_dict({
        "extend-select": ["advice"],
        "severity": {"prefer-text-field": "warning", "advice": "error", "ML01": "warning"},
    })  # fmt: skip
    levels = {rule.name: rule.severity for rule in build_rules(config)}
    assert levels["prefer-text-field"] == "warning"  # named on its own, beats its group
    assert levels["require-if-exists"] == "warning"  # ML016: the prefix ML01 is narrower than advice
    assert levels["prefer-timestamptz"] == levels["foreign-key-without-index"] == "error"  # advice
    assert levels["ban-drop-table"] == "warning"  # ML011, a default rule under the prefix
    assert levels["require-concurrent-index-creation"] == "error"  # untouched
    with pytest.raises(ConfigError, match="unknown rule 'advise'"):
        config_from_dict({"severity": {"advise": "error"}})
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".migration-lint.toml").write_text("extend-select = ['advice']\n[severity]\nadvice = 'error'\n")
    (tmp_path / "m.sql").write_text("SET lock_timeout = '1s';\nDROP VIEW v;\n")
    assert main(["--no-cache", "--format", "gcc", "m.sql"]) == 1
    assert "error: [require-if-exists]" in capsys.readouterr().out


def test_dedicated_config_file_and_unknown_rule(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".migration-lint.toml").write_text("select = ['ban-truncat']\n")
    (tmp_path / "m.sql").write_text("SELECT 1;\n")
    code = main(["m.sql"])
    err = capsys.readouterr().err
    assert code == 2
    assert ".migration-lint.toml: unknown rule 'ban-truncat'" in err


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"pg-versoin": 13}, "unknown key 'pg-versoin'"),
        ({"pg-version": "abc"}, "major version"),
        ({"severity": {"ban-truncate": "fatal"}}, "'error' or 'warning'"),
        ({"rules": {"require-lock-timeout": {"timout": "1s"}}}, "has no option 'timout'"),
        ({"per-file-ignores": {"*.sql": ["nope"]}}, "unknown rule 'nope'"),
        ({"select": "ALL"}, "must be a list"),
    ],
)
def test_bad_config(data, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(data)


def test_docs_are_up_to_date():
    stale = stale_pages(ROOT / "docs" / "rules")
    assert not stale, f"regenerate with: python -m migration_lint.docs docs/rules ({stale})"


def test_every_rule_doc_follows_the_outline():
    for cls in all_rule_classes():
        check_rule_doc(cls)
        assert cls.summary().endswith(".")
        assert cls.lifecycle in (STABLE, PREVIEW, DEPRECATED, REMOVED)


def test_docs_generator_refuses_an_undocumented_option():
    class Broken(Rule):
        """Something.

        ## What it does
        x
        ## Why is this bad?
        x
        ## Example
        x
        ## Use instead
        x
        ## Options
        - `typo`: not an option
        """

        options = (Option("real", 1, "real"),)

    with pytest.raises(DocsError, match="do not exist"):
        check_rule_doc(Broken)


def test_registry_codes_are_unique_and_never_retired():
    codes = catalogue()
    assert len({name for name, _ in codes.values()}) == len(codes)
    assert not set(codes) & set(RETIRED)
    for cls in all_rule_classes():
        assert codes[cls.code][0] == cls.name
