"""Un-bundling killed with SIGKILL at random moments: membership and state always agree.

The bundle store is opened beside the state store (one SQLite file), so an
un-bundle is one transaction over both; whatever moment the process dies at,
each bundle is either still bundled and linked, or un-bundled and unlinked.
Running the un-bundle again finishes the rest. (The trial is in
``tests/support/unbundle_crash.py``; the PostgreSQL run is in ``postgres/``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from unbundle_crash import run_trial


@pytest.mark.parametrize("seed", range(6))
def test_sqlite_unbundle_killed_at_random_leaves_membership_and_state_agreeing(
    tmp_path: Path, seed: int
) -> None:
    run_trial("sqlite", str(tmp_path / "crash.db"), "", seed)
