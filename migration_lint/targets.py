"""What a ``migration-lint`` run lints: the directories, files and standard input named on its
command line, each directory read once however many of its files are named.

A directory is linted whole, from the cache when it is unchanged, on several cores when it is
large and cold (:mod:`.parallel`). Files named one by one are grouped by their directory: the
directory is read once, the named migrations are linted in the context of the ones before them,
and only the named files' findings are reported, so that naming every file of a directory (as
pre-commit's ``--all-files`` does) costs what linting the directory costs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .cached import cached_directory_rows, cold_directories, lint_with_cache
from .session import normalised

if TYPE_CHECKING:
    from .session import LintSession

_SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "venv", ".venv", "target", "build", "dist"})


class LintResult:
    """What a run has gathered so far (a plain class: a dataclass costs start-up time)."""

    def __init__(self, session: LintSession, cache: Any = None) -> None:
        self.session = session
        self.cache = cache
        self.findings: list = []
        self.input_errors: list[str] = []
        self.files_checked = 0
        self.notes: list[str] = []  # files skipped as not migrations
        self.directories: list[Path] = []  # the migration directories named or found

    @property
    def sources(self) -> dict[Path, str]:
        """Texts already read (by the linter, or given on stdin)."""
        return self.session.sources

    def worker(self) -> LintResult:
        """A result of its own for one share of the work, on the same session, without the cache."""
        return LintResult(self.session)


def lint_targets(
    session: LintSession, paths: Sequence[str], *, cache: Any = None, jobs: int = 1, stdin_filename: str | None = None
) -> LintResult:
    """Lint every path (``-`` is standard input); raises ``ConfigError`` for a bad rule option."""
    result = LintResult(session, cache)
    directories, files, stdin = _collect(paths, session.config, result)
    result.directories = directories
    whole = session.changed is None  # with --changed-since, a directory is never linted whole
    fresh = cold_directories(result, directories) if whole else directories
    weights = None
    if fresh and jobs > 1 and whole:
        from .parallel import parallel_weights

        weights = parallel_weights(fresh)
    if weights is not None:
        from .parallel import lint_in_parallel

        lint_in_parallel(result, fresh, weights, jobs, lint_directory)
    else:
        for directory in fresh:
            lint_directory(result, directory)
    if files:
        lint_files(result, files)
    if stdin:
        from .stdin import lint_stdin

        lint_stdin(result, stdin_filename)
    if cache is not None:
        cache.save()
    return result


def _collect(paths: Sequence[str], config: Any, result: LintResult) -> tuple[list[Path], list[Path], bool]:
    directories: list[Path] = []
    files: list[Path] = []
    stdin = False
    for raw in paths:
        if raw == "-":
            stdin = True
            continue
        path = Path(raw)
        if not path.exists():
            result.input_errors.append(f"{raw}: no such file or directory")
        elif path.is_dir():
            if config.is_excluded(path) and raw not in (".", ""):
                continue
            directories.extend(d for d in _migration_dirs(path, config, errors=result.input_errors) if d not in directories)
        elif not config.is_excluded(path):
            files.append(path)
    return directories, files, stdin


def _is_dir(entry: os.DirEntry) -> bool:
    """Whether ``entry`` is a folder; a symbolic link loop is not (the layout reports it)."""
    try:
        return entry.is_dir()
    except OSError:
        return False


def _migration_dirs(directory: Path, config: Any, depth: int = 0, errors: list[str] | None = None) -> list[Path]:
    """``directory`` if it holds migrations, else the folders below it that do."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as error:
        if errors is not None:
            errors.append(f"{directory}: cannot be listed: {(error.strerror or str(error)).lower()}")
        return []
    # Any name ending in .sql counts, file or not: the layout says what a dangling link or a FIFO is.
    has_sql = any(e.name.lower().endswith(".sql") for e in entries)
    subdirs = [e for e in entries if _is_dir(e) and not e.name.startswith(".") and e.name not in _SKIPPED_DIRS]
    if has_sql or any(os.path.isfile(os.path.join(e.path, "up.sql")) for e in subdirs):
        return [directory]
    if depth >= 8:
        return []
    found: list[Path] = []
    for entry in subdirs:
        child = directory / entry.name
        if not config.is_excluded(child):
            found.extend(_migration_dirs(child, config, depth + 1, errors))
    return found


