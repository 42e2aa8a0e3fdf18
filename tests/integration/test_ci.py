"""CI integration: the composite GitHub Action, the documented workflow files, the GitLab Code
Quality report.

The action's shell steps are not only read: they are run here, in order, with their ``if:``
conditions and ``$GITHUB_OUTPUT``, the way the runner would run them (the ``uses:`` steps, which
need GitHub, and the install step, which the test environment has done, are the exceptions).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from migration_lint.engine import Finding
from migration_lint.report import gitlab_format

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
EXAMPLES = ROOT / "examples" / "ci"
CI_DOC = ROOT / "docs" / "ci.md"
SYSTEM_PG_DSN = os.environ.get("MIGRATIONS_TEST_SYSTEM_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def steps_of(action: dict) -> list[dict]:
    return action["runs"]["steps"]


# -- the action as written -----------------------------------------------------------------------

def test_action_is_a_composite_action_with_the_documented_steps() -> None:
    action = load(ACTION)
    assert action["runs"]["using"] == "composite"
    steps = steps_of(action)
    uses = [s["uses"] for s in steps if "uses" in s]
    assert any(u.startswith("actions/setup-python@") for u in uses)
    (upload,) = [s for s in steps if s.get("uses", "").startswith("github/codeql-action/upload-sarif@")]
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    scripts = {s.get("id") or s["name"]: s.get("run", "") for s in steps}
    assert "--format sarif" in scripts["lint"] and '"$GITHUB_OUTPUT"' in scripts["lint"]
    assert any("--format github" in run for run in scripts.values())
    (tests,) = [s for s in steps if "pytest --migrations" in s.get("run", "")]
    assert tests["env"]["MIGRATIONS_DATABASE_URL"] == "${{ inputs.dsn }}"
    assert "--migrations-dir" in tests["run"]
    # The order the docs promise: lint, annotate, upload, round trip, then the verdict.
    order = [i for i, s in enumerate(steps) if "--format sarif" in s.get("run", "") or "--format github" in s.get("run", "")
             or "upload-sarif" in s.get("uses", "") or "pytest --migrations" in s.get("run", "")]
    assert order == sorted(order) and len(order) == 4
    assert "exit 1" in steps[-1]["run"] and "steps.lint.outputs.exit-code" in steps[-1]["if"]


def test_action_inputs_are_declared_used_and_documented() -> None:
    action = load(ACTION)
    declared = set(action["inputs"])
    text = ACTION.read_text()
    used = set(re.findall(r"inputs\.([a-z-]+)", text))
    assert used == declared
    assert _documented("Inputs") == declared


def _documented(section: str) -> set[str]:
    """The names in the table of docs/ci.md's ``### section``."""
    text = CI_DOC.read_text().split(f"### {section}\n", 1)[1].split("\n#", 1)[0]
    return set(re.findall(r"^\| `([a-z-]+)` \|", text, re.MULTILINE))


def test_action_outputs_are_documented() -> None:
    assert _documented("Outputs") == set(load(ACTION)["outputs"]) == {"lint-exit-code", "sarif-file"}


def test_action_scripts_never_expand_expressions() -> None:
    """Inputs reach scripts through env only, so a crafted input cannot inject shell code."""
    for step in steps_of(load(ACTION)):
        assert "${{" not in step.get("run", ""), step["name"]


