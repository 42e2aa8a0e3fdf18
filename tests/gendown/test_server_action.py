"""The language server's "Generate DOWN" for a migration without one (ML020), from the parse tree alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import LanguageClient

from tests.integration.test_server import SERVER, Buffer, code_actions, start


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient):  # type: ignore[no-untyped-def]
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_missing_down_offers_a_down_from_the_parse_tree(client: LanguageClient, tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    up = migrations / "1_orders.up.sql"
    up.write_text("CREATE TABLE orders (id int);\nALTER TABLE users ALTER COLUMN a TYPE bigint;\n")
    (tmp_path / ".migration-lint.toml").write_text('select = ["missing-down"]\n')
    await start(client, tmp_path)
    buffer = Buffer(client, up)
    buffer.open()
    (diagnostic,) = await buffer.diagnostics()
    (action,) = [a for a in await code_actions(client, buffer, [diagnostic]) if a.title.startswith("Generate DOWN")]
    assert "parse tree alone" in action.title and "1 statement(s) left as TODO" in action.title
    assert action.edit is not None and action.edit.document_changes is not None
    create, edit = action.edit.document_changes
    down_uri = (migrations / "1_orders.down.sql").as_uri()
    assert isinstance(create, types.CreateFile) and create.uri == down_uri
    assert isinstance(edit, types.TextDocumentEdit) and edit.text_document.uri == down_uri
    text = edit.edits[0].new_text
    assert "DROP TABLE IF EXISTS orders;" in text
    assert "-- TODO line 2: restore what AlterColumnType changed on a" in text
