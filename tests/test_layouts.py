"""Each layout reads a directory as its original tool does: discovery, version identity, order,
pairing, ignored files, conflicts and transaction rule; every real set of ../shared/corpus loads."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from migration_lint.cli import main as lint_main
from migration_lint.execution import TOOL_TRANSACTION, plan_section
from migration_lint.layouts import LAYOUTS, discover, layout_named, load_directory, load_file
from migration_lint.model import TRANSACTION_RULES, MigrationFileError, Version

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
DATA = Path(__file__).parent / "data" / "layouts"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def ids(directory: Path, layout: str | None = None) -> list[str]:
    return [m.id for m in discover(directory, layout)]


# --- every corpus set ----------------------------------------------------------------------------

# set: (layout, number of migrations, first id, last id, number with a DOWN)
CORPUS_SETS = {
    "authelia-postgres": ("paired", 26, "0001_Initial_Schema", "0026_StorageAADRowScoped", 26),
    "convoy": ("sql-migrate", 33, "1677078479", "1721127636", 32),
    "docsrs": ("sqlx", 33, "20231021111635_initial", "20260811210608_remove-release-files-archive", 33),
    "graph-node": ("diesel", 125, "2018-07-10-061642_create_entities_table",
                   "2026-05-27-171745_postponed_indexes_created", 125),
    "hatchet": ("goose", 224, "20240115180414_init", "20260820185000_v1_0_147", 136),
    "marquez": ("flyway", 84, "1_initial_schema", "R__Runs_view", 0),
    "measure": ("dbmate", 72, "20240830075257_create_roles_table", "20260812144140_drop_event_reqs_table", 72),
    "nakama": ("sql-migrate", 19, "20180103142001_initial_schema", "20260319134532-add-display-name-index", 19),
    "quickwit-postgresql": ("sqlx", 28, "1_create-indexes", "28_create-sketch-splits", 25),
    "quickwit-postgresql-deferred": ("sqlx", 1, "29_create-index-splits-maturity-timestamp",
                                     "29_create-index-splits-maturity-timestamp", 1),
    "r4c-cesium-viewer": ("dbmate", 32, "20241225000001_initial_schema",
                          "20250808064619_optimize_materialized_view_indexes", 32),
    "tracetest": ("golang-migrate", 39, "0_create_test_table", "39_create_wizard_table", 38),
    "tycho-storage": ("diesel", 23, "00000000000000_diesel_initial_setup", "2026-02-18_pc_token_ordering", 23),
}


def corpus(name: str) -> Path:
    path = CORPUS / name
    if not path.is_dir():
        pytest.skip(f"{path} is absent: the real migration sets live beside the project in ../shared/corpus")
    return path


def test_every_corpus_set_is_pinned() -> None:
    if not CORPUS.is_dir():
        pytest.skip(f"{CORPUS} is absent: the real migration sets live beside the project in ../shared/corpus")
    present = {p.name for p in CORPUS.iterdir() if p.is_dir()} - {"squawk-rules"}
    assert present <= set(CORPUS_SETS), sorted(present - set(CORPUS_SETS))


@pytest.mark.parametrize("name", sorted(CORPUS_SETS))
def test_corpus_set_loads_as_its_tool_reads_it(name: str) -> None:
    layout, count, first, last, downs = CORPUS_SETS[name]
    loaded = load_directory(corpus(name))
    assert loaded.layout.name == layout and loaded.detected
    migrations = loaded.migrations
    assert (len(migrations), migrations[0].id, migrations[-1].id) == (count, first, last)
    assert sum(m.down is not None for m in migrations) == downs
    assert all(m.transaction_rule == loaded.layout.transaction_rule for m in migrations)
    assert "SOURCE.txt" in [path.name for path, _ in loaded.ignored]


@pytest.mark.parametrize("name", sorted(CORPUS_SETS))
def test_corpus_set_lints_without_an_input_error(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = lint_main(["--no-cache", "--format", "json", str(corpus(name))])
    assert code in (0, 1), capsys.readouterr().err


def test_tracetest_golang_migrate_skips_the_file_without_direction_and_the_go_files() -> None:
    loaded = load_directory(corpus("tracetest"))
    versions = [m.version.text for m in loaded.migrations]
    assert versions[:3] == ["0", "1", "2"] and versions.index("10") == versions.index("9") + 1
    assert "36" not in versions and versions.index("37") == versions.index("35") + 1
    ignored = {path.name for path, _ in loaded.ignored}
    assert {"36_migrate_users_to_opentelemetry.sql", "migrations.go", "main_test.go"} <= ignored
    assert next(m for m in loaded.migrations if m.version.text == "38").down is None
    assert loaded.layout.transaction_rule == "implicit"


def test_graph_node_diesel_orders_odd_folder_names_as_diesel_compares_them() -> None:
    names = [m.path.parent.name for m in discover(corpus("graph-node"))]
    # Versions are the folder name up to the first "_", dashes removed, compared as strings.
    assert names.index("2020-12-7-190800_subgraph_error_changes") == names.index("2020-12-15-000000_remove_nested_templates") + 1
    assert names.index("2022-03-09-07000_call_cache_block_number_idx") < names.index("2022-03-21-172028_add_use_bytea_prefix")
    no_underscore = "2023-05-23-1715-update-subgraph-deployment-assignment"
    assert names[names.index(no_underscore) - 1] < no_underscore < names[names.index(no_underscore) + 1]
    assert names.index("2025-12-18-104956-0000_create_entity_version_stats_view") < names.index("2026-01-09-164812_extend_arg_min_max")
    loaded = load_directory(corpus("graph-node"))
    assert any(path.name == "generate.sh" for path, _ in loaded.ignored)


def test_tycho_storage_diesel_short_dates_sort_as_strings_and_loose_files_are_ignored() -> None:
    loaded = load_directory(corpus("tycho-storage"))
    texts = [m.version.text for m in loaded.migrations]
    assert texts.index("2024-09-4") == texts.index("2024-09-19") + 1  # "2024094" > "20240919"
    assert texts[0] == "00000000000000"
    assert "2025-08-06-fix-entry-point-tracing-params-index" in texts  # no "_": the whole name
    assert {"manual.sql", "notes.md"} <= {path.name for path, _ in loaded.ignored}


def test_marquez_flyway_dotted_versions_then_repeatables() -> None:
    loaded = load_directory(corpus("marquez"))
    texts = [m.version.text for m in loaded.migrations]
    assert texts[:4] == ["1", "2", "2.1", "3"]
    assert texts.index("17.1") == texts.index("16") + 1 and texts.index("17.2") == texts.index("18") - 1
    assert texts.index("55.3") + 1 == texts.index("57.1") and texts.index("59.2") + 1 == texts.index("60")
    assert texts.index("9") + 1 == texts.index("10")
    assert texts[-3:] == ["R__Datasets_view", "R__Jobs_view_and_rewrite_function", "R__Runs_view"]
    assert [m.repeatable for m in loaded.migrations].count(True) == 3
    assert "V57__readme.md" in {path.name for path, _ in loaded.ignored}
    v47 = next(m for m in loaded.migrations if m.version.text == "47")
    assert loaded.layout.transaction_rule == "detect"
    assert plan_section(v47, "up").mode != TOOL_TRANSACTION  # Flyway runs it outside a transaction


def test_nakama_sql_migrate_keeps_both_files_of_one_number_in_name_order_and_skips_the_licence() -> None:
    migrations = discover(corpus("nakama"))
    texts = [m.version.text for m in migrations]
    first = texts.index("20230222172540-purchases-not-null-uid-1")
    assert texts[first + 1] == "20230222172540-purchases-not-null-uid-2"
    initial = migrations[0]
    assert initial.up.statements[0].line == 18  # the licence block before "-- +migrate Up" is not SQL


def test_convoy_sql_migrate_concatenates_up_sections_and_reads_typo_lines_as_comments() -> None:
    migrations = discover(corpus("convoy"))
    first = migrations[0]
    assert len(first.up.statements) >= 20 and first.down is not None
    assert not any("+migrate" in statement.text for statement in first.up.statements)
    typo = next(m for m in migrations if m.version.text == "1677770163")
    assert [s.line for s in typo.up.statements][-1] > 39  # statements after "--+ migrate Up" stay in UP


def test_hatchet_goose_no_transaction_in_any_case_and_go_migrations_listed() -> None:
    loaded = load_directory(corpus("hatchet"))
    assert sum(m.no_transaction_marker for m in loaded.migrations) == 33
    assert sum(path.suffix == ".go" for path, _ in loaded.ignored) == 9


def test_dbmate_sets_read_transaction_false_per_direction() -> None:
    migrations = discover(corpus("r4c-cesium-viewer"))
    marked = [m for m in migrations if m.no_transaction_marker]
    assert len(marked) == 26 and all(m.down_marked_no_transaction for m in marked)
    measure = load_directory(corpus("measure"))
    assert {"README.md", "init-postgres.sh", "rigmarole.sh"} <= {path.name for path, _ in measure.ignored}
    assert any(m.path.name.endswith(".sql.sql") for m in measure.migrations)


# --- the seed template (this project's own one-file layout) --------------------------------------


def test_headings_with_text_commented_down_begin_commit_and_separate_down_files(tmp_path: Path) -> None:
    write(tmp_path / "001_create_a.sql",
          "-- UP (runs with psql -f)\nBEGIN;\nCREATE TABLE a (id int);\nCOMMIT;\n\n"
          "-- DOWN (in separate file or section)\n-- BEGIN;\n-- DROP TABLE a;\n-- COMMIT;\n")
    write(tmp_path / "002_create_b.sql", "-- UP\nCREATE TABLE b (id int);\n")
    write(tmp_path / "002_create_b.down.sql", "DROP TABLE b;\n")
    write(tmp_path / "003_create_c.sql",
          "-- UP\nCREATE TABLE c (id int);\n-- DOWN (in separate file or section)\n-- see 003_create_c.down.sql\n")
    write(tmp_path / "003_create_c.down.sql", "DROP TABLE c;\n")
    write(tmp_path / "004_create_d.sql", "-- UP: d\nCREATE TABLE d (id int);\n-- DOWN: d\nDROP TABLE d;\n")
    loaded = load_directory(tmp_path)
    assert loaded.layout.name == "onefile" and not loaded.ignored
    first, second, third, fourth = loaded.migrations
    assert [s.text.strip() for s in first.up.statements] == ["BEGIN", "CREATE TABLE a (id int)", "COMMIT"]
    assert first.down is not None and first.down.commented_out
    assert [s.text.strip() for s in first.down.statements] == ["BEGIN", "DROP TABLE a", "COMMIT"]
    assert second.down is not None and second.down.path.name == "002_create_b.down.sql"
    assert second.paths == (tmp_path / "002_create_b.sql", tmp_path / "002_create_b.down.sql")
    assert third.down is not None and third.down.path.name == "003_create_c.down.sql"
    assert fourth.down is not None and fourth.down.sql.strip() == "DROP TABLE d;"


def test_heading_words_inside_prose_are_not_headings(tmp_path: Path) -> None:
    write(tmp_path / "001_a.sql", "-- Update the orders table\n-- Up to you\nCREATE TABLE a (id int);\n")
    (migration,) = discover(tmp_path)
    assert migration.down is None and migration.up.statements[0].line == 3


def test_down_in_the_section_and_in_a_file_is_a_conflict_naming_both(tmp_path: Path) -> None:
    write(tmp_path / "001_a.sql", "-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n")
    write(tmp_path / "001_a.down.sql", "DROP TABLE a;\n")
    with pytest.raises(MigrationFileError, match=r"001_a.down.sql: a second DOWN: 001_a.sql has a '-- DOWN' section"):
        discover(tmp_path)


def test_down_file_without_its_migration_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "001_a.sql", "-- UP\nCREATE TABLE a (id int);\n")
    write(tmp_path / "002_b.down.sql", "DROP TABLE b;\n")
    with pytest.raises(MigrationFileError, match=r"002_b.down.sql: DOWN without an UP: no 002_b.sql"):
        discover(tmp_path)


# --- what each tool ignores is never an error ----------------------------------------------------


@pytest.mark.parametrize(
    ("layout", "files", "ignored"),
    [
        ("onefile", {"001_a.sql": "SELECT 1;", "README.md": "x", "run.sh": "x", "report.sql": "SELECT 2;"},
         {"README.md", "run.sh", "report.sql"}),
        ("golang-migrate", {"1_a.up.sql": "SELECT 1;", "2_b.down.sql": "SELECT 1;", "3_c.sql": "SELECT 1;",
                            "migrations.go": "package m", "README.md": "x", "x.up.sql": "SELECT 1;"},
         {"3_c.sql", "migrations.go", "README.md", "x.up.sql"}),
        ("sqlx", {"1_a.up.sql": "SELECT 1;", "1_a.down.sql": "SELECT 1;", "README.md": "x", "nounderscore.sql": "x"},
         {"README.md", "nounderscore.sql"}),
        ("goose", {"00001_a.sql": "-- +goose Up\nSELECT 1;\n", "00002_b.go": "package m", "README.md": "x"},
         {"00002_b.go", "README.md"}),
        ("sql-migrate", {"1-a.sql": "-- +migrate Up\nSELECT 1;\n", "README.md": "x", "x.sh": "x"},
         {"README.md", "x.sh"}),
        ("dbmate", {"20240101000000_a.sql": "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n",
                    "README.md": "x", "dump.sh": "x", "schema.sql": "SELECT 1;"},
         {"README.md", "dump.sh", "schema.sql"}),
        ("flyway", {"V1__a.sql": "SELECT 1;", "V57__readme.md": "x", "afterMigrate.sql": "SELECT 1;", "notes.txt": "x"},
         {"V57__readme.md", "afterMigrate.sql", "notes.txt"}),
    ],
)
def test_files_the_tool_does_not_read_are_listed_as_ignored(tmp_path: Path, layout: str, files: dict[str, str],
                                                             ignored: set[str]) -> None:
    for name, text in files.items():
        write(tmp_path / name, text)
    loaded = load_directory(tmp_path, layout)
    assert {path.name for path, _ in loaded.ignored} == ignored
    assert loaded.migrations


def test_diesel_ignores_loose_files_and_folder_extras(tmp_path: Path) -> None:
    write(tmp_path / "2024-01-01-000000_a" / "up.sql", "CREATE TABLE a (id int);")
    write(tmp_path / "2024-01-01-000000_a" / "generate.sh", "x")
    write(tmp_path / "README.md", "x")
    write(tmp_path / "manual.sql", "DROP TABLE a;")
    loaded = load_directory(tmp_path)
    assert loaded.layout.name == "diesel" and len(loaded.migrations) == 1
    assert {path.name for path, _ in loaded.ignored} == {"generate.sh", "README.md", "manual.sql"}


def test_linter_skips_a_file_the_layout_ignores_instead_of_failing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "m" / "001_a.sql", "-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n")
    report = write(tmp_path / "m" / "report.sql", "DELETE FROM a;\n")
    code = lint_main(["--no-cache", "--format", "gcc", str(report)])
    out, err = capsys.readouterr()
    assert code == 0 and "ML900" not in out and "unbounded" not in out
    assert f"{report}: skipped: not a migration" in err


# --- conflicts: one line naming both files and what the tool does --------------------------------


@pytest.mark.parametrize(
    ("layout", "files", "message"),
    [
        ("golang-migrate", {"1_a.up.sql": "SELECT 1;", "01_b.up.sql": "SELECT 1;"},
         r"1_a.up.sql: duplicate version 1: 01_b.up.sql is also its UP; golang-migrate stops with 'duplicate migration file'"),
        ("sqlx", {"1_a.up.sql": "SELECT 1;", "1_b.sql": "SELECT 1;"},
         r"duplicate version 1: .* is also its UP; sqlx would apply one and then fail"),
        ("goose", {"001_a.sql": "-- +goose Up\nSELECT 1;", "1_b.sql": "-- +goose Up\nSELECT 1;"},
         r"duplicate version 1: also used by 001_a.sql; goose stops"),
        ("dbmate", {"1_a.sql": "-- migrate:up\nSELECT 1;\n-- migrate:down\n", "1_b.sql": "-- migrate:up\nSELECT 1;\n-- migrate:down\n"},
         r"1_b.sql: duplicate version 1: also used by 1_a.sql; dbmate applies the first, then fails"),
        ("flyway", {"V1__a.sql": "SELECT 1;", "V1.0__b.sql": "SELECT 1;"},
         r"duplicate version .*: also used by .*; Flyway stops"),
        ("onefile", {"001_a.sql": "SELECT 1;", "1_b.sql": "SELECT 1;"},
         r"1_b.sql: duplicate version 1: also used by 001_a.sql; the runner refuses"),
    ],
)
def test_two_migrations_claiming_one_version(tmp_path: Path, layout: str, files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        write(tmp_path / name, text)
    with pytest.raises(MigrationFileError, match=message):
        discover(tmp_path, layout)


def test_diesel_identity_is_the_dashless_prefix(tmp_path: Path) -> None:
    write(tmp_path / "2026-05-27-120000_a" / "up.sql", "SELECT 1;")
    write(tmp_path / "2026-05-27-120000-0000_b" / "up.sql", "SELECT 1;")
    assert [m.name for m in discover(tmp_path)] == ["a", "b"]  # two versions: 20260527120000 < ...0000
    write(tmp_path / "20260527120000_c" / "up.sql", "SELECT 1;")
    with pytest.raises(MigrationFileError, match="duplicate version .*Diesel keys migrations by version and keeps only one"):
        discover(tmp_path)


def test_diesel_folder_without_up_sql_stops_as_diesel_does(tmp_path: Path) -> None:
    write(tmp_path / "2024-01-01-000000_a" / "up.sql", "SELECT 1;")
    write(tmp_path / "2024-01-02-000000_b" / "down.sql", "SELECT 1;")
    with pytest.raises(MigrationFileError, match="2024-01-02-000000_b: has no up.sql: Diesel stops on it"):
        discover(tmp_path)


# --- pairing and sections per tool ----------------------------------------------------------------


def test_golang_migrate_pairs_by_version_whatever_the_names(tmp_path: Path) -> None:
    write(tmp_path / "1_create.up.sql", "CREATE TABLE a (id int);")
    write(tmp_path / "1_drop_it.down.sql", "DROP TABLE a;")
    write(tmp_path / "2_only_down.down.sql", "SELECT 1;")
    write(tmp_path / "main.go", "package migrations")
    loaded = load_directory(tmp_path)
    assert loaded.layout.name == "golang-migrate"
    first, second = loaded.migrations
    assert first.down is not None and first.down.path.name == "1_drop_it.down.sql"
    assert second.up.sql == "" and second.down is not None  # golang-migrate runs an empty UP
    assert any("has no UP file" in str(w) for w in loaded.warnings)


def test_sqlx_no_transaction_only_at_the_first_byte(tmp_path: Path) -> None:
    write(tmp_path / "1_a.up.sql", "-- no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);")
    write(tmp_path / "2_b.up.sql", "\n-- no-transaction\nCREATE INDEX CONCURRENTLY j ON t (a);")
    write(tmp_path / "3_c.sql", "SELECT 1;")  # a simple migration: UP only
    first, second, third = discover(tmp_path, "sqlx")
    assert first.no_transaction_marker and not second.no_transaction_marker
    assert third.down is None and third.transaction_rule == "wrap"


def test_sql_migrate_sections_concatenate_and_equal_numbers_order_by_name(tmp_path: Path) -> None:
    write(tmp_path / "2-b.sql", "-- +migrate Up\nSELECT 2;\n")
    write(tmp_path / "10-a.sql", "-- +migrate Up\nSELECT 10;\n")
    write(tmp_path / "2-a.sql",
          "/* licence */\nSELECT 'not run';\n-- +migrate Up\nCREATE TABLE a (id int);\n-- +migrate Down\nDROP TABLE a;\n"
          "-- +migrate Up notransaction\nCREATE INDEX CONCURRENTLY i ON a (id);\n--+ migrate Up\nCREATE TABLE b (id int);\n")
    write(tmp_path / "init.sql", "-- +migrate Up\nSELECT 0;\n")
    migrations = discover(tmp_path)
    assert [m.version.text for m in migrations] == ["2-a", "2-b", "10-a", "init"]
    first = migrations[0]
    assert [s.line for s in first.up.statements] == [4, 8, 10]
    assert first.down is not None and [s.line for s in first.down.statements] == [6]
    assert first.no_transaction_marker and not first.down_marked_no_transaction


def test_goose_annotations_any_case_and_sql_before_up_refused(tmp_path: Path) -> None:
    write(tmp_path / "00001_a.sql", "-- comment first\n-- +goose up\n-- +goose no transaction\nSELECT 1;\n-- +GOOSE DOWN\nSELECT 2;\n")
    (migration,) = discover(tmp_path)
    assert migration.no_transaction_marker and migration.down is not None
    write(tmp_path / "00002_b.sql", "SELECT 0;\n-- +goose Up\nSELECT 1;\n")
    with pytest.raises(MigrationFileError, match="00002_b.sql:1: goose refuses it: SQL before '-- \\+goose Up'"):
        discover(tmp_path)


# --- entries that name a migration but cannot be one ----------------------------------------------


def _special_entries(tmp_path: Path) -> dict[str, Path]:
    made = {}
    for kind in ("dangling", "fifo", "directory", "loop"):
        directory = tmp_path / kind
        write(directory / "001_a.sql", "-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n")
        target = directory / "002_x.sql"
        if kind == "dangling":
            target.symlink_to(directory / "nowhere.sql")
        elif kind == "fifo":
            os.mkfifo(target)
        elif kind == "directory":
            target.mkdir()
        else:
            target.symlink_to(target)
        made[kind] = directory
    return made


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("dangling", "002_x.sql: is a symbolic link to a file that does not exist"),
        ("fifo", "002_x.sql: is not a regular file (a FIFO, socket or device)"),
        ("directory", "002_x.sql: is a directory, not a SQL file"),
        ("loop", "002_x.sql: is a symbolic link loop"),
    ],
)
def test_special_entries_are_said_in_linter_and_runner(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       kind: str, message: str) -> None:
    directory = _special_entries(tmp_path)[kind]
    with pytest.raises(MigrationFileError, match=re.escape(message)):
        discover(directory)
    assert lint_main(["--no-cache", str(directory)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    from pytest_migrations.runner import InputError, Runner

    with pytest.raises(InputError, match=re.escape(message)):
        Runner(directory, "postgresql://nobody@127.0.0.1:1/none").migrations  # noqa: B018 - no connection needed


def test_symlink_loop_directory_and_unreadable_folder_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "2024-01-01-000000_a" / "up.sql", "SELECT 1;")
    (tmp_path / "2024-01-02-000000_b").symlink_to(tmp_path / "2024-01-02-000000_b")
    assert lint_main(["--no-cache", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "2024-01-02-000000_b: is a symbolic link loop" in err and "Traceback" not in err


# --- warnings --------------------------------------------------------------------------------------


def test_empty_comment_only_and_up_without_sql_are_warned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "001_empty.sql", "")
    write(tmp_path / "002_comments.sql", "-- nothing here yet\n")
    write(tmp_path / "003_no_sql.sql", "-- UP\n-- later\n-- DOWN\nSELECT 1;\n")
    write(tmp_path / "004_real.sql", "-- UP\nCREATE TABLE a (id int);\n")
    loaded = load_directory(tmp_path)
    assert [str(w).split(": ", 1)[1] for w in loaded.warnings] == [
        "is empty: the migration changes nothing",
        "holds only comments: the migration changes nothing",
        "has an UP section without SQL: the migration changes nothing",
    ]
    assert lint_main(["--no-cache", "--verbose", str(tmp_path)]) in (0, 1)
    err = capsys.readouterr().err
    assert "layout onefile (detected), 4 migration(s)" in err and "001_empty.sql: is empty" in err


# --- single files (issue 12) ---------------------------------------------------------------------


def test_unversioned_file_with_headings_is_linted_as_a_migration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "add_index.sql", "-- UP\nCREATE TABLE a (id int);\n")
    migration = load_file(path)
    assert migration.version.text and migration.down is None
    assert lint_main(["--no-cache", "--format", "gcc", str(path)]) == 0
    assert "[missing-down]" in capsys.readouterr().out
    script = write(tmp_path / "other" / "script.sql", "CREATE TABLE a (id int);\n")
    assert not load_file(script).version.text  # no headings: a script, run as it is
    lint_main(["--no-cache", "--format", "gcc", str(script)])
    assert "[missing-down]" not in capsys.readouterr().out


def test_an_unversioned_file_with_headings_runs_as_a_versioned_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Its transaction is assumed as for the same file with a version: the same plan, the same
    findings (the ALTER's lock held through the UPDATE, in the transaction the tool opens)."""
    text = "-- UP\nSET lock_timeout = '1s';\nALTER TABLE t ADD COLUMN c int;\nUPDATE t SET c = 1 WHERE id > 0;\n"
    loose, versioned = write(tmp_path / "loose" / "add_c.sql", text), write(tmp_path / "dir" / "001_add_c.sql", text)
    plans = [plan_section(load_file(path), "up") for path in (loose, versioned)]
    assert (plans[0].mode, plans[0].in_tool_transaction) == (plans[1].mode, plans[1].in_tool_transaction)
    found = []
    for path in (loose, versioned):
        lint_main(["--no-cache", "--format", "gcc", str(path)])
        lines = [line for line in capsys.readouterr().out.splitlines() if ".sql:" in line]
        found.append(sorted(line.split(".sql:", 1)[1].split("]", 1)[0] for line in lines))  # where, level, rule
    assert found[0] == found[1]
    assert [line for line in found[0] if line.endswith("[work-after-exclusive-lock")]
    assert [line for line in found[0] if line.endswith("[missing-down")]


