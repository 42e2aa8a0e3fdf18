"""The live progress line: its text, its redraws, and none of it where stdout is not a terminal."""

from __future__ import annotations

import io
import re

from fleet_helpers import query, write_migrations

from pytest_migrations.fleet import Fleet, LiveLine, WaveProgress, read_targets, render_progress
from pytest_migrations.fleet import _cli as fleet_cli

MIGRATION = {"001_t.sql": "-- UP\nCREATE TABLE t (id int);\n-- DOWN\nDROP TABLE t;\n"}
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # anything but tab and newline


def test_the_line_counts_done_running_failed_and_left_per_wave():
    assert render_progress(WaveProgress(1, 1, "all", 10, done=3, running=2, failed=1)) == \
        "fleet: 3 done, 2 running, 1 failed, 4 left"
    assert render_progress(WaveProgress(2, 3, "the rest", 100, done=40, running=4, failed=0, skipped=2)) == \
        "wave 2/3 (the rest): 40 done, 4 running, 0 failed, 2 skipped, 54 left"


def test_the_live_line_is_rewritten_in_place_and_other_lines_go_above_it():
    screen = io.StringIO()
    live = LiveLine(screen)
    live.show(WaveProgress(1, 2, "canary", 1, running=1))
    live.show(WaveProgress(1, 2, "canary", 1, done=1))
    live.show(WaveProgress(2, 2, "the rest", 2, running=1))
    live.print("b: FAILED: boom")
    live.show(WaveProgress(2, 2, "the rest", 2, running=0, done=1, failed=1))
    live.finish()
    assert screen.getvalue() == (
        "\r\x1b[Kwave 1/2 (canary): 0 done, 1 running, 0 failed, 0 left"
        "\r\x1b[Kwave 1/2 (canary): 1 done, 0 running, 0 failed, 0 left"
        "\n\r\x1b[Kwave 2/2 (the rest): 0 done, 1 running, 0 failed, 1 left"  # wave 1's last state stays
        "\r\x1b[Kb: FAILED: boom\nwave 2/2 (the rest): 0 done, 1 running, 0 failed, 1 left"
        "\r\x1b[Kwave 2/2 (the rest): 1 done, 0 running, 1 failed, 0 left"
        "\n"
    )


def test_a_real_run_reports_every_target_once_and_never_runs_more_than_jobs_allow(databases, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATION)
    dsn = databases[0].dsn
    lines = []
    for n in range(7):
        query(dsn, f"CREATE SCHEMA s{n}")
        lines.append(f"{dsn} s{n}")
    query(dsn, "CREATE TABLE s5.t (id int)")  # s5's migration fails
    path = tmp_path / "targets.txt"
    path.write_text("\n".join(lines) + "\n")
    seen: list[WaveProgress] = []
    run = Fleet(directory, read_targets(path), jobs=4, on_wave=seen.append).up(continue_on_error=True, canary=2)
    assert [r.state for r in run.runs] == ["applied"] * 5 + ["failed", "applied"]
    canary = [p for p in seen if p.number == 1]
    rest = [p for p in seen if p.number == 2]
    assert canary[0] == WaveProgress(1, 2, "canary", 2) and rest[0] == WaveProgress(2, 2, "the rest", 5)
    assert canary[-1] == WaveProgress(1, 2, "canary", 2, done=2)
    assert rest[-1] == WaveProgress(2, 2, "the rest", 5, done=4, failed=1)
    assert all(0 <= p.running <= 2 and p.left >= 0 for p in seen)  # --jobs 4: two targets at once
    # Each event moves one target: one more running, or one running less and one more finished.
    for before, after in zip(rest, rest[1:]):
        assert (after.done + after.failed + after.running) - (before.done + before.failed + before.running) in (0, 1)


def test_without_a_terminal_the_output_has_no_control_characters(cli, databases, tmp_path):
    directory = write_migrations(tmp_path / "m", MIGRATION)
    path = tmp_path / "targets.txt"
    path.write_text("".join(f"{db.dsn}\n" for db in databases))
    result = cli("up", "--dir", directory, "--fleet", path, "--no-lint", "--canary", "1")
    assert result.code == 0, result.text
    assert "wave 2 (the rest): 2 target(s)" in result.out and result.out.count(": applied 1 migration(s)") == 3
    assert not CONTROL.search(result.out + result.err)


def test_on_a_terminal_the_live_line_replaces_the_line_per_target(cli, databases, tmp_path, monkeypatch):
    monkeypatch.setattr(fleet_cli, "is_terminal", lambda stream: True)
    directory = write_migrations(tmp_path / "m", MIGRATION)
    path = tmp_path / "targets.txt"
    path.write_text("".join(f"{db.dsn}\n" for db in databases))
    result = cli("up", "--dir", directory, "--fleet", path, "--no-lint")
    assert result.code == 0, result.text
    assert "\r\x1b[Kfleet: 3 done, 0 running, 0 failed, 0 left\n" in result.out
    assert "applied 1 migration(s)" not in result.out
    assert result.out.index("0 left\n") < result.out.index("fleet: 3 applied in ")  # the line is left behind
