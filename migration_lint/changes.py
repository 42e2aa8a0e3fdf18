"""``--changed-since GIT_REF``: the files git says changed since a commit, branch or tag (tracked
files changed since it, committed or not, and files git does not track yet)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .errors import MigrationLintError


class ChangesError(MigrationLintError):
    """git cannot say what changed (no repository, an unknown ref, no git): one line."""


def changed_since(ref: str, where: Path) -> set[str]:
    """Absolute, normalised paths of the files changed since ``ref`` in the repository that
    holds ``where``."""
    top = _git(["rev-parse", "--show-toplevel"], where, ref).strip()
    if not top:
        raise ChangesError(f"--changed-since {ref}: {where} is not in a git repository")
    changed = _git(["diff", "--name-only", "-z", "--no-renames", ref, "--"], Path(top), ref)
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], Path(top), ref)
    names = [name for name in (changed + untracked).split("\0") if name]
    return {os.path.normpath(os.path.join(top, name)) for name in names}


def _git(arguments: list[str], cwd: Path, ref: str) -> str:
    try:
        completed = subprocess.run(["git", *arguments], cwd=cwd, capture_output=True, text=True, check=False)
    except OSError as error:
        raise ChangesError(f"--changed-since {ref}: git cannot be run ({error.strerror or error})") from None
    if completed.returncode != 0:
        lines = [line for line in completed.stderr.splitlines() if line.strip()]
        reason = lines[0].removeprefix("fatal: ") if lines else f"git {arguments[0]} failed"
        raise ChangesError(f"--changed-since {ref}: {reason}")
    return completed.stdout