def test_workflow_example_uses_the_action_with_a_postgres_service() -> None:
    workflow = load(EXAMPLES / "github-actions.yml")
    assert workflow["permissions"]["security-events"] == "write"
    job = workflow["jobs"]["migrations"]
    service = job["services"]["postgres"]
    assert service["image"].startswith("postgres:") and "5432:5432" in service["ports"]
    steps = job["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    (lint,) = [s for s in steps if "pytest-migrations" in s.get("uses", "")]
    dsn = lint["with"]["dsn"]
    assert dsn.startswith("postgresql://") and "localhost:5432" in dsn
    assert f":{service['env']['POSTGRES_PASSWORD']}@" in dsn
    assert set(lint["with"]) <= set(load(ACTION)["inputs"])


def test_stepwise_workflow_example_has_sarif_annotations_and_round_trip() -> None:
    workflow = load(EXAMPLES / "github-actions-steps.yml")
    steps = workflow["jobs"]["migrations"]["steps"]
    runs = " ".join(s.get("run", "") for s in steps)
    assert "--format sarif" in runs and "--format github" in runs and "pytest --migrations" in runs
    assert any(s.get("uses", "").startswith("github/codeql-action/upload-sarif@") for s in steps)
    assert "MIGRATIONS_DATABASE_URL" in workflow["jobs"]["migrations"]["env"]


def test_gitlab_example_keeps_the_code_quality_report() -> None:
    pipeline = load(EXAMPLES / "gitlab-ci.yml")
    lint = pipeline["migration-lint"]
    (command,) = [line for line in lint["script"] if line.startswith("migration-lint")]
    report = lint["artifacts"]["reports"]["codequality"]
    assert "--format gitlab" in command and command.endswith(f"> {report}")
    assert lint["artifacts"]["when"] == "always"
    roundtrip = pipeline["migrations-roundtrip"]
    assert "postgres:" in roundtrip["variables"]["MIGRATIONS_DATABASE_URL"]
    assert any("pytest --migrations" in line for line in roundtrip["script"])


def test_ci_doc_shows_the_example_files_verbatim() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", CI_DOC.read_text(), re.DOTALL)
    for name in ("github-actions.yml", "github-actions-steps.yml", "gitlab-ci.yml"):
        assert (EXAMPLES / name).read_text() in blocks, f"docs/ci.md does not show examples/ci/{name} as it is"


# -- the action's steps, run -------------------------------------------------------------------------

def _evaluate(condition: str, inputs: dict[str, str], outputs: dict[str, str]) -> bool:
    expression = condition.strip().removeprefix("${{").removesuffix("}}").strip()
    expression = re.sub(r"inputs\.([a-z-]+)", lambda m: repr(inputs[m[1]]), expression)
    expression = re.sub(r"steps\.lint\.outputs\.([a-z-]+)", lambda m: repr(outputs.get(m[1], "")), expression)
    expression = expression.replace("&&", " and ").replace("||", " or ")
    assert re.fullmatch(r"[\w\s'!=.-]*", expression), expression
    return bool(eval(expression, {"__builtins__": {}}))  # noqa: S307 - the action's own, checked above


def run_action(workdir: Path, **given: str) -> list[tuple[str, int, str]]:
    """Run the composite action's shell steps like a runner: returns (step, status, output)."""
    action = load(ACTION)
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()} | given
    github_output = workdir / "github_output"
    github_output.write_text("")
    outputs: dict[str, str] = {}
    ran = []
    for step in steps_of(action):
        if "run" not in step or "pip install" in step["run"]:
            continue  # needs GitHub (uses:) or is done already (the test environment has the package)
        if "if" in step and not _evaluate(step["if"], inputs, outputs):
            continue
        env = dict(os.environ, GITHUB_OUTPUT=str(github_output), GITHUB_ACTIONS="true")
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
        for key, value in (step.get("env") or {}).items():
            value = re.sub(r"\$\{\{\s*github\.action_path\s*\}\}", str(ROOT), str(value))
            env[key] = re.sub(r"\$\{\{\s*inputs\.([a-z-]+)\s*\}\}", lambda m: inputs[m[1]], value)
        result = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=workdir, env=env,
                                capture_output=True, text=True, timeout=300)
        for line in github_output.read_text().splitlines():
            key, _, value = line.partition("=")
            outputs[key] = value
        ran.append((step.get("id") or step["name"], result.returncode, result.stdout + result.stderr))
        if result.returncode != 0:
            break
    return ran


