"""DSN helpers: the password masked where a DSN or its connection error is printed, a short
"host:port/db" description, renaming the database."""

from __future__ import annotations

import os
import re
from urllib.parse import quote

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ..pgerrors import describe
from ._errors import InvalidDsn

__all__ = ["describe_dsn", "dsn_error", "dsn_for_database", "parse_dsn", "redact_dsn"]

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


def dsn_error(dsn: str, error: BaseException) -> str:
    """The one-line error of connecting with ``dsn`` (or parsing it), without its password.

    libpq and psycopg quote pieces of the DSN in their messages (``invalid percent-encoded
    token: "..."``, even the whole URL), and a piece may be the password, or part of it. A
    quoted piece of the DSN is shown only when the redacted DSN shows it too; a piece from
    elsewhere (a socket path, a host from the environment) unless it holds the password. Only
    this error's text is treated this way: output is never searched for the password.
    """
    redacted = redact_dsn(dsn)
    password = _password(dsn)

    def mask(match: re.Match[str]) -> str:
        piece = match[2]
        if piece == dsn:
            return match[1] + redacted + match[1]
        if password and piece in password:  # a short one is in the redacted DSN too ("e")
            return match[1] + REDACTED + match[1]
        if piece in redacted:
            return match[0]
        if piece not in dsn and password is not None and not any(form in piece for form in password):
            return match[0]
        return match[1] + REDACTED + match[1]

    return _QUOTED.sub(mask, describe(error))


_QUOTED = re.compile(r"""(["'])(.*?)\1""", re.DOTALL)


def _password(dsn: str) -> tuple[str, ...] | None:
    """The forms of the password ``dsn`` carries (as given, percent-decoded); ``None``: unknown."""
    try:
        value = conninfo_to_dict(dsn).get("password")
    except psycopg.Error:
        return None
    if not value:
        return ()
    return tuple({str(value), quote(str(value), safe=""), quote(str(value))})


def parse_dsn(dsn: str) -> dict[str, str]:
    try:
        return {key: str(value) for key, value in conninfo_to_dict(dsn).items()}
    except psycopg.Error as exc:
        raise InvalidDsn(f"invalid DSN {redact_dsn(dsn)}: {dsn_error(dsn, exc)}") from None


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
    redacted = redact_dsn(dsn)
    if any(value not in redacted for value in params.values() if value in (host, port, dbname)):
        # libpq read part of the password as a host or database (an unencoded @ or /).
        return redacted
    return f"{host}:{port}/{dbname}"


def dsn_for_database(dsn: str, dbname: str) -> str:
    """The same connection parameters, pointed at another database (key=value form)."""
    parse_dsn(dsn)
    return make_conninfo(dsn, dbname=dbname)
