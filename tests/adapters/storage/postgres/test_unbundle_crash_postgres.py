"""Un-bundling on PostgreSQL killed with SIGKILL: membership and state always agree."""

from __future__ import annotations

import pytest

from postgres_server import pg_dsn, pg_schema, require_postgres_driver  # noqa: F401

require_postgres_driver()

from unbundle_crash import run_trial  # noqa: E402

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("seed", range(4))
def test_postgres_unbundle_killed_at_random_leaves_membership_and_state_agreeing(
    pg_dsn: str,  # noqa: F811
    pg_schema: str,  # noqa: F811
    seed: int,
) -> None:
    run_trial("postgres", pg_dsn, pg_schema, 100 + seed)