# The rules these tests are about; rules added later must not change what they expect.
SELECTED_RULES = 'select = ["require-concurrent-index-creation", "require-lock-timeout", "require-if-exists"]\n'


def _project(root: Path, index_sql: str) -> Path:
    (root / ".migration-lint.toml").write_text(SELECTED_RULES)
    migrations = root / "migrations"
    migrations.mkdir()
    (migrations / "1_create_orders.up.sql").write_text("CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint);\n")
    (migrations / "1_create_orders.down.sql").write_text("DROP TABLE IF EXISTS orders;\n")
    (migrations / "2_index_orders.up.sql").write_text(f"-- no-transaction\nSET lock_timeout = '5s';\n{index_sql}\n")
    # sqlx reads the marker of each file: the DOWN needs its own to run outside a transaction.
    (migrations / "2_index_orders.down.sql").write_text("-- no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS orders_customer_idx;\n")
    return root


def test_action_lints_to_sarif_annotates_and_fails_on_findings(tmp_path: Path) -> None:
    project = _project(tmp_path, "CREATE INDEX orders_customer_idx ON orders (customer_id);")
    ran = run_action(project, **{"run-tests": "false"})
    assert [(name, status) for name, status, _ in ran] == [
        ("lint", 0), ("Annotate findings", 0), ("Fail on lint findings", 1),
    ]
    sarif = json.loads((project / "migration-lint.sarif").read_text())
    assert sarif["version"] == "2.1.0"
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] in ("ML001", "require-concurrent-index-creation")
    assert "::error file=migrations/2_index_orders.up.sql,line=3" in ran[1][2]
    assert (project / "github_output").read_text().strip() == "exit-code=1"


def test_action_passes_a_clean_directory(tmp_path: Path) -> None:
    project = _project(tmp_path, "CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);")
    ran = run_action(project, **{"run-tests": "false"})
    assert [(name, status) for name, status, _ in ran] == [("lint", 0), ("Annotate findings", 0)]


def test_action_stops_on_unreadable_migrations(tmp_path: Path) -> None:
    project = _project(tmp_path, "CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);")
    (project / "migrations" / "2_duplicate.up.sql").write_text("SELECT 1;\n")
    ran = run_action(project, **{"run-tests": "false"})
    (name, status, output), = ran
    assert (name, status) == ("lint", 2) and "duplicate version" in output


def test_action_round_trip_runs_on_the_given_server(tmp_path: Path) -> None:
    import psycopg

    try:
        psycopg.connect(SYSTEM_PG_DSN, connect_timeout=3).close()
    except psycopg.OperationalError as error:
        pytest.skip(f"no PostgreSQL at {SYSTEM_PG_DSN}: {error}")
    project = _project(tmp_path, "CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);")
    ran = run_action(project, dsn=SYSTEM_PG_DSN, sarif="false")
    names = [name for name, _, _ in ran]
    assert names == ["lint", "Annotate findings", "Round-trip migrations (pytest --migrations)"]
    name, status, output = ran[-1]
    assert status == 0, output
    assert "4 passed" in output  # two migrations, each a ::roundtrip and a ::locks item
    assert "migrations: dir=migrations" in output and "environment MIGRATIONS_DATABASE_URL" in output


# -- the pull-request comment -------------------------------------------------------------------------

