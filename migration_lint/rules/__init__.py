"""The rule catalogue: one module per rule, named ``mlNNN_kebab_name.py``.

Adding a rule is adding one module here (see ``base.py`` and ``docs/rules/``): the registry finds
it by its file name, so listing and selecting rules never imports them; a rule module is imported
only when it is about to run. A code, once given, is never reused: a removed rule keeps its code
in :data:`RETIRED`.
"""

from __future__ import annotations

import importlib
import os
import re
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Rule

# Codes of rules that were removed; never give them to a new rule.
RETIRED: dict[str, str] = {}

_MODULE = re.compile(r"^ml(\d{3})_([a-z0-9_]+)\.py$")


@lru_cache(maxsize=1)
def catalogue() -> dict[str, tuple[str, str]]:
    """``{code: (name, module basename)}`` from the file names, without importing any rule."""
    found: dict[str, tuple[str, str]] = {}
    for entry in sorted(os.listdir(os.path.dirname(__file__))):
        match = _MODULE.match(entry)
        if match:
            code = f"ML{match[1]}"
            if code in found or code in RETIRED:
                raise RuntimeError(f"rule code {code} is used twice ({entry})")
            found[code] = (match[2].replace("_", "-"), entry[:-3])
    return found


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    return {name: code for code, (name, _) in catalogue().items()}


def code_of(name_or_code: str) -> str | None:
    """The code of a rule given by code (``ML001``) or name; ``None`` when there is none."""
    key = name_or_code.strip()
    if key.upper() in catalogue():
        return key.upper()
    return _names().get(key.lower())


def rule_class(name_or_code: str) -> type[Rule]:
    code = code_of(name_or_code)
    if code is None:
        raise KeyError(name_or_code)
    module = importlib.import_module(f"{__name__}.{catalogue()[code][1]}")
    from .base import Rule

    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, Rule) and value is not Rule and value.code == code:
            return value
    raise RuntimeError(f"module {module.__name__} defines no rule class for {code}")


def known_rule(name_or_code: str) -> type[Rule] | None:
    try:
        return rule_class(name_or_code)
    except KeyError:
        return None


def all_rule_classes() -> list[type[Rule]]:
    return [rule_class(code) for code in catalogue()]


def group_codes(group: str) -> list[str]:
    """Codes of the rules in ``group`` (``default`` or ``advice``, see ``base.GROUPS``)."""
    return [code for code in catalogue() if rule_class(code).group == group]


def is_group(selector: str) -> bool:
    from .base import GROUPS

    return selector.strip().lower() in GROUPS


def expand_selector(selector: str) -> list[str]:
    """Codes matched by ``selector``: ``ALL``, a group (``default``, ``advice``), a code, a code
    prefix (``ML0``) or a rule name."""
    key = selector.strip()
    if key.upper() == "ALL":
        return list(catalogue())
    if is_group(key):
        return group_codes(key.lower())
    code = code_of(key)
    if code is not None:
        return [code]
    if re.fullmatch(r"(?i)ml\d{0,3}", key):
        return [c for c in catalogue() if c.startswith(key.upper())]
    return []
