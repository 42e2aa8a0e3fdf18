"""The language server: ``migration-lint server`` (or ``python -m migration_lint.server``).

It speaks LSP over stdio (pygls) and lints ``.sql`` files of migration directories as the CLI
does, with the same configuration (``[tool.migration-lint]`` / ``.migration-lint.toml``, found
from the file) and the same suppression comments, but on the editor's buffers: a file is linted
with the unsaved text of every open file of its directory, and in the context of the migrations
before it.

- Diagnostics on open, on change (after a short pause in typing) and on save.
- Hover on a finding: the rule's message and its documentation (``migration-lint --explain``).
- Code actions: apply the rule's suggested rewrite; insert
  ``-- migration-lint: ignore[rule-name] <reason>`` above the statement; ``source.fixAll`` applies
  every mechanical rewrite of the file at once (e.g. on save).
- Each diagnostic links to its rule's page (``codeDescription``).

Every request gets an answer: one whose parameters cannot be read gets a JSON-RPC error
response (-32602, naming what is wrong), and a setting that cannot be used is named in one
message and ignored, never a pop-up with a Python exception.

Settings, as ``initializationOptions`` or in ``workspace/didChangeConfiguration`` under
``migrationLint`` (all optional)::

    {"migrationDirectories": ["db/migrations"],  # lint only .sql files below these
     "dialect": "mysql",                          # or "sqlite" (sqlglot), "postgres";
                                                  # default: the configuration's, else postgres
     "pgVersion": 15,                             # overrides the configuration file
     "config": "path/to/.migration-lint.toml",    # instead of discovering it
     "debounce": 0.3}                             # seconds of quiet before linting a change

Without ``migrationDirectories``, any ``.sql`` file is linted the way
``migration-lint path/to/file.sql`` lints it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from lsprotocol import types
from pygls.exceptions import FeatureRequestError, JsonRpcException
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol
from pygls.uris import to_fs_path
from pygls.workspace.position_codec import ServerTextPosition

from . import __version__

SOURCE = "migration-lint"
SUPPRESSION_REASON = "<reason>"
FIX_ALL = f"{types.CodeActionKind.SourceFixAll.value}.{SOURCE}"
DIALECTS = {"postgres": "postgres", "postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}
log = logging.getLogger(__name__)


@dataclass
class Settings:
    migration_directories: list[str] = field(default_factory=list)
    dialect: str | None = None  # None: the configuration's, else postgres
    pg_version: int | None = None
    config: str | None = None
    debounce: float = 0.3

    @classmethod
    def from_client(cls, data: Any, previous: Settings | None = None, problems: list[str] | None = None) -> Settings:
        """The settings the client sent, over ``previous``. A value that cannot be used keeps the
        previous one and is described in ``problems`` (when given), one line per setting."""
        settings = Settings(**vars(previous)) if previous else Settings()
        problems = [] if problems is None else problems
        if not isinstance(data, dict):
            return settings
        data = data.get("migrationLint", data)
        if not isinstance(data, dict):
            problems.append(f"migrationLint: expected an object of settings, got {data!r}")
            return settings

        def refuse(name: str, expected: str) -> None:
            problems.append(f"{name}: expected {expected}, got {data[name]!r}")

        if data.get("migrationDirectories") is not None:
            directories = data["migrationDirectories"]
            if isinstance(directories, list) and all(isinstance(d, str) for d in directories):
                settings.migration_directories = list(directories)
            else:
                refuse("migrationDirectories", "a list of directories")
        if data.get("dialect") is not None:
            if data["dialect"] in DIALECTS:
                settings.dialect = DIALECTS[data["dialect"]]
            else:
                refuse("dialect", "postgres, mysql or sqlite")
        if data.get("pgVersion") is not None:
            version = _major_version(data["pgVersion"])
            if version is None:
                refuse("pgVersion", "a PostgreSQL major version such as 15")
            else:
                settings.pg_version = version
        if data.get("config") is not None:
            if isinstance(data["config"], str):
                settings.config = data["config"] or None
            else:
                refuse("config", "the path of a configuration file")
        if data.get("debounce") is not None:
            debounce = data["debounce"]
            if isinstance(debounce, (int, float)) and not isinstance(debounce, bool) and debounce >= 0:
                settings.debounce = float(debounce)
            else:
                refuse("debounce", "a number of seconds (0 or more)")
        return settings


def _major_version(value: Any) -> int | None:
    """15 from 15, "15" or "15.2"; ``None`` for anything else (booleans, "abc", 3)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    text = str(value).strip()
    major = text.split(".")[0]
    if not major.isdigit() or not 9 <= int(major) <= 99:
        return None
    return int(major)


