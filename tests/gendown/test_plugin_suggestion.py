"""A failing ``::roundtrip`` shows the generated DOWN that would pass."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CHAIN = {
    "001_orders.sql": "-- UP\nCREATE TABLE orders (id int PRIMARY KEY, status text DEFAULT 'new');\n"
                      "-- DOWN\nDROP TABLE orders;\n",
    "002_status_default.sql": "-- UP\nALTER TABLE orders ALTER COLUMN status SET DEFAULT 'pending';\n"
                              "-- DOWN\nALTER TABLE orders ALTER COLUMN status DROP DEFAULT;\n",
    "003_drop_status.sql": "-- UP\nALTER TABLE orders DROP COLUMN status;\n-- DOWN\nSELECT 1;\n",
}  # fmt: skip


def test_a_failing_round_trip_shows_a_down_that_passes(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MIGRATIONS_DATABASE_URL", "MIGRATIONS_DIR", "MIGRATIONS_SETUP_SQL", "MIGRATIONS_NO_DATA_CHECK"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini("[pytest]\n")
    directory = pytester.path / "migrations"
    directory.mkdir()
    for name, text in CHAIN.items():
        (directory / name).write_text(text)
    result = pytester.runpytest_inprocess("--migrations", "--migrations-no-lint", "--migrations-no-locks",
                                          "-p", "no:randomly", "-W", "ignore::DeprecationWarning",
                                          "-W", "ignore::pytest.PytestDeprecationWarning")  # fmt: skip
    result.assert_outcomes(passed=1, failed=2)
    text = result.stdout.str()
    assert "a DOWN that passes this round trip (`migrations gen-down 002 --replace-broken` writes it):" in text
    assert "  ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new'::text;" in text
    assert "no DOWN can undo all of this UP:\n  irreversible: the values of column orders.status are gone with it" in text
    assert "Traceback" not in text
