"""Backend 1: a server the user names by DSN. Its databases are left alone; ours are made beside them."""

from __future__ import annotations

from ._base import Server
from ._cleanup import install_signal_handlers
from ._conninfo import parse_dsn
from ._errors import PermissionDenied

__all__ = ["DsnServer"]


class DsnServer(Server):
    """A server reached through a user's DSN; the database in the DSN is only used to connect."""

    kind = "dsn"

    def __init__(self, dsn: str) -> None:
        parse_dsn(dsn)
        super().__init__(dsn)
        with self._admin() as conn:
            row = conn.execute(
                "SELECT current_user, rolsuper OR rolcreatedb FROM pg_roles WHERE rolname = current_user"
            ).fetchone()
        # Checked up front so a missing privilege is one clear error, not a failure in every test.
        if row is not None and not row[1]:
            raise PermissionDenied(
                f"role {row[0]!r} may not create databases on {self}: it lacks the CREATEDB privilege;"
                " grant it (ALTER ROLE ... CREATEDB) or use another DSN"
            )
        # SIGTERM (a cancelled CI job) unwinds like Ctrl-C, so teardown drops what this run makes;
        # what a killed run left is dropped here, once its process is certainly gone.
        install_signal_handlers()
        self.drop_stale_databases()
