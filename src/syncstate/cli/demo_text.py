"""How ``syncstate demo`` prints: indented tables that say what they leave out, short messages.

The demo is read by someone new to syncstate, so its output names records by
their source id (the company is printed once, at the top), never repeats a
record in one line, and never prints a table or a list longer than a screen
without saying how many rows it left out.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Callable, Iterable, Sequence
from typing import TextIO

from syncstate.cli._common import print_table
from syncstate.domain.records import RecordKey

__all__ = ["ROWS", "WIDTH", "Say", "and_more", "named", "plain", "printer", "table"]

#: prints one line of the tour
Say = Callable[[str], None]

#: rows a table of the demo shows before "...and N more"
ROWS = 5

#: prose is wrapped at this width (tables are not)
WIDTH = 96

#: a numbered step ("10. ") whose continuation lines are indented under its text
_STEP = re.compile(r"^(\d+\. )")

#: the "; record <key>" an error appends to its message
_RECORD_SUFFIX = re.compile(r";? record (?P<key>\S+/\S+/\S+)$")


def printer(out: TextIO) -> Say:
    """A :data:`Say` writing to ``out``: long lines wrap under their own indentation."""

    def say(text: str = "") -> None:
        for line in text.split("\n"):
            if len(line) <= WIDTH or line.lstrip().startswith("syncstate "):  # or a command
                out.write(line + "\n")
                continue
            indent = line[: len(line) - len(line.lstrip())]
            step = _STEP.match(line)
            hanging = " " * len(step.group(1)) if step else indent + "  "
            wrapped = textwrap.wrap(line, WIDTH, subsequent_indent=hanging, break_on_hyphens=False)
            out.write("\n".join(wrapped) + "\n")

    return say


def plain(message: str, *, company: str = "") -> str:
    """``message`` without the record key an error appends, and with source ids for keys.

    ``retry 1 for acme/time_entry/t1 in 0.3s: lost the connection; record acme/time_entry/t1``
    reads ``retry 1 for t1 in 0.3s: lost the connection``.
    """
    text = _RECORD_SUFFIX.sub("", message.rstrip())
    if company:
        text = re.sub(rf"\b{re.escape(company)}/[\w.]+/", "", text)
    return text


def and_more(shown: int, total: int) -> str:
    """``"…and 7 more"`` when ``total`` exceeds what was shown, else empty."""
    return f"…and {total - shown} more" if total > shown else ""


def named(keys: Sequence[RecordKey], *, limit: int = ROWS) -> str:
    """Records by kind (``payment p-5; usage log u-2, u-5``), the first ``limit`` of them."""
    by_kind: dict[str, list[str]] = {}
    for key in keys[:limit]:
        by_kind.setdefault(key.kind.replace("_", " "), []).append(key.source_id)
    text = "; ".join(f"{kind} {', '.join(ids)}" for kind, ids in by_kind.items())
    more = and_more(min(len(keys), limit), len(keys))
    return f"{text} {more}" if more else text


def table(
    say: Say,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    total: int | None = None,
    limit: int = ROWS,
) -> None:
    """Print the first ``limit`` rows, indented, then "…and N more" if ``total`` is larger."""
    materialised = list(rows)
    shown = materialised[:limit]
    buffer = io.StringIO()
    print_table(headers, shown, stream=buffer)
    for line in buffer.getvalue().splitlines():
        say(f"    {line}")
    more = and_more(len(shown), len(materialised) if total is None else total)
    if more:
        say(f"    {more}")
