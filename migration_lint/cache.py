"""A cache of findings keyed by file content, rule set, configuration and tool version (as ruff's).

Two levels: a whole directory, valid while its listing (names, sizes, modification times) is
unchanged, so a warm run over an unchanged directory reads one JSON file and parses nothing; and
one migration keyed by a hash of its content and the content of every migration before it
(earlier migrations are its context). The cache lives in ``.migration-lint-cache/`` next to the
configuration (or in the working directory); ``--no-cache`` turns it off.

A warm run hashes nothing (importing ``hashlib`` alone costs a few percent of it): a directory's
entry keeps its listing to compare, and the cache files are named by a CRC of the settings and
keep the settings' full text, so a CRC collision only means a cold run.
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Any

from . import __version__

CACHE_DIR_NAME = ".migration-lint-cache"
# Changes whenever the layout of an entry changes (findings are stored as rows of field values).
_FORMAT = "2"
_MAX_ENTRIES = 20_000


def rules_fingerprint() -> str:
    """Changes whenever a module of the package changes (so a development checkout never serves
    stale results)."""
    package = Path(__file__).parent
    parts = [__version__]
    for folder in (package, package / "rules"):
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(".py"):
                stat = entry.stat()
                parts.append(f"{entry.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return ";".join(parts)


def directory_listing(directory: Path) -> str | None:
    """Text that changes when any file of ``directory`` (or its subfolders, one level) changes."""
    parts = []
    try:
        with os.scandir(directory) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name.startswith("."):
                    continue
                stat = entry.stat()
                parts.append(f"{entry.name}:{stat.st_size}:{stat.st_mtime_ns}")
                if entry.is_dir():
                    with os.scandir(entry.path) as inner:
                        for child in sorted(inner, key=lambda e: e.name):
                            child_stat = child.stat()
                            parts.append(f"  {child.name}:{child_stat.st_size}:{child_stat.st_mtime_ns}")
    except OSError:
        return None
    return "\n".join(parts)


def content_key(*parts: str) -> str:
    import hashlib  # only when single migrations are looked up: a warm run never comes here

    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", errors="surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


class Cache:
    """Findings (as rows, see :meth:`Finding.to_row`) by key, in JSON files per settings: one for
    whole directories (``d:`` keys, all a warm run reads) and one for single migrations."""

    def __init__(self, directory: Path, settings_key: str) -> None:
        self._settings = "\n".join((_FORMAT, settings_key, rules_fingerprint()))
        name = f"{zlib.crc32(self._settings.encode('utf-8', errors='surrogatepass')):08x}"
        self._paths = {
            "d": directory / f"directories-{name}.json",
            "m": directory / f"migrations-{name}.json",
        }
        self._entries: dict[str, dict[str, Any]] = {}
        self._dirty: set[str] = set()
        self._listings: dict[str, str | None] = {}

    def _store(self, key: str) -> dict[str, Any]:
        kind = "d" if key.startswith("d:") else "m"
        if kind not in self._entries:
            try:
                document = json.loads(self._paths[kind].read_text(encoding="utf-8"))
            except (OSError, ValueError):
                document = None
            valid = isinstance(document, dict) and document.get("settings") == self._settings
            entries = document.get("entries") if valid else None
            self._entries[kind] = entries if isinstance(entries, dict) else {}
        return self._entries[kind]

    # -- whole directories ---------------------------------------------------------------------
    def get_directory(self, directory: Path) -> dict[str, Any] | None:
        """``{"files": n, "findings": rows}`` linted from ``directory`` as it is now, or ``None``.

        The listing read here is the one :meth:`put_directory` stores: taken before linting, so
        a file changed meanwhile is linted again next time."""
        listing = self._listings[str(directory)] = directory_listing(directory)
        entry = self._store("d:").get("d:" + str(directory)) if listing is not None else None
        if not isinstance(entry, dict) or entry.get("listing") != listing:
            return None
        return entry

    def put_directory(self, directory: Path, files: int, findings: list) -> None:
        listing = self._listings.get(str(directory))
        if listing is None:
            return
        self.put("d:" + str(directory), {"listing": listing, "files": files, "findings": findings})

    def get(self, key: str) -> Any:
        return self._store(key).get(key)

    def put(self, key: str, value: Any) -> None:
        entries = self._store(key)
        if entries.get(key) != value:
            entries[key] = value
            self._dirty.add("d" if key.startswith("d:") else "m")

    def save(self) -> None:
        for kind in self._dirty:
            entries = self._entries[kind]
            if len(entries) > _MAX_ENTRIES:
                entries = dict(list(entries.items())[-_MAX_ENTRIES:])
            path = self._paths[kind]
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                gitignore = path.parent / ".gitignore"
                if not gitignore.exists():
                    gitignore.write_text("# created by migration-lint\n*\n")
                temporary = path.with_suffix(f".{os.getpid()}.tmp")
                document = {"settings": self._settings, "entries": entries}
                temporary.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
                os.replace(temporary, path)
            except OSError:
                pass  # a read-only checkout still lints, just without a cache
        self._dirty.clear()
