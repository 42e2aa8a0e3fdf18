"""The server a chain can run on, as far as the extensions it creates go.

Before a walk, the tools ask :func:`server_for_extensions` with what the chain creates
(:func:`migration_lint.extensions.created_extensions`). A server that offers all of them is kept;
in place of the default embedded server, which lacks pgcrypto, uuid-ossp and PostGIS, a throwaway
cluster of a PostgreSQL installed on the machine that offers them is used; otherwise the walk stops
before it starts, with one message naming the extension, the migration and the ways out.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from migration_lint.extensions import ExtensionUse

from ._base import Server
from ._errors import DatabaseError

__all__ = ["ExtensionUnavailable", "available_extensions", "server_for_extensions"]

logger = logging.getLogger("pytest_migrations.database")


class ExtensionUnavailable(DatabaseError):
    """The chain creates an extension that no usable server offers (one line, with the ways out)."""


def available_extensions(server: Server) -> set[str]:
    """The extensions ``server`` can create (``pg_available_extensions``)."""
    with server._admin() as conn:
        return {name for (name,) in conn.execute("SELECT name FROM pg_catalog.pg_available_extensions")}


def server_for_extensions(server: Server, needed: Sequence[ExtensionUse], *, replaceable: bool) -> Server:
    """``server`` if it offers every extension of ``needed``; else, when ``replaceable`` (the
    default embedded server, not one the user chose), a cluster of a local PostgreSQL install
    that offers them all; else raise :class:`ExtensionUnavailable`."""
    if not needed:
        return server
    offered = available_extensions(server)
    missing = [use for use in needed if use.name not in offered]
    if not missing:
        return server
    if replaceable:
        from ._local import local_installs, local_server

        installs = local_installs()
        for install in installs:
            if all(install.offers(use.name) for use in needed):
                local = local_server(install)
                still = [use for use in needed if use.name not in available_extensions(local)]
                if not still:
                    logger.info("%s lacks %s: using %s", server, ", ".join(u.name for u in missing), local)
                    return local
        # Name the one no install offers: installing it is what the user has to do.
        missing.sort(key=lambda use: any(install.offers(use.name) for install in installs))
    raise ExtensionUnavailable(_message(missing[0], server, replaceable))


def _message(use: ExtensionUse, server: Server, replaceable: bool) -> str:
    needed_by = f"migration {use.migration}" if use.migration else "the set-up SQL"
    searched = " nor by a PostgreSQL installed on this machine" if replaceable else ""
    return (
        f"{use.where}: extension {use.name}, which {needed_by} creates, is not offered by {server}{searched};"
        f" run on a server that has it: --migrations-dsn URL (migrations trace: --database-url URL),"
        f" --migrations-image IMAGE (a Docker image with it, e.g. postgis/postgis for PostGIS),"
        f" or install PostgreSQL with the extension locally (e.g. apt install postgresql-contrib)"
    )
