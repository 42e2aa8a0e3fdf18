"""Keep DSN passwords out of every line the runner prints."""

from __future__ import annotations

from typing import Callable
from urllib.parse import quote, unquote

from ..database import redact_dsn

REDACTED = "***"

__all__ = ["REDACTED", "password_of", "redact_dsn", "scrubber"]


def password_of(dsn: str) -> str | None:
    """The password a DSN carries, if any; ``None`` when it has none or does not parse."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        return conninfo_to_dict(dsn).get("password") or None  # type: ignore[return-value]
    except Exception:
        return None


def scrubber(dsn: str | None) -> Callable[[str], str]:
    """A function that removes ``dsn``'s password (plain or URL-encoded) from any text."""
    if not dsn:
        return lambda text: text
    secrets = {dsn: redact_dsn(dsn)}
    password = password_of(dsn)
    if password is None:
        # An unparsable DSN: hide whatever the redactor hides, wherever it appears.
        redacted = redact_dsn(dsn)
        if redacted != dsn:
            secrets[dsn] = redacted
    else:
        for form in {password, quote(password, safe=""), quote(password), unquote(password)}:
            if len(form) >= 1:
                secrets[form] = REDACTED
    ordered = sorted(secrets.items(), key=lambda item: -len(item[0]))

    def scrub(text: str) -> str:
        for secret, replacement in ordered:
            if secret and secret in text:
                text = text.replace(secret, replacement)
        return text

    return scrub
