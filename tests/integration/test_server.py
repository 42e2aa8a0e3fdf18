"""The language server, end to end: a real LSP client (pytest-lsp) drives
``python -m migration_lint.server`` in a subprocess over stdio.

Nothing is written to disk after a test's setup: every change goes through ``didChange``, so
the tests also prove that the server lints the editor's buffers, not the files.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

DATA = Path(__file__).resolve().parents[1] / "data" / "dialects"


def _publish_diagnostics(client: LanguageClient, params: types.PublishDiagnosticsParams) -> None:
    """pytest-lsp's handler, plus which document version the diagnostics are for, so that a
    test waits for the lint of the text it just sent."""
    client.diagnostics[params.uri] = params.diagnostics
    client.published_versions[params.uri] = params.version


def _make_client() -> LanguageClient:
    client = LanguageClient(converter_factory=default_converter)
    client.published_versions = {}
    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: _publish_diagnostics})
    return client


SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "migration_lint.server"], client_factory=_make_client)

CREATE_ORDERS = "CREATE TABLE orders (\n    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,\n    customer_id bigint NOT NULL\n);\n"
SELECTED_RULES = (
    'select = ["require-concurrent-index-creation", "require-concurrent-index-deletion", '
    '"require-if-exists", "require-lock-timeout", "unused-suppression"]\n'
)
INDEX_ORDERS = "-- no-transaction\nSET lock_timeout = '5s';\nCREATE INDEX orders_customer_id_idx ON orders (customer_id);\n"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A project whose migrations/ holds 1 (creates ``orders``) and 2 (indexes it, not concurrently)."""
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "1_create_orders.up.sql").write_text(CREATE_ORDERS)
    (migrations / "1_create_orders.down.sql").write_text("DROP TABLE IF EXISTS orders;\n")
    (migrations / "2_index_orders.up.sql").write_text(INDEX_ORDERS)
    (migrations / "2_index_orders.down.sql").write_text("DROP INDEX CONCURRENTLY IF EXISTS orders_customer_id_idx;\n")
    (tmp_path / "scratch.sql").write_text("CREATE INDEX scratch_idx ON orders (id);\n")
    # The rules these tests are about (found by the server's configuration discovery); rules
    # added later must not change what they expect.
    (tmp_path / ".migration-lint.toml").write_text(SELECTED_RULES)
    return tmp_path


async def start(client: LanguageClient, root: Path, **options: Any) -> None:
    await client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=root.as_uri(),
        initialization_options={"migrationDirectories": ["migrations"], "debounce": 0, **options},
    ))


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


class Buffer:
    """One open document as the client holds it."""

    def __init__(self, client: LanguageClient, path: Path, text: str | None = None) -> None:
        self.client, self.uri, self.version = client, path.as_uri(), 1
        self.text = path.read_text() if text is None else text

    def open(self) -> None:
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            types.TextDocumentItem(uri=self.uri, language_id="sql", version=self.version, text=self.text)))

    def replace(self, text: str) -> None:
        self.version += 1
        self.text = text
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=self.uri, version=self.version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
        ))

    async def diagnostics(self, timeout: float = 20) -> list[types.Diagnostic]:
        """The diagnostics published for this buffer's current version."""
        async def wait() -> list[types.Diagnostic]:
            while True:
                published = self.client.diagnostics.get(self.uri)
                if published is not None and self._published_version == self.version:
                    return list(published)
                await self.client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)

        return await asyncio.wait_for(wait(), timeout)

    @property
    def _published_version(self) -> int | None:
        return self.client.published_versions.get(self.uri)

    def apply(self, edit: types.WorkspaceEdit) -> None:
        """Apply a workspace edit the way an editor does, then tell the server."""
        text = self.text
        for change in edit.document_changes or []:
            assert change.text_document.uri == self.uri
            assert change.text_document.version in (None, self.version)
            for text_edit in sorted(change.edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
                start, end = _offset(text, text_edit.range.start), _offset(text, text_edit.range.end)
                text = text[:start] + text_edit.new_text + text[end:]
        self.replace(text)


def _offset(text: str, position: types.Position) -> int:
    lines = text.split("\n")
    before = sum(len(line) + 1 for line in lines[: position.line])
    line = lines[position.line] if position.line < len(lines) else ""
    # LSP characters are UTF-16 code units by default.
    units, index = 0, 0
    while index < len(line) and units < position.character:
        units += 2 if ord(line[index]) > 0xFFFF else 1
        index += 1
    return before + index


async def code_actions(client: LanguageClient, buffer: Buffer, diagnostics: list[types.Diagnostic]) -> list[types.CodeAction]:
    result = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=buffer.uri),
        range=diagnostics[0].range,
        context=types.CodeActionContext(diagnostics=diagnostics, trigger_kind=types.CodeActionTriggerKind.Invoked),
    ))
    return [action for action in result or [] if isinstance(action, types.CodeAction)]


