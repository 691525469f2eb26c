"""Progress of a long command on stderr: one line per phase with the time since the command started,
so nobody watches a silent terminal while an engine starts (results stay alone on stdout)."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Reports `[  12.3 s] rehearse: routing on Flink` lines; `None` stands for "report nothing"."""

    def __init__(self, command: str, stream: TextIO | None = None) -> None:
        self.command = command
        self._stream = stream
        self._started = time.monotonic()

    def phase(self, what: str) -> None:
        """A phase begins (the previous one ended): its name and the elapsed time so far."""
        elapsed = time.monotonic() - self._started
        print(f"[{elapsed:7.1f} s] {self.command}: {what}", file=self._stream or sys.stderr, flush=True)


def report(progress: Progress | None, what: str) -> None:
    """`progress.phase(what)` for callers that may have no progress to report to."""
    if progress is not None:
        progress.phase(what)
