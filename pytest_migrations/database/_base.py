"""The backend-independent part: a PostgreSQL server on which we make and drop throwaway databases."""

from __future__ import annotations

import logging
import secrets
from abc import ABC
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, ClassVar

import psycopg
from psycopg import errors, sql

from ..pgerrors import describe
from ._conninfo import describe_dsn, dsn_error, dsn_for_database, parse_dsn, redact_dsn
from ._cleanup import Owner
from ._errors import DatabaseError, PermissionDenied, ServerUnavailable, TemplateInUse

__all__ = ["DATABASE_PREFIX", "Database", "Server", "connect"]

logger = logging.getLogger("pytest_migrations.database")

DATABASE_PREFIX = "pytest_migrations_"
CONNECT_TIMEOUT_SECONDS = 10
_TEMPLATE_ATTEMPTS = 3


def connect(dsn: str, *, autocommit: bool = True, **kwargs: Any) -> psycopg.Connection[Any]:
    """Connect, turning a connection failure into a one-line :class:`ServerUnavailable`."""
    if "connect_timeout" not in parse_dsn(dsn):
        kwargs.setdefault("connect_timeout", CONNECT_TIMEOUT_SECONDS)
    try:
        return psycopg.connect(dsn, autocommit=autocommit, **kwargs)
    except psycopg.OperationalError as exc:
        raise ServerUnavailable(
            f"cannot connect to PostgreSQL at {describe_dsn(dsn)} ({redact_dsn(dsn)}): {dsn_error(dsn, exc)}"
        ) from None


@dataclass(frozen=True, repr=False)
class Database:
    """A database on a throwaway server: its name and a DSN that connects to it."""

    name: str
    dsn: str

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        """A new psycopg connection to this database (not autocommit unless asked)."""
        return psycopg.connect(self.dsn, **kwargs)

    def __repr__(self) -> str:
        return f"Database(name={self.name!r}, dsn={redact_dsn(self.dsn)!r})"