# -- the session the issue asks for ------------------------------------------------------------------

@pytest.mark.asyncio
async def test_non_concurrent_index_diagnostic_fix_and_clean(client: LanguageClient, workspace: Path) -> None:
    await start(client, workspace)
    buffer = Buffer(client, workspace / "migrations" / "2_index_orders.up.sql")
    buffer.open()
    (diagnostic,) = await buffer.diagnostics()
    assert diagnostic.code == "ML001" and diagnostic.source == "migration-lint"
    assert diagnostic.severity == types.DiagnosticSeverity.Error
    statement = "CREATE INDEX orders_customer_id_idx ON orders (customer_id)"
    assert diagnostic.range == types.Range(types.Position(2, 0), types.Position(2, len(statement)))

    actions = await code_actions(client, buffer, [diagnostic])
    (fix,) = [a for a in actions if a.title.startswith("Fix:")]
    assert fix.kind == types.CodeActionKind.QuickFix and fix.is_preferred
    buffer.apply(fix.edit)
    assert "CREATE INDEX CONCURRENTLY orders_customer_id_idx" in buffer.text
    assert await buffer.diagnostics() == []
    # The server linted the buffer: the file on disk still has the plain CREATE INDEX.
    assert (workspace / "migrations" / "2_index_orders.up.sql").read_text() == INDEX_ORDERS


@pytest.mark.asyncio
async def test_suppression_code_action_silences_the_finding(client: LanguageClient, workspace: Path) -> None:
    await start(client, workspace)
    buffer = Buffer(client, workspace / "migrations" / "2_index_orders.up.sql")
    buffer.open()
    diagnostics = await buffer.diagnostics()
    (ignore,) = [a for a in await code_actions(client, buffer, diagnostics) if a.title.startswith("Ignore")]
    buffer.apply(ignore.edit)
    assert buffer.text.split("\n")[2] == "-- migration-lint: ignore[require-concurrent-index-creation] <reason>"
    assert await buffer.diagnostics() == []


@pytest.mark.asyncio
async def test_hover_explains_the_rule(client: LanguageClient, workspace: Path) -> None:
    await start(client, workspace)
    buffer = Buffer(client, workspace / "migrations" / "2_index_orders.up.sql")
    buffer.open()
    (diagnostic,) = await buffer.diagnostics()
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=buffer.uri), position=types.Position(2, 10)))
    assert hover is not None and hover.contents.kind == types.MarkupKind.Markdown
    text = hover.contents.value
    assert "ML001 require-concurrent-index-creation" in text
    assert "Why is this bad?" in text and "SHARE lock" in text  # the rule's documentation
    assert "CREATE INDEX CONCURRENTLY orders_customer_id_idx" in text  # the suggested rewrite
    nothing = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=buffer.uri), position=types.Position(0, 3)))
    assert nothing is None


