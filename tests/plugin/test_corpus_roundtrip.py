"""The round trip over the corpus sets beyond the four ``test_plugin`` pins, with the public
:class:`~pytest_migrations.roundtrip.ChainWalker` on the embedded PostgreSQL 18.

Each set pins which migrations fail and how (:func:`kinds_of`), and a line of a few failures read
against the set's own files to be sure they are the set's defects, not the walker's. A set whose
extensions the server lacks is skipped with the product's own extension check.
"""

from __future__ import annotations

import pytest

from migration_lint.extensions import created_extensions
from migration_lint.layouts import discover
from pytest_migrations.database import Server
from pytest_migrations.database._extensions import ExtensionUnavailable, server_for_extensions
from pytest_migrations.roundtrip import ChainWalker, StepResult
from shared_corpus import corpus_set

# measure's init-postgres.sh creates the schema and puts it first on the database's search_path;
# most of its files qualify names with it, seven do not.
MEASURE_SETUP = (
    "CREATE SCHEMA measure;\n"
    "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = measure, public', current_database()); END $$;\n"
)
SETS: dict[str, str | None] = {
    "convoy": None,
    "graph-node": None,
    "marquez": None,
    "measure": MEASURE_SETUP,
    "nakama": None,
    "tracetest": None,
    "tycho-storage": None,
}

KINDS = (
    ("has no DOWN", "no DOWN"),
    ("lost or changed rows that UP kept", "rows lost"),
    ("did not restore the schema", "schema not restored"),
    ("failed after its DOWN", "UP fails again"),
)


def kinds_of(result: StepResult) -> tuple[str, ...]:
    """What went wrong at one step, in short: ``("schema not restored", "UP fails again")``."""
    if result.outcome == "skipped":
        return ("skipped",)
    kinds = []
    for problem in result.problems:
        kind = next((short for marker, short in KINDS if marker in problem.headline), None)
        if kind is None and problem.headline.endswith(" failed"):
            kind = "DOWN fails" if problem.headline.startswith("DOWN ") else "UP fails"
        kinds.append(kind or problem.headline)
    return tuple(kinds)


# What the walk finds, by migration; every other migration passes.
FAILURES: dict[str, dict[str, tuple[str, ...]]] = {
    "convoy": {
        "1677078479": ("schema not restored",),
        "1677770163": ("schema not restored",),
        "1679836136": ("schema not restored",),
        "1684504109": ("schema not restored",),
        "1684918027": ("schema not restored",),
        "1685202737": ("schema not restored",),
        "1705562731": ("no DOWN",),
        "1705575999": ("schema not restored",),
        "1709568783": ("schema not restored",),
        "1709729972": ("schema not restored",),
        "1715849591": ("schema not restored",),
    },
    "graph-node": {
        "2018-07-10-061642_create_entities_table": ("schema not restored", "UP fails again"),
        "2018-07-10-062717_create_history_triggers": ("DOWN fails",),
        "2018-07-10-062730_create_revert_procedures": ("DOWN fails",),
        "2018-12-21-003727_create_attribute_indexing_procedure": ("DOWN fails",),
        "2019-02-01-045927_add_entities_indexes": ("schema not restored",),
        "2019-03-07-171355_update_history_storage": ("schema not restored",),
        "2019-04-22-190022_remove_unneeded_stored_procs": ("schema not restored",),
        "2019-07-20-195916_remove_subgraph": ("schema not restored", "UP fails again"),
        "2019-09-02-230613_create_btree_extension": ("schema not restored",),
        "2020-01-17-013633_remove_unused_procs": ("schema not restored",),
        "2020-03-06-020253_relational-metadata": ("schema not restored", "UP fails again"),
        "2020-04-04-002817_change_deployment_state": ("schema not restored",),
        "2020-04-10-111111_add_deployment_errors": ("DOWN fails",),
        "2020-05-16-225611_add_deployment_detail_view": ("schema not restored",),
        "2020-07-31-162138_meta-views": ("schema not restored",),
        "2020-11-10-100000_last_healthy_block": ("DOWN fails",),
        "2020-12-12-000004_sharded_deployment_detail": ("schema not restored",),
        "2020-12-15-000000_remove_nested_templates": ("DOWN fails",),
        "2020-12-7-190800_subgraph_error_changes": ("schema not restored", "UP fails again"),
        "2021-01-15-013524_drop_deployment_detail": ("DOWN fails",),
        "2021-01-19-033749_add_chains": ("DOWN fails",),
        "2021-02-17-205502_simplify_metadata": ("DOWN fails",),
        "2021-02-18-000721_dds_embed_source": ("DOWN fails",),
        "2021-02-18-171423_dds_remove_ethereum_contract_source": ("DOWN fails",),
        "2021-02-24-051050_dds_remove_unused_columns": ("DOWN fails",),
        "2021-02-25-233156_dds_remove_id_block_range": ("DOWN fails",),
        "2021-03-11-231340_subgraph_deployment_changes": ("DOWN fails",),
        "2021-03-12-014815_subgraph_deployment_pkey": ("DOWN fails",),
        "2021-03-16-001809_assignment_deployment": ("DOWN fails",),
        "2021-03-16-165131_subgraph_manifest": ("DOWN fails",),
        "2021-03-19-161012_unused_deployments_pk": ("DOWN fails",),
        "2021-03-20-001347_deployment_schemas_active": ("schema not restored", "UP fails again"),
        "2021-03-24-220541_deployment_schemas_deployment_shard": ("DOWN fails",),
        "2022-03-23-010300_drop-metadata-indexes": ("schema not restored",),
        "2022-10-13-000000_track_processed_data_source": ("DOWN fails",),
        "2023-06-06-054643_create_subgraph_features_table": ("DOWN fails",),
        "2023-12-15-182102_add_first_last_fn": ("DOWN fails",),
        "2024-01-05-170000_ds_corruption_fix_up": ("UP fails again",),
        "2025-05-13-173523_split_subgraph_deployment": ("schema not restored",),
    },
    "measure": {
        "20250505092303_alter-apps-table": ("schema not restored",),
        "20260114110547_drop_app_settings_table": ("schema not restored",),
        "20260121140234_seed_team_billing_table": ("rows lost",),
        "20260226083235_drop_team_threshold_prefs_table": ("schema not restored",),
        "20260226083256_seed_app_threshold_prefs_table": ("rows lost",),
        "20260314144956_drop_alert_prefs_table": ("schema not restored",),
        "20260421120002_drop_billing_metrics_reporting_table": ("schema not restored",),
        "20260421120003_alter_teams_table": ("schema not restored",),
        "20260501120000_alter_teams_autumn_customer_id_to_uuid": ("schema not restored",),
        "20260601024730_alter_build_mappings_table": ("DOWN fails",),
        "20260604103948_alter_apps_table": ("schema not restored",),
        "20260606120000_alter_apps_table": ("schema not restored",),
        "20260707100000_alter_agent_conversations_table": ("schema not restored", "rows lost"),
    },
    "nakama": {
        "20210416090601-purchase": ("schema not restored",),
        "20250926112031-console-fine-grained-acl": ("schema not restored",),
        "20260319134532-add-display-name-index": ("schema not restored",),
    },
    "tracetest": {
        "9_fix_test_runs_pkey": ("schema not restored",),
        "26_add_linter": ("schema not restored", "UP fails again"),
        "34_add_composite_pkey": ("schema not restored",),
        "38_migrate_run_sequences": ("no DOWN",),
    },
}  # fmt: skip

