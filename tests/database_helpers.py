"""Helpers the runner's and the fleet's tests share: migration files on disk, queries on a server."""

from __future__ import annotations

from pathlib import Path

import psycopg


def write_migrations(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text, encoding="utf-8")
    return directory


def query(dsn: str, text: str, *params: object) -> list[tuple]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        cursor = conn.execute(text, params or None)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description is not None else []