@dataclass
class Linted:
    """The last lint of a document: what its diagnostics were computed from."""

    version: int | None
    text: str  # normalised (LF) text the findings' offsets refer to
    findings: list[Any]
    diagnostics: list[types.Diagnostic]
    statement_lines: list[tuple[int, int]]  # (first line, last line) of each statement, 1-based
    dialect: str = "postgres"


class _Answered:
    """A request whose parameters could not be read, already answered with an error response."""


_ANSWERED = _Answered()


class AnsweringProtocol(LanguageServerProtocol):
    """pygls' protocol, except that a request whose parameters do not read as the method's is
    answered with a JSON-RPC error (-32602) naming what is wrong: pygls drops such a message,
    leaving the client waiting, and shows the user a pop-up instead."""

    def structure_message(self, data: dict[str, Any]) -> Any:
        try:
            return super().structure_message(data)
        except JsonRpcException as error:
            if not ("jsonrpc" in data and "id" in data and "method" in data):
                raise  # a notification or a response: nobody waits for an answer
            detail = _validation_detail(error.__cause__)
            self._send_response(data["id"], None, types.ResponseError(
                code=error.code, message=f"{data['method']}: {error.message.lower()}{detail}",
            ))
            log.warning("answered %s request %s with %s%s", data["method"], data["id"], error.message, detail)
            return _ANSWERED

    def handle_message(self, message: Any) -> None:
        if message is _ANSWERED:
            return
        super().handle_message(message)


def _validation_detail(cause: BaseException | None) -> str:
    """``": required field missing @ $.params.position"`` from cattrs' error, or nothing."""
    if cause is None:
        return ""
    try:
        from cattrs import transform_error

        lines = transform_error(cause)
    except Exception:
        return ""
    return ": " + "; ".join(lines) if lines else ""


class MigrationLintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(SOURCE, __version__, protocol_cls=AnsweringProtocol)
        self.settings = Settings()
        self.linted: dict[str, Linted] = {}
        self._pending: dict[str, asyncio.Task[None]] = {}

    def configure(self, data: Any) -> None:
        """Take the client's settings; what cannot be used is named in one message and ignored."""
        problems: list[str] = []
        self.settings = Settings.from_client(data, self.settings, problems)
        if problems:
            self.window_show_message(types.ShowMessageParams(
                type=types.MessageType.Warning,
                message=f"{SOURCE}: settings ignored: " + "; ".join(problems),
            ))

    def report_server_error(self, error: Exception, source: Any) -> None:
        """A failure outside a request goes to the log (the editor's output panel), as one line,
        not to a pop-up: the server goes on. A failed request has its error response already."""
        log.error("%s: %s", type(error).__name__, error, exc_info=error)
        if source is FeatureRequestError:
            return
        self.window_log_message(types.LogMessageParams(
            type=types.MessageType.Error,
            message=f"{SOURCE}: could not handle a message from the editor ({type(error).__name__}: {error});"
                    " the server goes on (--log-file has the details)",
        ))

    # -- which files -----------------------------------------------------------------------------
    def _roots(self) -> list[Path]:
        roots = []
        with contextlib.suppress(Exception):
            root = self.workspace.root_path
            if root:
                roots.append(Path(root))
        return roots or [Path.cwd()]

    def wants(self, path: Path) -> bool:
        if path.suffix.lower() != ".sql":
            return False
        if not self.settings.migration_directories:
            return True
        resolved = path.resolve()
        for directory in self.settings.migration_directories:
            candidates = [Path(directory)] if Path(directory).is_absolute() else [r / directory for r in self._roots()]
            for candidate in candidates:
                if resolved.is_relative_to(candidate.resolve()):
                    return True
        return False

    # -- linting -----------------------------------------------------------------------------------
    def open_buffers(self) -> dict[Path, str]:
        buffers = {}
        for uri, document in self.workspace.text_documents.items():
            path = to_fs_path(uri)
            if path:
                buffers[Path(path).resolve()] = _normalise(document.source)
        return buffers

    def lint_uri(self, uri: str) -> None:
        """Lint one open document and publish its diagnostics (and those of its open siblings
        of the same migration, e.g. a paired ``.down.sql``)."""
        path_text = to_fs_path(uri)
        document = self.workspace.text_documents.get(uri)
        if document is None or not path_text:
            return
        path = Path(path_text)
        if not self.wants(path):
            if self.linted.pop(uri, None) is not None:  # it was ours before the settings changed
                self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
            return
        text = _normalise(document.source)
        try:
            per_path, statement_lines, dialect = lint_buffer(path, self.open_buffers(), self.settings)
        except Exception as error:  # never let a lint failure take the editor's server down
            log.exception("linting %s failed", path)
            self.window_log_message(types.LogMessageParams(types.MessageType.Error, f"migration-lint: {path}: {error}"))
            return
        self.publish(uri, document.version, text, per_path.pop(path.resolve(), []), statement_lines.get(path.resolve(), []), dialect)
        open_by_path = {Path(p).resolve(): u for u in self.workspace.text_documents if (p := to_fs_path(u))}
        for other, findings in per_path.items():
            other_uri = open_by_path.get(other)
            other_document = self.workspace.text_documents.get(other_uri) if other_uri else None
            if other_document is not None:
                self.publish(other_uri, other_document.version, _normalise(other_document.source),
                             findings, statement_lines.get(other, []), dialect)

    def lint_siblings(self, uri: str) -> None:
        """Re-lint the other open documents of the same migrations directory: what an earlier
        migration establishes is context for the later ones."""
        path = to_fs_path(uri)
        if not path:
            return
        directory = _migrations_directory(Path(path))
        for other in list(self.workspace.text_documents):
            other_path = to_fs_path(other)
            if other != uri and other_path and _migrations_directory(Path(other_path)) == directory:
                self.lint_uri(other)

    def schedule(self, uri: str) -> None:
        pending = self._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        self._pending[uri] = asyncio.ensure_future(self._lint_later(uri))

    async def _lint_later(self, uri: str) -> None:
        await asyncio.sleep(self.settings.debounce)
        self._pending.pop(uri, None)
        self.lint_uri(uri)

    def publish(self, uri: str, version: int | None, text: str, findings: list[Any],
                statement_lines: list[tuple[int, int]], dialect: str = "postgres") -> None:
        lines = text.split("\n")
        document = self.workspace.text_documents.get(uri)
        codec = document.position_codec if document is not None else None
        diagnostics = [to_diagnostic(finding, index, version, lines, codec) for index, finding in enumerate(findings)]
        self.linted[uri] = Linted(version, text, findings, diagnostics, statement_lines, dialect)
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=version)
        )

    # -- hover and code actions ----------------------------------------------------------------------
    def hover(self, uri: str, position: types.Position) -> types.Hover | None:
        linted = self.linted.get(uri)
        if linted is None:
            return None
        parts = []
        for diagnostic, finding in zip(linted.diagnostics, linted.findings):
            if _contains(diagnostic.range, position):
                parts.append(explain(finding, linted.dialect))
        if not parts:
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value="\n\n---\n\n".join(parts)))

    def code_actions(self, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        linted = self.linted.get(uri)
        document = self.workspace.text_documents.get(uri)
        if linted is None or document is None:
            return []
        chosen: dict[int, types.Diagnostic] = {}
        for diagnostic in params.context.diagnostics or []:
            if diagnostic.source != SOURCE:
                continue
            index = _index_of(diagnostic, linted)
            if index is not None:
                chosen[index] = linted.diagnostics[index]
        if not params.context.diagnostics:
            for index, diagnostic in enumerate(linted.diagnostics):
                if _overlaps(diagnostic.range, params.range):
                    chosen[index] = diagnostic
        only = [str(getattr(kind, "value", kind)) for kind in params.context.only or []]
        lines = linted.text.split("\n")
        newline = "\r\n" if "\r\n" in document.source else "\n"
        versioned = types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=linted.version)
        actions: list[types.CodeAction] = []
        # source.fixAll only when asked for (on save, or the editor's source-action menu).
        if any(FIX_ALL == kind or FIX_ALL.startswith(kind + ".") for kind in only):
            fix_all = self._fix_all(linted, lines, newline, versioned, document.position_codec)
            if fix_all is not None:
                actions.append(fix_all)
        if only and not any(kind == "quickfix" or kind.startswith("quickfix.") for kind in only):
            return actions
        for index, diagnostic in sorted(chosen.items()):
            finding = linted.findings[index]
            if finding.edits:
                edits = [
                    types.TextEdit(
                        range=types.Range(
                            start=_client_position(lines, edit.start, document.position_codec),
                            end=_client_position(lines, edit.end, document.position_codec),
                        ),
                        new_text=edit.replacement.replace("\n", newline),
                    )
                    for edit in finding.edits
                ]
                actions.append(types.CodeAction(
                    title=f"Fix: {finding.fix_title or 'apply the suggested rewrite'} ({finding.rule})",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    is_preferred=True,
                    edit=types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=versioned, edits=edits)]),
                ))
            if finding.rule == "missing-down":
                generate = _generate_down_action(uri, self.open_buffers(), diagnostic, newline, document.position_codec)
                if generate is not None:
                    actions.append(generate)
            if finding.rule in ("syntax-error", "unused-suppression"):
                continue
            line = statement_start(finding.line, linted.statement_lines)
            current = lines[line - 1] if 0 < line <= len(lines) else ""
            indent = current[: len(current) - len(current.lstrip())]
            comment = f"{indent}-- migration-lint: ignore[{finding.rule}] {SUPPRESSION_REASON}{newline}"
            position = types.Position(line=line - 1, character=0)
            actions.append(types.CodeAction(
                title=f"Ignore {finding.rule} for this statement",
                kind=types.CodeActionKind.QuickFix,
                diagnostics=[diagnostic],
                edit=types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
                    text_document=versioned,
                    edits=[types.TextEdit(range=types.Range(start=position, end=position), new_text=comment)],
                )]),
            ))
        return actions

    def _fix_all(self, linted: Linted, lines: list[str], newline: str,
                 versioned: types.OptionalVersionedTextDocumentIdentifier, codec: Any) -> types.CodeAction | None:
        """Every finding's rewrite in one edit; where two would touch the same text, the first
        wins (the next lint shows what is left)."""
        chosen: list[Any] = []
        fixed: list[types.Diagnostic] = []
        for diagnostic, finding in zip(linted.diagnostics, linted.findings):
            edits = sorted(finding.edits or [], key=lambda edit: (edit.start, edit.end))
            if not edits or any(not (edit.end <= other.start or other.end <= edit.start)
                                for edit in edits for other in chosen):
                continue
            chosen.extend(edits)
            fixed.append(diagnostic)
        if not chosen:
            return None
        text_edits = [
            types.TextEdit(
                range=types.Range(start=_client_position(lines, edit.start, codec), end=_client_position(lines, edit.end, codec)),
                new_text=edit.replacement.replace("\n", newline),
            )
            for edit in sorted(chosen, key=lambda edit: (edit.start, edit.end))
        ]
        return types.CodeAction(
            title=f"Fix all {SOURCE} findings with a rewrite ({len(fixed)})",
            kind=FIX_ALL,
            diagnostics=fixed,
            edit=types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(text_document=versioned, edits=text_edits)]),
        )


