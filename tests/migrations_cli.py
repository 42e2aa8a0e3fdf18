"""The ``migrations`` CLI run in this process, for the runner's and the fleet's tests (each
conftest imports the ``cli`` fixture from here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from pytest_migrations.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
    """Run ``migrations ARGS`` in this process; returns its exit code and output."""
    monkeypatch.delenv("MIGRATIONS_DATABASE_URL", raising=False)
    monkeypatch.delenv("MIGRATIONS_DIR", raising=False)

    def run(*args: str | Path) -> Result:
        capsys.readouterr()
        code = main([str(arg) for arg in args])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run
