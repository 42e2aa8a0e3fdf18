"""``pytest --migrations`` end to end, with pytester, on the embedded PostgreSQL 18 of this process.

Inner runs are in-process, so they share the process-wide embedded server (started once); the
xdist run is a subprocess with servers of its own.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from shared_corpus import corpus_set

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "migrations"
SYSTEM_PG_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"

# Options that keep inner runs quiet and independent of the outer environment.
BASE_ARGS = ("-p", "no:randomly", "-W", "ignore::DeprecationWarning", "-W", "ignore::pytest.PytestDeprecationWarning")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, pytester: pytest.Pytester) -> None:
    for name in ("MIGRATIONS_DATABASE_URL", "MIGRATIONS_DIR", "MIGRATIONS_IMAGE", "MIGRATIONS_PG_VERSION",
                 "MIGRATIONS_SETUP_SQL", "MIGRATIONS_NO_DATA_CHECK", "MIGRATIONS_NO_LINT", "MIGRATIONS_NO_LOCKS",
                 "MIGRATIONS_TRACE_ROWS", "MIGRATIONS_LOCK_TIMEOUT"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    pytester.makeini("[pytest]\n")  # the rootdir is the pytester directory


def write_migrations(root: Path, files: dict[str, str], directory: str = "migrations") -> Path:
    target = root / directory
    target.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (target / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return target


def copy_set(source: Path, root: Path, directory: str = "migrations") -> Path:
    target = root / directory
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("*.md", "*.txt"))
    return target


# Tests about the round trip leave the ::lint and ::locks items out.
ROUNDTRIP_ONLY = ("--migrations-no-lint", "--migrations-no-locks")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("--migrations", *BASE_ARGS, *args)


def outcomes_by_item(result: pytest.RunResult) -> dict[str, str]:
    """``{"001_x.sql::roundtrip": "PASSED", ...}`` from the ``-rA`` short summary."""
    found: dict[str, str] = {}
    for line in result.outlines:
        for outcome in ("PASSED", "FAILED", "SKIPPED", "XFAIL", "ERROR"):
            if line.startswith(outcome + " "):
                nodeid = line.split(" ", 1)[1].split(" - ", 1)[0]
                if outcome == "SKIPPED":  # "SKIPPED [1] path: reason" names no node
                    continue
                found[nodeid.split("/")[-1]] = outcome
    return found


def failure_text(result: pytest.RunResult, item: str) -> str:
    """The failure section of ``item`` (``001_x::roundtrip``) in the output."""
    text = result.stdout.str()
    start = text.index(f" {item} ")
    end = text.find("\n___", start + 1)
    section_end = text.find("\n===", start + 1)
    return text[start : min(e for e in (end, section_end) if e != -1)]


# -- a hand-made chain in which DOWNs forget one thing each -----------------------------------------

BROKEN_CHAIN = {
    "001_create_orders.sql": """
        -- UP
        CREATE TABLE orders (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            status text NOT NULL DEFAULT 'new',
            total_cents integer NOT NULL CONSTRAINT orders_total_check CHECK (total_cents >= 0)
        );
        CREATE TYPE mood AS ENUM ('happy', 'sad');
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
        CREATE VIEW paid_orders AS SELECT id, total_cents FROM orders WHERE status = 'paid';
        -- DOWN
        DROP VIEW paid_orders;
        DROP FUNCTION touch();
        DROP TYPE mood;
        DROP TABLE orders;
    """,
    "002_add_note_and_index.sql": """
        -- UP
        ALTER TABLE orders ADD COLUMN note text;
        CREATE INDEX orders_status_idx ON orders (status);
        -- DOWN
        ALTER TABLE orders DROP COLUMN note;
    """,
    "003_status_default_pending.sql": """
        -- UP
        ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'pending';
        -- DOWN
        ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;
    """,
    "004_mood_angry.sql": """
        -- UP
        ALTER TYPE mood ADD VALUE 'angry';
        -- DOWN
        ALTER TYPE mood RENAME TO mood_old;
        CREATE TYPE mood AS ENUM ('happy');
        DROP TYPE mood_old;
    """,
    "005_drop_paid_orders_view.sql": """
        -- UP
        DROP VIEW paid_orders;
        -- DOWN
        SELECT 1;
    """,
    "006_touch_trigger.sql": """
        -- UP
        CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
        -- DOWN
        SELECT 1;
    """,
    "007_stricter_total_check.sql": """
        -- UP
        ALTER TABLE orders DROP CONSTRAINT orders_total_check;
        ALTER TABLE orders ADD CONSTRAINT orders_total_check CHECK (total_cents > 0) NOT VALID;
        -- DOWN
        ALTER TABLE orders DROP CONSTRAINT orders_total_check;
    """,
    "008_index_total_concurrently.sql": """
        -- UP
        CREATE INDEX CONCURRENTLY orders_total_idx ON orders (total_cents);
        -- DOWN
        DROP INDEX CONCURRENTLY IF EXISTS orders_total_misspelt_idx;
    """,
    "009_add_shipped_at.sql": """
        -- UP
        ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
        -- DOWN
        ALTER TABLE orders DROP COLUMN shipped_at;
    """,
}

EXPECTED_BROKEN = {
    "002_add_note_and_index": "index orders_status_idx: unexpected",
    "003_status_default_pending": "column orders.status: default 'new'::text -> (none)",
    "004_mood_angry": "type mood: enum values ['happy','sad'] -> ['happy']",
    "005_drop_paid_orders_view": "view paid_orders: missing",
    "006_touch_trigger": "trigger orders.orders_touch: unexpected",
    "007_stricter_total_check": "constraint orders.orders_total_check: missing",
    "008_index_total_concurrently": "index orders_total_idx: unexpected",
}


def test_broken_downs_fail_with_the_diff_of_what_they_forgot(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, BROKEN_CHAIN)
    result = run(pytester, *ROUNDTRIP_ONLY, "-rA")
    outcomes = outcomes_by_item(result)
    assert {item: outcome for item, outcome in outcomes.items() if outcome != "PASSED"} == {
        f"{migration_id}.sql::roundtrip": "FAILED" for migration_id in EXPECTED_BROKEN
    }
    # A broken DOWN fails its own migration only: the chain goes on from the right schema.
    assert outcomes["001_create_orders.sql::roundtrip"] == "PASSED"
    assert outcomes["009_add_shipped_at.sql::roundtrip"] == "PASSED"
    for migration_id, line in EXPECTED_BROKEN.items():
        text = failure_text(result, f"{migration_id}::roundtrip")
        assert f"DOWN of {migration_id} did not restore the schema" in text
        assert line in text, text
        assert "Traceback" not in text and "def runtest" not in text


DATA_CHAIN = {
    "001_customers.sql": """
        -- UP
        CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
        CREATE TABLE notes (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers, body text);
        -- DOWN
        DROP TABLE notes;
        DROP TABLE customers;
    """,
    "002_customers_email.sql": """
        -- UP
        ALTER TABLE customers ADD COLUMN email text;
        -- DOWN
        ALTER TABLE customers DROP COLUMN email;
        TRUNCATE notes;
    """,
    "003_shout_names.sql": """
        -- UP
        UPDATE customers SET name = upper(name);
        -- DOWN
        SELECT 1;
    """,
    "004_notes_pinned.sql": """
        -- UP
        ALTER TABLE notes ADD COLUMN pinned boolean NOT NULL DEFAULT false;
        -- DOWN
        ALTER TABLE notes DROP COLUMN pinned;
    """,
}


def test_a_down_that_loses_rows_fails_naming_the_table_and_rows(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, DATA_CHAIN)
    result = run(pytester, *ROUNDTRIP_ONLY, "-rA")
    assert outcomes_by_item(result) == {
        "001_customers.sql::roundtrip": "PASSED",
        "002_customers_email.sql::roundtrip": "FAILED",
        "003_shout_names.sql::roundtrip": "PASSED",
        "004_notes_pinned.sql::roundtrip": "PASSED",
    }
    lost = failure_text(result, "002_customers_email::roundtrip")
    assert "DOWN of 002_customers_email lost or changed rows that UP kept" in lost
    assert "table notes: row (id=" in lost and "missing" in lost
    assert "table customers" not in lost  # its rows survived
    assert "did not restore the schema" not in lost
    # an UP that changes values for good is an irreversible data change, not a broken DOWN
    result.stdout.fnmatch_lines(["003_shout_names: UP changes name in 3 seeded rows of customers (an irreversible*"])

    result = run(pytester, *ROUNDTRIP_ONLY, "--migrations-no-data-check")
    result.assert_outcomes(passed=4)


def test_k_selects_one_migration_and_applies_its_predecessors(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, BROKEN_CHAIN)
    result = run(pytester, *ROUNDTRIP_ONLY, "-rA", "-k", "009")
    assert outcomes_by_item(result) == {"009_add_shipped_at.sql::roundtrip": "PASSED"}
    result.assert_outcomes(passed=1, deselected=8)

    result = run(pytester, *ROUNDTRIP_ONLY, "-rA", "-k", "003")
    assert outcomes_by_item(result) == {"003_status_default_pending.sql::roundtrip": "FAILED"}
    result.stdout.fnmatch_lines(["*column orders.status: default 'new'::text -> (none)*"])


def test_last_failed_reruns_only_the_failed_migrations(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, {k: v for k, v in BROKEN_CHAIN.items() if k < "004"})
    first = run(pytester, *ROUNDTRIP_ONLY)
    first.assert_outcomes(passed=1, failed=2)
    again = run(pytester, *ROUNDTRIP_ONLY, "--lf", "-rA")
    assert outcomes_by_item(again) == {
        "002_add_note_and_index.sql::roundtrip": "FAILED",
        "003_status_default_pending.sql::roundtrip": "FAILED",
    }
    again.assert_outcomes(failed=2)


def test_a_failing_up_skips_the_migrations_after_it(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, {
        "001_a.sql": "-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n",
        "002_b.sql": "-- UP\nALTER TABLE missing ADD COLUMN x int;\n-- DOWN\nSELECT 1;\n",
        "003_c.sql": "-- UP\nCREATE TABLE c (id int);\n-- DOWN\nDROP TABLE c;\n",
    })  # fmt: skip
    result = run(pytester, *ROUNDTRIP_ONLY, "-rA")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["*UP of 002_b failed*", "SKIPPED * migrations/003_c.sql:1: depends on 002_b which failed"])
    assert '002_b.sql:2: relation "missing" does not exist (SQLSTATE 42P01)' in result.stdout.str()


def test_missing_down_fails_or_xfails_with_the_flag(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, {
        "001_a.sql": "-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n",
        "002_b.sql": "CREATE TABLE b (id int);\n",
        "003_c.sql": "-- UP\nCREATE TABLE c (id int);\n-- DOWN\nDROP TABLE c;\n",
    })  # fmt: skip
    result = run(pytester, *ROUNDTRIP_ONLY)
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*002_b has no DOWN: it cannot be rolled back*"])

    result = run(pytester, *ROUNDTRIP_ONLY, "--migrations-allow-missing-down", "-rA")
    result.assert_outcomes(passed=2, xfailed=1)
    result.stdout.fnmatch_lines(["XFAIL*002_b.sql::roundtrip*has no DOWN*"])


def test_without_the_flag_nothing_is_collected(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, BROKEN_CHAIN)
    result = pytester.runpytest_inprocess(*BASE_ARGS, "--co")
    assert "roundtrip" not in result.stdout.str()
    result = run(pytester, "--co", "-q")
    result.stdout.fnmatch_lines([
        "migrations/001_create_orders.sql::roundtrip",
        "migrations/001_create_orders.sql::lint",
        "migrations/001_create_orders.sql::locks",
    ])  # fmt: skip


def test_a_bad_migrations_directory_is_one_collection_error(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, {
        "001_a.sql": "-- UP\nCREATE TABLE a (id int);\n",
        "1_again.sql": "-- UP\nCREATE TABLE b (id int);\n",
    })  # fmt: skip
    result = run(pytester, *ROUNDTRIP_ONLY)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*1_again.sql: duplicate version 1: also used by 001_a.sql*", "*1 error*"])
    assert "Traceback" not in result.stdout.str()


def test_no_migrations_directory_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*no migrations directory under * (looked for migrations/, db/migrations/*"])

    result = run(pytester, "--migrations-dir=nowhere")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*nowhere: no such directory*"])


def test_help_works_with_broken_settings_and_lists_the_options(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nmigrations_pg_version = sixteen\n")
    result = pytester.runpytest_inprocess(*BASE_ARGS, "--help")
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "*pytest-migrations*",
        "*--migrations-dsn=DSN*",
        "*--migrations-pg-version=N*",
        "*--migrations-setup-sql=PATH*",
        "*migrations_dir (string)*",
    ])  # fmt: skip
    pytester.makepyfile(test_other="def test_other():\n    pass\n")
    result = pytester.runpytest_inprocess(*BASE_ARGS)  # a run without --migrations is not stopped
    result.assert_outcomes(passed=1)
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*tox.ini migrations_pg_version: expected a PostgreSQL major version such as 16, got 'sixteen'*"]
    )


def test_header_reports_settings_and_precedence_without_passwords(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_migrations(pytester.path, {"001_a.sql": "-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n"})
    write_migrations(pytester.path, {"001_b.sql": "-- UP\nCREATE TABLE b (id int);\n-- DOWN\nDROP TABLE b;\n"}, "db")
    pytester.makeini("[pytest]\nmigrations_dir = nowhere\nmigrations_dsn = postgresql://ini:inisecret@127.0.0.1:1/x\n")
    monkeypatch.setenv("MIGRATIONS_DIR", "db")
    monkeypatch.setenv("MIGRATIONS_DATABASE_URL", "postgresql://postgres:envsecret@127.0.0.1:5432/postgres")
    result = run(pytester, "--co", *ROUNDTRIP_ONLY)
    header = result.stdout.str()
    assert "dir=db (environment MIGRATIONS_DIR)" in header
    assert "environment MIGRATIONS_DATABASE_URL" in header
    assert "envsecret" not in header and "inisecret" not in header
    assert "<MigrationFile 001_b.sql>" in header and "<MigrationsDirectory db>" in header

    result = run(pytester, "--co", *ROUNDTRIP_ONLY, "--migrations-dir", "migrations")
    result.stdout.fnmatch_lines(["*dir=migrations (command line --migrations-dir)*", "*<MigrationFile 001_a.sql>*"])


def test_setup_sql_runs_before_the_first_migration(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, {
        "001_a.sql": "-- UP\nCREATE TABLE a (name text COLLATE \"C\", CHECK (similarity(name, 'x') >= 0));\n"
                     "-- DOWN\nDROP TABLE a;\n",
    })  # fmt: skip
    result = run(pytester, *ROUNDTRIP_ONLY)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*function similarity(text, unknown) does not exist*"])
    setup = pytester.path / "setup.sql"
    setup.write_text("CREATE EXTENSION pg_trgm;\n")
    result = run(pytester, *ROUNDTRIP_ONLY, f"--migrations-setup-sql={setup}")
    result.assert_outcomes(passed=1)

    setup.write_text("CREATE EXTENSION no_such_extension;\n")
    result = run(pytester, *ROUNDTRIP_ONLY, f"--migrations-setup-sql={setup}")
    result.assert_outcomes(failed=1)
    # stopped before the walk, naming the extension and where it is created
    result.stdout.fnmatch_lines([f"{setup}:1: extension no_such_extension, which the set-up SQL creates, is not offered by*"])


# -- the examples and the corpus ----------------------------------------------------------------------


def test_examples_all_pass(pytester: pytest.Pytester) -> None:
    """Round trip, data check, lint and lock trace: the reference example is clean."""
    copy_set(EXAMPLES, pytester.path)
    result = run(pytester, "-rP")
    result.assert_outcomes(passed=57)
    # Its locks taken for a catalog update are brief (every file sets a lock_timeout), and shown.
    result.stdout.fnmatch_lines(["*007_add_orders_shipped_at.sql:5: `ALTER TABLE orders ADD COLUMN shipped_at*"
                                 "ACCESS EXCLUSIVE*brief: a catalog update under lock_timeout 5s*"])


# Real defects in the corpus sets, found by the round trip on PostgreSQL 18: what each failure must
# say. "lost or changed rows" is the data check (rows seeded before UP that UP kept, gone or
# changed after DOWN).
LOST_ROWS = "lost or changed rows that UP kept"
CORPUS_DEFECTS = {
    "authelia-postgres": {
        "V0002.WebAuthn.up.sql": ['DOWN of 0002_WebAuthn failed',
                                  'relation "totp_configurations_username_key" already exists (SQLSTATE 42P07)'],
        "V0003.WebAuthnKIDLength.up.sql": ["sequence webauthn_devices_id_seq1: unexpected"],
        "V0007.ConsistencyFixes.up.sql": ["table _bkp_up_v0002_totp_configurations: missing"],
        "V0011.JWTProfileAccessToken.up.sql": [
            "column oauth2_access_token_session.signature: type character varying(255) -> character varying(768)"],
        "V0012.WebAuthnMultiCookieDomain.up.sql": ["sequence webauthn_devices_id_seq: unexpected"],
    },
    "quickwit-postgresql": {
        "1_create-indexes.up.sql": ["function set_index_update_timestamp_for_split(): unexpected"],
        "2_create-splits.up.sql": ["function set_index_update_timestamp_for_split(): missing"],
        "6_delete-update-index-update-timestamp-on-split-update-trigger.up.sql": ["has no DOWN"],
        "7_delete-split-table-triggers.up.sql": ["has no DOWN"],
        "8_delete-update-timestamp-on-indexes-table.up.sql": ["has no DOWN"],
        "9_add-split-incarnation-id.up.sql": ["column splits.incarnation_id: unexpected"],
        "14_update-shard-id.up.sql": ['type "bigserial" does not exist'],
        "18_create-index-shard-index-uid.up.sql": ["index shards_index_uid_idx: unexpected"],
        "19_add-split-node-id-field.up.sql": ['syntax error at or near "COLUMN"'],
        "20_add-shard-doc-mapping-uid-field.up.sql": ['syntax error at or near "COLUMN"'],
    },
    "docsrs": {
        "20240221104457_drop_releases_build_status.up.sql": [
            "column releases.build_status: default false -> (none)"],
        "20240313182623_make_build_fields_optional.up.sql": [
            "column builds.build_time: default CURRENT_TIMESTAMP -> now()"],
        "20240519141105_crate-version-name-field-length.up.sql": [
            "index crates_normalized_name_idx: definition",
            "(public.normalize_crate_name(name)) -> …btree (public.normalize_crate_name((name)::character varying))"],
        "20260508232425_build-logs.up.sql": [
            "type build_status: enum values ['in_progress','success','failure'] -> "
            "['in_progress','success','failure','partial_failure']"],
        "20260811210608_remove-release-files-archive.up.sql": [
            "column releases.archive_storage: default false -> true"],
    },
}  # fmt: skip
# What UPs of the corpus delete, drop or change for good (no DOWN can bring it back): warnings,
# not failures of their DOWNs.
CORPUS_DATA_WARNINGS = {
    "authelia-postgres": ["0006_ConsentPreConfiguration: UP deletes 3 seeded rows of oauth2_consent_session"],
    "quickwit-postgresql": [],
    "docsrs": [
        "20240221113734_drop_releases_rustc_version: UP drops column doc_rustc_version of releases",
        "20251202040858_remove-cdn-invalidation-queue: UP drops table cdn_invalidation_queue with its 3 seeded rows",
        "20260512203454_remove-queue-registry: UP drops column registry of queue",
        "20260811210608_remove-release-files-archive: UP drops column files of releases",
    ],
}


@pytest.mark.parametrize("jobs", ["1", "2"])
@pytest.mark.parametrize("name", sorted(CORPUS_DEFECTS))
def test_corpus_sets_pass_except_their_real_defects(pytester: pytest.Pytester, name: str, jobs: str) -> None:
    """One walker, or two sharing the walk (the later part on a database of its own): the same
    defects, and nothing else."""
    from migration_lint.layouts import discover

    target = copy_set(corpus_set(name), pytester.path)
    ids = {migration.path.name: migration.id for migration in discover(target)}
    args = [*ROUNDTRIP_ONLY, "-rA", f"--migrations-jobs={jobs}"]
    if name == "docsrs":  # the project creates fuzzystrmatch outside its migrations
        setup = pytester.path / "setup.sql"
        setup.write_text("CREATE EXTENSION fuzzystrmatch;\n")
        args.append(f"--migrations-setup-sql={setup}")
    result = run(pytester, *args)
    outcomes = outcomes_by_item(result)
    failed = {item.split("::")[0] for item, outcome in outcomes.items() if outcome == "FAILED"}
    assert failed == set(CORPUS_DEFECTS[name])
    assert all(outcome in ("PASSED", "FAILED") for outcome in outcomes.values()), outcomes
    for file_name, lines in CORPUS_DEFECTS[name].items():
        text = failure_text(result, f"{ids[file_name]}::roundtrip")
        for line in lines:
            assert line in text, text
        assert "Traceback" not in text
    assert LOST_ROWS not in result.stdout.str()  # no DOWN of these sets loses rows its UP kept
    for line in CORPUS_DATA_WARNINGS[name]:
        assert line in result.stdout.str()
    result.stdout.fnmatch_lines([f"migrations: *jobs={jobs} (command line --migrations-jobs)*"])


def test_quickwit_deferred_runs_on_top_of_the_main_track(pytester: pytest.Pytester) -> None:
    """A no-transaction migration (CONCURRENTLY), applied on a database the main track made."""
    from migration_lint.layouts import discover

    copy_set(corpus_set("quickwit-postgresql-deferred"), pytester.path)
    setup = pytester.path / "setup.sql"
    setup.write_text("\n;\n".join(m.up_sql for m in discover(corpus_set("quickwit-postgresql"))))
    result = run(pytester, *ROUNDTRIP_ONLY, f"--migrations-setup-sql={setup}")
    result.assert_outcomes(passed=1)


# -- servers ------------------------------------------------------------------------------------------


@pytest.mark.system_pg
def test_dsn_server_runs_the_examples(pytester: pytest.Pytester, system_pg_server: object) -> None:
    copy_set(EXAMPLES, pytester.path)
    dsn = SYSTEM_PG_DSN.replace("postgres@", "postgres:not-shown@")
    result = run(pytester, "--migrations-no-lint", f"--migrations-dsn={dsn}", "--migrations-pg-version=15")
    result.assert_outcomes(passed=38)  # round trip and lock trace on PostgreSQL 15
    result.stdout.fnmatch_lines(["migrations: *server=postgresql://postgres:***@127.0.0.1:5432/postgres*"])
    assert "not-shown" not in result.stdout.str()

    result = run(pytester, *ROUNDTRIP_ONLY, f"--migrations-dsn={dsn}", "--migrations-pg-version=16", "-k", "001")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*is PostgreSQL 15, but command line --migrations-pg-version asks for 16*"])


def test_docker_image_without_docker_skips_with_the_reason(pytester: pytest.Pytester) -> None:
    from pytest_migrations.database import docker_unavailable_reason

    if docker_unavailable_reason() is None:
        pytest.skip("a Docker engine runs here")
    write_migrations(pytester.path, {"001_a.sql": "-- UP\nCREATE TABLE a (id int);\n-- DOWN\nDROP TABLE a;\n"})
    result = run(pytester, *ROUNDTRIP_ONLY, "--migrations-image=postgres:16", "-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED*cannot start postgres:16*"])


def test_xdist_keeps_one_directory_on_one_worker(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, BROKEN_CHAIN)
    result = pytester.runpytest_subprocess(
        "--migrations", *BASE_ARGS, *ROUNDTRIP_ONLY, "-n", "2", "--dist", "loadgroup", "-rA"
    )
    result.assert_outcomes(passed=len(BROKEN_CHAIN) - len(EXPECTED_BROKEN), failed=len(EXPECTED_BROKEN))
    result.stdout.fnmatch_lines([
        "*column orders.status: default 'new'::text -> (none)*",
        "*pytest-migrations warnings*",
        "008_index_total_concurrently: data check skipped: CREATE INDEX CONCURRENTLY*",
    ])  # fmt: skip


# -- fixtures -----------------------------------------------------------------------------------------


def test_fixtures_give_a_database_at_head_and_at_any_version(pytester: pytest.Pytester) -> None:
    copy_set(EXAMPLES, pytester.path)
    pytester.makepyfile(test_data_migration="""
        def test_head(migrations_db):
            tables = {row[0] for row in migrations_db.connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
            assert {"users", "orders", "order_items", "products", "categories"} <= tables
            assert str(migrations_db.version) == "019"

        def test_backfill(migrate_to):
            db = migrate_to("010")
            db.connection.execute("INSERT INTO users (email) VALUES ('ada@example.com')")
            migrate_to("011")
            assert db.connection.execute("SELECT display_name FROM users").fetchone() == ("ada",)
            migrate_to("009")
            columns = {row[0] for row in db.connection.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'")}
            assert "display_name" not in columns
            assert db.connection.execute("SELECT count(*) FROM users").fetchone() == (1,)

        def test_unknown_version(migrate_to):
            migrate_to("999")
    """)
    result = pytester.runpytest_inprocess(*BASE_ARGS, "-p", "no:cacheprovider", "test_data_migration.py")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*no migration with version 999; versions run from 001 to 019*"])


# -- lint items ---------------------------------------------------------------------------------------


def test_lint_items_fail_on_errors_and_list_warnings_in_the_summary(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, {
        "001_orders.sql": """
            -- UP
            CREATE TABLE orders (id int, status text);
            -- DOWN
            SET lock_timeout = '5s';
            DROP TABLE IF EXISTS orders;
        """,
        "002_index_status.sql": """
            -- UP
            SET lock_timeout = '5s';
            CREATE INDEX orders_status_idx ON orders (status);
            -- DOWN
            SET lock_timeout = '5s';
            DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;
        """,
        "003_note.sql": """
            -- UP
            SET lock_timeout = '5s';
            ALTER TABLE orders ADD COLUMN note text;
            UPDATE orders SET note = 'none' WHERE status IS NULL;
            -- DOWN
            SET lock_timeout = '5s';
            ALTER TABLE orders DROP COLUMN note;
        """,
    })  # fmt: skip
    result = run(pytester, "-rA", "--migrations-no-locks")
    outcomes = outcomes_by_item(result)
    assert outcomes == {
        "001_orders.sql::roundtrip": "PASSED",
        "001_orders.sql::lint": "PASSED",
        "002_index_status.sql::roundtrip": "PASSED",
        "002_index_status.sql::lint": "FAILED",
        "003_note.sql::roundtrip": "PASSED",
        "003_note.sql::lint": "PASSED",
    }
    text = result.stdout.str()
    assert "002_index_status.sql:3:1: ML001 CREATE INDEX on existing table 'orders' without CONCURRENTLY" in text
    warnings = text[text.index("pytest-migrations warnings") :]
    assert "003_note.sql:4:1: ML031" in warnings

    result = run(pytester, "--migrations-no-lint", "--co", "-q")
    assert "::lint" not in result.stdout.str() and "::locks" in result.stdout.str()


def test_migrations_layout_option_and_its_pyproject_key(pytester: pytest.Pytester) -> None:
    write_migrations(pytester.path, {
        "1_index.up.sql": "CREATE INDEX CONCURRENTLY i ON t (a);\n",
        "1_index.down.sql": "DROP INDEX CONCURRENTLY i;\n",
    })  # fmt: skip
    result = run(pytester, "--collect-only", "--migrations-layout", "golang-migrate")
    assert "layout=golang-migrate (command line --migrations-layout)" in result.stdout.str()
    result.stdout.fnmatch_lines(["collected 3 items"])
    assert run(pytester, "--collect-only", "-q", "--migrations-layout", "nonsense").ret == pytest.ExitCode.USAGE_ERROR
    (pytester.path / "pyproject.toml").write_text('[tool.pytest-migrations]\nlayout = "sqlx"\n')
    assert "layout=sqlx" in run(pytester, "--collect-only").stdout.str()


def test_ignored_files_and_load_warnings_are_shown_once_and_fail_nothing(pytester: pytest.Pytester) -> None:
    directory = write_migrations(pytester.path, {
        "1_a.sql": "-- +migrate Up\nCREATE TABLE a (id int);\n-- +migrate Down\nDROP TABLE a;\n",
        "2_nothing.sql": "-- +migrate Up\n-- +migrate Down\n",
        "README.md": "notes\n",
        "seed.txt": "rows\n",
    })  # fmt: skip
    result = run(pytester, *ROUNDTRIP_ONLY, "-rA")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    output = result.stdout.str()
    summary = "migrations: layout sql-migrate (detected), 2 files ignored: README.md, seed.txt"
    assert output.count(summary) == 1
    assert "ignored: README.md: does not end in .sql: sql-migrate does not read it" in output
    assert output.count(f"warning: {directory / '2_nothing.sql'}") == 1
    result.assert_outcomes(passed=2)
    (directory / "README.md").unlink()
    (directory / "seed.txt").unlink()
    (directory / "2_nothing.sql").unlink()
    assert "pytest-migrations layout" not in run(pytester, *ROUNDTRIP_ONLY, "--co").stdout.str()


def test_a_dangling_link_named_as_a_migration_is_one_collection_error(pytester: pytest.Pytester) -> None:
    directory = write_migrations(pytester.path, {"001_a.sql": "-- UP\nCREATE TABLE a (id int);\n"})
    (directory / "002_b.sql").symlink_to(directory / "gone.sql")
    result = run(pytester, *ROUNDTRIP_ONLY)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*002_b.sql: is a symbolic link to a file that does not exist*", "*1 error*"])
    assert "Traceback" not in result.stdout.str()