# Lines read against the files: the DOWN really does this.
CONFIRMED: dict[str, dict[str, str | tuple[str, ...]]] = {
    "graph-node": {
        # the DOWN drops the view UP dropped, instead of re-creating it
        "2021-01-15-013524_drop_deployment_detail": 'view "subgraph_deployment_detail" does not exist',
        # UP leaves a temporary table behind, so UP again in the same session collides with it
        "2024-01-05-170000_ds_corruption_fix_up": 'relation "temp_sgd_last_block" already exists',
        # down.sql drops only entities; UP created db_version too
        "2018-07-10-061642_create_entities_table": "table db_version: unexpected",
        # "alter table ... add column templates;" has no type
        "2020-12-15-000000_remove_nested_templates": 'syntax error at or near ";"',
    },
    "tracetest": {
        # the DOWN drops a table "linters" that the UP never made, not the column test_runs.linter
        "26_add_linter": "column test_runs.linter: unexpected",
        "38_migrate_run_sequences": "has no DOWN",
    },
    "convoy": {
        "1677078479": "schema convoy: unexpected",
    },
    "measure": {
        # the DOWN's schema name is misspelt
        "20260601024730_alter_build_mappings_table": 'schema "meausre" does not exist',
        # the DOWN deletes every conversation on purpose (its comment says so) and loses the comment
        # and UP's dropped column is named beside DOWN's lost rows, not hidden by them
        "20260707100000_alter_agent_conversations_table": (
            "table measure.agent_conversations: row (id=",
            "UP drops column app_id of measure.agent_conversations with its seeded values (an irreversible data change)",
        ),
        # DOWN: DELETE FROM measure.team_billing WHERE plan = 'free', rows UP did not insert among them
        "20260121140234_seed_team_billing_table": "table measure.team_billing: row (team_id=",
    },
    "nakama": {
        # its own COMMIT; BEGIN; (for CockroachDB) runs as sql-migrate runs it; the DOWN adds role back
        # without the CHECK (role >= 1) that 20201005180855-console gave it
        "20250926112031-console-fine-grained-acl": "constraint console_user.console_user_role_check: missing",
        # COMMIT; CREATE INDEX CONCURRENTLY ...; BEGIN; runs (the index is built outside a transaction,
        # as in production); the DOWN drops the index but not the pg_trgm its UP created
        "20260319134532-add-display-name-index": "extension pg_trgm: unexpected",
    },
    "marquez": {"1_initial_schema": "has no DOWN"},  # Flyway Community has no undo files
}


def walk_server(server: Server, name: str) -> Server:
    """The server that can walk set ``name``, or a skip with the extension check's reason."""
    try:
        return server_for_extensions(server, created_extensions(discover(corpus_set(name))), replaceable=False)
    except ExtensionUnavailable as unavailable:
        pytest.skip(str(unavailable))


@pytest.mark.parametrize("name", sorted(SETS))
def test_round_trip_finds_the_sets_real_defects(pg_server: Server, name: str) -> None:
    server = walk_server(pg_server, name)
    migrations = discover(corpus_set(name))
    with ChainWalker(server, migrations, setup_sql=SETS[name]) as walker:
        results = list(walker.walk())
    assert len(results) == len(migrations)
    expected = FAILURES.get(name)
    if name == "marquez":
        # Flyway Community has no undo (U) files: no versioned migration can be rolled back. Its
        # three R__ views are applied again instead, as Flyway does when they change, and pass.
        expected = {migration.id: ("no DOWN",) for migration in migrations if not migration.repeatable}
        assert sum(migration.repeatable for migration in migrations) == 3
    found = {result.migration.id: kinds_of(result) for result in results if result.outcome != "passed"}
    assert found == expected
    reports = {result.migration.id: result.report() + "\n".join(result.warnings) for result in results}
    for migration_id, lines in CONFIRMED[name].items():
        for line in (lines,) if isinstance(lines, str) else lines:
            assert line in reports[migration_id], reports[migration_id]
    assert all("Traceback" not in report for report in reports.values())
