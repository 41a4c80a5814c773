"""The mirror workflow on PostgreSQL with real SIE files: load, drift, clear, reload,
a bad file that leaves the old year, and two worker processes reloading at once."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from postgres_server import pg_dsn, pg_schema, require_postgres_driver  # noqa: F401

require_postgres_driver()

from syncstate.adapters.backends.sie.source import SieSource, snapshot_to_sie  # noqa: E402
from syncstate.adapters.backends.sie.writer import write_sie  # noqa: E402
from syncstate.adapters.storage.postgres.mirror import PostgresMirrorStore  # noqa: E402
from syncstate.domain.mirror import MirrorSnapshot, MirrorYear  # noqa: E402
from syncstate.errors import SieParseError  # noqa: E402
from syncstate.periods import FiscalYear  # noqa: E402
from syncstate.services.mirror import MirrorService  # noqa: E402

pytestmark = pytest.mark.postgres

Y2011 = FiscalYear(dt.date(2011, 1, 1), dt.date(2011, 12, 31))
Y2012 = FiscalYear(dt.date(2012, 1, 1), dt.date(2012, 12, 31))
WORKER = Path(__file__).resolve().parents[3] / "support" / "mirror_worker.py"


@pytest.fixture
def ovn(shared_dir: Path) -> Path:
    return shared_dir / "fixtures/sie/jsisie__transaktioner_ovnbolag.se"


@pytest.fixture
def store(pg_dsn: str, pg_schema: str) -> Iterator[PostgresMirrorStore]:  # noqa: F811
    s = PostgresMirrorStore(pg_dsn, schema=pg_schema, max_size=3)
    yield s
    s.close()


def _year_2012_file(tmp_path: Path, ovn: Path, *, drop: int = 0) -> Path:
    """A second fiscal year made from the first one's vouchers, moved to 2012."""
    year = SieSource([ovn]).snapshot("acme").years[0]
    vouchers = tuple(
        v.__class__(
            series=v.series,
            number=v.number,
            date=v.date.replace(year=2012),
            text=v.text,
            transactions=tuple(
                t.__class__(account=t.account, amount=t.amount, objects=t.objects, text=t.text)
                for t in v.transactions
            ),
        )
        for v in year.vouchers[drop:]
    )
    snap = MirrorSnapshot(company="acme", years=(MirrorYear(year=Y2012, vouchers=vouchers),))
    doc = snapshot_to_sie(snap, company_name="Övningsbolaget AB", org_number="5555555555")
    path = tmp_path / f"2012-{drop}.se"
    path.write_bytes(write_sie(doc))
    return path


def test_load_drift_clear_reload_and_a_bad_file_on_postgres(
    store: PostgresMirrorStore, ovn: Path, shared_dir: Path, tmp_path: Path
) -> None:
    service = MirrorService(store)
    report = service.load("acme", SieSource([ovn, _year_2012_file(tmp_path, ovn)]))
    assert report.vouchers == 326 and report.transactions == 1342
    year = store.read_year("acme", Y2011)
    assert year == SieSource([ovn]).snapshot("acme").years[0]
    assert len(store.accounts("acme")) == 567
    # drift: three vouchers deleted at the source, applied in place
    source = SieSource([_year_2012_file(tmp_path, ovn, drop=3)])
    (drift,) = service.drift("acme", source)
    assert len(drift.deleted) == 3 and not drift.added
    assert service.apply_drift("acme", [drift]) == 1
    (again,) = service.drift("acme", source)
    assert again.is_empty
    # clear one year: the other stays, and so does the chart
    run = service.clear("acme", [Y2012], confirm="acme")
    assert run.ok and run.removed["vouchers"] == 160
    assert [y.year for y in store.loaded_years("acme")] == [Y2011]
    # a reload from a bad file fails whole and leaves the old year live
    bad = shared_dir / "fixtures/sie/sie4j__BLBLOV_SIE4_UTF_8_with_faulty_transaction.SI"
    with pytest.raises(SieParseError):
        service.load("acme", SieSource([ovn, bad]))
    failed = service.clear("acme", [Y2011], confirm="acme", reload_from=SieSource([bad]))
    assert not failed.ok and "old data of acme is kept" in failed.error
    assert store.read_year("acme", Y2011) == year
    reloaded = service.clear("acme", [Y2011], confirm="acme", reload_from=SieSource([ovn]))
    assert reloaded.ok and reloaded.reloaded
    assert store.read_year("acme", Y2011) == year
    assert store.discard_abandoned("acme") == 0


def test_two_worker_processes_reloading_one_company_take_turns(
    store: PostgresMirrorStore,
    ovn: Path,
    tmp_path: Path,
    pg_dsn: str,  # noqa: F811
    pg_schema: str,  # noqa: F811
) -> None:
    files = [str(ovn), str(_year_2012_file(tmp_path, ovn))]
    MirrorService(store).load("acme", SieSource([ovn]))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), pg_dsn, pg_schema, company, *files],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        for company in ("acme", "acme", "globex")
    ]
    outcomes = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        outcomes.append(json.loads(out))
    assert all(o["ok"] and o["reloaded"] for o in outcomes)
    expected = SieSource([Path(f) for f in files]).snapshot("acme")
    for company in ("acme", "globex"):
        assert [y.year for y in store.loaded_years(company)] == [Y2011, Y2012]
        for year in expected.years:
            assert store.read_year(company, year.year) == year
    assert store.discard_abandoned("acme") == 0
    assert store.lock_holder("acme") is None