def _generate_down_action(
    uri: str, buffers: dict[Path, str], diagnostic: types.Diagnostic, newline: str, codec: Any
) -> types.CodeAction | None:
    """"Generate DOWN" for a migration without one, from the UP's parse tree alone: where the
    layout keeps a DOWN, what the tree knows, and TODO comments for what only a catalog knows."""
    from pygls.uris import from_fs_path

    from .gendown import place_down, render, tree_down
    from .layouts import NotAMigration
    from .model import MigrationFileError

    path_text = to_fs_path(uri)
    if not path_text:
        return None
    try:
        _, migration = _migration_of(Path(path_text), buffer_reader(buffers))
        down, unknown = tree_down(migration)
        placement = place_down(migration, render(down, migration.up), outside_transaction=down.outside_transaction)
    except (MigrationFileError, NotAMigration, ValueError):
        return None
    changes: list[Any] = []
    for file, content in placement.files.items():
        file_uri = from_fs_path(str(file)) or file.as_uri()
        old = buffers.get(file.resolve())
        if old is None and file.exists():
            old = _normalise(file.read_text(encoding="utf-8"))
        if old is None:
            changes.append(types.CreateFile(uri=file_uri))
            old = ""
        end = _client_position(old.split("\n"), len(old), codec)
        changes.append(types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=file_uri, version=None),
            edits=[types.TextEdit(range=types.Range(start=types.Position(0, 0), end=end),
                                  new_text=content.replace("\n", newline))],
        ))  # fmt: skip
    left = f"; {unknown} statement(s) left as TODO for `migrations gen-down`" if unknown else ""
    return types.CodeAction(
        title=f"Generate DOWN from the parse tree alone (no server: check it){left}",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        edit=types.WorkspaceEdit(document_changes=changes),
    )


