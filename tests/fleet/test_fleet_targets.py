"""The targets file: one DSN and an optional schema per line; bad lines name file and line."""

from __future__ import annotations

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from pytest_migrations.fleet import read_targets
from pytest_migrations.runner import InputError


def write(tmp_path, text: str):
    path = tmp_path / "targets.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_urls_key_value_dsns_schemas_comments_and_blank_lines(tmp_path):
    path = write(tmp_path, (
        "# tenants of shard 1\n"
        "\n"
        "postgresql://app@db1/shop tenant_a\n"
        "postgresql://app@db1/shop   tenant_b   # moved in March\n"
        "host=db2 port=5433 dbname=billing\n"
        "host=db2 port=5433 dbname=billing acme\n"
    ))
    targets = read_targets(path)
    assert [(t.schema, t.line) for t in targets] == [("tenant_a", 3), ("tenant_b", 4), (None, 5), ("acme", 6)]
    assert targets[2].dsn == "host=db2 port=5433 dbname=billing"
    assert targets[0].label == "db1:5432/shop tenant_a"


def test_a_schema_target_connects_with_its_schema_first_on_the_search_path(tmp_path):
    path = write(tmp_path, "postgresql://app@db1/shop?options=-c%20statement_timeout%3D5s Tenant_A\n")
    (target,) = read_targets(path)
    options = conninfo_to_dict(target.connection_dsn())["options"]
    assert options == '-c statement_timeout=5s -c search_path="Tenant_A",public'


@pytest.mark.parametrize(("text", "message"), [
    ("postgresql://app@db1/shop a b\n", "targets.txt:1: expected a DSN and at most one schema name, found 3 words"),
    ("# header\nshop\n", "targets.txt:2: not a DSN"),
    ("postgresql://app@db1/shop a\npostgresql://app@db1/shop a\n", "targets.txt:2: the same target as line 1"),
    ("# only comments\n\n", "no targets"),
    ("host=db1 dbname='shop\n", "targets.txt:1: not a valid DSN"),
])
def test_bad_lines_name_the_file_and_line(tmp_path, text, message):
    with pytest.raises(InputError) as caught:
        read_targets(write(tmp_path, text))
    assert message in caught.value.line
    assert caught.value.exit_code == 2


def test_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="targets file not found"):
        read_targets(tmp_path / "nope.txt")


def test_a_bad_dsn_never_shows_its_password(tmp_path):
    with pytest.raises(InputError) as caught:
        read_targets(write(tmp_path, "host=db1 password=hunter2secret port='5432\n"))
    assert "hunter2secret" not in caught.value.line
    with pytest.raises(psycopg.Error):  # the line above really is a DSN libpq refuses
        conninfo_to_dict("host=db1 password=hunter2secret port='5432")


TOML = '''
# two canaries, then the rest
[[target]]
name = "acme"
dsn = "postgresql://app@db1/shop"
schema = "acme"
group = "canary"

[[target]]
dsn = "host=db2 dbname=globex"
group = "rest"

[[target]]
name = "initech"
dsn = "postgresql://app@db1/shop"
schema = "initech"
group = "canary"
'''


def test_toml_targets_have_names_groups_and_lines(tmp_path):
    path = tmp_path / "fleet.toml"
    path.write_text(TOML, encoding="utf-8")
    targets = read_targets(path)
    assert [(t.label, t.schema, t.group, t.line) for t in targets] == [
        ("acme", "acme", "canary", 3), ("db2:5432/globex", None, "rest", 9), ("initech", "initech", "canary", 13),
    ]
    from pytest_migrations.fleet import Fleet

    waves = Fleet(tmp_path, targets).waves()
    assert [(name, [t.label for _, t in wave]) for name, wave in waves] == [
        ("canary", ["acme", "initech"]), ("rest", ["db2:5432/globex"]),
    ]


@pytest.mark.parametrize(("text", "message"), [
    ('[[target]]\nname = "a"\n', "fleet.toml:1: a target needs a dsn"),
    ('[[target]]\ndsn = "postgresql://db/a"\n\n[[target]]\ndsn = "postgresql://db/b"\nshcema = "x"\n',
     "fleet.toml:4: unknown key 'shcema' in a target"),
    ('[[target]]\ndsn = "postgresql://db/a"\nname = "x"\n[[target]]\ndsn = "postgresql://db/b"\nname = "x"\n',
     "fleet.toml:4: the name 'x' is already used by the target on line 1"),
    ('[[target]]\ndsn = "postgresql://db/a"\ndsn = "x"\n', "fleet.toml:3: not valid TOML"),
])
def test_bad_toml_targets_name_the_file_and_line(tmp_path, text, message):
    path = tmp_path / "fleet.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_targets(path)
    assert message in caught.value.line
