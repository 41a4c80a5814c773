"""Time and progress: what a long operation is told and asks."""

from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "Progress", "SystemClock"]


# --------------------------------------------------------------------------- time


class Clock(Protocol):
    """Tells the current time (timezone-aware UTC)."""

    def now(self) -> dt.datetime:
        """The current time."""
        ...


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> dt.datetime:
        """The current UTC time."""
        return dt.datetime.now(dt.UTC)


# ----------------------------------------------------------------------- progress


@runtime_checkable
class Progress(Protocol):
    """Receives progress of a long operation. Every method must be cheap."""

    def start(self, total: int, label: str) -> None:
        """The operation begins with ``total`` units of work."""
        ...

    def advance(self, n: int = 1, *, outcome: str = "") -> None:
        """``n`` more units are done; ``outcome`` is e.g. ``exported`` or ``failed``."""
        ...

    def note(self, message: str) -> None:
        """Something worth showing happened (a retry, a throttle pause)."""
        ...

    def finish(self) -> None:
        """The operation ended (successfully or not)."""
        ...
