"""The DOWN a failing round trip could have: shown under the failure by the pytest plugin."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from migration_lint.model import Migration

from ._generate import DownGenerator, prove

if TYPE_CHECKING:
    from ..database import Server

__all__ = ["suggest_down"]

logger = logging.getLogger("pytest_migrations.gendown")

# one generator per server and chain, for the session; its database goes with the server's others
_GENERATORS: dict[tuple[int, tuple[str, ...], str | None], DownGenerator] = {}


def suggest_down(
    server: Server,
    migrations: Sequence[Migration],
    migration: Migration,
    *,
    setup_sql: str | None = None,
    setup_sql_path: Path | None = None,
) -> str | None:
    """Text naming a generated DOWN for ``migration`` that passes its round trip (or what no
    DOWN can undo); ``None`` when none could be generated. Never raises: it only adds to a
    failure that is already reported."""
    key = (id(server), tuple(m.id for m in migrations), setup_sql)
    try:
        generator = _GENERATORS.get(key)
        if generator is None:
            # failures come in the chain's order: one database walks forward for all of them
            generator = _GENERATORS[key] = DownGenerator(server, migrations, setup_sql=setup_sql,
                                                         setup_sql_path=setup_sql_path)  # fmt: skip
        item = generator.down_for(migration)
        prove(server, migrations, [item], setup_sql=setup_sql, setup_sql_path=setup_sql_path, jobs=1)
    except Exception as error:  # noqa: BLE001 - the failure it would add to is the report
        logger.debug("no DOWN generated for %s: %s", migration.id, error)
        return None
    command = f"migrations gen-down {migration.version}" + ("" if migration.down is None else " --replace-broken")
    if item.irreversible:
        reasons = "".join(f"\n  irreversible: {reason}" for reason in item.irreversible)
        return (f"no DOWN can undo all of this UP:{reasons}\n"
                f"`{command} --allow-irreversible` writes the DOWN that undoes the rest, saying so")  # fmt: skip
    if not item.proven:
        return None
    body = "".join(f"\n  {line}" for line in item.text.rstrip("\n").split("\n")[1:])
    return f"a DOWN that passes this round trip (`{command}` writes it):{body}"
