"""The migration model: layouts, ordering, sections, transaction mode and bad input, on real files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from migration_lint.execution import TOOL_TRANSACTION, plan_section
from migration_lint.layouts import detect_layout, discover, load_directory, load_file
from migration_lint.model import Migration, MigrationFileError, Version
from shared_corpus import corpus_set

DATA = Path(__file__).parent / "data"
LAYOUTS = DATA / "layouts"


def in_transaction(migration: Migration, direction: str = "up") -> bool:
    """The section runs in one transaction its tool opens (its execution plan)."""
    return plan_section(migration, direction).mode == TOOL_TRANSACTION


def versions(directory: Path) -> list[str]:
    return [m.version.text for m in discover(directory)]


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


# --- versions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("smaller", "larger"),
    [("9", "10"), ("1.2.9", "1.2.10"), ("0001", "2"), ("1", "1.1"), ("2024-01-01-000000", "2024-01-02-000000")],
)
def test_versions_order_numerically_not_lexically(smaller: str, larger: str) -> None:
    assert Version.parse(smaller) < Version.parse(larger)
    assert not Version.parse(larger) < Version.parse(smaller)


def test_zero_padding_does_not_make_a_new_version() -> None:
    assert Version.parse("01") == Version.parse("1")
    assert Version.parse("1.0") == Version.parse("1")


# --- every layout -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("directory", "layout"),
    [
        ("onefile", "onefile"),
        ("golang_migrate", "sqlx"),  # pairs without Go source beside them read as sqlx, the default
        ("sqlx", "sqlx"),
        ("authelia_style", "paired"),
        ("diesel", "diesel"),
        ("sourcegraph", "diesel"),
        ("dbmate", "dbmate"),
        ("flyway", "flyway"),
        ("goose", "goose"),
        ("sql_migrate", "sql-migrate"),
    ],
)
def test_each_layout_is_detected_and_loads_in_order(directory: str, layout: str) -> None:
    path = LAYOUTS / directory
    assert detect_layout(path) == layout
    migrations = discover(path)
    assert len(migrations) >= 3
    keys = [m.version.key for m in migrations]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    for migration in migrations:
        assert migration.layout == layout
        assert migration.up.parse_errors == ()
        assert migration.down is None or migration.down.parse_errors == ()
        assert all(path.exists() for path in migration.paths)


def test_golang_migrate_numbers_order_numerically_and_a_missing_down_is_recorded() -> None:
    migrations = discover(LAYOUTS / "golang_migrate")
    numbers = [m.version.key[0] for m in migrations]
    assert numbers == sorted(numbers)
    assert any(n >= 10 for n in numbers) and any(n < 10 for n in numbers)
    assert any(not m.has_down for m in migrations)
    assert any(m.has_down for m in migrations)


def test_sqlx_no_transaction_marker_and_concurrently_make_it_non_transactional() -> None:
    migrations = discover(LAYOUTS / "sqlx")
    outside = [m for m in migrations if not in_transaction(m)]
    assert outside, "the -- no-transaction migration must run outside a transaction"
    assert all(m.no_transaction_marker for m in outside)
    assert any(in_transaction(m) for m in migrations)


def test_authelia_style_empty_migration_is_a_no_op() -> None:
    migrations = discover(LAYOUTS / "authelia_style")
    assert [m.version.text for m in migrations][0] == "0001"
    empty = [m for m in migrations if m.up.is_empty]
    assert empty and all(in_transaction(m) for m in empty)


def test_diesel_folder_without_down_is_recorded() -> None:
    migrations = discover(LAYOUTS / "diesel")
    assert any(not m.has_down for m in migrations)
    assert all(m.path.name == "up.sql" for m in migrations)


def test_diesel_and_sourcegraph_metadata_mark_non_transactional_migrations() -> None:
    for directory in ("diesel", "sourcegraph"):
        marked = [m for m in discover(LAYOUTS / directory) if m.no_transaction_marker]
        assert len(marked) == 1, directory
        assert not in_transaction(marked[0])


def test_dbmate_transaction_false_is_honoured() -> None:
    migrations = discover(LAYOUTS / "dbmate")
    assert [m.no_transaction_marker for m in migrations].count(True) == 1
    assert all(m.down is not None for m in migrations)
    assert "-- migrate:" not in "".join(m.up_sql for m in migrations)


def test_flyway_versions_with_dots_order_numerically_and_undo_files_are_downs() -> None:
    migrations = discover(LAYOUTS / "flyway")
    texts = [m.version.text for m in migrations]
    assert texts.index("1.2.9") < texts.index("1.2.10")
    assert any(m.has_down for m in migrations) and any(not m.has_down for m in migrations)
    assert all(m.down.path.name.startswith("U") for m in migrations if m.down)


def test_goose_and_sql_migrate_markers() -> None:
    for directory in ("goose", "sql_migrate"):
        migrations = discover(LAYOUTS / directory)
        assert any(m.no_transaction_marker for m in migrations), directory
        assert all(m.has_down for m in migrations if not m.no_transaction_marker)
        assert all(m.has_down for m in migrations)
        assert not any(marker in m.up_sql for m in migrations for marker in ("+goose Down", "+migrate Down"))


# --- the one-file layout in detail --------------------------------------------------------------


def test_onefile_sections_keep_file_line_numbers(tmp_path: Path) -> None:
    write(
        tmp_path / "007_orders.sql",
        "-- Adds orders\n-- UP\nBEGIN;\nCREATE TABLE orders (id bigint);\nCOMMIT;\n\n-- DOWN\nDROP TABLE orders;\n",
    )
    (migration,) = discover(tmp_path)
    assert (migration.version.text, migration.name) == ("007", "orders")
    assert [(s.line, s.kind) for s in migration.up.statements] == [
        (3, "TransactionStmt"), (4, "CreateStmt"), (5, "TransactionStmt"),
    ]
    assert in_transaction(migration) and [s.line for s in plan_section(migration, "up").dropped] == [3, 5]
    assert [(s.line, s.text) for s in migration.down.statements] == [(8, "DROP TABLE orders")]


def test_onefile_commented_out_down_is_read_uncommented(tmp_path: Path) -> None:
    write(
        tmp_path / "001_users.sql",
        "-- UP\nCREATE TABLE users (id bigint);\nCREATE INDEX users_id ON users (id);\n"
        "-- DOWN\n-- Undo it (prose, not SQL)\n-- DROP INDEX users_id;\n-- DROP TABLE\n--   users;\n",
    )
    (migration,) = discover(tmp_path)
    assert migration.down.commented_out
    assert [(s.line, s.column, s.text) for s in migration.down.statements] == [
        (6, 4, "DROP INDEX users_id"), (7, 4, "DROP TABLE\n     users"),
    ]


def test_onefile_without_markers_is_all_up_and_has_no_down(tmp_path: Path) -> None:
    write(tmp_path / "001_x.sql", "CREATE TABLE x (id int);\n")
    (migration,) = discover(tmp_path)
    assert migration.down is None and len(migration.up.statements) == 1


def test_empty_file_is_a_valid_no_op_migration(tmp_path: Path) -> None:
    write(tmp_path / "001_nothing.sql", "")
    (migration,) = discover(tmp_path)
    assert migration.up.is_empty and in_transaction(migration)


def test_concurrently_makes_a_migration_non_transactional(tmp_path: Path) -> None:
    write(tmp_path / "001_a.sql", "-- UP\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- DOWN\nDROP INDEX CONCURRENTLY i;\n")
    write(tmp_path / "002_b.sql", "-- UP\nVACUUM t;\n")
    write(tmp_path / "003_c.sql", "-- UP\nANALYZE t;\n")
    first, second, third = discover(tmp_path)
    assert not in_transaction(first) and not in_transaction(first, "down")
    assert plan_section(first, "up").reason.startswith("CREATE INDEX CONCURRENTLY at ")
    assert not in_transaction(second)
    assert in_transaction(third)


def test_checksum_is_stable_across_line_endings_and_changes_with_the_up(tmp_path: Path) -> None:
    lf = write(tmp_path / "lf" / "001_a.sql", "-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n")
    crlf = write(tmp_path / "crlf" / "001_a.sql", lf.read_text().replace("\n", "\r\n").encode())
    edited = write(tmp_path / "edited" / "001_a.sql", lf.read_text().replace("id int", "id bigint"))
    new_down = write(tmp_path / "down" / "001_a.sql", lf.read_text().replace("DROP TABLE a", "DROP TABLE IF EXISTS a"))
    checksum = discover(lf.parent)[0].checksum
    assert discover(crlf.parent)[0].checksum == checksum
    assert discover(edited.parent)[0].checksum != checksum
    assert discover(new_down.parent)[0].checksum == checksum  # fixing a DOWN is not drift


# --- bad input: one clear error naming the file (and line) ----------------------------------------


@pytest.mark.parametrize(
    ("directory", "file_name", "cause"),
    [
        ("duplicate_versions", "_b.up.sql", "duplicate version"),
        ("down_without_up", "2_x.down.sql", "DOWN without an UP"),
        ("mixed_layouts", "", "mixes layouts"),
        ("onefile_no_up", "001_x.sql", "no UP section"),
    ],
)
def test_bad_directories_fail_with_a_clear_error(directory: str, file_name: str, cause: str) -> None:
    with pytest.raises(MigrationFileError) as raised:
        discover(DATA / "bad" / directory)
    message = str(raised.value)
    assert cause in message
    assert file_name in message
    assert "\n" not in message


def test_parse_errors_are_kept_per_statement_with_line_and_message() -> None:
    (migration,) = discover(DATA / "bad" / "parse_error")
    (failed,) = migration.up.parse_errors
    assert failed.line == 2
    assert "syntax error" in failed.error.message


def test_duplicate_versions_name_both_files(tmp_path: Path) -> None:
    write(tmp_path / "1_a.up.sql", "SELECT 1;")
    write(tmp_path / "01_b.up.sql", "SELECT 1;")
    with pytest.raises(MigrationFileError) as raised:
        discover(tmp_path)
    assert "duplicate version" in str(raised.value)
    assert "1_a.up.sql" in str(raised.value) and "01_b.up.sql" in str(raised.value)


def test_non_utf8_file_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path / "001_latin1.sql", "-- UP\nSELECT 'caf\xe9';\n".encode("latin-1"))
    with pytest.raises(MigrationFileError) as raised:
        discover(tmp_path)
    assert str(raised.value).startswith(f"{tmp_path / '001_latin1.sql'}:2: is not valid UTF-8")


def test_binary_file_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "001_blob.sql", b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(MigrationFileError, match="binary file"):
        discover(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file; unreadable needs a normal user")
def test_unreadable_file_is_refused(tmp_path: Path) -> None:  # pragma: no cover - root in CI
    path = write(tmp_path / "001_secret.sql", "SELECT 1;")
    path.chmod(0)
    with pytest.raises(MigrationFileError, match="cannot be read"):
        discover(tmp_path)


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux's /proc")
def test_file_that_fails_to_read_is_refused_even_as_root(tmp_path: Path) -> None:
    # Root reads past permissions; /proc/self/mem fails with EIO for anyone.
    (tmp_path / "001_broken.sql").symlink_to("/proc/self/mem")
    with pytest.raises(MigrationFileError) as raised:
        discover(tmp_path)
    assert str(raised.value) == f"{tmp_path / '001_broken.sql'}: cannot be read: Input/output error"


def test_unreadable_entry_is_refused_even_as_root(tmp_path: Path) -> None:
    (tmp_path / "001_dir.sql").mkdir()
    with pytest.raises(MigrationFileError, match="001_dir.sql: is a directory"):
        load_file(tmp_path / "001_dir.sql")


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MigrationFileError, match="no such directory"):
        discover(tmp_path / "nope")


def test_file_without_version_in_a_directory_is_ignored_unless_it_has_headings(tmp_path: Path) -> None:
    write(tmp_path / "001_a.sql", "SELECT 1;")
    write(tmp_path / "seed.sql", "SELECT 1;")
    loaded = load_directory(tmp_path)
    assert [m.version.text for m in loaded.migrations] == ["001"]
    assert [path.name for path, _ in loaded.ignored] == ["seed.sql"]
    write(tmp_path / "later.sql", "-- UP\nSELECT 1;\n-- DOWN\nSELECT 2;\n")
    with pytest.raises(MigrationFileError, match="later.sql:1: has '-- UP'/'-- DOWN' headings but no version"):
        discover(tmp_path)


def test_flyway_repeatable_loads_after_the_versioned_and_orphan_undo_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "a" / "V1__init.sql", "SELECT 1;")
    write(tmp_path / "a" / "R__views.sql", "SELECT 1;")
    write(tmp_path / "a" / "V2__more.sql", "SELECT 1;")
    migrations = discover(tmp_path / "a")
    assert [(m.version.text, m.repeatable) for m in migrations] == [("1", False), ("2", False), ("R__views", True)]
    write(tmp_path / "b" / "V1__init.sql", "SELECT 1;")
    write(tmp_path / "b" / "U2__gone.sql", "SELECT 1;")
    with pytest.raises(MigrationFileError, match="U2__gone.sql: undo"):
        discover(tmp_path / "b")


def test_loose_file_without_version_loads_for_linting(tmp_path: Path) -> None:
    migration = load_file(write(tmp_path / "adhoc.sql", "DROP TABLE users;"))
    assert migration.version.text == "" and migration.name == "adhoc"
    assert migration.up.statements[0].kind == "DropStmt"


# --- the real corpus --------------------------------------------------------------------------

# Real defects the parser finds: quickwit's DOWNs 19 and 20 say ``DROP IF EXISTS COLUMN``, which
# PostgreSQL rejects (``DROP COLUMN IF EXISTS`` is the syntax), so those DOWNs can never run.
KNOWN_UNPARSABLE = {
    "quickwit-postgresql": {
        ("19", "19_add-split-node-id-field.down.sql"),
        ("20", "20_add-shard-doc-mapping-uid-field.down.sql"),
    }
}

CORPUS_SETS = {
    "authelia-postgres": (26, 26),
    "quickwit-postgresql": (28, 25),
    "quickwit-postgresql-deferred": (1, 1),
    "docsrs": (33, 33),
}


@pytest.mark.parametrize("name", sorted(CORPUS_SETS))
def test_every_corpus_set_loads(name: str) -> None:
    migrations = discover(corpus_set(name))
    count, downs = CORPUS_SETS[name]
    assert len(migrations) == count
    assert sum(m.has_down for m in migrations) == downs
    broken = {
        (m.version.text, section.path.name)
        for m in migrations
        for section in (m.up, m.down)
        if section is not None and section.parse_errors
    }
    assert broken == KNOWN_UNPARSABLE.get(name, set())
    keys = [m.version.key for m in migrations]
    assert keys == sorted(keys)


def test_corpus_quirks() -> None:
    quickwit = discover(corpus_set("quickwit-postgresql"))
    assert [m.version.text for m in quickwit][8:11] == ["9", "10", "11"]
    assert {m.version.text for m in quickwit if not m.has_down} == {"6", "7", "8"}
    (deferred,) = discover(corpus_set("quickwit-postgresql-deferred"))
    assert deferred.no_transaction_marker and not in_transaction(deferred)
    authelia = discover(corpus_set("authelia-postgres"))
    assert any(m.up.is_empty for m in authelia)


def test_squawk_snippets_load_as_loose_files() -> None:
    snippets = sorted((corpus_set("squawk-rules") / "extracted").glob("*.sql"))
    assert len(snippets) > 200
    for snippet in snippets:
        migration = load_file(snippet)
        assert migration.up.statements or not migration.up.sql.strip(), snippet


def test_deep_nesting_is_a_statement_error_not_a_crash(tmp_path: Path) -> None:
    # Deep enough for every supported Python: 3.13 reads 400 levels of JSON that 3.10-3.12 refuse.
    deep = "SELECT " + "(SELECT " * 3000 + "1" + ")" * 3000
    write(tmp_path / "001_deep.sql", f"-- UP\n{deep};\nCREATE TABLE after_it (id int);\n")
    (migration,) = discover(tmp_path)
    first, second = migration.up.statements
    assert first.error is not None and "nested too deeply" in first.error.message
    assert (second.line, second.kind, second.error) == (3, "CreateStmt", None)


def test_unterminated_string_keeps_the_statements_before_it(tmp_path: Path) -> None:
    write(tmp_path / "001_x.sql", "-- UP\nCREATE TABLE a (id int);\nSELECT 'oops;\nSELECT 2;\n")
    (migration,) = discover(tmp_path)
    good, bad = migration.up.statements
    assert (good.line, good.kind) == (2, "CreateStmt")
    assert bad.line == 3 and "unterminated quoted string" in bad.error.message


@pytest.mark.parametrize("text, line", [
    ("CREATE TABLE a (id int);\n/* the rest was never written\n", 2),
    ("CREATE TABLE a (id int); /* x", 1),
    ("/* only a comment, never closed", 1),
])
def test_an_unclosed_comment_after_the_last_statement_is_a_parse_error(text: str, line: int) -> None:
    from migration_lint.parse import split_statements

    statements = split_statements(text)
    failed = [s for s in statements if s.error is not None]
    assert len(failed) == 1 and failed[0].line == line
    assert failed[0].error.message.startswith("unterminated /* comment")


def test_a_closed_nested_comment_after_the_last_statement_is_fine() -> None:
    from migration_lint.parse import split_statements

    assert [s.error for s in split_statements("SELECT 1; /* a /* b */ */ -- x\n")] == [None]
