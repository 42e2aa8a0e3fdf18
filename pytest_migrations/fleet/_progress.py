"""The live progress line of a fleet run on a terminal: done / running / failed / left, per wave.

Only for a terminal (:func:`is_terminal` decides): logs and pipes get one plain line per target
instead, with no control characters. On a terminal a target that succeeds prints nothing of its
own (the line counts it); any other line is printed above the live line, which is then redrawn.
"""

from __future__ import annotations

import threading
from typing import Any

from ._fleet import WaveProgress

# Carriage return, then erase to the end of the line: the line is rewritten in place.
REWRITE = "\r\x1b[K"


def is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def render_progress(progress: WaveProgress) -> str:
    """``wave 2/3 (the rest): 40 done, 4 running, 1 failed, 55 left`` (one wave: ``fleet: ...``)."""
    where = f"wave {progress.number}/{progress.waves} ({progress.name})" if progress.waves > 1 else "fleet"
    counts = [f"{progress.done} done", f"{progress.running} running", f"{progress.failed} failed"]
    if progress.skipped:
        counts.append(f"{progress.skipped} skipped")
    counts.append(f"{progress.left} left")
    return f"{where}: {', '.join(counts)}"


class LiveLine:
    """The progress line on ``stream`` (a terminal), rewritten at each change."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.current: str | None = None
        self.wave: int | None = None
        self.lock = threading.Lock()

    def show(self, progress: WaveProgress) -> None:
        with self.lock:
            if self.current is not None and progress.number != self.wave:
                self.stream.write("\n")  # a wave's last state stays on the screen
            self.wave = progress.number
            self.current = render_progress(progress)
            self.stream.write(REWRITE + self.current)
            self.stream.flush()

    def print(self, text: str) -> None:
        """``text`` on a line of its own above the live line."""
        with self.lock:
            self.stream.write(REWRITE + text + "\n" + (self.current or ""))
            self.stream.flush()

    def finish(self) -> None:
        """Leave the last state of the line on the screen and move below it."""
        with self.lock:
            if self.current is not None:
                self.stream.write("\n")
                self.stream.flush()
            self.current = None


__all__ = ["REWRITE", "LiveLine", "is_terminal", "render_progress"]
