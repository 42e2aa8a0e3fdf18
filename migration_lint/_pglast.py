"""pglast's parser, imported when first used, without the parts of pglast the linter never uses.

``import pglast`` runs ``pglast.enums`` and ``pglast.ast`` (thousands of enum members and node
classes, plus ``decimal``): about 15 ms, a tenth of a cold run over a thousand files on two cores.
The linter only calls the parser's JSON and scanner functions. So, when nothing has imported
pglast yet, those two modules are registered first as modules whose code runs on the first read
of a name they define; whoever then uses them (``pglast.ast.SelectStmt``, ``parse_sql``) gets
them whole, only later. (``importlib.util.LazyLoader`` cannot do this: the import system reads
``__spec__`` while binding ``from . import ast``, which would load the module at once.)
"""

from __future__ import annotations

import sys
import threading
import types
from typing import Any

_DEFERRED = ("pglast.ast", "pglast.enums")
_loading = threading.RLock()  # re-entrant: loading one module may read from the other


class _Deferred(types.ModuleType):
    """A module whose code has not run yet; the first name looked up in it runs it."""

    def __getattr__(self, name: str) -> Any:  # called only for names the module lacks
        with _loading:
            if type(self) is _Deferred:
                self.__class__ = types.ModuleType
                self.__spec__.loader.exec_module(self)
        return getattr(self, name)


def _defer_unused_modules() -> None:
    if "pglast" in sys.modules:
        return
    try:
        import importlib.machinery
        import importlib.util

        package = importlib.util.find_spec("pglast")  # finds it without importing it
        locations = package.submodule_search_locations if package else None
        for name in _DEFERRED:
            spec = importlib.machinery.PathFinder.find_spec(name, locations)
            if spec is None or spec.loader is None:
                continue
            module = importlib.util.module_from_spec(spec)
            module.__class__ = _Deferred
            sys.modules[name] = module
    except Exception:  # a pglast laid out differently: import it the ordinary way
        for name in _DEFERRED:
            if isinstance(sys.modules.get(name), _Deferred):
                del sys.modules[name]


def _load() -> types.ModuleType:
    _defer_unused_modules()
    import pglast
    from pglast import parser as loaded

    # ``import pglast.ast`` later finds the module registered above and does not bind it as an
    # attribute of the package; do it here, as a normal import would have.
    for name in _DEFERRED:
        short = name.rsplit(".", 1)[1]
        if name in sys.modules and not hasattr(pglast, short):
            setattr(pglast, short, sys.modules[name])
    return loaded


class _Parser(types.ModuleType):
    """``pglast.parser``, imported on the first name read from it: a run that takes every
    finding from the cache imports the model (to read files) but never parses."""

    def __getattr__(self, name: str) -> Any:  # only for names not copied in yet
        with _loading:
            if not self.__dict__.get("_loaded"):
                self.__dict__.update(vars(_load()))
                self.__dict__["_loaded"] = True
        try:
            return self.__dict__[name]
        except KeyError:
            raise AttributeError(name) from None


parser = _Parser("pglast.parser")

__all__ = ["parser"]
