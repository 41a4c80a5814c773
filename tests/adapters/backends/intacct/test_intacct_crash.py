"""Kill -9 an Intacct export at random moments and restart it: every record exactly once."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from intacct_crash import run_trial

from syncstate.testing.intacct_server import IntacctServer

TRIALS = int(os.environ.get("SYNCSTATE_CRASH_TRIALS", "20"))


@pytest.fixture(scope="module")
def server() -> Iterator[IntacctServer]:
    with IntacctServer() as running:
        running.faults.latency = 0.003
        yield running


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(TRIALS))
def test_a_killed_and_restarted_intacct_export_sends_every_record_once(
    server: IntacctServer, tmp_path: Path, seed: int
) -> None:
    server.faults.latency = 0.003
    result = run_trial(server, tmp_path, seed=seed, records=30)
    assert result.kills >= 1 or result.starts == 1
    assert result.duplicates == 0, result
    assert result.missing == 0, result
    assert result.not_exported == 0, result
    assert result.mislinked == 0, result
