"""SARIF 2.1.0, for GitHub code scanning (``github/codeql-action/upload-sarif``) and other viewers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO, Sequence

from .. import REPOSITORY, __version__
from ..docs import rule_page_url

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _uri(path: str) -> str:
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            return candidate.relative_to(Path.cwd()).as_posix()
        except ValueError:
            return candidate.as_uri()
    return candidate.as_posix()


def render(findings: Sequence, stream: IO[str], context) -> None:
    rules = []
    index_of: dict[str, int] = {}
    for cls in context.rules:
        index_of[cls.code] = len(rules)
        rules.append({
            "id": cls.code,
            "name": cls.name,
            "shortDescription": {"text": cls.summary()},
            "fullDescription": {"text": cls.summary()},
            "help": {"text": cls.documentation(), "markdown": cls.documentation()},
            "helpUri": rule_page_url(cls.name),
            "defaultConfiguration": {"level": "error" if cls.severity == "error" else "warning"},
            "properties": {"tags": [cls.lifecycle, cls.group]},
        })
    results = []
    for f in findings:
        result = {
            "ruleId": f.code,
            "level": "error" if f.severity == "error" else "warning",
            "message": {"text": f"[{f.rule}] {f.message}" + (f" ({f.fix_title})" if f.fix_title else "")},
            "locations": [{
                "physicalLocation": {
                    "artifactLocation": {"uri": _uri(f.path)},
                    "region": {
                        "startLine": max(f.line, 1),
                        "startColumn": max(f.column, 1),
                        "endLine": max(f.end_line, f.line, 1),
                        # SARIF's endColumn, like ours, points one past the last character.
                        "endColumn": max(f.end_column, 1) if f.end_line > f.line else max(f.end_column, f.column + 1),
                    },
                }
            }],
        }
        if f.code in index_of:
            result["ruleIndex"] = index_of[f.code]
        results.append(result)
    document = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "migration-lint",
                "version": __version__,
                "informationUri": REPOSITORY,
                "rules": rules,
            }},
            "results": results,
        }],
    }
    json.dump(document, stream, indent=2)
    stream.write("\n")
