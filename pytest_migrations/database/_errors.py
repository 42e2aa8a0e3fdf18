"""Exceptions raised by the throwaway-server layer; every message is one line, passwords redacted."""

from __future__ import annotations

from ..pgerrors import PytestMigrationsError

__all__ = [
    "DatabaseError",
    "DockerUnavailable",
    "EmbeddedServerError",
    "InvalidDsn",
    "PermissionDenied",
    "ServerUnavailable",
    "TemplateInUse",
]


class DatabaseError(PytestMigrationsError):
    """Base class: something about a throwaway PostgreSQL server or database went wrong."""


class InvalidDsn(DatabaseError):
    """The DSN could not be parsed."""


class ServerUnavailable(DatabaseError):
    """No server could be reached or started (a skip reason, not a failed migration)."""


class DockerUnavailable(ServerUnavailable):
    """A Docker image was asked for but no Docker engine (or testcontainers) is available."""


class EmbeddedServerError(ServerUnavailable):
    """The embedded PostgreSQL server could not be started."""


class PermissionDenied(DatabaseError):
    """The role may not do what is needed, typically CREATE DATABASE (SQLSTATE 42501)."""


class TemplateInUse(DatabaseError):
    """CREATE DATABASE ... TEMPLATE failed because other sessions are connected to the template."""
