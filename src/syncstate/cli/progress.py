"""Progress for the command line: a bar on a terminal, plain lines elsewhere.

:class:`TerminalProgress` implements :class:`~syncstate.ports.Progress` with
nothing but the standard library. On a TTY it redraws one line
(``[########......] 120/500  exported 118  failed 2  41/s``) at most a few
times a second and prints notes (retries, throttle pauses) above it. When the
stream is not a terminal (a pipe, a log file, CI) it writes plain lines: the
start, every tenth of the work, each note, and the totals.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import TextIO

__all__ = ["TerminalProgress"]


class TerminalProgress:
    """A :class:`~syncstate.ports.Progress` that writes to ``stream`` (stderr)."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        tty: bool | None = None,
        width: int = 30,
        interval: float = 0.1,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.width = width
        self.interval = interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._label = ""
        self._total = 0
        self._done = 0
        self._outcomes: Counter[str] = Counter()
        self._started = 0.0
        self._drawn = 0.0
        self._next_line = 0
        self._bar_shown = False

    def __repr__(self) -> str:
        return f"TerminalProgress(done={self._done}, total={self._total}, tty={self.tty})"

    # ------------------------------------------------------------- drawing

    def _rate(self) -> float:
        elapsed = self._monotonic() - self._started
        return self._done / elapsed if elapsed > 0 else 0.0

    def _counts(self) -> str:
        return "  ".join(f"{name} {n}" for name, n in sorted(self._outcomes.items()))

    def _bar(self) -> str:
        total = max(self._total, 1)
        filled = min(self.width, self.width * self._done // total)
        bar = "#" * filled + "." * (self.width - filled)
        parts = [f"[{bar}] {self._done}/{self._total}", self._counts(), f"{self._rate():.0f}/s"]
        return "  ".join(p for p in parts if p)

    def _draw(self, *, force: bool = False) -> None:
        now = self._monotonic()
        if not force and now - self._drawn < self.interval:
            return
        self._drawn = now
        self.stream.write("\r\x1b[2K" + self._bar())
        self.stream.flush()
        self._bar_shown = True

    def _line(self, text: str) -> None:
        if self.tty and self._bar_shown:
            self.stream.write("\r\x1b[2K")
            self._bar_shown = False
        self.stream.write(text + "\n")
        self.stream.flush()

    # ------------------------------------------------------------ protocol

    def start(self, total: int, label: str) -> None:
        """Begin: remember the total and show the first state."""
        with self._lock:
            self._label, self._total, self._done = label, total, 0
            self._outcomes.clear()
            self._started = self._monotonic()
            self._next_line = max(total // 10, 1)
            self._line(f"{label}: {total} to do")
            if self.tty:
                self._draw(force=True)

    def advance(self, n: int = 1, *, outcome: str = "") -> None:
        """``n`` more done; redraw the bar or print a line at each tenth."""
        with self._lock:
            self._done += n
            if outcome:
                self._outcomes[outcome] += n
            if self.tty:
                self._draw(force=self._done >= self._total)
            elif self._done >= self._next_line and self._done < self._total:
                self._line(f"{self._done}/{self._total}  {self._counts()}")
                step = max(self._total // 10, 1)
                self._next_line = (self._done // step + 1) * step

    def note(self, message: str) -> None:
        """Print ``message`` on its own line (above the bar)."""
        with self._lock:
            self._line(f"  {message}")
            if self.tty:
                self._draw(force=True)

    def finish(self) -> None:
        """End: print the totals."""
        with self._lock:
            elapsed = self._monotonic() - self._started
            counts = self._counts() or "nothing done"
            self._line(f"{self._label}: {self._done}/{self._total} in {elapsed:.1f}s  {counts}")