@pytest.mark.asyncio
async def test_diagnostics_follow_edits_and_earlier_migrations(client: LanguageClient, workspace: Path) -> None:
    await start(client, workspace)
    buffer = Buffer(client, workspace / "migrations" / "2_index_orders.up.sql")
    buffer.open()
    assert len(await buffer.diagnostics()) == 1
    # An index on a table created earlier in the same migration blocks nobody.
    buffer.replace("CREATE TABLE invoices (id bigint PRIMARY KEY, orders_id bigint);\n"
                   "CREATE INDEX invoices_orders_id_idx ON invoices (orders_id);\n")
    assert await buffer.diagnostics() == []
    buffer.replace(INDEX_ORDERS.replace("CREATE INDEX", "DROP INDEX orders_customer_id_idx;\nCREATE INDEX"))
    codes = sorted(d.code for d in await buffer.diagnostics())
    assert codes == ["ML001", "ML002", "ML016"]


@pytest.mark.asyncio
async def test_only_files_in_the_migration_directories(client: LanguageClient, workspace: Path) -> None:
    await start(client, workspace)
    scratch = Buffer(client, workspace / "scratch.sql")
    scratch.open()
    readme = workspace / "migrations" / "README.md"
    readme.write_text("CREATE INDEX nope ON orders (id);\n")
    Buffer(client, readme).open()
    migration = Buffer(client, workspace / "migrations" / "2_index_orders.up.sql")
    migration.open()
    assert len(await migration.diagnostics()) == 1
    # The server handles messages in order: the other two were opened, and left alone.
    assert scratch.uri not in client.diagnostics and readme.as_uri() not in client.diagnostics


@pytest.mark.asyncio
async def test_configuration_file_is_discovered(client: LanguageClient, workspace: Path) -> None:
    (workspace / ".migration-lint.toml").write_text(SELECTED_RULES + 'ignore = ["require-concurrent-index-creation"]\n')
    await start(client, workspace)
    buffer = Buffer(client, workspace / "migrations" / "2_index_orders.up.sql")
    buffer.open()
    assert await buffer.diagnostics() == []
    buffer.replace(buffer.text + "DROP INDEX orders_customer_id_idx;\n")
    assert sorted(d.code for d in await buffer.diagnostics()) == ["ML002", "ML016"]


@pytest.mark.asyncio
async def test_bad_configuration_is_shown_not_fatal(client: LanguageClient, workspace: Path) -> None:
    (workspace / ".migration-lint.toml").write_text('ignore = ["no-such-rule"]\n')
    await start(client, workspace)
    buffer = Buffer(client, workspace / "migrations" / "2_index_orders.up.sql")
    buffer.open()
    (diagnostic,) = await buffer.diagnostics()
    assert "no-such-rule" in diagnostic.message and diagnostic.range.start.line == 0


@pytest.mark.asyncio
async def test_positions_are_utf16_code_units(client: LanguageClient, workspace: Path) -> None:
    await start(client, workspace)
    buffer = Buffer(client, workspace / "migrations" / "2_index_orders.up.sql",
                    INDEX_ORDERS.replace("CREATE INDEX", "/* 𝄞 */ CREATE INDEX"))
    buffer.open()
    (diagnostic,) = await buffer.diagnostics()
    # "/* 𝄞 */ " is 8 characters but 9 UTF-16 code units (𝄞 is outside the BMP).
    assert diagnostic.range.start == types.Position(2, 9)
    (fix,) = [a for a in await code_actions(client, buffer, [diagnostic]) if a.title.startswith("Fix:")]
    buffer.apply(fix.edit)
    assert "/* 𝄞 */ CREATE INDEX CONCURRENTLY orders_customer_id_idx" in buffer.text
    assert await buffer.diagnostics() == []


# -- MySQL and SQLite through the same server -----------------------------------------------------------

