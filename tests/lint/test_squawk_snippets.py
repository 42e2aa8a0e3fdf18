"""squawk's own rule examples (../shared/corpus/squawk-rules) linted by the matching rule of ours.

Each snippet is labelled violation / no_violation for a squawk rule (INDEX.json). We must agree,
except where DIFFERENCES says why we differ on purpose; a listed difference that no longer
differs fails too, so the table stays true.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from shared_corpus import CORPUS, needs_corpus

from .harness import lint_sql
from .squawk_map import SQUAWK_TO_OURS

SNIPPETS = CORPUS / "squawk-rules" / "extracted"

DIFFERENCES = {
    "adding_field_with_default__default_random_with_args_err.sql":
        "now(123) does not exist in PostgreSQL; now() is stable, so we do not call it volatile",
    "adding_field_with_default__generated_stored_err.sql":
        "reported by adding-rewriting-column (ML023), the rule for columns that rewrite the table",
    "adding_field_with_default__docs_example_error_on_pg_11.sql":
        "PostgreSQL 11 adds a column with a constant default without a rewrite (release notes)",
    "adding_foreign_key_constraint__add_foreign_key_constraint_not_valid_validate.sql":
        "VALIDATE in the same transaction as ADD ... NOT VALID keeps the SHARE ROW EXCLUSIVE lock "
        "through the scan: we flag it",
    "ban_char_field__fix_char_with_length__1.sql":
        "\"char\" (quoted) is PostgreSQL's internal one-byte type, not char(n)",
    "ban_concurrent_index_creation_in_transaction__assuming_in_transaction_ok.sql":
        "with --assume-in-transaction the file is wrapped, so CONCURRENTLY fails; mark the migration "
        "non-transactional (we honour the markers) instead of relying on it being alone",
    "ban_concurrent_index_creation_in_transaction__assuming_in_transaction_ok_also.sql":
        "same as assuming_in_transaction_ok",
    "ban_concurrent_index_creation_in_transaction__squawk_disable_assume_in_transaction_overrides.sql":
        "squawk-specific configuration comment",
    "prefer_bigint_over_int__ok.sql": "we flag 32-bit key columns only (id, *_id, keys), not every integer",
    "prefer_bigint_over_smallint__ok.sql": "same as prefer_bigint_over_int__ok",
    "prefer_robust_stmts__alter_table_err.sql":
        "ADD COLUMN IF NOT EXISTS is require-if-not-exists (ML043), not require-if-exists",
    "prefer_robust_stmts__create_index_concurrently_err.sql": "CREATE ... IF NOT EXISTS is require-if-not-exists (ML043)",
    "prefer_robust_stmts__create_table_err.sql": "CREATE ... IF NOT EXISTS is require-if-not-exists (ML043)",
    "prefer_robust_stmts__double_add_after_drop_err.sql": "ADD COLUMN IF NOT EXISTS is require-if-not-exists (ML043)",
    "prefer_robust_stmts__create_temp_table_without_on_commit_drop_err.sql": "CREATE TABLE is require-if-not-exists (ML043)",
    "prefer_robust_stmts__create_table_with_on_commit_drop_err.sql": "CREATE TABLE is require-if-not-exists (ML043)",
    "prefer_robust_stmts__enable_row_level_security_err.sql":
        "ENABLE ROW LEVEL SECURITY is idempotent: re-running it cannot fail",
    "prefer_robust_stmts__enable_row_level_security_without_exists_check_err.sql": "same: idempotent",
    "prefer_robust_stmts__disable_row_level_security_err.sql": "same: idempotent",
    "prefer_robust_stmts__alter_column_set_not_null.sql": "SET NOT NULL is idempotent",
    "require_timeout_settings__err_missing_statement_timeout.sql":
        "statement_timeout: no counterpart yet (we require lock_timeout only)",
    "require_timeout_settings__fix_add_statement_timeout_only.sql": "statement_timeout: no counterpart yet",
    "require_timeout_settings__ok_only_statement_timeout_rule_enabled.sql": "squawk configuration of its two rules",
    "require_timeout_settings__err_other_ddl_operations.sql":
        "CREATE TYPE takes no lock on an existing table: nothing can queue behind it",
    "require_timeout_settings__err_comment_on_explains_lock_impact.sql":
        "COMMENT ON takes SHARE UPDATE EXCLUSIVE, which does not block reads or writes",
    "require_timeout_settings__err_reindex_concurrently_false_uses_non_concurrent_lock.sql":
        "REINDEX of a table created in the same file is not flagged",
    "require_timeout_settings__err_lock_access_share_uses_correct_article.sql":
        "LOCK ... ACCESS SHARE blocks no reads or writes",
    "require_timeout_settings__fix_multiple_ddl_statements.sql": "only lock-taking statements on existing tables count",
    "transaction_nesting__squawk_disable_assume_in_transaction_allows_begin_commit.sql": "squawk-specific configuration comment",
}
# Snippets that are not SQL PostgreSQL accepts (fix-test fragments, CR line endings, template text).
NOT_SQL = re.compile(r"__2\.sql$|cr_line_endings|all_the_types|escaped_quotes")


def _cases():
    if not (SNIPPETS / "INDEX.json").exists():
        return [pytest.param(None, None, id="no-corpus", marks=needs_corpus("squawk-rules"))]
    cases = []
    for item in json.loads((SNIPPETS / "INDEX.json").read_text()):
        label = item["expected"]
        if "expected output" in label or "unknown" in label or NOT_SQL.search(item["file"]):
            continue
        ours = SQUAWK_TO_OURS.get(item["rule"].replace("_", "-"))
        if ours is None:
            continue
        cases.append(pytest.param(item, ours, id=item["file"]))
    return cases


@pytest.mark.parametrize(("item", "ours"), _cases())
def test_squawk_snippet(tmp_path: Path, item: dict, ours: str) -> None:
    violation = item["expected"].startswith("violation") or "input (violation)" in item["expected"]
    pg_version = int(re.search(r'"(\d+)', item["pg_version"][0]).group(1)) if item["pg_version"] else 13
    assume = bool(item["assume_in_transaction"]) and item["assume_in_transaction"][0] == "true"
    findings, _ = lint_sql(tmp_path, (SNIPPETS / item["file"]).read_text(), rules=[ours],
                           pg_version=pg_version, assume_in_transaction=assume)
    reported = any(f.rule == ours for f in findings)
    if item["file"] in DIFFERENCES:
        assert reported != violation, f"no longer differs from squawk: drop it from DIFFERENCES ({item['file']})"
    else:
        assert reported == violation, f"squawk says {'violation' if violation else 'clean'} for {ours}"
