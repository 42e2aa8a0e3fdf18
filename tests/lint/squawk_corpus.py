"""Every squawk 2.70 finding on the real corpus next to what we report, with the reason where we differ.

``python -m tests.lint.squawk_corpus`` rewrites ``squawk_corpus_table.md`` (review the diff);
``test_squawk_corpus.py`` fails while the table is not what the two linters say today.
"""

from __future__ import annotations

import collections
import json
import shutil
import subprocess
from pathlib import Path

from migration_lint.config import Config, build_rules
from migration_lint.engine import Linter
from migration_lint.layouts import discover

from .squawk_map import SQUAWK_TO_OURS

try:
    from shared_corpus import CORPUS
except ImportError:  # run as ``python -m tests.lint.squawk_corpus`` from the project
    from tests.shared_corpus import CORPUS

SETS = ("authelia-postgres", "quickwit-postgresql", "quickwit-postgresql-deferred", "docsrs")
TABLE = Path(__file__).with_name("squawk_corpus_table.md")

# Why we do not report a squawk finding, by squawk rule (reviewed against the corpus files).
REASONS = {
    "ban-drop-table": "in a DOWN: dropping what the UP created is the DOWN's job (checked in UP only)",
    "ban-drop-column": "in a DOWN: undoing the UP's ADD COLUMN (checked in UP only)",
    "ban-drop-not-null": "in a DOWN: undoing the UP's SET NOT NULL (checked in UP only)",
    "renaming-column": "in a DOWN: undoing the UP's rename (checked in UP only)",
    "renaming-table": "in a DOWN: undoing the UP's rename (checked in UP only)",
    "require-concurrent-index-creation": "the table is created earlier in the same migration, so nobody uses it yet",
    "require-concurrent-index-deletion": "the index's table was created by this migration's UP (in its DOWN) or earlier in the same migration",
    "constraint-missing-not-valid": "the table is created earlier in the same migration: validating an empty table is instant",
    "adding-foreign-key-constraint": "the table is created earlier in the same migration, or the constraint is NOT VALID",
    "require-lock-timeout": "only locks on existing tables count: here every lock is on a table the migration creates, or a lock that blocks no reads or writes",
    "require-statement-timeout": "no counterpart (we require lock_timeout, which is what prevents the lock queue)",
    "prefer-robust-stmts": "the statement runs inside a transaction (the runner's or BEGIN/COMMIT), which rolls back as a whole",
    "prefer-text-field": "opt-in style rule (prefer-text-field), off by default",
    "prefer-bigint-over-int": "opt-in style rule (prefer-bigint-for-keys), which flags key columns only",
    "prefer-bigint-over-smallint": "opt-in style rule (prefer-bigint-for-keys), which flags key columns only",
    "prefer-identity": "opt-in style rule (prefer-identity), off by default",
    "prefer-timestamp-tz": "opt-in style rule (prefer-timestamptz), off by default",
    "ban-char-field": "opt-in style rule (ban-char-field), off by default",
    "ban-drop-constraint": "no counterpart: dropping a constraint takes a brief lock and loses no data",
    "ban-drop-default": "no counterpart: dropping a default is instant and loses no data",
    "ban-drop-function": "no counterpart (DOWN sections drop functions by design)",
    "ban-drop-type": "no counterpart (DOWN sections drop types by design)",
    "ban-drop-view": "no counterpart (views hold no data)",
    "renaming-object": "no counterpart for renaming other objects",
    "changing-column-type": "the column's current type is known from earlier migrations and the change does not rewrite (e.g. varchar widening), or the table is new",
    "adding-not-nullable-field": "the table is created in the same migration",
    "disallowed-unique-constraint": "the table is created in the same migration, or the constraint uses a prebuilt index",
    "adding-serial-primary-key-field": "the table is created in the same migration",
    "adding-field-with-default": "the table is created in the same migration, or the default is not volatile (PostgreSQL 11+)",
    "syntax-error": "reported as syntax-error too, on a different line",
}


def squawk_findings() -> list[dict]:
    squawk = shutil.which("squawk")
    if squawk is None:
        return []
    files = sorted(str(p) for name in SETS for p in (CORPUS / name).glob("*.sql"))
    result = subprocess.run([squawk, "--reporter", "json", *files], capture_output=True, text=True, check=False)
    return json.loads(result.stdout or "[]")


def our_findings() -> dict[str, set[str]]:
    config = Config(select=["ALL", "advice"], preview=True)
    linter = Linter(build_rules(config), pg_version=config.pg_version)
    by_file: dict[str, set[str]] = collections.defaultdict(set)
    for name in SETS:
        for finding in linter.lint_migrations(discover(CORPUS / name)):
            by_file[finding.path].add(finding.rule)
    return by_file


def build_table() -> str:
    ours = our_findings()
    counts: collections.Counter = collections.Counter()
    for item in squawk_findings():
        path, rule = item["file"], item["rule_name"]
        mapped = SQUAWK_TO_OURS.get(rule)
        same = mapped is not None and mapped in ours.get(path, set())
        verdict = f"same ({mapped})" if same else (REASONS.get(rule) or "NOT REVIEWED")
        counts[(str(Path(path).relative_to(CORPUS)), rule, verdict)] += 1
    lines = [
        "<!-- generated by `python -m tests.lint.squawk_corpus`; review the diff when it changes -->",
        "",
        "# squawk 2.70 findings on the corpus, and ours",
        "",
        "Every squawk finding (all rules, `--reporter json`) on the four real migration sets, with",
        "whether migration-lint (all rules selected) reports the same problem in the same file, or",
        "why it does not.",
        "",
        "| file | squawk rule | findings | migration-lint |",
        "|---|---|---|---|",
    ]
    for (path, rule, verdict), count in sorted(counts.items()):
        lines.append(f"| {path} | {rule} | {count} | {verdict} |")
    same = sum(c for (_, _, v), c in counts.items() if v.startswith("same"))
    lines += ["", f"{same} of {sum(counts.values())} squawk findings are reported by us too."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    TABLE.write_text(build_table(), encoding="utf-8")
    print(TABLE)