# -- linting a buffer ----------------------------------------------------------------------------------

def lint_buffer(
    path: Path, buffers: dict[Path, str], settings: Settings
) -> tuple[dict[Path, list[Any]], dict[Path, list[tuple[int, int]]], str]:
    """Findings of the migration that holds ``path``, by file, with the open ``buffers`` standing
    in for the files on disk; the (first, last) line of every statement of those files; and the
    dialect it was read as.

    Input errors (a file the model refuses, SQL sqlglot cannot read, a bad configuration) come
    back as findings too, so that the editor shows them where they are.
    """
    from .config import ConfigError
    from .dialects import DialectLinter
    from .layouts import NotAMigration
    from .model import MigrationFileError
    from .session import LintSession

    resolved = path.resolve()
    try:
        session = LintSession.for_path(
            path.parent, config_file=Path(settings.config) if settings.config else None,
            pg_version=settings.pg_version, dialect=settings.dialect, sources=dict(buffers),
        )
    except ConfigError as error:
        return {resolved: [_input_error(path, 1, 1, f"configuration: {error}")]}, {}, "postgres"
    dialect = session.dialect
    if session.config.is_excluded(path):
        return {resolved: []}, {}, dialect
    reader = buffer_reader(buffers)  # the open buffers stand in for the files on disk
    try:
        migrations, target = _migration_of(path, reader, getattr(session.config, "layout", None))
        session.sources.update(_source_aliases(target, buffers))
        found = session.lint(migrations, only=[target])
    except NotAMigration:  # a report query beside the migrations, a README: nothing to show
        return {resolved: []}, {}, dialect
    except MigrationFileError as error:
        if Path(error.path).resolve() == resolved:
            finding = _input_error(path, error.line or 1, getattr(error, "column", 1), error.message)
        else:  # another file of the directory: say which, at the top of this one
            finding = _input_error(path, 1, 1, str(error))
        return {resolved: [finding]}, {}, dialect
    except ConfigError as error:
        return {resolved: [_input_error(path, 1, 1, f"configuration: {error}")]}, {}, dialect
    per_path: dict[Path, list[Any]] = {Path(p).resolve(): [] for p in target.paths}
    per_path.setdefault(resolved, [])
    for finding in found:
        per_path.setdefault(Path(finding.path).resolve(), []).append(finding)
    statement_lines: dict[Path, list[tuple[int, int]]] = {}
    linter = session.linter
    for section in (target.up, target.down):
        if section is not None:
            statements = linter.statements(section) if isinstance(linter, DialectLinter) else section.statements
            statement_lines.setdefault(section.path.resolve(), []).extend((s.line, s.end_line) for s in statements)
    return per_path, statement_lines, dialect