class FakeGitHub:
    """The issue-comment endpoints of GitHub's REST API, on 127.0.0.1, recording every call."""

    def __init__(self, status: int = 200) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.comments: dict[int, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        self.status = status
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                fake.calls.append((self.command, self.path))
                assert self.headers["Authorization"] == "Bearer secret-token"
                if fake.status != 200:
                    return self._answer(fake.status, {"message": "Resource not accessible by integration"})
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                if self.command == "GET" and self.path.startswith("/repos/shop/app/issues/7/comments"):
                    return self._answer(200, list(fake.comments.values()))
                if self.command == "POST" and self.path == "/repos/shop/app/issues/7/comments":
                    number = len(fake.comments) + 1
                    fake.comments[number] = {"id": number, "body": body["body"]}
                    return self._answer(201, fake.comments[number])
                if self.command == "PATCH" and self.path.startswith("/repos/shop/app/issues/comments/"):
                    number = int(self.path.rsplit("/", 1)[1])
                    fake.comments[number]["body"] = body["body"]
                    return self._answer(200, fake.comments[number])
                return self._answer(404, {"message": "Not Found"})

            do_GET = do_POST = do_PATCH = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def github() -> Any:
    fake = FakeGitHub()
    yield fake
    fake.close()


def _pull_request_event(root: Path) -> dict[str, str]:
    event = root / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "head": {"sha": "abc123"}}}))
    return {"GITHUB_EVENT_PATH": str(event), "GITHUB_REPOSITORY": "shop/app", "GITHUB_SERVER_URL": "https://github.example"}


def run_commenting_action(project: Path, github: FakeGitHub) -> list[tuple[str, int, str]]:
    extra = {**_pull_request_event(project.parent), "GITHUB_API_URL": github.url}
    with pytest.MonkeyPatch.context() as patch:
        for key, value in extra.items():
            patch.setenv(key, value)
        return run_action(project, **{"run-tests": "false", "comment": "true", "github-token": "secret-token"})


def test_action_comments_once_and_edits_the_comment_on_the_next_push(tmp_path: Path, github: FakeGitHub) -> None:
    (tmp_path / "repo").mkdir()
    project = _project(tmp_path / "repo", "CREATE INDEX orders_customer_idx ON orders (customer_id);")
    ran = run_commenting_action(project, github)
    assert [(name, status) for name, status, _ in ran] == [
        ("lint", 0), ("Annotate findings", 0), ("Comment on the pull request", 0), ("Fail on lint findings", 1),
    ]
    assert "migration-lint comment: created" in ran[2][2]
    (comment,) = github.comments.values()
    body = comment["body"]
    assert body.startswith("<!-- pytest-migrations: migration-lint pull-request comment -->")
    assert "### migration-lint: 1 error, 0 warnings in 1 file" in body
    assert "[`migrations/2_index_orders.up.sql:3`](https://github.example/shop/app/blob/abc123/migrations/2_index_orders.up.sql#L3)" in body
    assert "[ML001 require-concurrent-index-creation](https://github.com/pytest-migrations/pytest-migrations/blob/main/docs/rules/require-concurrent-index-creation.md)" in body

    # the next push fixes it: the same comment says so, no second comment
    index = project / "migrations" / "2_index_orders.up.sql"
    index.write_text(index.read_text().replace("CREATE INDEX", "CREATE INDEX CONCURRENTLY"))
    ran = run_commenting_action(project, github)
    assert [(name, status) for name, status, _ in ran] == [("lint", 0), ("Annotate findings", 0), ("Comment on the pull request", 0)]
    assert "migration-lint comment: updated" in ran[2][2]
    (comment,) = github.comments.values()
    assert "### migration-lint: no findings" in comment["body"]
    assert [call[0] for call in github.calls] == ["GET", "POST", "GET", "PATCH"]


def test_action_comment_on_a_clean_first_push_posts_nothing(tmp_path: Path, github: FakeGitHub) -> None:
    (tmp_path / "repo").mkdir()
    project = _project(tmp_path / "repo", "CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id);")
    ran = run_commenting_action(project, github)
    assert "migration-lint comment: none needed" in ran[2][2]
    assert github.comments == {}


