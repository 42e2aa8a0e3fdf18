"""How a run uses the findings cache (:mod:`migration_lint.cache`): whole directories first, then
single migrations keyed by their content and the content of every migration before them (and
after them, when a selected rule reads later migrations).

What comes out of the cache was filtered by the session when it went in (the configuration,
``since`` included, is part of the cache's key), so it is reported as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from .finding import Finding
    from .targets import LintResult


def cold_directories(result: LintResult, directories: list[Path]) -> list[Path]:
    """Take the directories the cache has whole; return the others."""
    if result.cache is None:
        return directories
    from .finding import Finding

    missing = []
    for directory in directories:
        cached = result.cache.get_directory(directory)
        if cached is None:
            missing.append(directory)
        else:
            result.findings.extend(map(Finding.from_row, cached["findings"]))
            result.files_checked += cached["files"]
    return missing


def cached_directory_rows(result: LintResult, directory: Path) -> list | None:
    """The cached findings (as rows) of ``directory`` as it is now, or ``None``."""
    if result.cache is None:
        return None
    cached = result.cache.get_directory(directory)
    return None if cached is None else cached["findings"]


def migration_keys(migrations: Sequence[Any], *, later_too: bool = False) -> dict[int, str]:
    """A cache key for each migration (by ``id``): its content and that of the ones before it;
    with ``later_too`` (a selected rule reads the migrations after the one it lints), that of
    every migration of the directory."""
    from .cache import content_key

    keys: dict[int, str] = {}
    previous = ""
    for migration in migrations:
        previous = content_key(
            previous, migration.layout, migration.transaction_rule, str(migration.sent_as_one_query),
            str(migration.no_transaction_marker),
            str(migration.version.text),
            *(str(p) for p in migration.paths), migration.up.sql,
            "" if migration.down is None else migration.down.sql,
            "" if migration.down is None else str(migration.down.commented_out),
        )
        keys[id(migration)] = "m:" + previous
    if later_too:
        keys = {key: "m:" + content_key(chained, previous) for key, chained in keys.items()}
    return keys


def lint_with_cache(result: LintResult, migrations: Sequence[Any], wanted: Sequence[Any]) -> list[Finding]:
    """Findings of ``wanted`` (read in the context of ``migrations``): from the cache where it has
    them, else linted by the session and stored."""
    from .finding import Finding

    wanted = result.session.wanted(wanted)
    cache = result.cache
    keys = migration_keys(migrations, later_too=result.session.reads_later_migrations) if cache is not None else {}
    found: list = []
    missing = []
    for migration in wanted:
        cached = cache.get(keys[id(migration)]) if cache is not None else None
        if cached is None:
            missing.append(migration)
        else:
            found.extend(map(Finding.from_row, cached))
    if missing:
        fresh = result.session.lint(migrations, only=missing)
        if cache is not None:
            by_path: dict[str, list] = {}
            for finding in fresh:
                by_path.setdefault(finding.path, []).append(finding.to_row())
            for migration in missing:
                items = [item for p in dict.fromkeys(str(p) for p in migration.paths) for item in by_path.get(p, [])]
                cache.put(keys[id(migration)], items)
        found.extend(fresh)
    return found
