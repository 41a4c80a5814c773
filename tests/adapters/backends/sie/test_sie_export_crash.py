"""Kill -9 the exporter at random moments while it writes SIE files: every voucher once."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xero_sie_crash import run_trial

TRIALS = int(os.environ.get("SYNCSTATE_CRASH_TRIALS", "6"))


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(TRIALS))
def test_a_killed_and_restarted_sie_export_writes_every_voucher_once(
    tmp_path: Path, seed: int
) -> None:
    result = run_trial("sie", tmp_path, seed=seed)
    assert result.ok, result
