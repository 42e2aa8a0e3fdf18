"""pytest glue for pytest-migrations: ``pytest --migrations`` and the ``migrations_db`` fixtures.

Thin wrappers over the core modules: :mod:`pytest_migrations.roundtrip` does the walk,
:mod:`pytest_migrations.trace` the lock trace, :mod:`pytest_migrations.database` the servers,
:mod:`migration_lint` the model and the lint.

- :mod:`.options`: flags, ini twins, environment variables, precedence;
- :mod:`.state`: what a session shares (server, migrations, chain and trace walkers) on ``config.stash``;
- :mod:`.items`: the directory and file collectors and the ``::roundtrip`` / ``::lint`` / ``::locks`` items;
- :mod:`.fixtures`: ``migrations_db`` and ``migrate_to`` for users' own tests.

The :class:`MigrationsPlugin` object that collects items is registered only with ``--migrations``
(or ini ``migrations = true``); the fixtures are always available.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .fixtures import _migrations_templates, migrate_to, migrations_db, migrations_server
from .items import WARNING_PROPERTY, MigrationsDirectory
from .options import AUTO_DIRS, Settings, SettingsError, add_options, resolve_settings
from .state import SETTINGS_ERROR_KEY, STATE_KEY, MigrationsState

__all__ = ["MigrationsPlugin", "migrate_to", "migrations_db", "migrations_server"]

PLUGIN_NAME = "pytest-migrations-collector"


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "xdist_group(name): keep items of one group on one xdist worker")
    if config.getoption("help", default=False):
        return  # --help must work whatever the settings hold
    try:
        settings = resolve_settings(config)
    except SettingsError as error:
        if _enabled(config):
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
    """``--migrations`` or ini ``migrations = true``, read without resolving the other settings."""
    if config.getoption("migrations_enabled", default=None):
        return True
    return str(config.getini("migrations") or "").strip().lower() in ("1", "true", "yes", "on")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE_KEY, None)
    if state is not None:
        state.close()


class MigrationsPlugin:
    """Collects the migration items; registered only when ``--migrations`` is on."""

    def __init__(self, config: pytest.Config, settings: Settings) -> None:
        self.config = config
        self.settings = settings
        self._collected_directory = False
        self._warnings: list[str] = []

    def pytest_report_header(self, config: pytest.Config) -> list[str]:
        return self.settings.header_lines(config.rootpath)

    @pytest.hookimpl(tryfirst=True)
    def pytest_collect_directory(self, path: Path, parent: pytest.Collector) -> pytest.Collector | None:
        directory = self.settings.dir
        if directory is not None and path.resolve() == directory.resolve():
            self._collected_directory = True
            return MigrationsDirectory.for_path(parent, path)
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
        """Add the migration items when pytest's own walk did not reach the directory.

        With paths named on the command line, only what they select is collected, as pytest does.
        """
        directory = self.settings.dir
        if directory is None or self._collected_directory:
            return
        if config.args_source == pytest.Config.ArgsSource.ARGS:
            return
        collector = MigrationsDirectory.for_path(session, directory)
        items.extend(_collect_into_session(session, collector))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._warnings.extend(value for name, value in report.user_properties if name == WARNING_PROPERTY)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self._warnings:
            return
        terminalreporter.section("pytest-migrations warnings", sep="-", yellow=True)
        for line in dict.fromkeys(self._warnings):  # one line once, however many items said it
            terminalreporter.line(line)


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

