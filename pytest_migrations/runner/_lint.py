"""Lint before apply: the one place the runner meets :mod:`migration_lint`'s engine.

The migrations a run is about to apply are linted with the project's ``[tool.migration-lint]``
settings, in the context of every migration before them, for the PostgreSQL version actually
being migrated. Only findings in the UP sections count (a run applies UPs). Errors block the run
unless ``--no-lint``; warnings are shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from migration_lint.model import Migration

from ._errors import InputError, display_path

# The runner sets lock_timeout itself for every migration that does not (see RunnerSettings),
# so the rule asking each file to set one is already satisfied when it applies the file.
RUNNER_SATISFIES = frozenset({"require-lock-timeout"})


@dataclass(frozen=True)
class LintFinding:
    path: Path
    line: int | None
    code: str
    severity: str
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def __str__(self) -> str:
        where = f"{display_path(self.path)}:{self.line}" if self.line else display_path(self.path)
        return f"{where}: {self.code} {self.message} [{self.severity}]"


@dataclass
class LintOutcome:
    """``status`` is ``ok``, ``findings`` or ``disabled`` (--no-lint)."""

    status: str
    findings: list[LintFinding] = field(default_factory=list)
    reason: str | None = None

    @property
    def errors(self) -> list[LintFinding]:
        return [finding for finding in self.findings if finding.is_error]


def lint(
    migrations: list[Migration],
    to_apply: list[Migration],
    *,
    enabled: bool = True,
    pg_version: int | None = None,
    runner_sets_lock_timeout: bool = True,
    start: Path | None = None,
) -> LintOutcome:
    """Lint ``to_apply`` (read in the context of ``migrations``) as the runner will apply it."""
    if not enabled:
        return LintOutcome("disabled", reason="--no-lint")
    if not to_apply:
        return LintOutcome("ok")
    from migration_lint.config import ConfigError
    from migration_lint.session import LintSession

    try:
        session = LintSession.for_path(
            start or to_apply[0].path.parent,
            pg_version=pg_version,
            without=RUNNER_SATISFIES if runner_sets_lock_timeout else (),
        )
        found = session.lint(migrations, only=to_apply)
    except ConfigError as error:
        raise InputError(str(error)) from None
    findings = [
        LintFinding(Path(raw.path), raw.line, raw.code, raw.severity, raw.message)
        for raw in found
        if raw.section == "up"
    ]
    return LintOutcome("findings" if findings else "ok", findings)