# --- layouts as objects --------------------------------------------------------------------------


def test_each_layout_names_its_rule_tool_and_shape() -> None:
    rules = {layout.name: layout.transaction_rule for layout in LAYOUTS}
    assert rules == {"onefile": "detect", "goose": "wrap", "sql-migrate": "wrap", "dbmate": "wrap", "sqlx": "wrap",
                     "golang-migrate": "implicit", "paired": "detect", "diesel": "wrap", "flyway": "detect"}
    assert all(layout.tool and layout.followed and layout.shape for layout in LAYOUTS)
    assert set(rules.values()) <= set(TRANSACTION_RULES)


@pytest.mark.parametrize(("alias", "name"), [("folders", "diesel"), ("pairs", "paired"), ("Golang-Migrate", "golang-migrate"),
                                             ("sql_migrate", "sql-migrate")])
def test_old_and_alternative_names_still_choose_a_layout(alias: str, name: str) -> None:
    assert layout_named(alias).name == name


def test_layout_option_decides_between_sqlx_and_golang_migrate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "1_a.up.sql", "CREATE INDEX CONCURRENTLY i ON t (a);")
    write(tmp_path / "1_a.down.sql", "DROP INDEX CONCURRENTLY i;")
    assert load_directory(tmp_path).layout.name == "sqlx"
    # sqlx wraps the file in a transaction: CONCURRENTLY fails there.
    assert lint_main(["--no-cache", "--format", "gcc", str(tmp_path)]) == 1
    assert "non-transactional-in-transaction" in capsys.readouterr().out
    # golang-migrate sends a lone statement on its own: it runs outside a transaction block.
    assert lint_main(["--no-cache", "--format", "gcc", "--layout", "golang-migrate", str(tmp_path)]) == 0
    assert "non-transactional-in-transaction" not in capsys.readouterr().out
    assert lint_main(["--no-cache", "--layout", "nonsense", str(tmp_path)]) == 2
    assert "unknown layout 'nonsense'" in capsys.readouterr().err


