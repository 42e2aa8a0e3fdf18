"""The pull-request comment of ``action.yml``: migration-lint's findings as one comment on the
pull request, edited in place on every push (the way squawk's action comments).

It reads the SARIF report the action's lint step wrote, so the comment says exactly what the
annotations and code scanning say, and finds its earlier comment by a hidden marker. Standard
library only: it runs on whatever Python the action set up. A comment it may not write (a pull
request from a fork gets a read-only token) is a warning, never a failed job.

    python -m migration_lint.report.pr_comment SARIF_FILE
    env: GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH, GITHUB_API_URL (default api.github.com),
         GITHUB_SERVER_URL (default github.com)
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

MARKER = "<!-- pytest-migrations: migration-lint pull-request comment -->"
MAX_ROWS = 50


def render(sarif: dict[str, Any], *, file_url: str | None = None) -> tuple[str, int]:
    """The comment's Markdown and the number of findings. ``file_url`` (``.../blob/<sha>/``)
    links each finding to its line."""
    rows = []
    errors = warnings = 0
    files = set()
    for run in sarif.get("runs", []):
        rules = run.get("tool", {}).get("driver", {}).get("rules", [])
        for result in run.get("results", []):
            rule = rules[result["ruleIndex"]] if isinstance(result.get("ruleIndex"), int) and result["ruleIndex"] < len(rules) else {}
            level = result.get("level", "warning")
            errors += level == "error"
            warnings += level != "error"
            location = (result.get("locations") or [{}])[0].get("physicalLocation", {})
            path = location.get("artifactLocation", {}).get("uri", "?")
            line = location.get("region", {}).get("startLine", 1)
            files.add(path)
            where = f"`{path}:{line}`"
            if file_url:
                where = f"[{where}]({file_url}{path}#L{line})"
            code = result.get("ruleId", "?")
            name = f"{code} {rule['name']}" if rule.get("name") else code
            if rule.get("helpUri"):
                name = f"[{name}]({rule['helpUri']})"
            message = result.get("message", {}).get("text", "").replace("|", "\\|").replace("\n", " ")
            rows.append(f"| {level} | {where} | {name} | {message} |")
    total = errors + warnings
    if not total:
        return f"{MARKER}\n### migration-lint: no findings\n\nEvery migration lints clean.\n", 0
    head = (f"{MARKER}\n### migration-lint: {_count(errors, 'error')}, {_count(warnings, 'warning')}"
            f" in {_count(len(files), 'file')}\n")
    table = ["| severity | where | rule | finding |", "|---|---|---|---|", *rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        table.append(f"\n… and {len(rows) - MAX_ROWS} more: see the annotations on the diff.")
    advice = ("\nErrors fail the check. To accept one, put `-- migration-lint: ignore[rule-name] <reason>`"
              " above the statement.\n")
    return head + "\n" + "\n".join(table) + "\n" + advice, total


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


class GitHub:
    """The few REST calls the comment needs."""

    def __init__(self, api: str, token: str) -> None:
        self.api, self.token = api.rstrip("/"), token

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"{self.api}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def find_comment(self, repository: str, number: int) -> dict[str, Any] | None:
        page = 1
        while True:
            comments = self.call("GET", f"/repos/{repository}/issues/{number}/comments?per_page=100&page={page}")
            for comment in comments:
                if MARKER in (comment.get("body") or ""):
                    return comment
            if len(comments) < 100:
                return None
            page += 1


def post(github: GitHub, repository: str, number: int, body: str, findings: int) -> str:
    """Create the comment, or edit the one made before; a clean run with no comment yet posts none."""
    existing = github.find_comment(repository, number)
    if existing is None:
        if not findings:
            return "none needed"
        github.call("POST", f"/repos/{repository}/issues/{number}/comments", {"body": body})
        return "created"
    if existing.get("body") == body:
        return "unchanged"
    github.call("PATCH", f"/repos/{repository}/issues/comments/{existing['id']}", {"body": body})
    return "updated"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m migration_lint.report.pr_comment SARIF_FILE", file=sys.stderr)
        return 2
    event_path = os.environ.get("GITHUB_EVENT_PATH")
    event = json.loads(Path(event_path).read_text(encoding="utf-8")) if event_path and Path(event_path).is_file() else {}
    pull_request = event.get("pull_request")
    if not pull_request:
        print("migration-lint comment: not a pull_request event, no comment")
        return 0
    try:
        sarif = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"::warning title=migration-lint comment::cannot read {argv[0]}: {error}")
        return 0
    repository = os.environ["GITHUB_REPOSITORY"]
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    sha = (pull_request.get("head") or {}).get("sha")
    # the base repository serves the pull request's commits too, a fork's included
    body, findings = render(sarif, file_url=f"{server}/{repository}/blob/{sha}/" if sha else None)
    github = GitHub(os.environ.get("GITHUB_API_URL", "https://api.github.com"), os.environ.get("GITHUB_TOKEN", ""))
    try:
        outcome = post(github, repository, int(pull_request["number"]), body, findings)
    except urllib.error.HTTPError as error:
        print(f"::warning title=migration-lint comment::GitHub refused the comment ({error.code} {error.reason});"
              " a pull request from a fork gets a read-only token, and the job needs `pull-requests: write`")
        return 0
    except urllib.error.URLError as error:
        print(f"::warning title=migration-lint comment::cannot reach GitHub: {error.reason}")
        return 0
    print(f"migration-lint comment: {outcome}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
