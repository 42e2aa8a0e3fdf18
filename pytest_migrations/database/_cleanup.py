"""Leaving nothing behind: SIGTERM turned into a clean exit, and databases marked with their owner.

A run that is stopped (CI cancelling a job sends SIGTERM) unwinds as on Ctrl-C, so fixture
teardown and ``pytest_unconfigure`` drop what it made. A run that is killed outright (``kill
-9``, the machine going away) cannot, so every database it makes carries a comment naming the
process that made it (host, PID namespace, PID and that process's start time), and the next
run on the same server drops the ones whose owner process is gone. A database whose owner still
runs, on this host or another, is never touched.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import threading
from dataclasses import dataclass
from types import FrameType

import psutil

__all__ = ["Owner", "Terminated", "install_signal_handlers"]


class Terminated(KeyboardInterrupt):
    """Raised in the main thread on SIGTERM/SIGHUP once a server is in use.

    A KeyboardInterrupt, so pytest ends the session (with teardown) instead of failing one test.
    """


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    # A second signal during the cleanup kills at once, as the default would.
    signal.signal(signum, signal.SIG_DFL)
    raise Terminated(f"received {signal.Signals(signum).name}")


def install_signal_handlers() -> None:
    """Turn SIGTERM and SIGHUP into :class:`Terminated` (main thread; only where nobody else did)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        # A handler someone else installed (or SIG_IGN) is theirs to keep.
        if signum is not None and signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _raise_terminated)


_MARKER = re.compile(
    r"^pytest-migrations owner host=(?P<host>\S+) pidns=(?P<pidns>\S+) pid=(?P<pid>\d+) started=(?P<started>[\d.]+)$"
)


@dataclass(frozen=True)
class Owner:
    """The process that made a database, as written in the database's comment."""

    host: str
    pidns: str
    pid: int
    started: str

    @classmethod
    def current(cls) -> Owner:
        pid = os.getpid()
        return cls(socket.gethostname(), _pid_namespace(), pid, _start_time(pid) or "0")

    @classmethod
    def parse(cls, comment: str | None) -> Owner | None:
        match = _MARKER.match(comment or "")
        if match is None:
            return None
        return cls(match["host"], match["pidns"], int(match["pid"]), match["started"])

    @property
    def marker(self) -> str:
        return f"pytest-migrations owner host={self.host} pidns={self.pidns} pid={self.pid} started={self.started}"

    def is_gone(self) -> bool:
        """Whether the owner has certainly ended: same host and PID namespace, and its PID is
        free or now belongs to a process that started at another time. Unsure is not gone."""
        here = Owner.current()
        if (self.host, self.pidns) != (here.host, here.pidns):
            return False
        started = _start_time(self.pid)
        return started is None or started != self.started


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid").replace(":", "").replace("[", "-").rstrip("]")
    except OSError:
        return "-"


def _start_time(pid: int) -> str | None:
    try:
        return f"{psutil.Process(pid).create_time():.2f}"
    except (psutil.Error, OSError):
        return None
