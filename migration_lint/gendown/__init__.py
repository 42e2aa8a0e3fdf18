"""Generated DOWN scripts: what the parse tree of an UP says about undoing it, with no database.

- :mod:`.tree`: one :class:`Inverse` per statement of an UP (CREATE -> DROP, RENAME -> rename
  back, what needs the state before it, what is irreversible and why);
- :mod:`.render`: a :class:`Down` as file text in the UP's style, and :func:`tree_down`, the
  DOWN the tree alone gives (the language server's "Generate DOWN");
- :mod:`.write`: where each layout keeps its DOWN (:func:`place_down`).

``pytest_migrations.gendown`` completes the tree's inverses from the catalog of a throwaway
server and proves each DOWN by the round trip before writing it (``migrations gen-down``).
"""

from __future__ import annotations

from .render import IRREVERSIBLE, Down, lock_timeout_of, render, tree_down
from .tree import Inverse, invert_section
from .write import Placement, place_down

__all__ = [
    "IRREVERSIBLE", "Down", "Inverse", "Placement", "invert_section", "lock_timeout_of", "place_down", "render",
    "tree_down",
]  # fmt: skip