@pytest.mark.asyncio
async def test_mysql_dialect_online_ddl_fix(client: LanguageClient, tmp_path: Path) -> None:
    shutil.copytree(DATA / "mysql_shop", tmp_path / "migrations")
    await start(client, tmp_path, dialect="mysql")
    buffer = Buffer(client, tmp_path / "migrations" / "4_add_orders_shipped_at.up.sql")
    buffer.open()
    (diagnostic,) = await buffer.diagnostics()
    assert diagnostic.code == "ML701"
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=buffer.uri), position=types.Position(0, 5)))
    assert "ML701 mysql-require-online-ddl" in hover.contents.value and "MySQL silently picks" in hover.contents.value
    (fix,) = [a for a in await code_actions(client, buffer, [diagnostic]) if a.title.startswith("Fix:")]
    buffer.apply(fix.edit)
    assert buffer.text == "ALTER TABLE orders ADD COLUMN shipped_at DATETIME NULL, ALGORITHM=INPLACE, LOCK=NONE;\n"
    assert await buffer.diagnostics() == []
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=buffer.uri), position=types.Position(0, 0)))
    assert hover is None
    # A twin of a PostgreSQL rule explains itself with the dialect's documentation.
    drop = Buffer(client, tmp_path / "migrations" / "10_drop_archived_carts.up.sql")
    drop.open()
    assert sorted(d.code for d in await drop.diagnostics()) == ["ML011", "ML020"]
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=drop.uri), position=types.Position(1, 3)))
    assert "ML011 ban-drop-table" in hover.contents.value and "MySQL or SQLite migration" in hover.contents.value


@pytest.mark.asyncio
async def test_sql_the_dialect_cannot_parse_is_a_diagnostic(client: LanguageClient, tmp_path: Path) -> None:
    shutil.copytree(DATA / "mysql_broken", tmp_path / "migrations")
    await start(client, tmp_path, dialect="mysql")
    buffer = Buffer(client, tmp_path / "migrations" / "1_create_widgets.up.sql")
    buffer.open()
    (diagnostic,) = await buffer.diagnostics()
    assert diagnostic.range.start == types.Position(4, 33) and "Expecting )" in diagnostic.message
    buffer.replace(buffer.text.replace("(1;", "(1);"))
    assert await buffer.diagnostics() == []


# -- the documented editor set-ups ------------------------------------------------------------------------

EDITORS_DOC = Path(__file__).resolve().parents[2] / "docs" / "editors.md"


def _blocks(language: str) -> list[str]:
    import re

    return re.findall(rf"```{language}\n(.*?)```", EDITORS_DOC.read_text(), re.DOTALL)


def test_documented_settings_are_the_ones_the_server_reads() -> None:
    import re

    from migration_lint.server import Settings

    documented = re.findall(r"^\| `(\w+)` \|", EDITORS_DOC.read_text(), re.MULTILINE)
    values = {"migrationDirectories": ["db"], "dialect": "mysql", "pgVersion": 16, "config": "x.toml", "debounce": 0}
    assert sorted(documented) == sorted(values)
    for name in documented:
        assert Settings.from_client({name: values[name]}) != Settings(), f"{name} is documented but not read"
    assert Settings.from_client({"migrationLint": values}) == Settings.from_client(values)


def test_documented_editor_configurations_parse_and_start_the_server() -> None:
    import json

    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib

    (vscode,) = [json.loads(block) for block in _blocks("json")]
    assert [vscode["glspc.serverCommand"], *vscode["glspc.serverCommandArguments"]] == ["migration-lint", "server"]
    assert vscode["glspc.languageId"] == "sql"
    (helix,) = [tomllib.loads(block) for block in _blocks("toml")]
    server = helix["language-server"]["migration-lint"]
    assert [server["command"], *server["args"]] == ["migration-lint", "server"]
    assert helix["language"][0]["language-servers"] == ["migration-lint"]
    for lua in _blocks("lua"):
        assert 'cmd = { "migration-lint", "server" }' in lua and 'filetypes = { "sql" }' in lua
    assert len(_blocks("lua")) == 3  # 0.11, nvim-lspconfig, 0.7
    assert vscode["glspc.initializationOptions"] == {"migrationDirectories": ["migrations"]} == server["config"]