class Server(ABC):
    """A reachable PostgreSQL server on which we may create and drop our own databases.

    Every database it creates is named ``pytest_migrations_<random>``; it drops only such
    names, so it never touches a database it did not make.
    """

    kind: ClassVar[str]
    # Whether CREATE DATABASE copies the template's files (PostgreSQL 15 on) rather than write
    # each of its blocks to the WAL: cheaper, but it forces a checkpoint, which only a throwaway
    # server without fsync (embedded, local) takes in its stride.
    copies_template_files: ClassVar[bool] = False

    def __init__(self, admin_dsn: str) -> None:
        self._admin_dsn = admin_dsn
        self._created: set[str] = set()
        with self._admin() as conn:
            row = conn.execute(
                "SELECT current_setting('server_version_num')::int, current_setting('server_version')"
            ).fetchone()
        assert row is not None
        self.version_num: int = row[0]
        """``server_version_num``, e.g. 150014."""
        self.version: str = row[1]
        """``server_version``, e.g. ``"15.14 (Debian 15.14-0+deb12u1)"``."""

    @property
    def major(self) -> int:
        """The major version, e.g. 15."""
        return self.version_num // 10000

    @property
    def admin_dsn(self) -> str:
        """DSN of the maintenance database used for CREATE/DROP DATABASE."""
        return self._admin_dsn

    def dsn(self, dbname: str) -> str:
        """DSN for database ``dbname`` on this server."""
        return dsn_for_database(self._admin_dsn, dbname)

    def connect(self, dbname: str | None = None, *, autocommit: bool = True) -> psycopg.Connection[Any]:
        """A new connection to ``dbname`` (default: the maintenance database)."""
        return connect(self.dsn(dbname) if dbname else self._admin_dsn, autocommit=autocommit)

    def _admin(self) -> psycopg.Connection[Any]:
        return connect(self._admin_dsn)

    def create_database(self, template: str | None = None) -> str:
        """Create a fresh database (a copy of ``template`` if given) and return its name.

        Sessions still connected to a template made by this package (``pytest_migrations_*``)
        are ended first, because PostgreSQL copies a template only when nobody else is connected
        to it; on any other template they get :class:`TemplateInUse` instead.
        """
        name = f"{DATABASE_PREFIX}{secrets.token_hex(6)}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        if self.copies_template_files and self.major >= 15:
            statement += sql.SQL(" STRATEGY FILE_COPY")
        our_template = template if template is not None and template.startswith(DATABASE_PREFIX) else None
        with self._admin() as conn:
            for attempt in range(1, _TEMPLATE_ATTEMPTS + 1):
                if our_template is not None:
                    self._end_sessions(conn, our_template)
                try:
                    conn.execute(statement)
                    break
                except errors.ObjectInUse as exc:
                    if our_template is None or attempt == _TEMPLATE_ATTEMPTS:
                        raise TemplateInUse(
                            f"cannot copy template database {template!r} on {self}: {describe(exc)};"
                            " close the connections to it first"
                        ) from None
                except errors.InsufficientPrivilege as exc:
                    raise PermissionDenied(
                        f"{self._role(conn)} may not create databases on {self}: {describe(exc)};"
                        " grant CREATEDB or use another DSN"
                    ) from None
                except psycopg.Error as exc:
                    raise DatabaseError(f"cannot create database {name!r} on {self}: {describe(exc)}") from None
            self._created.add(name)
            # Who made it, so that a later run can drop it if this process is killed.
            conn.execute(sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(Owner.current().marker)
            ))
        logger.debug("created database %s (template %s)", name, template)
        return name

    def drop_database(self, name: str) -> None:
        """Drop database ``name``, ending its sessions; only names this package makes are accepted."""
        if not name.startswith(DATABASE_PREFIX):
            raise DatabaseError(
                f"refusing to drop {name!r} on {self}: only databases named {DATABASE_PREFIX}* are dropped"
            )
        identifier = sql.Identifier(name)
        with self._admin() as conn:
            try:
                if self.major >= 13:
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(identifier))
                else:
                    self._end_sessions(conn, name)
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(identifier))
            except psycopg.Error as exc:
                raise DatabaseError(f"cannot drop database {name!r} on {self}: {describe(exc)}") from None
        self._created.discard(name)
        logger.debug("dropped database %s", name)

    @contextmanager
    def fresh_database(self, template: str | None = None) -> Iterator[Database]:
        """Yield a new database (a copy of ``template`` if given); it is dropped afterwards."""
        name = self.create_database(template)
        try:
            yield Database(name=name, dsn=self.dsn(name))
        finally:
            self.drop_database(name)

    @staticmethod
    def _end_sessions(conn: psycopg.Connection[Any], dbname: str) -> None:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (dbname,),
        )

    @staticmethod
    def _role(conn: psycopg.Connection[Any]) -> str:
        return f"role {conn.info.user!r}"

    def drop_stale_databases(self) -> list[str]:
        """Drop the databases a killed run left behind: ours by name and role, and marked with an
        owner process that is certainly gone. Returns their names."""
        with self._admin() as conn:
            rows = conn.execute(
                "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database"
                " WHERE starts_with(datname, %s) AND pg_get_userbyid(datdba) = current_user",
                (DATABASE_PREFIX,),
            ).fetchall()
        dropped = []
        for name, comment in rows:
            owner = Owner.parse(comment)
            if owner is None or not owner.is_gone():
                continue
            try:
                self.drop_database(name)
            except DatabaseError as error:  # another run may be dropping it too
                logger.warning("%s", error)
                continue
            logger.info("dropped %s, left behind by process %s on %s", name, owner.pid, owner.host)
            dropped.append(name)
        return dropped

    def drop_created_databases(self) -> None:
        """Drop every database this handle created and has not dropped yet."""
        for name in sorted(self._created):
            self.drop_database(name)

    def close(self) -> None:
        """Release the server: drop leftover databases; backends that own a server also stop it."""
        self.drop_created_databases()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} PostgreSQL {self.major} at {redact_dsn(self._admin_dsn)}>"

    def __str__(self) -> str:
        return f"{self.kind} PostgreSQL {self.major} at {describe_dsn(self._admin_dsn)}"
