"""An unreadable migration folder is one line and exit 2 in the linter and the runner, run as a
user who really cannot read it (root reads everything, so as root the tools run as ``nobody``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

NOBODY = 65534
SETPRIV = shutil.which("setpriv")

pytestmark = pytest.mark.skipif(
    os.geteuid() == 0 and SETPRIV is None, reason="as root this needs setpriv to run the tools as another user"
)


def _as_unprivileged(command: list[str]) -> subprocess.CompletedProcess[str]:
    prefix = [SETPRIV, "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups"] if os.geteuid() == 0 else []
    return subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=120, cwd="/")  # type: ignore[list-item]


@pytest.fixture
def diesel_with_an_unreadable_folder() -> Iterator[Path]:
    # Not tmp_path: pytest keeps its base directory private to the user running the tests.
    top = Path(tempfile.mkdtemp(prefix="unreadable-"))
    try:
        top.chmod(0o755)
        directory = top / "migrations"
        readable = directory / "2024-01-01-000000_create_a"
        hidden = directory / "2024-01-02-000000_create_b"
        for folder in (readable, hidden):
            folder.mkdir(parents=True)
            (folder / "up.sql").write_text("CREATE TABLE t (id int);\n")
            (folder / "down.sql").write_text("DROP TABLE t;\n")
        for path in [directory, *directory.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        hidden.chmod(0)
        yield hidden
    finally:
        hidden.chmod(0o755)
        shutil.rmtree(top)


def _tool(name: str) -> str:
    return str(Path(sys.executable).parent / name)


@pytest.fixture(autouse=True)
def _python_runs_unprivileged() -> None:
    if _as_unprivileged([sys.executable, "-c", "import migration_lint"]).returncode != 0:
        pytest.skip("this Python or the project is not readable by an unprivileged user")


def test_the_linter_names_the_unreadable_folder(diesel_with_an_unreadable_folder: Path) -> None:
    result = _as_unprivileged([_tool("migration-lint"), "--no-cache", str(diesel_with_an_unreadable_folder.parent)])
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.strip() == (
        f"migration-lint: {diesel_with_an_unreadable_folder}: cannot be listed: permission denied"
    )
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.system_pg
def test_the_runner_names_the_unreadable_folder(diesel_with_an_unreadable_folder: Path) -> None:
    result = _as_unprivileged([
        _tool("migrations"), "status", "--dir", str(diesel_with_an_unreadable_folder.parent),
        "--database-url", "postgresql://postgres@127.0.0.1:5432/postgres",
    ])  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{diesel_with_an_unreadable_folder}: cannot be listed: permission denied" in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