def test_server_entry_point_has_help() -> None:
    import subprocess

    result = subprocess.run([sys.executable, "-m", "migration_lint.server", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "LSP" in result.stdout


@pytest.mark.asyncio
async def test_save_lints_at_once_while_changes_wait_for_a_pause(client: LanguageClient, workspace: Path) -> None:
    await start(client, workspace, debounce=60)
    path = workspace / "migrations" / "2_index_orders.up.sql"
    buffer = Buffer(client, path)
    buffer.open()
    assert len(await buffer.diagnostics()) == 1
    buffer.replace(INDEX_ORDERS.replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY"))
    with pytest.raises(asyncio.TimeoutError):
        await buffer.diagnostics(timeout=1)  # typing: nothing before a minute of quiet
    path.write_text(buffer.text)
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri=buffer.uri)))
    assert await buffer.diagnostics() == []


@pytest.mark.asyncio
async def test_paired_down_file_gets_its_own_diagnostics(client: LanguageClient, workspace: Path) -> None:
    await start(client, workspace)
    up = Buffer(client, workspace / "migrations" / "2_index_orders.up.sql")
    down = Buffer(client, workspace / "migrations" / "2_index_orders.down.sql")
    up.open()
    down.open()
    assert await down.diagnostics() == []
    down.replace("DROP INDEX orders_customer_id_idx;\n")
    (wrapped,) = await down.diagnostics()
    assert wrapped.code == "ML002"
    # sqlx runs a DOWN in its transaction unless the DOWN itself says otherwise: only then is
    # CONCURRENTLY a fix rather than a failure
    assert not [a for a in await code_actions(client, down, [wrapped]) if a.title.startswith("Fix:")]
    down.replace("-- no-transaction\nDROP INDEX orders_customer_id_idx;\n")
    diagnostics = await down.diagnostics()
    assert sorted(d.code for d in diagnostics) == ["ML002"]
    assert [d.code for d in await up.diagnostics()] == ["ML001"]  # the UP's own, unchanged
    (concurrently,) = diagnostics
    (fix,) = [a for a in await code_actions(client, down, [concurrently]) if a.title.startswith("Fix:")]
    down.apply(fix.edit)
    assert down.text == "-- no-transaction\nDROP INDEX CONCURRENTLY orders_customer_id_idx;\n"
    assert await down.diagnostics() == []


@pytest.mark.asyncio
async def test_saving_an_earlier_migration_relints_the_later_ones(client: LanguageClient, tmp_path: Path) -> None:
    """SET NOT NULL is safe after a CHECK (col IS NOT NULL) validated by an earlier migration;
    when that migration loses its VALIDATE, the later file's diagnostics change on save."""
    (tmp_path / ".migration-lint.toml").write_text('select = ["set-not-null-requires-check"]\npg-version = 16\n')
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    lock = "SET lock_timeout = '5s';\n"
    files = {
        "1_orders.up.sql": "CREATE TABLE orders (id bigint PRIMARY KEY, ref text);\n",
        "1_orders.down.sql": "DROP TABLE IF EXISTS orders;\n",
        "2_ref_check.up.sql": lock + "ALTER TABLE orders ADD CONSTRAINT orders_ref_nn CHECK (ref IS NOT NULL) NOT VALID;\n"
                              "COMMIT;\nBEGIN;\nALTER TABLE orders VALIDATE CONSTRAINT orders_ref_nn;\n",
        "2_ref_check.down.sql": lock + "ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_ref_nn;\n",
        "3_ref_not_null.up.sql": lock + "ALTER TABLE orders ALTER COLUMN ref SET NOT NULL;\n",
        "3_ref_not_null.down.sql": lock + "ALTER TABLE orders ALTER COLUMN ref DROP NOT NULL;\n",
    }
    for name, text in files.items():
        (migrations / name).write_text(text)
    await start(client, tmp_path)
    later = Buffer(client, migrations / "3_ref_not_null.up.sql")
    later.open()
    assert await later.diagnostics() == []
    earlier = Buffer(client, migrations / "2_ref_check.up.sql")
    earlier.open()
    earlier.replace(earlier.text.split("COMMIT;")[0])
    assert await earlier.diagnostics() == []
    del client.diagnostics[later.uri]
    client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri=earlier.uri)))
    assert [d.code for d in await later.diagnostics()] == ["ML008"]


