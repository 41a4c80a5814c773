"""Kill -9 the exporter at random moments while it exports to Xero: every invoice exactly once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncstate.testing.xero_server import XeroServer
from xero_sie_crash import run_trial

TRIALS = int(os.environ.get("SYNCSTATE_CRASH_TRIALS", "6"))


@pytest.fixture(scope="module")
def server() -> Iterator[XeroServer]:
    with XeroServer() as running:
        running.faults.latency = 0.003
        running.faults.minute_limit = None  # throttling is tried in test_export_xero.py
        yield running


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(TRIALS))
def test_a_killed_and_restarted_export_to_xero_sends_every_record_once(
    server: XeroServer, tmp_path: Path, seed: int
) -> None:
    result = run_trial("xero", tmp_path, seed=seed, server=server)
    assert result.ok, result
