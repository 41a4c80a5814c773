"""Shared test fixtures."""

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


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``shared`` folder with the real fixtures (SIE files, QuickBooks payloads)."""
    if not SHARED.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"shared fixtures folder {SHARED} is missing in CI")
        pytest.skip(f"shared fixtures folder {SHARED} is not present")
    return SHARED
