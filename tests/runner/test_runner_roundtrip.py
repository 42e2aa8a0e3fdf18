"""Full up, down to zero and up again, on the examples and the real corpus, on PostgreSQL 18 and 15."""

from __future__ import annotations

import psycopg
import pytest

from pytest_migrations.snapshot import diff_snapshots, format_diff, take_snapshot

from runner_helpers import EXAMPLES, applied_versions, query
from shared_corpus import CORPUS, corpus_set

TRACKING = ("applied_migrations", "migration_history")


def schema(dsn: str) -> dict:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return take_snapshot(conn, exclude_tables=TRACKING)


@pytest.mark.parametrize(
    "directory, count, known_leftovers",
    [
        (EXAMPLES, 19, ()),
        (CORPUS / "authelia-postgres", 26, ()),
        # docsrs' squashed first migration creates fuzzystrmatch and its DOWN leaves it.
        (CORPUS / "docsrs", 33, ("extension fuzzystrmatch: unexpected",)),
    ],
    ids=["examples", "authelia", "docsrs"],
)
def test_up_down_to_zero_up_again(cli, database, directory, count, known_leftovers):
    if directory.parent == CORPUS:
        corpus_set(directory.name)
    dsn = database.dsn
    empty = schema(dsn)

    first = cli("up", "--dir", directory, "--database-url", dsn, "--no-lint")
    assert first.code == 0, first.text
    assert len(applied_versions(dsn)) == count
    applied_schema = schema(dsn)
    assert applied_schema != empty

    down = cli("down", "--to", "0", "--dir", directory, "--database-url", dsn)
    assert down.code == 0, down.text
    assert applied_versions(dsn) == []
    leftovers = format_diff(diff_snapshots(empty, schema(dsn))).splitlines()
    assert [line for line in leftovers if not line.startswith(known_leftovers)] == []
    assert len(leftovers) == len(known_leftovers)

    again = cli("up", "--dir", directory, "--database-url", dsn, "--no-lint")
    assert again.code == 0, again.text
    assert len(applied_versions(dsn)) == count
    assert schema(dsn) == applied_schema

    status = cli("status", "--dir", directory, "--database-url", dsn)
    assert status.code == 0, status.text
    assert f"{count} applied" in status.out
    directions = query(dsn, "SELECT direction, count(*) FROM public.migration_history GROUP BY 1 ORDER BY 1")
    assert directions == [("down", count), ("up", 2 * count)]


def test_quickwit_rollback_stops_at_broken_or_missing_down(cli, database, tmp_path):
    """quickwit: 19 and 20 have DOWNs that do not parse; 6, 7 and 8 have no DOWN at all."""
    directory, deferred_directory, dsn = corpus_set("quickwit-postgresql"), corpus_set("quickwit-postgresql-deferred"), database.dsn
    assert cli("up", "--dir", directory, "--database-url", dsn, "--no-lint").code == 0
    assert len(applied_versions(dsn)) == 28

    # The DOWN of 20 would run: refused before anything runs, naming the file and line.
    refused = cli("down", "--to", "0", "--dir", directory, "--database-url", dsn)
    assert refused.code == 2
    assert "20_add-shard-doc-mapping-uid-field.down.sql:1: syntax error" in refused.err
    assert "19_add-split-node-id-field.down.sql:3: syntax error" in refused.err
    assert len(applied_versions(dsn)) == 28

    assert cli("down", "--to", "20", "--dir", directory, "--database-url", dsn).code == 0
    assert len(applied_versions(dsn)) == 20
    assert cli("up", "--dir", directory, "--database-url", dsn, "--no-lint").code == 0
    assert len(applied_versions(dsn)) == 28

    # The deferred set applies on top, tracked in tables of its own (CREATE INDEX CONCURRENTLY).
    deferred = ["--dir", deferred_directory, "--database-url", dsn,
                "--table", "deferred_migrations", "--history-table", "deferred_history"]
    assert cli("up", *deferred, "--no-lint").code == 0
    assert query(dsn, "SELECT indisvalid FROM pg_index WHERE indexrelid = 'splits_maturity_timestamp_idx'::regclass") == [(True,)]
    assert cli("down", *deferred).code == 0
    assert query(dsn, "SELECT to_regclass('splits_maturity_timestamp_idx')") == [(None,)]


def test_quickwit_migration_without_down_stops_the_rollback_before_anything_runs(cli, db18):
    directory, dsn = corpus_set("quickwit-postgresql"), db18.dsn
    assert cli("up", "--to", "13", "--dir", directory, "--database-url", dsn, "--no-lint").code == 0
    before = schema(dsn)

    refused = cli("down", "--to", "0", "--dir", directory, "--database-url", dsn)
    assert refused.code == 1
    assert "8_delete-update-timestamp-on-indexes-table" in refused.err
    assert "has no DOWN" in refused.err and "nothing was rolled back" in refused.err
    assert len(applied_versions(dsn)) == 13
    assert schema(dsn) == before

    assert cli("down", "--to", "8", "--dir", directory, "--database-url", dsn).code == 0
    assert len(applied_versions(dsn)) == 8
    assert cli("up", "--to", "18", "--dir", directory, "--database-url", dsn, "--no-lint").code == 0
    assert len(applied_versions(dsn)) == 18

    # 14's DOWN is broken for real (``TYPE BIGSERIAL``): one line with file, line, message, SQLSTATE.
    broken = cli("down", "--to", "8", "--dir", directory, "--database-url", dsn)
    assert broken.code == 1
    error_lines = [line for line in broken.err.splitlines() if line.startswith("error:")]
    assert error_lines == [
        f"error: {directory}/14_update-shard-id.down.sql:2: type \"bigserial\" does not exist (SQLSTATE 42704)"
    ]
    assert "Traceback" not in broken.text
    assert len(applied_versions(dsn)) == 14  # 18..15 rolled back, each with its tracking row
    assert query(dsn, "SELECT outcome, message FROM public.migration_history ORDER BY id DESC LIMIT 1") == [
        ("failed", f"{directory}/14_update-shard-id.down.sql:2: type \"bigserial\" does not exist (SQLSTATE 42704)")
    ]
    assert cli("up", "--dir", directory, "--database-url", dsn, "--no-lint").code == 0
    assert len(applied_versions(dsn)) == 28
