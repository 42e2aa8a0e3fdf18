"""``migrations gen-down``: DOWN scripts generated from the UP and the catalog, proven before written.

:func:`generate` walks the chain on a throwaway server and builds each wanted DOWN from the UP's
parse tree (:mod:`migration_lint.gendown`) and the catalog before and after each statement;
:func:`prove` round-trips the DOWNs in their chain; :func:`broken_downs` finds the DOWNs that fail
their round trip. docs/gen-down.md sets out each statement kind, its inverse, and what cannot be
undone.
"""

from __future__ import annotations

from ._cli import add_gen_down_arguments, run_gen_down_command
from ._generate import GenerationError, Generated, broken_downs, generate, prove
from ._suggest import suggest_down

__all__ = [
    "GenerationError", "Generated", "add_gen_down_arguments", "broken_downs", "generate", "prove",
    "run_gen_down_command", "suggest_down",
]  # fmt: skip
