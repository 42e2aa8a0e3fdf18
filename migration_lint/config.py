"""Configuration: ``[tool.migration-lint]`` in ``pyproject.toml`` or a ``.migration-lint.toml``.

Precedence: command line > configuration file > defaults. Keys (kebab-case)::

    pg-version = 14                      # target PostgreSQL major version (default 13)
    select = ["ALL"]                     # replaces the default set (stable rules, advice left out)
    extend-select = ["advice"]           # adds the advice group (or one rule: "prefer-text-field")
    ignore = ["ML010", "ban-drop-table"]
    assume-in-transaction = false
    layout = "sqlx"                      # read directories as this tool does (default: detected);
                                         # "golang-migrate?x-multi-statement=true" as its URL says
    preview = false                      # let ALL and prefixes select preview rules
    exclude = ["legacy/*"]               # paths (globs) never linted
    since = "0042"                       # older migrations are linted and reported, never fail
    [per-file-ignores]                   # glob -> rules
    "migrations/0001_*.sql" = ["ML011"]
    [severity]                           # rule, prefix or group -> error | warning
    require-lock-timeout = "warning"
    advice = "error"                     # a rule named on its own beats its group
    [rules.identifier-too-long]          # rule options
    max-length = 63

Rules are named by code, code prefix, name or group (``default``: what a deploy can fail, block
or lose data on; ``advice``: the rest, off unless selected). An unknown rule, key or option is a
:class:`ConfigError` (the CLI exits 2 with its message).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .errors import MigrationLintError

DEFAULT_PG_VERSION = 13
_KNOWN_KEYS = {
    "pg-version", "select", "extend-select", "ignore", "assume-in-transaction", "preview",
    "exclude", "per-file-ignores", "severity", "rules", "cache-dir", "dialect", "since", "layout",
}


class ConfigError(MigrationLintError):
    """A configuration that cannot be used; str() names the file and the problem."""


@dataclass
class Config:
    pg_version: int = DEFAULT_PG_VERSION
    select: list[str] | None = None
    extend_select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    assume_in_transaction: bool = False
    dialect: str = "postgres"  # or "mysql", "sqlite" (migration_lint.dialects, through sqlglot)
    layout: str | None = None  # a name of migration_lint.layouts; None: detected per directory
    preview: bool = False
    exclude: list[str] = field(default_factory=list)
    since: str | None = None  # a migration version: findings in older migrations do not fail
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    severity: dict[str, str] = field(default_factory=dict)
    rule_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: Path | None = None  # the file it came from
    root: Path = field(default_factory=Path.cwd)  # globs are relative to this

    def cache_key(self) -> str:
        import json

        data = {k: v for k, v in self.__dict__.items() if k not in ("source", "root")}
        return json.dumps(data, sort_keys=True, default=str)

    # -- paths ---------------------------------------------------------------------------------
    def _relative(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return path.as_posix()

    def is_excluded(self, path: Path) -> bool:
        if not self.exclude:  # asked for every file; resolving each path costs system calls
            return False
        relative = self._relative(path)
        return any(
            fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(path.name, pattern)
            or relative.startswith(pattern.rstrip("/") + "/")
            for pattern in self.exclude
        )

    def ignored_for(self, path: str) -> set[str]:
        """Codes ignored for ``path`` by ``per-file-ignores``."""
        from .rules import expand_selector

        relative = self._relative(Path(path))
        codes: set[str] = set()
        for pattern, rules in self.per_file_ignores.items():
            if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(Path(path).name, pattern):
                for rule in rules:
                    codes.update(expand_selector(rule))
        return codes


def _check_selectors(selectors: list[str], where: str) -> None:
    from .rules import expand_selector

    for selector in selectors:
        if isinstance(selector, str) and expand_selector(selector):
            continue
        # Only a name the PostgreSQL catalogue lacks needs the dialect rules (and sqlglot, pglast).
        from .dialects.rules import dialect_only_rule

        if not isinstance(selector, str) or not dialect_only_rule(selector):
            raise ConfigError(f"{where}: unknown rule {selector!r} (see migration-lint --list-rules)")


def find_config(start: Path) -> Path | None:
    """The nearest ``.migration-lint.toml``, or ``pyproject.toml`` with a ``[tool.migration-lint]``."""
    directory = start.resolve()
    if directory.is_file():
        directory = directory.parent
    for candidate in (directory, *directory.parents):
        dedicated = candidate / ".migration-lint.toml"
        if dedicated.is_file():
            return dedicated
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            try:
                text = pyproject.read_text(encoding="utf-8")
            except OSError:
                continue
            if "[tool.migration-lint" in text:
                return pyproject
    return None


def load_config(path: Path | None) -> Config:
    if path is None:
        return Config()
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot be read: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("migration-lint", {})
    return config_from_dict(data, path)


def config_from_dict(data: dict[str, Any], path: Path | None = None) -> Config:
    where = str(path) if path else "configuration"
    unknown = set(data) - _KNOWN_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(_KNOWN_KEYS))})")
    config = Config(source=path, root=path.parent if path else Path.cwd())
    if "pg-version" in data:
        config.pg_version = parse_pg_version(data["pg-version"], where)
    for key in ("select", "extend-select", "ignore", "exclude"):
        if key in data and (not isinstance(data[key], list) or not all(isinstance(i, str) for i in data[key])):
            raise ConfigError(f"{where}: {key} must be a list of strings")
    if "select" in data:
        config.select = list(data["select"])
        _check_selectors(config.select, where)
    config.extend_select = list(data.get("extend-select", []))
    config.ignore = list(data.get("ignore", []))
    _check_selectors(config.extend_select + config.ignore, where)
    config.assume_in_transaction = bool(data.get("assume-in-transaction", False))
    if "dialect" in data:
        if data["dialect"] not in ("postgres", "mysql", "sqlite"):
            raise ConfigError(f"{where}: dialect must be postgres, mysql or sqlite, not {data['dialect']!r}")
        config.dialect = data["dialect"]
    if "layout" in data:
        config.layout = parse_layout(data["layout"], where)
    config.preview = bool(data.get("preview", False))
    if "since" in data:
        from .session import parse_since

        if isinstance(data["since"], bool) or not isinstance(data["since"], (str, int)):
            raise ConfigError(f"{where}: since must be a migration version such as \"0042\", not {data['since']!r}")
        try:
            config.since = parse_since(str(data["since"])).text
        except ValueError as error:
            raise ConfigError(f"{where}: since: {error}") from None
    config.exclude = list(data.get("exclude", []))
    for pattern, rules in (data.get("per-file-ignores") or {}).items():
        if not isinstance(rules, list):
            raise ConfigError(f"{where}: per-file-ignores[{pattern!r}] must be a list of rules")
        _check_selectors(rules, where)
        config.per_file_ignores[pattern] = list(rules)
    from .rules import known_rule

    for rule, severity in (data.get("severity") or {}).items():
        _check_selectors([rule], where)
        if severity not in ("error", "warning"):
            raise ConfigError(f"{where}: severity of {rule} must be 'error' or 'warning', not {severity!r}")
        config.severity[rule] = severity
    for rule, options in (data.get("rules") or {}).items():
        cls = known_rule(rule)
        if cls is None:
            raise ConfigError(f"{where}: unknown rule {rule!r} in [rules] (see migration-lint --list-rules)")
        known = {option.name for option in cls.options}
        for option in options:
            if option not in known:
                raise ConfigError(f"{where}: rule {cls.name} has no option {option!r}"
                                  + (f" (options: {', '.join(sorted(known))})" if known else ""))
        config.rule_options[cls.name] = dict(options)
    return config


def parse_pg_version(value: Any, where: str = "--pg-version") -> int:
    """``13``, ``"13"``, ``"13.4"`` -> 13; anything else is a :class:`ConfigError`."""
    text = str(value).strip()
    head = text.split(".", 1)[0]
    if not head.isdigit() or not 9 <= int(head) <= 99:
        raise ConfigError(f"{where}: PostgreSQL version must be a major version like 13 or 16, not {value!r}")
    return int(head)


def selected_codes(config: Config) -> list[str]:
    """The codes a run enables, from select / extend-select / ignore."""
    from .rules import catalogue, expand_selector, is_group, rule_class

    def allowed(code: str, explicit: bool) -> bool:
        cls = rule_class(code)
        if cls.lifecycle == "removed":
            return False
        if cls.lifecycle == "preview" and not (explicit or config.preview):
            return False
        return explicit or not cls.opt_in

    chosen: dict[str, None] = {}
    if config.select is None:
        for code in catalogue():
            if allowed(code, False):
                chosen[code] = None
    else:
        for selector in config.select:
            codes = expand_selector(selector)
            explicit = (len(codes) == 1 and selector.upper() != "ALL") or is_group(selector)
            for code in codes:
                if allowed(code, explicit):
                    chosen[code] = None
    for selector in config.extend_select:
        codes = expand_selector(selector)
        for code in codes:
            if allowed(code, len(codes) == 1 or selector.upper() == "ALL" or is_group(selector)):
                chosen[code] = None
    ignored = {code for selector in config.ignore for code in expand_selector(selector)}
    return [code for code in chosen if code not in ignored]


def configured_severities(config: Config) -> dict[str, str]:
    """Code -> the severity ``[severity]`` gives it. Its keys are resolved as ``select``'s are
    (``ALL``, a group, a code prefix, a code or a name); where keys overlap, the narrower wins,
    so that a rule named on its own keeps its level inside a group set to another."""
    from .rules import expand_selector

    resolved: dict[str, str] = {}
    expanded = [(expand_selector(selector), level) for selector, level in config.severity.items()]
    for codes, level in sorted(expanded, key=lambda item: -len(item[0])):  # wider first, narrower over it
        for code in codes:
            resolved[code] = level
    return resolved


def build_rules(config: Config, only: Iterable[str] | None = None) -> list:
    """Rule instances for ``config``, with severities and options applied; with ``only`` (rule
    names), just those of them that ``config`` selects."""
    from .rules import code_of, rule_class

    severity_by_code = configured_severities(config)
    wanted = None if only is None else {code_of(name) for name in only}
    rules = []
    for code in selected_codes(config):
        if wanted is not None and code not in wanted:
            continue
        cls = rule_class(code)
        try:
            rules.append(cls(config.rule_options.get(cls.name), severity_by_code.get(code)))
        except (ValueError, TypeError) as error:
            raise ConfigError(f"{config.source or 'configuration'}: {error}") from None
    return rules


def parse_layout(value: Any, where: str = "--layout") -> str:
    """The canonical name of the layout ``value`` names; a :class:`ConfigError` naming ``where``."""
    from .layouts import layout_named

    if not isinstance(value, str):
        raise ConfigError(f"{where}: layout must be a string, not {value!r}")
    try:
        return layout_named(value).spec
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None
