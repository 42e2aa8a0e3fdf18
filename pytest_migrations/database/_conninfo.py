"""DSN helpers: redaction for messages, a short "host:port/db" description, renaming the database."""

from __future__ import annotations

import os
import re

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ._errors import InvalidDsn

__all__ = ["describe_dsn", "dsn_for_database", "one_line", "redact_dsn"]

REDACTED = "***"

_URL = re.compile(r"^(?P<scheme>\s*postgres(?:ql)?://)(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_QUERY_PASSWORD = re.compile(r"(?P<key>[?&]password=)[^&#]*", re.IGNORECASE)
# libpq values are either bare words or single-quoted with backslash escapes; an unclosed
# quote runs to the end, so the pattern swallows everything after it rather than leak a tail.
_KEYWORD_PASSWORD = re.compile(
    r"(?P<key>(?:^|(?<=\s))password\s*=\s*)(?:'(?:[^'\\]|\\.)*(?:'|\\?$)|\S*)",
    re.IGNORECASE | re.DOTALL,
)


def redact_dsn(dsn: str) -> str:
    """Return ``dsn`` with any password replaced by ``***``; URL and key=value forms.

    Works on DSNs that do not parse, so it is safe to use in the error for a bad DSN.
    """
    match = _URL.match(dsn)
    if match is None:
        return _KEYWORD_PASSWORD.sub(lambda m: m["key"] + REDACTED, dsn)
    scheme, rest = match["scheme"], match["rest"]
    rest = _redact_userinfo(rest)
    return scheme + _QUERY_PASSWORD.sub(lambda m: m["key"] + REDACTED, rest)


def _redact_userinfo(rest: str) -> str:
    authority_and_path = re.split(r"[?#]", rest, maxsplit=1)[0]
    at = authority_and_path.rfind("@")
    if at < 0:
        # A raw '?' or '#' inside the password hides the '@' from the split above; hiding
        # too much is the safe way to be wrong.
        at = rest.rfind("@")
    if at < 0:
        return rest
    user, colon, _password = rest[:at].partition(":")
    if not colon:
        return rest
    return f"{user}:{REDACTED}{rest[at:]}"


def one_line(exc: BaseException) -> str:
    """An exception as one line, with PostgreSQL's SQLSTATE when there is one."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    sqlstate = getattr(exc, "sqlstate", None)
    return f"{text} [SQLSTATE {sqlstate}]" if sqlstate else text


def parse_dsn(dsn: str) -> dict[str, str]:
    try:
        return {key: str(value) for key, value in conninfo_to_dict(dsn).items()}
    except psycopg.Error as exc:
        raise InvalidDsn(f"invalid DSN {redact_dsn(dsn)}: {one_line(exc)}") from None


def describe_dsn(dsn: str) -> str:
    """``host:port/dbname`` for messages, filling in libpq's defaults; never a password."""
    try:
        params = parse_dsn(dsn)
    except InvalidDsn:
        return redact_dsn(dsn)
    host = params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "local socket"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    dbname = (
        params.get("dbname")
        or os.environ.get("PGDATABASE")
        or params.get("user")
        or os.environ.get("PGUSER")
        or "default database"
    )
    return f"{host}:{port}/{dbname}"


def dsn_for_database(dsn: str, dbname: str) -> str:
    """The same connection parameters, pointed at another database (key=value form)."""
    parse_dsn(dsn)
    return make_conninfo(dsn, dbname=dbname)