def _source_aliases(target: Any, buffers: dict[Path, str]) -> dict[Path, str]:
    """Buffers keyed by the paths as the model spells them (the engine looks sources up by them)."""
    aliases = {}
    for path in target.paths:
        text = buffers.get(Path(path).resolve())
        if text is not None:
            aliases[Path(path)] = text
    return aliases


def _migrations_directory(path: Path) -> Path:
    """The directory whose layout holds ``path`` (``<version>/up.sql`` lives two levels down)."""
    resolved = path.resolve()
    return resolved.parent.parent if resolved.name.lower() in ("up.sql", "down.sql") else resolved.parent


def _migration_of(path: Path, reader: Any = None, layout: str | None = None) -> tuple[list[Any], Any]:
    """The migrations of ``path``'s directory up to and including ``path``'s, and that one.

    Raises ``NotAMigration`` for a file its directory's layout does not read (a report query
    beside the migrations, a README): the editor shows nothing for it.
    """
    from .layouts import NotAMigration, load_directory, load_file
    from .model import MigrationFileError

    resolved = path.resolve()
    candidates = [path.parent]
    if path.name.lower() in ("up.sql", "down.sql"):
        candidates.insert(0, path.parent.parent)
    for directory in candidates:
        try:
            loaded = load_directory(directory, layout, reader)
        except MigrationFileError as error:
            if Path(error.path).resolve() == resolved or Path(error.path).resolve().parent == resolved.parent:
                raise
            continue
        if not loaded.migrations:
            continue
        target = next((m for m in loaded.migrations if any(Path(p).resolve() == resolved for p in m.paths)), None)
        if target is not None:
            index = loaded.migrations.index(target)
            return loaded.migrations[: index + 1], target
        if any(Path(p).resolve() == resolved for p, _ in loaded.ignored):
            raise NotAMigration(path, f"not a migration of this {loaded.layout.name} directory")
    target = load_file(path, reader)
    return [target], target


def _input_error(path: Path, line: int, column: int, message: str) -> Any:
    from .engine import Finding

    return Finding(str(path), line, column, line, column, "ML900", "syntax-error", "error", message, section="up")


def buffer_reader(buffers: dict[Path, str]) -> Any:
    """A reader for the layouts: an open editor buffer where there is one, else the file."""
    from .model import read_sql_file

    def read(file: Path) -> str:
        text = buffers.get(Path(file).resolve())
        return read_sql_file(file) if text is None else text

    return read


# -- findings as LSP objects ----------------------------------------------------------------------------

def _normalise(text: str) -> str:
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def _client(lines: Sequence[str], line: int, character: int, codec: Any) -> types.Position:
    line = max(0, min(line, len(lines) - 1)) if lines else 0
    character = max(0, min(character, len(lines[line]) if lines else 0))
    if codec is None:
        return types.Position(line=line, character=character)
    return codec.position_to_client_units(list(lines), ServerTextPosition(line, character))


def _client_position(lines: Sequence[str], offset: int, codec: Any) -> types.Position:
    remaining = offset
    for number, line in enumerate(lines):
        if remaining <= len(line):
            return _client(lines, number, remaining, codec)
        remaining -= len(line) + 1
    last = len(lines) - 1
    return _client(lines, last, len(lines[last]), codec)


def to_diagnostic(finding: Any, index: int, version: int | None, lines: Sequence[str], codec: Any) -> types.Diagnostic:
    start = _client(lines, finding.line - 1, finding.column - 1, codec)
    end_line, end_column = finding.end_line - 1, finding.end_column - 1
    if (end_line, end_column) <= (finding.line - 1, finding.column - 1):
        # A point (a parse error, a migration-level finding): mark the rest of the line.
        end_line = finding.line - 1
        end_column = len(lines[end_line]) if 0 <= end_line < len(lines) else finding.column
        if end_column <= finding.column - 1:
            end_column = finding.column
    end = _client(lines, end_line, end_column, codec)
    message = finding.message
    if finding.fix_title:
        message += f"\n{finding.fix_title}"
    page = rule_page(finding.code, finding.rule)
    return types.Diagnostic(
        range=types.Range(start=start, end=end),
        message=message,
        severity=types.DiagnosticSeverity.Error if finding.severity == "error" else types.DiagnosticSeverity.Warning,
        code=finding.code,
        code_description=types.CodeDescription(href=page) if page else None,
        source=SOURCE,
        data={"index": index, "version": version, "rule": finding.rule},
    )


