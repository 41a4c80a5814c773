"""The inbound mirror on real SQLite: load, clear, reload with an atomic swap, drift."""

from __future__ import annotations

import datetime as dt
import json
import threading
from decimal import Decimal
from pathlib import Path

import pytest

from syncstate.adapters.backends.sie.source import SieSource, snapshot_to_sie
from syncstate.adapters.backends.sie.writer import write_sie
from syncstate.adapters.storage.sqlite.mirror import SQLiteMirrorStore
from syncstate.cli import main
from syncstate.domain.mirror import MirrorSnapshot, MirrorYear
from syncstate.errors import CompanyBusy, ConfirmationError, InputError, SieParseError
from syncstate.periods import FiscalYear
from syncstate.services.mirror import MirrorService

Y2011 = FiscalYear(dt.date(2011, 1, 1), dt.date(2011, 12, 31))
Y2012 = FiscalYear(dt.date(2012, 1, 1), dt.date(2012, 12, 31))


@pytest.fixture
def ovn(shared_dir: Path) -> Path:
    return shared_dir / "fixtures/sie/jsisie__transaktioner_ovnbolag.se"


@pytest.fixture
def store(tmp_path: Path) -> SQLiteMirrorStore:
    s = SQLiteMirrorStore(tmp_path / "mirror.db")
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
    snap = MirrorSnapshot(
        company="acme",
        years=(MirrorYear(year=Y2012, vouchers=vouchers),),
    )
    doc = snapshot_to_sie(snap, company_name="Övningsbolaget AB", org_number="5555555555")
    path = tmp_path / f"2012-{drop}.se"
    path.write_bytes(write_sie(doc))
    return path


def test_load_mirrors_accounts_balances_and_vouchers(store: SQLiteMirrorStore, ovn: Path) -> None:
    report = MirrorService(store).load("acme", SieSource([ovn], org_number="555555-5555"))
    assert report.years == (Y2011,) and report.vouchers == 163 and report.transactions == 671
    year = store.read_year("acme", Y2011)
    assert year is not None
    assert len(year.vouchers) == 163 and year.transaction_count == 671
    kinds = {b.kind for b in year.balances}
    assert kinds == {"opening", "closing", "result"}
    assert len(store.accounts("acme")) == 567
    assert year.vouchers == SieSource([ovn]).snapshot("acme").years[0].vouchers


def test_a_file_for_another_org_number_is_refused(store: SQLiteMirrorStore, ovn: Path) -> None:
    with pytest.raises(InputError, match="wrong company"):
        MirrorService(store).load("acme", SieSource([ovn], org_number="556000-0000"))
    assert store.loaded_years("acme") == []


def test_several_files_load_one_after_another_and_a_bad_one_changes_nothing(
    store: SQLiteMirrorStore, ovn: Path, shared_dir: Path, tmp_path: Path
) -> None:
    service = MirrorService(store)
    service.load("acme", SieSource([ovn, _year_2012_file(tmp_path, ovn)]))
    assert [y.year for y in store.loaded_years("acme")] == [Y2011, Y2012]
    bad = shared_dir / "fixtures/sie/sie4j__BLBLOV_SIE4_UTF_8_with_faulty_transaction.SI"
    before = store.read_year("acme", Y2011)
    with pytest.raises(SieParseError):
        service.load("acme", SieSource([ovn, bad]))
    assert store.read_year("acme", Y2011) == before


def test_clear_needs_the_company_confirmed(store: SQLiteMirrorStore, ovn: Path) -> None:
    service = MirrorService(store)
    service.load("acme", SieSource([ovn]))
    with pytest.raises(ConfirmationError):
        service.clear("acme", [Y2011], confirm="globex")
    plan = service.plan_clear("acme", [Y2011])
    assert plan.vouchers == 163 and plan.transactions == 671
    run = service.clear("acme", [Y2011], confirm=plan.token)
    assert run.ok and run.cleared and run.removed["vouchers"] == 163
    # a token is bound to the mirror state it was made for
    service.load("acme", SieSource([ovn]))
    with pytest.raises(ConfirmationError):
        service.clear("acme", [Y2011], confirm=plan.token)


def test_clear_keeps_host_data_other_years_and_other_companies(
    store: SQLiteMirrorStore, ovn: Path, tmp_path: Path
) -> None:
    service = MirrorService(store)
    files = [ovn, _year_2012_file(tmp_path, ovn)]
    service.load("acme", SieSource(files))
    service.load("globex", SieSource([ovn]))
    for table in ("host_documents", "host_budget_versions", "host_report_templates"):
        store.add_host_item(table, "acme", "1", "kept")
    run = service.clear("acme", [Y2011], confirm="acme")
    assert run.ok and run.removed["transactions"] == 671
    assert store.read_year("acme", Y2011) is None
    assert [y.year for y in store.loaded_years("acme")] == [Y2012]
    assert store.read_year("globex", Y2011) is not None
    assert store.host_counts("acme") == {
        "host_documents": 1,
        "host_budget_versions": 1,
        "host_report_templates": 1,
    }
    assert len(store.accounts("acme")) == 567  # the chart is not an amount: it stays


class _FailingSource:
    """A source that dies while it is being read (a network drop, a bad upload)."""

    name = "failing"

    def snapshot(self, company: str, years: object = None) -> MirrorSnapshot:
        raise SieParseError("truncated upload", file="upload.se", line=42)