# -- every request answered, settings checked, fix-all, rule pages -----------------------------------

async def raw_request(client: LanguageClient, method: str, message: dict[str, Any]) -> Any:
    """Send a request as raw JSON (the client's own types refuse to build a malformed one) and
    wait for the answer the way the client waits for any other."""
    from concurrent.futures import Future

    future: Future[Any] = Future()
    msg_id = f"raw-{id(future)}"
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data({"jsonrpc": "2.0", "id": msg_id, "method": method, **message})
    return await asyncio.wait_for(asyncio.wrap_future(future), 20)


@pytest.mark.asyncio
@pytest.mark.parametrize("params", [
    "missing",
    None,
    {},
    {"textDocument": {"uri": "file:///x.sql"}},
    {"textDocument": {"uri": "file:///x.sql"}, "position": "line 3"},
    {"textDocument": {"uri": "file:///x.sql"}, "position": {"line": "three", "character": 0}},
], ids=["no-params", "null", "empty", "no-position", "position-a-string", "line-a-string"])
async def test_a_request_with_bad_params_gets_an_error_response(client: LanguageClient, workspace: Path,
                                                                 params: Any) -> None:
    from pygls.exceptions import JsonRpcInvalidParams

    await start(client, workspace)
    with pytest.raises(JsonRpcInvalidParams) as raised:
        await raw_request(client, types.TEXT_DOCUMENT_HOVER, {} if params == "missing" else {"params": params})
    assert str(raised.value).startswith("textDocument/hover: invalid params")
    # the server goes on, and said nothing to the user about it
    buffer = Buffer(client, workspace / "migrations" / "2_index_orders.up.sql")
    buffer.open()
    assert [d.code for d in await buffer.diagnostics()] == ["ML001"]
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=buffer.uri), position=types.Position(2, 10)))
    assert hover is not None
    assert client.messages == []


@pytest.mark.asyncio
async def test_a_bad_setting_is_one_clear_message_and_ignored(client: LanguageClient, workspace: Path) -> None:
    await start(client, workspace, pgVersion="abc", debounce="soon")
    (message,) = client.messages
    assert message.type == types.MessageType.Warning
    assert message.message == (
        "migration-lint: settings ignored: pgVersion: expected a PostgreSQL major version such as 15, got 'abc';"
        " debounce: expected a number of seconds (0 or more), got 'soon'"
    )
    buffer = Buffer(client, workspace / "migrations" / "2_index_orders.up.sql")
    buffer.open()
    assert [d.code for d in await buffer.diagnostics()] == ["ML001"]  # linted with the defaults

    client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"migrationLint": {"pgVersion": "abc", "migrationDirectories": "migrations"}}))
    buffer.replace(buffer.text + "\n")
    assert [d.code for d in await buffer.diagnostics()] == ["ML001"]
    assert [m.message for m in client.messages][1:] == [
        "migration-lint: settings ignored: migrationDirectories: expected a list of directories, got 'migrations';"
        " pgVersion: expected a PostgreSQL major version such as 15, got 'abc'"
    ]
    assert not any("Error in server" in m.message or "Traceback" in m.message for m in client.log_messages)


