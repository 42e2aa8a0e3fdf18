"""pytest glue for pytest-migrations: ``pytest --migrations`` and the ``migrations_db`` fixtures.

Thin wrappers over the core modules: :mod:`pytest_migrations.roundtrip` does the walk,
:mod:`pytest_migrations.trace` the lock trace, :mod:`pytest_migrations.database` the servers,
:mod:`migration_lint` the model and the lint.

- :mod:`.options`: flags, ini twins, environment variables, precedence;
- :mod:`.state`: what a session shares (server, migrations, chain and trace walkers) on ``config.stash``;
- :mod:`.items`: the directory and file collectors and the ``::roundtrip`` / ``::lint`` / ``::locks`` items;
- :mod:`.fixtures`: ``migrations_db`` and ``migrate_to`` for users' own tests.

The :class:`MigrationsPlugin` object that collects items is registered only with ``--migrations``
(or ini ``migrations = true``); the fixtures are always available. Installed but unused, the
plugin imports nothing heavy: the items (and with them psycopg, the walk, the tracer) are imported
only when ``--migrations`` is given, and then need the ``postgres`` extra, which it names when
missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .._extra import missing_message
from .fixtures import _migrations_templates, migrate_to, migrations_db, migrations_server
from .options import AUTO_DIRS, Settings, SettingsError, _as_bool, add_options, resolve_settings
from .state import SETTINGS_ERROR_KEY, STATE_KEY, WARNING_PROPERTY, MigrationsState

__all__ = ["MigrationsPlugin", "migrate_to", "migrations_db", "migrations_server"]

PLUGIN_NAME = "pytest-migrations-collector"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "xdist_group(name): keep items of one group on one xdist worker")
    if config.getoption("help", default=False):
        return  # --help must work whatever the settings hold
    enabled = _enabled(config)
    if enabled:
        missing = missing_message("pytest --migrations")
        if missing is not None:
            raise pytest.UsageError(f"pytest-migrations: {missing}")
    try:
        settings = resolve_settings(config)
    except SettingsError as error:
        if enabled:
            raise pytest.UsageError(f"pytest-migrations: {error}") from None
        # A run without --migrations must not stop for our settings; the fixtures report it.
        config.stash[SETTINGS_ERROR_KEY] = f"pytest-migrations: {error}"
        return
    state = config.stash[STATE_KEY] = MigrationsState(settings)
    state.walker_jobs = settings.jobs
    if settings.jobs is None and (hasattr(config, "workerinput") or config.getoption("numprocesses", default=None)):
        state.walker_jobs = 1  # xdist: the workers have the cores
    if settings.enabled and settings.dir is None:
        looked_for = ", ".join(f"{candidate}/" for candidate in AUTO_DIRS)
        raise pytest.UsageError(
            f"pytest-migrations: no migrations directory under {config.rootpath} (looked for {looked_for});"
            " set --migrations-dir or ini migrations_dir"
        )
    if settings.enabled:
        config.pluginmanager.register(MigrationsPlugin(config, settings), PLUGIN_NAME)


def _enabled(config: pytest.Config) -> bool:
    """``--migrations`` or ini ``migrations = true``, read without resolving the other settings.

    An ini value that is not a boolean stops the run: ``migrations = "yes-please"`` must not be
    read as false and pass with nothing tested.
    """
    if config.getoption("migrations_enabled", default=None):
        return True
    value = config.getini("migrations")
    if value in (None, ""):
        return False
    source = f"{config.inipath.name if config.inipath else 'ini'} migrations"
    try:
        return _as_bool(value, source)
    except SettingsError as error:
        raise pytest.UsageError(f"pytest-migrations: {error}") from None


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE_KEY, None)
    if state is not None:
        state.close()


class MigrationsPlugin:
    """Collects the migration items; registered only when ``--migrations`` is on."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self._warnings: list[str] = []

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        return self.settings.header_lines(config.rootpath)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collect_directory(self, path: Path, parent: pytest.Collector) -> pytest.Collector | None:
        from .items import MigrationsDirectory

        directory = self.settings.dir
        if directory is not None and path.resolve() == directory.resolve():
            return MigrationsDirectory.for_path(parent, path)
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
        """Add the migration items when pytest's own walk did not reach the directory.

        With paths named on the command line, only what they select is collected, as pytest does;
        otherwise (no argument, or ``testpaths`` that leave the directory out) they are added.
        A collector made for the directory is not enough: pytest makes one for each sibling of a
        path it walks to, and collects only those on the way.
        """
        from .items import MigrationsDirectory

        directory = self.settings.dir
        if directory is None or directory.resolve() in config.stash[STATE_KEY].collected_directories:
            return
        if config.args_source == pytest.Config.ArgsSource.ARGS:
            return
        collector = MigrationsDirectory.for_path(session, directory)
        items.extend(_collect_into_session(session, collector))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._warnings.extend(value for name, value in report.user_properties if name == WARNING_PROPERTY)
        _set_junit_classname(self.config, report)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        layout_lines = self._layout_lines()
        if layout_lines:
            terminalreporter.section("pytest-migrations layout", sep="-", yellow=True)
            for line in layout_lines:
                terminalreporter.line(line)
        if not self._warnings:
            return
        terminalreporter.section("pytest-migrations warnings", sep="-", yellow=True)
        for line in dict.fromkeys(self._warnings):  # one line once, however many items said it
            terminalreporter.line(line)

    def _layout_lines(self) -> list[str]:
        """What loading the directory left aside: the files its tool ignores and the load
        warnings (an empty migration ...), as ``migrations status`` shows them; nothing when
        there is neither. Never a failure: a directory that cannot load is a collection error."""
        from migration_lint.model import MigrationFileError

        directory = self.settings.dir
        if directory is None:
            return []
        try:
            loaded = self.config.stash[STATE_KEY].loaded(directory)
        except (MigrationFileError, OSError):
            return []
        if not loaded.ignored and not loaded.warnings:
            return []
        how = "detected" if loaded.detected else "chosen"
        summary = f"migrations: layout {loaded.layout.name} ({how})"
        if loaded.ignored:
            names = ", ".join(_relative(path, loaded.directory) for path, _ in loaded.ignored)
            summary += f", {len(loaded.ignored)} file{'s' if len(loaded.ignored) > 1 else ''} ignored: {names}"
        lines = [summary]
        lines.extend(f"ignored: {_relative(path, loaded.directory)}: {why}" for path, why in loaded.ignored)
        lines.extend(f"warning: {warning}" for warning in loaded.warnings)
        return lines