def test_golang_migrate_takes_x_multi_statement_as_its_url_spells_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    multi = layout_named("golang-migrate?x-multi-statement=true")
    assert (multi.spec, multi.transaction_rule, multi.sent_as_one_query) == (
        "golang-migrate?x-multi-statement=true", "split", False)
    assert layout_named("migrate?x-multi-statement=f").spec == "golang-migrate"  # strconv.ParseBool's forms
    assert layout_named("golang-migrate").transaction_rule == "implicit"  # the driver's default
    write(tmp_path / "1_a.up.sql", "CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY i ON t (a);\n")
    assert lint_main(["--no-cache", "--format", "gcc", "--layout", "golang-migrate", str(tmp_path)]) == 1
    assert "non-transactional-in-transaction" in capsys.readouterr().out
    assert lint_main(["--no-cache", "--format", "gcc", "--verbose", "--layout", multi.spec, str(tmp_path)]) == 0
    out = capsys.readouterr()
    assert "non-transactional-in-transaction" not in out.out
    assert "layout golang-migrate?x-multi-statement=true (" in out.out + out.err
    for bad, message in (("golang-migrate?x-multi-statement=yes", "x-multi-statement must be true or false, not 'yes'"),
                         ("golang-migrate?x-no-lock=true", "unknown option 'x-no-lock'"),
                         ("sqlx?x-multi-statement=true", "layout sqlx takes no options")):
        assert lint_main(["--no-cache", "--layout", bad, str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_layout_key_in_the_linter_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "pyproject.toml", '[tool.migration-lint]\nlayout = "golang-migrate"\n')
    write(tmp_path / "m" / "1_a.up.sql", "CREATE INDEX CONCURRENTLY i ON t (a);")
    assert lint_main(["--no-cache", "--verbose", str(tmp_path / "m")]) == 0
    assert "layout golang-migrate (chosen)" in capsys.readouterr().err


def test_diesel_down_with_concurrently_and_no_metadata_runs_in_a_transaction(tmp_path: Path,
                                                                              capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "2024-01-01-000000_a" / "up.sql", "SET lock_timeout = '1s';\nCREATE INDEX i ON t (a);")
    write(tmp_path / "2024-01-01-000000_a" / "down.sql", "DROP INDEX CONCURRENTLY IF EXISTS i;")
    assert lint_main(["--no-cache", "--format", "gcc", "--select", "ML003", str(tmp_path)]) == 1
    assert "down.sql:1:1: error: [non-transactional-in-transaction]" in capsys.readouterr().out
    write(tmp_path / "2024-01-01-000000_a" / "metadata.toml", "run_in_transaction = false\n")
    assert lint_main(["--no-cache", "--format", "gcc", "--select", "ML003", str(tmp_path)]) == 0


def test_diesel_metadata_without_the_key_reads_false_as_diesel_does(tmp_path: Path) -> None:
    write(tmp_path / "2024-01-01-000000_a" / "up.sql", "SELECT 1;")
    write(tmp_path / "2024-01-01-000000_a" / "metadata.toml", "other = 1\n")
    loaded = load_directory(tmp_path)
    assert loaded.migrations[0].no_transaction_marker
    assert "has no run_in_transaction" in str(loaded.warnings[0])


# --- version schemes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "smaller", "larger"),
    [("diesel", "2024-09-19", "2024-09-4"), ("diesel", "20240101000000", "2024-01-01-000000-0000"),
     ("dbmate", "10", "9"), ("sql-migrate", "9-a", "10-a"), ("sql-migrate", "10-a", "init"),
     ("flyway", "1.2.9", "1.2.10"), ("flyway", "999", "R__views")],
)
def test_version_schemes_order_as_their_tools(scheme: str, smaller: str, larger: str) -> None:
    assert Version.parse(smaller, scheme) < Version.parse(larger, scheme)