def test_failed_reload_keeps_the_old_year_and_can_be_retried(
    store: SQLiteMirrorStore, ovn: Path
) -> None:
    service = MirrorService(store)
    service.load("acme", SieSource([ovn]))
    before = store.read_year("acme", Y2011)
    run = service.clear("acme", [Y2011], confirm="acme", reload_from=_FailingSource())
    assert not run.ok and not run.cleared and "old data of acme is kept" in run.error
    assert store.read_year("acme", Y2011) == before
    retry = service.clear("acme", [Y2011], confirm="acme", reload_from=SieSource([ovn]))
    assert retry.ok and retry.reloaded
    assert store.read_year("acme", Y2011) == before
    assert store.discard_abandoned("acme") == 0  # nothing half-loaded is left behind


def test_readers_see_the_old_year_until_the_new_one_is_swapped_in(
    store: SQLiteMirrorStore, ovn: Path, tmp_path: Path
) -> None:
    service = MirrorService(store)
    service.load("acme", SieSource([ovn]))
    old = store.read_year("acme", Y2011)
    fresh = SieSource([ovn]).snapshot("acme").years[0]
    changed = MirrorYear(year=Y2011, balances=fresh.balances, vouchers=fresh.vouchers[:10])
    generation = store.stage_year("acme", changed, source="test", at=dt.datetime.now(dt.UTC))
    # staged, not live: a reader (another connection) still sees the whole old year
    reader = SQLiteMirrorStore(tmp_path / "mirror.db")
    assert reader.read_year("acme", Y2011) == old
    store.swap_in("acme", {Y2011: generation}, [], at=dt.datetime.now(dt.UTC))
    now = reader.read_year("acme", Y2011)
    assert now is not None and len(now.vouchers) == 10
    reader.close()


def test_progress_is_reported_while_loading(store: SQLiteMirrorStore, ovn: Path) -> None:
    events: list[tuple[str, object]] = []

    class Recorder:
        def start(self, total: int, label: str) -> None:
            events.append(("start", total))

        def advance(self, n: int = 1, *, outcome: str = "") -> None:
            events.append(("advance", n))

        def note(self, message: str) -> None:
            events.append(("note", message))

        def finish(self) -> None:
            events.append(("finish", None))

    MirrorService(store).load("acme", SieSource([ovn]), progress=Recorder())
    assert ("start", 163) in events and ("finish", None) in events
    assert sum(n for kind, n in events if kind == "advance") == 163  # type: ignore[misc]


def test_one_company_at_a_time_but_other_companies_stay_usable(
    store: SQLiteMirrorStore, ovn: Path
) -> None:
    first = MirrorService(store, holder="first")
    second = MirrorService(store, holder="second")
    with first.locked("acme"):
        with pytest.raises(CompanyBusy, match="acme"):
            second.clear("acme", [Y2011], confirm="acme")
        second.load("globex", SieSource([ovn]))  # another company is not blocked
    second.load("acme", SieSource([ovn]))
    assert store.lock_holder("acme") is None


def test_concurrent_loads_of_two_companies_both_succeed(tmp_path: Path, ovn: Path) -> None:
    errors: list[BaseException] = []

    def load(company: str) -> None:
        s = SQLiteMirrorStore(tmp_path / "mirror.db")
        try:
            MirrorService(s).load(company, SieSource([ovn]))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=load, args=(c,)) for c in ("acme", "globex")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    check = SQLiteMirrorStore(tmp_path / "mirror.db")
    assert check.companies() == ["acme", "globex"]
    check.close()


def test_drift_finds_deleted_vouchers_and_applies_only_the_changes(
    store: SQLiteMirrorStore, ovn: Path, tmp_path: Path
) -> None:
    service = MirrorService(store)
    service.load("acme", SieSource([_year_2012_file(tmp_path, ovn)]))
    gen_before = store.loaded_years("acme")[0].generation
    # at the source, the first three vouchers were deleted without a signal
    source = SieSource([_year_2012_file(tmp_path, ovn, drop=3)])
    (drift,) = service.drift("acme", source)
    full = SieSource([_year_2012_file(tmp_path, ovn)]).snapshot("acme").years[0]
    assert [v for _, v in drift.deleted] == list(full.vouchers[:3])
    assert not drift.added and not drift.changed
    assert drift.account_differences
    assert sum(d.difference for d in drift.account_differences) == Decimal(0)
    assert service.apply_drift("acme", [drift]) == 1
    assert store.loaded_years("acme")[0].generation == gen_before  # patched, not reloaded
    (again,) = service.drift("acme", source)
    assert again.is_empty
    year = store.read_year("acme", Y2012)
    assert year is not None and year == source.snapshot("acme").years[0]


def test_mirror_cli_load_clear_reload_and_drift(
    tmp_path: Path, ovn: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "cli.db")
    assert main(["mirror", "load", "--db", db, "--company", "acme", "--json", str(ovn)]) == 0
    assert json.loads(capsys.readouterr().out)["transactions"] == 671
    assert main(["mirror", "drift", "--db", db, "--company", "acme", "--json", str(ovn)]) == 0
    assert json.loads(capsys.readouterr().out)["in_step"] is True
    clear = ["mirror", "clear", "--db", db, "--company", "acme", "--year", "2011", "--json"]
    assert main([*clear, "--confirm", "globex"]) == 2
    capsys.readouterr()
    assert main([*clear, "--confirm", "acme", "--reload", str(ovn)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["reloaded"] is True and out["ok"] is True
    assert main(["mirror", "status", "--db", db, "--company", "acme", "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["years"][0]["transactions"] == 671