def _relative(path: Path, directory: Path) -> str:
    try:
        return str(path.relative_to(directory))
    except ValueError:
        return str(path)


def _set_junit_classname(config: pytest.Config, report: pytest.TestReport) -> None:
    """Give a migration item's JUnit test case the class :func:`.items.junit_classname` names.

    Set before the JUnit reporter (tryfirst) opens the test case, as a user-defined attribute,
    which it keeps; keyed by the report, so that under xdist the controller's reporter gets it.
    """
    from .items import ITEM_NAMES, junit_classname

    path, _, name = report.nodeid.rpartition("::")
    name = name.partition("@")[0]  # xdist's --dist loadgroup may add "@group" to the id
    if name not in ITEM_NAMES or not path.lower().endswith(".sql"):
        return
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pytest moved it: the class names stay pytest's own
        return
    xml = config.stash.get(xml_key, None)
    if xml is None:
        return
    classname = junit_classname(report.nodeid)
    if xml.prefix:
        classname = f"{xml.prefix}.{classname}"
    xml.node_reporter(report).add_attribute("classname", classname)


def _collect_into_session(session: pytest.Session, collector: pytest.Collector) -> list[pytest.Item]:
    """Collect ``collector`` as pytest's own walk would: reports (and errors) go to the terminal."""
    report = collector.ihook.pytest_make_collect_report(collector=collector)
    collector.ihook.pytest_collectreport(report=report)
    found: list[pytest.Item] = []
    if not report.passed:
        return found
    for node in report.result:
        if isinstance(node, pytest.Item):
            found.append(node)
        elif isinstance(node, pytest.Collector):
            found.extend(_collect_into_session(session, node))
    return found

