"""``migration-lint -`` : one migration read from standard input (an editor or a hook pipes the
buffer), linted as a one-file migration named by ``--stdin-filename``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .targets import LintResult


def lint_stdin(result: LintResult, filename: str | None) -> None:
    from .layouts import load_text
    from .model import MigrationFileError

    data = sys.stdin.buffer.read()
    path = Path(filename or "-")
    if b"\x00" in data:
        result.input_errors.append(f"{path}: is a binary file, not SQL (NUL byte)")
        return
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        result.input_errors.append(f"{path}: is not valid UTF-8 (byte offset {error.start})")
        return
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    try:
        migration = load_text(text, path)
    except MigrationFileError as error:
        result.input_errors.append(str(error))
        return
    session = result.session
    session.linter  # the session's texts are the linter's from here on
    session.sources[path] = text
    try:
        result.findings.extend(session.lint([migration]))
    except MigrationFileError as error:
        result.input_errors.append(str(error))
        return
    result.files_checked += 1
