"""Shared test fixtures.

The suite is complete on its own: the project writes its own fixture files. Tests over
the real files published by others (``../shared/fixtures``, through the ``shared_dir``
fixture) are a second layer: when the folder is not there they are deselected (not
skipped, not failed), and the summary says how many.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: shared test helpers (fakes, local-server trials, the PostgreSQL fixtures)
SUPPORT = Path(__file__).resolve().parent / "support"
sys.path.insert(0, str(SUPPORT))
#: ``../shared`` beside the clone (CI puts it there); override with SYNCSTATE_SHARED
SHARED = Path(os.environ.get("SYNCSTATE_SHARED", ROOT.parent / "shared")).resolve()
_DESELECTED: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the real-file layer when ``../shared`` is not there."""
    if SHARED.is_dir():
        return
    keep, drop = [], []
    for item in items:
        (drop if "shared_dir" in getattr(item, "fixturenames", ()) else keep).append(item)
    if drop:
        _DESELECTED.extend(item.nodeid for item in drop)
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say that the second layer did not run, and why."""
    if _DESELECTED:
        terminalreporter.write_line(
            f"{len(_DESELECTED)} tests over the real files in {SHARED} were left out: "
            "the folder is not present (the project's own fixtures cover the same cases)"
        )


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``shared`` folder with the real fixtures (SIE files, QuickBooks payloads)."""
    return SHARED
