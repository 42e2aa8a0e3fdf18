"""Backend 2: a PostgreSQL container from a named image, through testcontainers (extra "docker")."""

from __future__ import annotations

import atexit
import os
from typing import Any

from migration_lint import install_command

from ._base import Server
from ..pgerrors import describe
from ._errors import DockerUnavailable, ServerUnavailable

__all__ = ["DockerServer", "docker_unavailable_reason", "start_docker_server"]

_DEFAULT_SOCKET = "/var/run/docker.sock"
_PING_TIMEOUT_SECONDS = 5


def _postgres_container_class() -> Any:
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:
        try:
            from testcontainers.postgres import PostgresContainer
        except ImportError:
            return None
    return PostgresContainer


def docker_unavailable_reason() -> str | None:
    """Why no PostgreSQL container can be started here, or None when Docker answers."""
    if _postgres_container_class() is None:
        return f"testcontainers is not installed ({install_command('docker')})"
    if not os.environ.get("DOCKER_HOST") and not os.path.exists(_DEFAULT_SOCKET):
        return f"no Docker engine: DOCKER_HOST is unset and {_DEFAULT_SOCKET} does not exist"
    try:
        import docker

        client = docker.from_env(timeout=_PING_TIMEOUT_SECONDS)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return f"no Docker engine reachable: {describe(exc)}"
    return None


class DockerServer(Server):
    """A PostgreSQL container we started; :meth:`close` removes it."""

    kind = "docker"

    def __init__(self, container: Any, image: str) -> None:
        self.image = image
        self._container = container
        super().__init__(container.get_connection_url())

    def close(self) -> None:
        """Stop and remove the container (idempotent)."""
        container, self._container = self._container, None
        if container is not None:
            atexit.unregister(container.stop)
            container.stop()

    def __repr__(self) -> str:
        return f"<DockerServer {self.image} {super().__repr__()[1:-1]}>"


def start_docker_server(image: str) -> DockerServer:
    """Start ``image`` (e.g. ``postgres:16``) or raise :class:`DockerUnavailable` saying why not."""
    reason = docker_unavailable_reason()
    if reason is not None:
        raise DockerUnavailable(f"cannot start {image}: {reason}")
    container = _postgres_container_class()(image, driver=None)
    atexit.register(container.stop)
    try:
        container.start()
        return DockerServer(container, image)
    except Exception as exc:
        atexit.unregister(container.stop)
        try:
            container.stop()
        except Exception:
            pass
        raise ServerUnavailable(f"cannot start PostgreSQL container {image}: {describe(exc)}") from exc