def rule_page(code: str, rule: str) -> str | None:
    """The published page of the rule behind a finding (``docs/rules``); ``None`` for the MySQL
    and SQLite rules, which have none."""
    from .docs import rule_page_url
    from .rules import known_rule

    cls = known_rule(code)
    if cls is None or cls.code != code or cls.name != rule:
        return None
    return rule_page_url(cls.name)


def _index_of(diagnostic: types.Diagnostic, linted: Linted) -> int | None:
    data = diagnostic.data if isinstance(diagnostic.data, dict) else None
    if data is not None and data.get("version") == linted.version:
        index = data.get("index")
        if isinstance(index, int) and 0 <= index < len(linted.diagnostics) and linted.diagnostics[index].code == diagnostic.code:
            return index
    for index, mine in enumerate(linted.diagnostics):
        if mine.code == diagnostic.code and mine.range == diagnostic.range:
            return index
    return None


def _contains(span: types.Range, position: types.Position) -> bool:
    return (span.start.line, span.start.character) <= (position.line, position.character) <= (span.end.line, span.end.character)


def _overlaps(a: types.Range, b: types.Range) -> bool:
    return not ((a.end.line, a.end.character) < (b.start.line, b.start.character)
                or (b.end.line, b.end.character) < (a.start.line, a.start.character))


def statement_start(line: int, statement_lines: Sequence[tuple[int, int]]) -> int:
    """The first line of the statement that holds ``line`` (``line`` itself when none does)."""
    for first, last in statement_lines:
        if first <= line <= last:
            return first
    return line


def explain(finding: Any, dialect: str = "postgres") -> str:
    """Markdown for a hover: the finding, its suggested rewrite and the rule's documentation."""
    header = f"**{finding.code} {finding.rule}** ({finding.severity}): {finding.message}"
    parts = [header]
    if finding.fix_title:
        parts.append(f"*{finding.fix_title}*")
    if finding.suggestion:
        parts.append(f"Suggested rewrite:\n```sql\n{finding.suggestion}\n```")
    from .dialects.rules import rule_class_of

    cls = rule_class_of(finding.code, dialect)
    if cls is not None:
        try:
            from .docs import rule_markdown

            documentation = rule_markdown(cls, stamp=False)
        except Exception:
            documentation = cls.documentation()
        parts.append(documentation.strip())
    return "\n\n".join(parts)


# -- the server ---------------------------------------------------------------------------------------

def build_server() -> MigrationLintServer:
    server = MigrationLintServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: MigrationLintServer, params: types.InitializeParams) -> None:
        ls.settings = Settings()
        ls.configure(params.initialization_options)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def did_change_configuration(ls: MigrationLintServer, params: types.DidChangeConfigurationParams) -> None:
        ls.configure(params.settings)
        for uri in list(ls.workspace.text_documents):
            ls.lint_uri(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: MigrationLintServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.lint_uri(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: MigrationLintServer, params: types.DidChangeTextDocumentParams) -> None:
        if ls.settings.debounce <= 0:
            ls.lint_uri(params.text_document.uri)
        else:
            ls.schedule(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: MigrationLintServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.lint_uri(params.text_document.uri)
        ls.lint_siblings(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: MigrationLintServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        pending = ls._pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        ls.linted.pop(uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: MigrationLintServer, params: types.HoverParams) -> types.Hover | None:
        return ls.hover(params.text_document.uri, params.position)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]),
    )
    def code_action(ls: MigrationLintServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return ls.code_actions(params)

    return server


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="migration-lint server", description="migration-lint's language server (LSP over stdio).")
    parser.add_argument("--stdio", action="store_true", help="talk LSP over stdin/stdout (the default and only transport)")
    parser.add_argument("--log-file", type=Path, help="write the server's log here (stdout carries the protocol)")
    args = parser.parse_args(argv)
    if args.log_file:
        logging.basicConfig(filename=args.log_file, level=logging.INFO)
    build_server().start_io()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