def test_recorded_versions_read_back_in_the_layout_scheme() -> None:
    assert Version.parse("2024-01-01-000000", "diesel") == Version.parse("20240101000000", "diesel")
    assert Version.parse("1.0", "flyway") == Version.parse("1", "flyway")
    assert Version.parse("01", "dbmate") != Version.parse("1", "dbmate")


# --- `migrations new`: the layout writes the scaffold -----------------------------------------------


@pytest.mark.parametrize(
    ("files", "layout", "expected", "marker"),
    [
        ({"001_a.sql": "-- UP\nSELECT 1;\n", "001_a.down.sql": "SELECT 2;\n"}, None,
         ["002_add_thing.sql", "002_add_thing.down.sql"], "-- UP\n"),
        ({"1-a.sql": "-- +migrate Up\nSELECT 1;\n"}, None, ["2-add_thing.sql"], "-- +migrate Up\n"),
        ({"20240101000000_a.sql": "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n"}, None, None, "-- migrate:up\n"),
        ({"2024-01-01-000000_a/up.sql": "SELECT 1;\n"}, None, None, ""),
        ({"1_a.up.sql": "SELECT 1;\n"}, "golang-migrate", ["2_add_thing.up.sql", "2_add_thing.down.sql"], ""),
        ({}, "goose", ["001_add_thing.sql"], "-- +goose Up\n"),
    ],
)
def test_each_layout_writes_its_own_scaffold(tmp_path: Path, files: dict[str, str], layout: str | None,
                                             expected: list[str] | None, marker: str) -> None:
    from pytest_migrations.runner import new_migration

    for name, text in files.items():
        write(tmp_path / name, text)
    before = len(discover(tmp_path, layout))
    written = new_migration(tmp_path, "add thing", layout=layout)
    if expected is not None:
        assert [path.name for path in written] == expected
    assert written[0].read_text().startswith(marker)
    migrations = discover(tmp_path, layout)
    assert len(migrations) == before + 1 and migrations[-1].name.endswith("thing")


