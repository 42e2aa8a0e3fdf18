"""A JSON array of findings (``to_dict`` of each), stable keys, for scripts."""

from __future__ import annotations

import json
from typing import IO, Sequence


def render(findings: Sequence, stream: IO[str], context: object) -> None:
    json.dump([f.to_dict() for f in findings], stream, indent=2)
    stream.write("\n")
