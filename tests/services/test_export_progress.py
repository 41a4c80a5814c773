"""The terminal progress: a redrawn bar on a TTY, plain lines in a pipe."""

from __future__ import annotations

import io

from syncstate.cli.progress import TerminalProgress
from syncstate.ports import Progress


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.05
        return self.now


def test_it_is_a_progress() -> None:
    assert isinstance(TerminalProgress(io.StringIO(), tty=False), Progress)


def test_without_a_terminal_it_prints_plain_lines_at_each_tenth() -> None:
    out = io.StringIO()
    progress = TerminalProgress(out, tty=False, monotonic=Ticks())
    progress.start(100, "export acme")
    for i in range(100):
        progress.advance(outcome="failed" if i == 7 else "exported")
    progress.note("retry 1 in 0.5s")
    progress.finish()
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert lines[0] == "export acme: 100 to do"
    assert lines[1] == "10/100  exported 9  failed 1"
    assert len([line for line in lines if "/100  " in line]) == 9
    assert lines[-2] == "  retry 1 in 0.5s"
    assert lines[-1].startswith("export acme: 100/100 in ") and "exported 99  failed 1" in lines[-1]


def test_on_a_terminal_it_redraws_one_bar_and_prints_notes_above_it() -> None:
    out = io.StringIO()
    progress = TerminalProgress(out, tty=True, width=10, interval=0.0, monotonic=Ticks())
    progress.start(4, "export")
    progress.advance(2, outcome="exported")
    progress.note("throttled: waiting 2s")
    progress.advance(2, outcome="exported")
    progress.finish()
    text = out.getvalue()
    assert "\r\x1b[2K[#####.....] 2/4  exported 2" in text
    assert "\r\x1b[2K  throttled: waiting 2s\n" in text
    assert "[##########] 4/4  exported 4" in text
    assert text.endswith("exported 4\n")