def test_language_server_reads_buffers_and_shows_nothing_for_a_non_migration(tmp_path: Path) -> None:
    from migration_lint.layouts import NotAMigration
    from migration_lint.server import _migration_of, buffer_reader

    first = write(tmp_path / "001_a.sql", "-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n")
    report = write(tmp_path / "report.sql", "DELETE FROM a;\n")
    reader = buffer_reader({first.resolve(): "-- UP\nCREATE TABLE edited (id int);\n"})
    migrations, target = _migration_of(first, reader)
    assert "edited" in target.up.sql and migrations == [target]
    with pytest.raises(NotAMigration):
        _migration_of(report, reader)


def test_linter_and_runner_agree_on_a_file_without_version(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_migrations.runner import InputError, Runner

    write(tmp_path / "001_a.sql", "-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n")
    write(tmp_path / "seed.sql", "INSERT INTO a VALUES (1);\n")  # no headings: both leave it out
    assert lint_main(["--no-cache", str(tmp_path)]) == 0
    assert [m.id for m in Runner(tmp_path, "postgresql://nobody@127.0.0.1:1/none").migrations] == ["001_a"]
    capsys.readouterr()
    write(tmp_path / "later.sql", "-- UP\nCREATE TABLE b (id int);\n")  # headings: both refuse it
    message = "later.sql:1: has '-- UP'/'-- DOWN' headings but no version in its name"
    assert lint_main(["--no-cache", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    with pytest.raises(InputError, match=re.escape(message)):
        Runner(tmp_path, "postgresql://nobody@127.0.0.1:1/none").migrations  # noqa: B018 - no connection needed


JAVA_CHECKSUM = """
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;

public class ChecksumOf {
    public static void main(String[] paths) throws Exception {
        for (String path : paths) {
            CRC32 crc = new CRC32();
            try (BufferedReader reader = Files.newBufferedReader(Path.of(path), StandardCharsets.UTF_8)) {
                String line = reader.readLine();
                if (line != null && line.startsWith("\\uFEFF")) line = line.substring(1);
                for (; line != null; line = reader.readLine()) crc.update(line.getBytes(StandardCharsets.UTF_8));
            }
            System.out.println((int) crc.getValue());
        }
    }
}
"""


def test_flyway_checksum_is_the_crc_java_computes_line_by_line(tmp_path: Path) -> None:
    """Flyway's ChecksumCalculator in the JVM's own terms (BufferedReader.readLine, CRC32, int cast)
    against ``flyway_checksum``: CRLF, CR, a BOM, non-ASCII text and the real marquez files."""
    import shutil
    import subprocess

    from migration_lint.layouts.flyway import flyway_checksum
    from shared_corpus import has_corpus, CORPUS

    java = shutil.which("java")
    if java is None:
        pytest.skip("no java on this machine")
    source = tmp_path / "ChecksumOf.java"
    source.write_text(JAVA_CHECKSUM, encoding="utf-8")
    made = tmp_path / "m"
    made.mkdir()
    (made / "R__crlf.sql").write_bytes("CREATE VIEW v AS\r\nSELECT 'é' AS e;\r\n\r\n".encode())
    (made / "R__cr.sql").write_bytes(b"\xef\xbb\xbfSELECT 1;\rSELECT 2;")
    (made / "V1__lf.sql").write_bytes(b"-- comment\nCREATE TABLE t (a int);\n")
    migrations = list(load_directory(made).migrations)
    if has_corpus("marquez"):
        migrations += [m for m in load_directory(CORPUS / "marquez").migrations if m.repeatable or m.version.text in ("1", "47")]
    result = subprocess.run([java, str(source), *(str(m.path) for m in migrations)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    expected = [int(line) for line in result.stdout.split()]
    assert [flyway_checksum(m) for m in migrations] == expected
    assert any(value < 0 for value in expected[:3])  # the signed cast is exercised
