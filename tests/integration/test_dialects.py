"""MySQL and SQLite migrations through sqlglot (``--dialect mysql|sqlite``).

The sets under tests/data/dialects are real: the MySQL one is applied UP, DOWN and UP again on
the local MariaDB (skipped where none runs), the SQLite one with Python's sqlite3. The online-DDL
rules are checked against what MariaDB itself accepts with ``ALGORITHM=INPLACE, LOCK=NONE``.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from migration_lint.config import Config, build_rules, config_from_dict
from migration_lint.dialects import DialectLinter, DialectParseError, make_linter
from migration_lint.dialects.rules import DIALECT_RULES
from migration_lint.engine import Finding, Linter
from migration_lint.layouts import discover

DATA = Path(__file__).resolve().parents[1] / "data" / "dialects"
MYSQL_SHOP = DATA / "mysql_shop"
SQLITE_NOTES = DATA / "sqlite_notes"


def lint(directory: Path, dialect: str, config: Config | None = None) -> list[Finding]:
    linter = DialectLinter.from_config(config or Config(), dialect)
    return linter.lint_migrations(discover(directory))


def summary(findings: list[Finding]) -> set[tuple[str, int, str, str]]:
    return {(Path(f.path).name, f.line, f.rule, f.section) for f in findings}


# -- what the rules report on the real sets ------------------------------------------------------

MYSQL_EXPECTED = {
    ("4_add_orders_shipped_at.up.sql", 1, "mysql-require-online-ddl", "up"),
    ("4_add_orders_shipped_at.down.sql", 1, "mysql-require-online-ddl", "down"),
    ("5_index_orders_status.up.sql", 1, "mysql-require-online-ddl", "up"),
    ("6_customers_country.up.sql", 2, "mysql-blocking-alter", "up"),
    ("7_rename_full_name.up.sql", 1, "renaming-column", "up"),
    ("8_archive_carts.up.sql", 1, "renaming-table", "up"),
    ("9_backfill_plan.up.sql", 2, "unbounded-data-change", "up"),
    ("10_drop_archived_carts.up.sql", 2, "ban-drop-table", "up"),
    ("10_drop_archived_carts.up.sql", 2, "missing-down", "up"),
}

SQLITE_EXPECTED = {
    ("00004_rename_notebook_title.sql", 2, "renaming-column", "up"),
    ("00006_rename_notes.sql", 2, "renaming-table", "up"),
    ("00007_purge_entries.sql", 2, "unbounded-data-change", "up"),
    ("00007_purge_entries.sql", 3, "ban-drop-column", "up"),
    ("00007_purge_entries.sql", 4, "ban-drop-table", "up"),
    ("00007_purge_entries.sql", 2, "missing-down", "up"),
}


# Advice (off by default): IF EXISTS for re-running a half-applied migration.
MYSQL_ADVICE = {("10_drop_archived_carts.up.sql", 2, "require-if-exists", "up")}
SQLITE_ADVICE = {
    ("00005_drop_notebook_index.sql", 2, "require-if-exists", "up"),
    ("00007_purge_entries.sql", 4, "require-if-exists", "up"),
}


def test_mysql_set_findings() -> None:
    assert summary(lint(MYSQL_SHOP, "mysql")) == MYSQL_EXPECTED
    advice = config_from_dict({"extend-select": ["advice"]})
    assert summary(lint(MYSQL_SHOP, "mysql", advice)) == MYSQL_EXPECTED | MYSQL_ADVICE


def test_sqlite_set_findings() -> None:
    assert summary(lint(SQLITE_NOTES, "sqlite")) == SQLITE_EXPECTED
    advice = config_from_dict({"extend-select": ["advice"]})
    assert summary(lint(SQLITE_NOTES, "sqlite", advice)) == SQLITE_EXPECTED | SQLITE_ADVICE


def test_findings_span_the_statement() -> None:
    findings = [f for f in lint(MYSQL_SHOP, "mysql") if f.path.endswith("6_customers_country.up.sql")]
    (finding,) = findings
    line = (MYSQL_SHOP / "6_customers_country.up.sql").read_text().split("\n")[1]
    assert (finding.line, finding.column, finding.end_line, finding.end_column) == (2, 1, 2, len(line.rstrip(";")) + 1)
    trigger = [f for f in lint(MYSQL_SHOP, "mysql") if "trigger" in f.path]
    assert trigger == []  # the BEGIN ... END body is one statement, not four broken ones


def test_twin_rules_share_the_postgresql_rules_identity() -> None:
    from migration_lint.rules import code_of, rule_class

    for cls in DIALECT_RULES:
        if cls.twins:
            code = code_of(cls.twins[0])
            assert code is not None, f"{cls.__name__}: no PostgreSQL rule named {cls.twins[0]}"
            assert (cls.code, cls.name, cls.severity) == (code, cls.twins[0], rule_class(code).severity)
        else:
            assert cls.code.startswith("ML7") and code_of(cls.code) is None


def test_rule_docstrings_follow_the_outline() -> None:
    from migration_lint.docs import check_rule_doc

    for cls in DIALECT_RULES:
        check_rule_doc(cls)


def test_mysql_only_rules_do_not_run_on_sqlite() -> None:
    linter = DialectLinter.from_config(Config(), "sqlite")
    assert not {r.name for r in linter.rules} & {"mysql-require-online-ddl", "mysql-blocking-alter"}


# -- fixes, suppressions, configuration ------------------------------------------------------------

@pytest.mark.parametrize(("source", "dialect"), [(MYSQL_SHOP, "mysql"), (SQLITE_NOTES, "sqlite")])
def test_fixes_apply_and_lint_clean(tmp_path: Path, source: Path, dialect: str) -> None:
    directory = tmp_path / source.name
    shutil.copytree(source, directory)
    advice = config_from_dict({"extend-select": ["advice"]})  # the SQLite set's only fixes are advice
    before = lint(directory, dialect, advice)
    fixable = [f for f in before if f.edits]
    assert fixable
    for path in {f.path for f in fixable}:
        text = Path(path).read_text()
        for edit in sorted((e for f in fixable if f.path == path for e in f.edits), key=lambda e: e.start, reverse=True):
            text = text[: edit.start] + edit.replacement + text[edit.end :]
        Path(path).write_text(text)
    after = lint(directory, dialect, advice)
    assert summary(after) == summary(before) - summary(fixable)
    for finding in fixable:
        assert finding.suggestion is not None and finding.suggestion in Path(finding.path).read_text()


def test_inline_suppression_and_unused_suppression(tmp_path: Path) -> None:
    (tmp_path / "1_create_items.up.sql").write_text("CREATE TABLE items (id INT PRIMARY KEY, sku VARCHAR(20));\n")
    (tmp_path / "1_create_items.down.sql").write_text("DROP TABLE IF EXISTS items;\n")
    (tmp_path / "2_index_items.up.sql").write_text(
        "-- migration-lint: ignore[mysql-require-online-ddl] items has 40 rows\n"
        "CREATE INDEX items_sku_idx ON items (sku);\n"
        "-- migration-lint: ignore[renaming-table] nothing is renamed here\n"
        "ALTER TABLE items ADD COLUMN price INT NULL, ALGORITHM=INSTANT;\n"
    )
    (tmp_path / "2_index_items.down.sql").write_text("DROP INDEX items_sku_idx ON items;\n")
    found = summary(lint(tmp_path, "mysql"))
    assert found == {("2_index_items.up.sql", 3, "unused-suppression", "up")}


def test_configuration_selects_rules(tmp_path: Path) -> None:
    # Config() directly: config_from_dict refuses names it does not know until the rule
    # registry knows the MySQL-only rules (see the dialects wiring).
    ignored = lint(MYSQL_SHOP, "mysql", Config(ignore=["ML701", "missing-down"]))
    assert {f.rule for f in ignored} == {r for _, _, r, _ in MYSQL_EXPECTED} - {"mysql-require-online-ddl", "missing-down"}
    only = lint(MYSQL_SHOP, "mysql", config_from_dict({"select": ["ban-drop-table"]}))
    assert {f.rule for f in only} == {"ban-drop-table"}
    severity = lint(MYSQL_SHOP, "mysql", config_from_dict({"severity": {"ban-drop-table": "warning"}}))
    assert {f.severity for f in severity if f.rule == "ban-drop-table"} == {"warning"}


def test_created_in_the_same_migration_is_not_flagged(tmp_path: Path) -> None:
    (tmp_path / "1_tags.up.sql").write_text(
        "CREATE TABLE tags (id INT PRIMARY KEY, label VARCHAR(40));\n"
        "ALTER TABLE tags ADD COLUMN color CHAR(6);\n"
        "CREATE INDEX tags_label_idx ON tags (label);\n"
        "UPDATE tags SET color = 'ffffff';\n"
        "ALTER TABLE tags RENAME COLUMN label TO name;\n"
    )
    (tmp_path / "1_tags.down.sql").write_text("DROP TABLE IF EXISTS tags;\n")
    assert lint(tmp_path, "mysql") == []


# -- SQL sqlglot cannot read --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("directory", "dialect", "where", "cause"),
    [
        (DATA / "mysql_broken", "mysql", "1_create_widgets.up.sql:5:34", "Expecting )"),
        (DATA / "sqlite_broken", "sqlite", "00001_create_tags.sql:3:34", "unterminated quoted string"),
    ],
)
def test_unparsable_sql_names_file_line_and_cause(directory: Path, dialect: str, where: str, cause: str) -> None:
    with pytest.raises(DialectParseError) as caught:
        lint(directory, dialect)
    message = str(caught.value)
    assert message.startswith(str(directory / where) + ": ")
    assert cause in message and "\n" not in message


def test_cli_exits_2_on_unparsable_sql() -> None:
    help_text = subprocess.run([sys.executable, "-m", "migration_lint.cli", "--help"], capture_output=True, text=True).stdout
    if "--dialect" not in help_text:
        pytest.skip("migration-lint has no --dialect option yet (wiring in cli.py pending)")
    result = subprocess.run(
        [sys.executable, "-m", "migration_lint.cli", "--dialect", "mysql", "--no-cache", str(DATA / "mysql_broken")],
        capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert "1_create_widgets.up.sql:5:34" in result.stderr and "Traceback" not in result.stderr
    clean = subprocess.run(
        [sys.executable, "-m", "migration_lint.cli", "--dialect", "mysql", "--no-cache", "--format", "json", str(MYSQL_SHOP)],
        capture_output=True, text=True,
    )
    assert clean.returncode == 1 and "mysql-require-online-ddl" in clean.stdout


# -- PostgreSQL stays on pglast ----------------------------------------------------------------------

def test_postgres_dialect_is_the_engine_unchanged() -> None:
    corpus = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "quickwit-postgresql"
    directory = corpus if corpus.is_dir() else Path(__file__).resolve().parents[1] / "data" / "layouts" / "golang_migrate"
    config = Config()
    linter = make_linter(config, "postgres")
    assert type(linter) is Linter
    migrations = discover(directory)
    direct = Linter(build_rules(config), pg_version=config.pg_version).lint_migrations(migrations)
    assert linter.lint_migrations(discover(directory)) == direct


def test_mysql_syntax_is_not_postgres() -> None:
    findings = make_linter(Config(), "postgres").lint_migrations(discover(MYSQL_SHOP))
    assert "syntax-error" in {f.rule for f in findings}  # backticks, ENGINE=, AUTO_INCREMENT: pglast refuses


# -- the sets are real: they run on MariaDB and SQLite -------------------------------------------------

def _mysql(database: str | None, script: str) -> subprocess.CompletedProcess[str]:
    command = ["mysql", "-h127.0.0.1", "-uroot", "--batch", "--delimiter=$$"]
    if database:
        command.append(database)
    return subprocess.run(command, input=script, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def mariadb() -> str:
    if shutil.which("mysql") is None:
        pytest.skip("no mysql client")
    probe = _mysql(None, "SELECT 1$$\n")
    if probe.returncode != 0:
        pytest.skip(f"MariaDB/MySQL not reachable on 127.0.0.1:3306: {probe.stderr.strip()}")
    return "ok"


@pytest.fixture
def mysql_database(mariadb: str):
    name = f"ml_dialect_{uuid.uuid4().hex[:10]}"
    assert _mysql(None, f"CREATE DATABASE {name}$$\n").returncode == 0
    yield name
    _mysql(None, f"DROP DATABASE IF EXISTS {name}$$\n")


def _run_mysql_section(database: str, section, dialect: str = "mysql") -> None:
    linter = DialectLinter("mysql", [])
    script = "".join(f"{statement.text}\n$$\n" for statement in linter.statements(section))
    result = _mysql(database, script)
    assert result.returncode == 0, f"{section.path}: {result.stderr}"


def test_mysql_set_applies_up_down_up_on_mariadb(mysql_database: str) -> None:
    migrations = discover(MYSQL_SHOP)
    reversible = [m for m in migrations if m.down is not None]
    for migration in reversible:
        _run_mysql_section(mysql_database, migration.up)
    for migration in reversed(reversible):
        _run_mysql_section(mysql_database, migration.down)
    for migration in migrations:
        _run_mysql_section(mysql_database, migration.up)
    tables = _mysql(mysql_database, "SHOW TABLES$$\n").stdout.split()
    assert set(tables[1:]) == {"customers", "orders"}


# Operations on an existing table, and what the rules say MySQL can do with them.
ONLINE_CASES = [
    "ADD COLUMN shipped_at DATETIME NULL",
    "ADD COLUMN priority INT NOT NULL DEFAULT 0",
    "ADD COLUMN total_plus INT AS (total + 1) VIRTUAL",
    "DROP COLUMN legacy",
    "ADD INDEX orders_total_idx (total)",
    "ADD UNIQUE INDEX orders_ref_uq (ref)",
    "DROP PRIMARY KEY, ADD PRIMARY KEY (id, ref)",
    "MODIFY ref VARCHAR(40) NOT NULL",
    "MODIFY total INT NOT NULL",
    "CHANGE legacy legacy_flags INT",
    "RENAME COLUMN legacy TO old_flags",
    "ENGINE=InnoDB",
    "ROW_FORMAT=DYNAMIC",
]
BLOCKING_CASES = [
    "ADD COLUMN seq INT NOT NULL AUTO_INCREMENT UNIQUE",
    "ADD COLUMN total_stored INT AS (total + 1) STORED",
    "ADD FULLTEXT INDEX orders_note_ft (note)",
    "DROP PRIMARY KEY",
    "ADD CONSTRAINT orders_total_chk CHECK (total >= 0)",
    "ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)",
    "CONVERT TO CHARACTER SET utf8mb4",
]
METADATA_CASES = [
    "RENAME INDEX orders_customer_idx TO orders_customer_id_idx",
    "DROP INDEX orders_customer_idx",
    "ALTER COLUMN total SET DEFAULT 0",
    "ALTER total DROP DEFAULT",
    "COMMENT = 'orders of customers'",
]
_ORDERS = (
    "CREATE TABLE customers (id INT PRIMARY KEY) ENGINE=InnoDB$$\n"
    "CREATE TABLE orders (id INT NOT NULL PRIMARY KEY, customer_id INT, ref VARCHAR(20) NOT NULL DEFAULT '',"
    " total INT, legacy INT, note TEXT, KEY orders_customer_idx (customer_id)) ENGINE=InnoDB DEFAULT CHARSET=latin1$$\n"
)


def _lint_alter(tmp_path: Path, statement: str) -> list[Finding]:
    """The MySQL online-DDL findings of ``statement`` on the existing table ``orders``."""
    (tmp_path / "1_alter_orders.up.sql").write_text(statement + ";\n")
    (tmp_path / "1_alter_orders.down.sql").write_text("SELECT 1;\n")
    return [f for f in lint(tmp_path, "mysql") if f.rule.startswith("mysql-")]


@pytest.mark.parametrize("operation", ONLINE_CASES)
def test_online_operations_get_a_fix_that_mariadb_runs_online(tmp_path: Path, mysql_database: str, operation: str) -> None:
    (finding,) = _lint_alter(tmp_path, f"ALTER TABLE orders {operation}")
    assert finding.rule == "mysql-require-online-ddl" and finding.suggestion
    result = _mysql(mysql_database, _ORDERS + finding.suggestion + "$$\n")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("operation", BLOCKING_CASES)
def test_blocking_operations_cannot_run_online_on_mariadb(tmp_path: Path, mysql_database: str, operation: str) -> None:
    (finding,) = _lint_alter(tmp_path, f"ALTER TABLE orders {operation}")
    assert finding.rule == "mysql-blocking-alter" and not finding.edits
    online = _mysql(mysql_database, _ORDERS + f"ALTER TABLE orders {operation}, ALGORITHM=INPLACE, LOCK=NONE$$\n")
    assert online.returncode != 0 and "not supported" in online.stderr
    plain = _mysql(mysql_database, f"ALTER TABLE orders {operation}$$\n")
    assert plain.returncode == 0, plain.stderr  # the statement itself is valid: only not online


@pytest.mark.parametrize("operation", METADATA_CASES)
def test_metadata_operations_are_not_flagged(tmp_path: Path, mysql_database: str, operation: str) -> None:
    assert _lint_alter(tmp_path, f"ALTER TABLE orders {operation}") == []
    result = _mysql(mysql_database, _ORDERS + f"ALTER TABLE orders {operation}$$\n")
    assert result.returncode == 0, result.stderr


def test_create_index_fix_runs_online_on_mariadb(tmp_path: Path, mysql_database: str) -> None:
    (finding,) = _lint_alter(tmp_path, "CREATE INDEX orders_total_idx ON orders (total)")
    assert finding.suggestion == "CREATE INDEX orders_total_idx ON orders (total) ALGORITHM=INPLACE LOCK=NONE"
    assert _mysql(mysql_database, _ORDERS + finding.suggestion + "$$\n").returncode == 0


def test_changed_column_type_is_refused_not_copied(tmp_path: Path, mysql_database: str) -> None:
    """A type change needs COPY: with the suggested clauses MariaDB refuses before locking."""
    (finding,) = _lint_alter(tmp_path, "ALTER TABLE orders MODIFY total BIGINT")
    result = _mysql(mysql_database, _ORDERS + finding.suggestion + "$$\n")
    assert result.returncode != 0 and "ALGORITHM=INPLACE is not supported" in result.stderr


def test_foreign_key_with_checks_off_is_online(tmp_path: Path, mysql_database: str) -> None:
    statement = "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)"
    (tmp_path / "1_fk.up.sql").write_text(f"SET foreign_key_checks = 0;\n{statement};\nSET foreign_key_checks = 1;\n")
    (tmp_path / "1_fk.down.sql").write_text("ALTER TABLE orders DROP FOREIGN KEY orders_customer_fk;\n")
    (finding,) = lint(tmp_path, "mysql")
    assert finding.rule == "mysql-require-online-ddl"
    script = _ORDERS + f"SET foreign_key_checks = 0$$\n{finding.suggestion}$$\n"
    assert _mysql(mysql_database, script).returncode == 0


def test_sqlite_set_applies_up_down_up_with_sqlite3(tmp_path: Path) -> None:
    migrations = discover(SQLITE_NOTES)
    reversible = [m for m in migrations if m.down is not None]
    connection = sqlite3.connect(tmp_path / "notes.db")
    try:
        for migration in reversible:
            connection.executescript(migration.up.sql)
        connection.execute("INSERT INTO notebooks (name) VALUES ('inbox')")
        for migration in reversed(reversible):
            connection.executescript(migration.down.sql)
        assert connection.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").fetchall() == []
        for migration in migrations:
            connection.executescript(migration.up.sql)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "entries" in tables and "notebooks" not in tables
    finally:
        connection.close()


def test_dialect_can_come_from_the_configuration() -> None:
    config = Config()
    config.dialect = "mysql"  # `dialect = "mysql"` in [tool.migration-lint] (see the CLI wiring)
    linter = make_linter(config)
    assert isinstance(linter, DialectLinter) and linter.dialect == "mysql"
    assert isinstance(make_linter(config, "sqlite"), DialectLinter)  # --dialect wins
    assert type(make_linter(Config())) is Linter
