"""The runner names the layout it read, the files its tool ignores, and warns before applying a no-op."""

from __future__ import annotations

from pathlib import Path


def test_status_and_up_say_layout_ignored_files_and_warnings(tmp_path: Path, system_pg_server, cli) -> None:
    path = tmp_path / "migrations"
    path.mkdir()
    (path / "001_empty.sql").write_text("")
    (path / "002_a.sql").write_text("-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n")
    (path / "README.md").write_text("notes\n")
    with system_pg_server.fresh_database() as db:
        status = cli("status", "--dir", path, "--database-url", db.dsn)
        assert "layout: onefile (detected;" in status.out
        assert f"ignored: {path / 'README.md'}: not a .sql file" in status.out
        assert "001_empty.sql: is empty: the migration changes nothing" in status.out
        applied = cli("up", "--dir", path, "--database-url", db.dsn, "--no-lint")
        assert applied.code == 0 and "warning: " in applied.err and "001_empty.sql: is empty" in applied.err
        forced = cli("status", "--dir", path, "--database-url", db.dsn, "--layout", "nonsense")
        assert forced.code == 2 and "unknown layout 'nonsense'" in forced.err