def lint_directory(result: LintResult, directory: Path, part: int = 0, parts: int = 1) -> None:
    """Lint one directory, or with ``parts`` > 1 its ``part``-th share of migrations (the ones
    before it are read for context). The cache, if any, was asked by ``cold_directories``."""
    from .model import MigrationFileError

    session = result.session
    try:
        migrations = session.migrations(directory)
    except MigrationFileError as error:
        if not part:  # the first part reports the directory's problems
            result.input_errors.append(str(error))
        return
    if not migrations:
        if not part:  # not a migration history: SQL scripts (no versions, no headings), each on its own
            for path in sorted(directory.glob("*.sql")):
                if path.is_file() and not session.config.is_excluded(path):
                    _lint_lone_file(result, path)
        return
    wanted = session.wanted(migrations)
    if parts > 1:
        from .parallel import part_bounds

        sizes = [len(m.up.sql) + (len(m.down.sql) if m.down is not None else 0) for m in migrations]
        bounds = part_bounds(sizes, parts)
        mine = {id(m) for m in migrations[bounds[part] : bounds[part + 1]]}
        wanted = [m for m in wanted if id(m) in mine]  # the linter reads no further than these
    try:
        found = lint_with_cache(result, migrations, wanted)
    except MigrationFileError as error:  # SQL that sqlglot cannot parse (--dialect mysql|sqlite)
        result.input_errors.append(str(error))
        return
    files = sum(len(m.paths) for m in wanted)
    result.files_checked += files
    result.findings.extend(found)
    if result.cache is not None and session.changed is None:
        result.cache.put_directory(directory, files, [f.to_row() for f in found])


def lint_files(result: LintResult, files: list[Path]) -> None:
    """Lint files named one by one: grouped by the directory whose migrations they are, each
    directory read (or taken from the cache) once."""
    from .layouts import detect_layout
    from .model import MigrationFileError

    layouts: dict[Path, bool] = {}

    def holds_migrations(directory: Path) -> bool:
        if directory not in layouts:
            try:
                layouts[directory] = detect_layout(directory) is not None
            except MigrationFileError:
                layouts[directory] = False
        return layouts[directory]

    groups: dict[Path | None, list[Path]] = {}
    for path in files:
        # ``<version>/up.sql`` belongs to the directory two levels up.
        candidates = [path.parent.parent, path.parent] if path.name.lower() in ("up.sql", "down.sql") else [path.parent]
        directory = next((candidate for candidate in candidates if holds_migrations(candidate)), None)
        named = groups.setdefault(directory, [])
        if path not in named:
            named.append(path)
    for directory, named in groups.items():
        if directory is None:
            for path in named:
                _lint_lone_file(result, path)
        else:
            _lint_files_of(result, directory, named)


def _lint_files_of(result: LintResult, directory: Path, named: list[Path]) -> None:
    from .finding import Finding
    from .model import MigrationFileError

    session = result.session
    wanted_paths = {normalised(path) for path in named}
    rows = cached_directory_rows(result, directory) if session.changed is None else None
    if rows is not None:
        result.findings.extend(Finding.from_row(row) for row in rows if normalised(row[0]) in wanted_paths)
        result.files_checked += len(wanted_paths)
        return
    try:
        migrations = session.migrations(directory)
    except MigrationFileError:
        for path in named:
            _lint_lone_file(result, path)
        return
    by_path = {normalised(p): m for m in migrations for p in m.paths}
    chosen = {id(by_path[key]) for key in wanted_paths if key in by_path}
    wanted = [m for m in migrations if id(m) in chosen]
    try:
        found = lint_with_cache(result, migrations, wanted)
    except MigrationFileError as error:
        result.input_errors.append(str(error))
        return
    linted = {normalised(p) for m in session.wanted(wanted) for p in m.paths} & wanted_paths
    result.files_checked += len(linted)
    result.findings.extend(f for f in found if normalised(f.path) in linted)
    everything = session.wanted(migrations)
    if result.cache is not None and session.changed is None and len(wanted) == len(everything):
        # Every migration was named (pre-commit --all-files): next time the directory is one entry.
        result.cache.put_directory(directory, sum(len(m.paths) for m in everything), [f.to_row() for f in found])
    ignored = {normalised(p): why for p, why in session.loaded(directory).ignored}
    for path in named:
        if normalised(path) in by_path:
            continue
        why = ignored.get(normalised(path))
        if why is not None and migrations:
            layout = session.loaded(directory).layout.name
            result.notes.append(f"{path}: skipped: not a migration of this {layout} directory ({why})")
        else:
            _lint_lone_file(result, path)


def _lint_lone_file(result: LintResult, path: Path) -> None:
    """A SQL file that is not part of a migration history, linted on its own."""
    from .layouts import load_file
    from .model import MigrationFileError

    try:
        target = load_file(path)
    except MigrationFileError as error:
        result.input_errors.append(str(error))
        return
    if not result.session.wanted([target]):
        return
    try:
        found = lint_with_cache(result, [target], [target])
    except MigrationFileError as error:
        result.input_errors.append(str(error))
        return
    result.files_checked += 1
    result.findings.extend(f for f in found if normalised(f.path) == normalised(path))
