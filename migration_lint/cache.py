"""A cache of findings keyed by file content, rule set, configuration and tool version (as ruff's).

Two levels: a whole directory keyed by its listing (names, sizes, modification times), so a warm
run over an unchanged directory reads one JSON file and parses nothing; and one migration keyed
by its content and the content of every migration before it (earlier migrations are its context).
The cache lives in ``.migration-lint-cache/`` next to the configuration (or in the working
directory); ``--no-cache`` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from . import __version__

CACHE_DIR_NAME = ".migration-lint-cache"
# Changes whenever the layout of an entry changes (findings are stored as rows of field values).
_FORMAT = "2"
_MAX_ENTRIES = 20_000


def rules_fingerprint() -> str:
    """Changes whenever a rule module changes (so a development checkout never serves stale results)."""
    package = Path(__file__).parent
    digest = hashlib.sha256(__version__.encode())
    for folder in (package, package / "rules"):
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(".py"):
                stat = entry.stat()
                digest.update(f"{entry.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()[:16]


def directory_listing_key(directory: Path) -> str | None:
    """A key that changes when any file of ``directory`` (or its subfolders, one level) changes."""
    digest = hashlib.sha256(str(directory).encode())
    try:
        with os.scandir(directory) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name.startswith("."):
                    continue
                stat = entry.stat()
                digest.update(f"{entry.name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
                if entry.is_dir():
                    with os.scandir(entry.path) as inner:
                        for child in sorted(inner, key=lambda e: e.name):
                            child_stat = child.stat()
                            digest.update(f"{child.name}:{child_stat.st_size}:{child_stat.st_mtime_ns};".encode())
    except OSError:
        return None
    return "d:" + digest.hexdigest()


def content_key(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", errors="surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


class Cache:
    """Findings (as plain dicts) by key, in JSON files per settings fingerprint: one for whole
    directories (``d:`` keys, all a warm run reads) and one for single migrations."""

    def __init__(self, directory: Path, settings_key: str) -> None:
        fingerprint = content_key(settings_key, rules_fingerprint(), _FORMAT)[:20]
        self._paths = {
            "d": directory / f"directories-{fingerprint}.json",
            "m": directory / f"migrations-{fingerprint}.json",
        }
        self._entries: dict[str, dict[str, Any]] = {}
        self._dirty: set[str] = set()

    def _store(self, key: str) -> dict[str, Any]:
        kind = "d" if key.startswith("d:") else "m"
        if kind not in self._entries:
            try:
                entries = json.loads(self._paths[kind].read_text(encoding="utf-8"))
            except (OSError, ValueError):
                entries = {}
            self._entries[kind] = entries if isinstance(entries, dict) else {}
        return self._entries[kind]

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
                temporary.write_text(json.dumps(entries, separators=(",", ":")), encoding="utf-8")
                os.replace(temporary, path)
            except OSError:
                pass  # a read-only checkout still lints, just without a cache
        self._dirty.clear()
