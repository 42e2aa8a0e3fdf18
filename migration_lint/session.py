"""The lint session: the one way in to the linter for every tool that lints.

The ``migration-lint`` CLI, the language server, the pytest plugin's ``::lint`` items, the
runner's lint before apply and the lock tracer all lint through a :class:`LintSession`. A session
owns three decisions, made once for all of them:

- the configuration: found once (``.migration-lint.toml`` or ``[tool.migration-lint]`` nearest to
  the migrations), with what the caller overrides (PostgreSQL version, dialect, rules it takes on
  itself);
- the migrations: each directory is read once per session, however many files of it are named;
- the filter: which migrations are linted (``exclude``, ``--changed-since``), which findings are
  kept (``per-file-ignores``) and which may fail (none of a migration older than ``since``).

The linter itself (:class:`~migration_lint.engine.Linter` or the sqlglot
:class:`~migration_lint.dialects.DialectLinter`) is built on first use, so a session whose
findings all come from the cache never imports a rule or the parser.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:
    from .config import Config
    from .finding import Finding
    from .model import Migration, Version


class LintSession:
    """One configured lint: ``lint(migrations, only=...)`` gives the findings every tool reports.

    ``without``: rule names the caller takes care of itself (the runner sets ``lock_timeout``);
    ``since``: a version, overriding the configuration's; ``changed``: when given, the only files
    (absolute, normalised paths) whose migrations are linted, the others being read for context;
    ``apply_suppressions=False`` keeps the findings that comments silence (the tracer weighs the
    comments itself).
    """

    def __init__(
        self,
        config: Config,
        *,
        dialect: str | None = None,
        pg_version: int | None = None,
        assume_in_transaction: bool | None = None,
        without: Iterable[str] = (),
        since: str | None = None,
        changed: set[str] | None = None,
        sources: dict[Path, str] | None = None,
        apply_suppressions: bool = True,
    ) -> None:
        from .config import ConfigError

        self.config = config
        if dialect is not None:
            config.dialect = dialect
        if pg_version is not None:
            config.pg_version = pg_version
        if assume_in_transaction is not None:
            config.assume_in_transaction = assume_in_transaction
        without = [name for name in without if name not in config.ignore]
        config.ignore = [*config.ignore, *without]
        if since is not None:
            config.since = str(since)
        self.since: Version | None = None
        if config.since is not None:
            try:
                self.since = parse_since(config.since)
            except ValueError as error:
                raise ConfigError(f"{config.source or 'configuration'}: since: {error}") from None
        self.changed = changed
        self.sources: dict[Path, str] = dict(sources or {})
        self._apply_suppressions = apply_suppressions
        self._linter: Any = None
        self._migrations: dict[Path, list[Migration]] = {}
        self._ignored: dict[str, set[str]] = {}
        # Files of the migrations older than ``since`` met so far: --fix leaves them alone.
        self.older_paths: dict[str, str] = {}

    @classmethod
    def for_path(cls, start: Path, *, config_file: Path | None = None, **options: Any) -> LintSession:
        """A session with the configuration nearest ``start`` (or ``config_file``); raises
        :class:`~migration_lint.config.ConfigError`."""
        from .config import find_config, load_config

        return cls(load_config(config_file if config_file is not None else find_config(start)), **options)

    @property
    def dialect(self) -> str:
        return getattr(self.config, "dialect", None) or "postgres"

    @property
    def linter(self) -> Any:
        """The configured linter, built once; raises ``ConfigError`` for a bad rule option."""
        if self._linter is None:
            from .dialects import make_linter

            self._linter = make_linter(self.config, self.dialect, self.sources)
            self._linter.pipeline.apply_suppressions = self._apply_suppressions
            self.sources = self._linter.pipeline.sources  # one dictionary of texts read
        return self._linter

    @property
    def reads_later_migrations(self) -> bool:
        """Whether a selected rule's findings depend on the migrations after the one it lints
        (see ``Rule.reads_later_migrations``): a cache then keys them on those too."""
        return any(getattr(rule, "reads_later_migrations", False) for rule in getattr(self.linter, "rules", ()))

    # -- loading -----------------------------------------------------------------------------------
    def migrations(self, directory: Path) -> list[Migration]:
        """The migrations of ``directory``, read once; raises ``MigrationFileError``."""
        return self.loaded(directory).migrations

    def loaded(self, directory: Path) -> Any:
        """``directory`` as its layout (``layout`` of the configuration, else detected) reads it:
        migrations, ignored files, warnings; read once; raises ``MigrationFileError``."""
        key = Path(directory)
        if key not in self._migrations:
            from .layouts import load_directory

            self._migrations[key] = load_directory(key, getattr(self.config, "layout", None))
        return self._migrations[key]

    def wanted(self, migrations: Iterable[Migration]) -> list[Migration]:
        """The migrations to lint: not excluded, and (with ``changed``) changed."""
        chosen = []
        for migration in migrations:
            if self.config.exclude and any(self.config.is_excluded(path) for path in migration.paths):
                continue
            if self.changed is not None and not any(normalised(path) in self.changed for path in migration.paths):
                continue
            chosen.append(migration)
        return chosen

    # -- linting -----------------------------------------------------------------------------------
    def lint(self, migrations: Sequence[Migration], only: Iterable[Migration] | None = None) -> list[Finding]:
        """Findings of ``only`` (default: all of ``migrations``) that are wanted, read in the
        context of the migrations before them, filtered."""
        wanted = self.wanted(migrations if only is None else only)
        if not wanted:
            return []
        found = self.linter.lint_migrations(migrations, only=wanted)
        return self.filter(found, wanted)

    def filter(self, findings: list[Finding], migrations: Iterable[Migration]) -> list[Finding]:
        """Drop what ``per-file-ignores`` ignores; a finding at error severity in a migration
        older than ``since`` is reported as a warning, which does not fail."""
        if self.config.per_file_ignores:
            findings = [f for f in findings if f.code not in self._ignored_for(f.path)]
        if self.since is None:
            return findings
        older = {}
        for migration in migrations:
            if migration.version.text and _older(migration, self.since):
                for path in migration.paths:
                    older[str(path)] = migration.version.text
        if not older:
            return findings
        self.older_paths.update(older)
        note = f" (older than since {self.since.text}: reported, does not fail)"
        return [
            replace(f, severity="warning", message=f.message + note) if f.severity == "error" and f.path in older else f
            for f in findings
        ]

    def _ignored_for(self, path: str) -> set[str]:
        if path not in self._ignored:
            self._ignored[path] = self.config.ignored_for(path)
        return self._ignored[path]


def ordered(findings: Iterable[Finding]) -> list[Finding]:
    """Findings without repeats (a file named twice, a directory and a file of it), in report
    order: by file, line, column and code."""
    seen = set()
    unique = []
    for finding in findings:
        key = (finding.path, finding.line, finding.column, finding.code, finding.message)
        if key not in seen:
            seen.add(key)
            unique.append(finding)
    unique.sort(key=lambda f: (f.path, f.line, f.column, f.code))
    return unique


def parse_since(text: str) -> Version:
    """The version a ``since`` setting names (``0042``, ``20240101120000``, ``1.2``)."""
    from .model import Version

    try:
        return Version.parse(str(text).strip())
    except ValueError:
        raise ValueError(f"{text!r} is not a migration version (digits, parts separated by . _ or -)") from None


def _older(migration: Migration, since: Version) -> bool:
    """Whether ``migration`` comes before ``since``, read in the scheme of the migration's layout."""
    try:
        return migration.version < migration.version.parse_like(since.text)
    except ValueError:
        return False


def normalised(path: Path | str) -> str:
    """An absolute path without ``..`` and without a system call, to compare paths as given."""
    import os

    return os.path.normpath(os.path.abspath(path))