@pytest.mark.asyncio
async def test_fix_all_applies_every_rewrite_of_the_file(client: LanguageClient, workspace: Path) -> None:
    await start(client, workspace)
    buffer = Buffer(client, workspace / "migrations" / "2_index_orders.up.sql",
                    INDEX_ORDERS + "CREATE INDEX orders_id_idx ON orders (id);\nDROP INDEX orders_old_idx;\n")
    buffer.open()
    assert sorted(d.code for d in await buffer.diagnostics()) == ["ML001", "ML001", "ML002", "ML016"]
    result = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=buffer.uri),
        range=types.Range(types.Position(0, 0), types.Position(0, 0)),
        context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.SourceFixAll]),
    ))
    (fix_all,) = result
    assert fix_all.kind == "source.fixAll.migration-lint"
    buffer.apply(fix_all.edit)
    assert "CREATE INDEX CONCURRENTLY orders_customer_id_idx" in buffer.text
    assert "CREATE INDEX CONCURRENTLY orders_id_idx" in buffer.text
    assert "DROP INDEX CONCURRENTLY IF EXISTS orders_old_idx" in buffer.text
    assert await buffer.diagnostics() == []
    # a clean file has nothing to fix
    nothing = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=buffer.uri),
        range=types.Range(types.Position(0, 0), types.Position(0, 0)),
        context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.Source]),
    ))
    assert not nothing


@pytest.mark.asyncio
async def test_each_diagnostic_links_to_its_rule_page(client: LanguageClient, workspace: Path) -> None:
    await start(client, workspace)
    buffer = Buffer(client, workspace / "migrations" / "2_index_orders.up.sql")
    buffer.open()
    (diagnostic,) = await buffer.diagnostics()
    href = diagnostic.code_description.href
    assert href == ("https://github.com/pytest-migrations/pytest-migrations/blob/main/docs/rules/"
                    "require-concurrent-index-creation.md")
    assert (Path(__file__).resolve().parents[2] / "docs" / "rules" / href.rsplit("/", 1)[1]).is_file()


NEOVIM_PROBE = """
vim.cmd("edit migrations/2_index_orders.up.sql")
local found = vim.wait(30000, function() return #vim.diagnostic.get(0) > 0 end, 100)
local out = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  local lsp = (d.user_data or {}).lsp or {}
  table.insert(out, { code = d.code or lsp.code, line = d.lnum, href = (lsp.codeDescription or {}).href })
end
vim.fn.writefile({ vim.fn.json_encode({ found = found, diagnostics = out }) }, "nvim-result.json")
vim.cmd("qa!")
"""


def test_neovim_07_configuration_shows_the_diagnostics(workspace: Path) -> None:
    """The documented Neovim 0.7 configuration (vim.lsp.start_client), run by a real Neovim."""
    import json
    import os
    import subprocess

    nvim = shutil.which("nvim")
    if nvim is None:
        pytest.skip("no nvim on PATH (Debian: apt-get install neovim, which is 0.7)")
    config = [block for block in _blocks("lua") if "vim.lsp.start_client" in block]
    (config,) = config
    (workspace / "init.lua").write_text(config)
    (workspace / "probe.lua").write_text(NEOVIM_PROBE)  # run once started, as a user opens a file
    # migration-lint from this checkout, as the editor's PATH would give it
    bin_dir = workspace / "bin"
    bin_dir.mkdir()
    script = bin_dir / "migration-lint"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} -m migration_lint.cli \"$@\"\n")
    script.chmod(0o755)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([nvim, "--headless", "-u", "init.lua", "-c", "luafile probe.lua"], cwd=workspace, env=env,
                   timeout=120, capture_output=True, check=False)
    result = json.loads((workspace / "nvim-result.json").read_text())
    assert result["found"] is True
    (diagnostic,) = result["diagnostics"]
    assert (diagnostic["code"], diagnostic["line"]) == ("ML001", 2)
    assert diagnostic["href"].endswith("/docs/rules/require-concurrent-index-creation.md")