def test_action_comment_refused_is_a_warning_not_a_failure(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    project = _project(tmp_path / "repo", "CREATE INDEX orders_customer_idx ON orders (customer_id);")
    fake = FakeGitHub(status=403)
    try:
        ran = run_commenting_action(project, fake)
    finally:
        fake.close()
    name, status, output = ran[2]
    assert (name, status) == ("Comment on the pull request", 0)
    assert "::warning title=migration-lint comment::GitHub refused the comment (403" in output


def test_action_comment_outside_a_pull_request_does_nothing(tmp_path: Path, github: FakeGitHub) -> None:
    (tmp_path / "repo").mkdir()
    project = _project(tmp_path / "repo", "CREATE INDEX orders_customer_idx ON orders (customer_id);")
    (tmp_path / "event.json").write_text(json.dumps({"push": {}}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GITHUB_EVENT_PATH", str(tmp_path / "event.json"))
        patch.setenv("GITHUB_REPOSITORY", "shop/app")
        patch.setenv("GITHUB_API_URL", github.url)
        ran = run_action(project, **{"run-tests": "false", "comment": "true", "github-token": "secret-token"})
    assert "not a pull_request event, no comment" in ran[2][2] and github.calls == []


# -- GitLab Code Quality ------------------------------------------------------------------------------

def _finding(path: str, line: int, code: str = "ML001", rule: str = "require-concurrent-index-creation",
             severity: str = "error") -> Finding:
    return Finding(path, line, 1, line, 40, code, rule, severity, "CREATE INDEX without CONCURRENTLY",
                   "Use CREATE INDEX CONCURRENTLY")


def test_gitlab_report_has_the_fields_gitlab_reads(tmp_path: Path) -> None:
    path = tmp_path / "migrations" / "2_index.sql"
    path.parent.mkdir()
    path.write_text("-- UP\nCREATE INDEX a ON t (x);\n")
    issues = gitlab_format.issues([_finding(str(path), 2), _finding(str(path), 2, "ML020", "missing-down", "warning")],
                                  lambda p: Path(p).read_text(), tmp_path)
    assert [set(issue) for issue in issues] == [{"description", "check_name", "fingerprint", "severity", "location"}] * 2
    first, second = issues
    assert first["location"] == {"path": "migrations/2_index.sql", "lines": {"begin": 2, "end": 2}}
    assert first["check_name"] == "ML001 require-concurrent-index-creation"
    assert (first["severity"], second["severity"]) == ("major", "minor")
    assert first["description"] == "CREATE INDEX without CONCURRENTLY. Use CREATE INDEX CONCURRENTLY"
    assert first["fingerprint"] != second["fingerprint"]


def test_gitlab_fingerprint_survives_moved_lines_and_tells_twins_apart(tmp_path: Path) -> None:
    path = tmp_path / "1_x.sql"
    statement = "CREATE INDEX a ON t (x);"
    path.write_text(f"{statement}\n")
    before = gitlab_format.issues([_finding(str(path), 1)], lambda p: path.read_text(), tmp_path)
    path.write_text(f"-- a comment added above\n\n{statement}\n{statement}\n")
    after = gitlab_format.issues([_finding(str(path), 3), _finding(str(path), 4)], lambda p: path.read_text(), tmp_path)
    assert after[0]["fingerprint"] == before[0]["fingerprint"]
    assert after[1]["fingerprint"] != after[0]["fingerprint"]


def test_gitlab_format_from_the_command_line(tmp_path: Path) -> None:
    help_text = subprocess.run([sys.executable, "-m", "migration_lint.cli", "--help"], capture_output=True, text=True).stdout
    if "gitlab" not in help_text:
        pytest.skip("migration-lint --format gitlab is not wired in cli.py yet")
    project = _project(tmp_path, "CREATE INDEX orders_customer_idx ON orders (customer_id);")
    result = subprocess.run([sys.executable, "-m", "migration_lint.cli", "--format", "gitlab", "--no-cache", "migrations"],
                            cwd=project, capture_output=True, text=True, env=dict(os.environ, CI_PROJECT_DIR=str(project)))
    assert result.returncode == 1, result.stderr
    (issue,) = json.loads(result.stdout)
    assert issue["location"]["path"] == "migrations/2_index_orders.up.sql" and issue["location"]["lines"]["begin"] == 3
