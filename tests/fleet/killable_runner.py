"""A ``migrations`` process that ``kill -9``s itself at a chosen statement (a fork server).

Run as a script by the fault test: it imports the CLI once, then for each JSON request on stdin
forks a child that runs ``migrations ARGS`` with every statement it sends counted across its
threads. At the statement numbered ``kill_at`` the child sends itself SIGKILL: ``before`` sending
it, ``after`` its answer came back (a result or an error), or ``during``: ``delay_ms`` after it was sent, wherever the
run is by then (mid-statement, mid-commit, between statements). SIGKILL cannot be caught, so
nothing of the runner's cleanup runs: the kernel closes its sockets, as for a ``kill -9`` from
outside. The parent answers each request with one JSON line: how the child ended and how many
statements it sent (all of them when it was not killed).

Forking keeps twenty runs of a fleet within a few seconds of interpreter start-up: the parent
holds no threads and no connections, so a child starts clean.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading


def child(request: dict) -> None:
    import psycopg

    from pytest_migrations.cli import main

    kill_at, mode, delay = request.get("kill_at"), request.get("mode", "before"), request.get("delay_ms", 0)
    counter = {"sent": 0}
    lock = threading.Lock()
    real_execute = psycopg.Cursor.execute

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    def execute(cursor, *args, **kwargs):
        with lock:
            counter["sent"] += 1
            number = counter["sent"]
        if number == kill_at and mode == "before":
            die()
        if number == kill_at and mode == "during":
            threading.Timer(delay / 1000, die).start()
        try:
            return real_execute(cursor, *args, **kwargs)
        finally:  # after its answer, a result or an error
            if number == kill_at and mode == "after":
                die()

    psycopg.Cursor.execute = execute  # type: ignore[method-assign]
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    code = main(request["args"])
    with open(request["count_file"], "w", encoding="utf-8") as handle:
        handle.write(str(counter["sent"]))
    os._exit(code)


def serve() -> None:
    import pytest_migrations.cli  # noqa: F401  (imported once, before any fork)

    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                child(request)
            finally:
                os._exit(70)
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        answer = {"killed": killed, "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}
        if not killed and os.path.exists(request["count_file"]):
            with open(request["count_file"], encoding="utf-8") as handle:
                answer["sent"] = int(handle.read())
            os.remove(request["count_file"])
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    serve()
