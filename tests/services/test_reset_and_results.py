"""Reset of exported records, sync results, unlink and relink on real stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncstate.adapters.storage.memory.state import MemoryStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.state import HIDDEN, Event, EventKind, ExportState
from syncstate.errors import (
    AcknowledgementRequired,
    EmptySelectionError,
    InputError,
    InvalidTransition,
    PeriodError,
)
from syncstate.periods import DateRange
from syncstate.ports import StateStore
from syncstate.services.reset import RESET_WARNING, apply_reset, plan_reset
from syncstate.services.results import ResultFilter, relink, sync_results, unlink
from syncstate.testing.store_contract import make_time_records

T0 = dt.datetime(2026, 3, 20, tzinfo=dt.UTC)
MARCH_1_4 = DateRange(dt.date(2026, 3, 1), dt.date(2026, 3, 4))


class FixedClock:
    def now(self) -> dt.datetime:
        return T0


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    s: StateStore = MemoryStore() if request.param == "memory" else SQLiteStore(tmp_path / "s.db")
    yield s
    s.close()


def export_all(store: StateStore, company: str) -> None:
    """Claim and confirm every exportable record, as an export run would."""
    claimed = store.claim(company, worker="w", lease_until=T0, at=T0, actor="t", limit=10_000)
    store.apply(
        company,
        [(s.key, Event.succeed(f"R-{s.key.source_id}", "0")) for s in claimed],
        at=T0,
        actor="t",
    )


@pytest.fixture
def exported_store(store: StateStore) -> StateStore:
    # 3 employees x 10 days in each of two companies, all exported
    for company in ("acme", "bolt"):
        store.ingest(company, make_time_records(company, 30, employees=3), at=T0, actor="t")
        export_all(store, company)
    return store


def test_plan_counts_per_employee_and_carries_the_warning(exported_store: StateStore) -> None:
    plan = plan_reset(exported_store, "acme", MARCH_1_4, ["emp0", "emp2"])
    assert dict(plan.per_employee) == {"emp0": 4, "emp2": 4}
    assert plan.total == 8
    assert "NOT removed" in plan.warning and plan.warning == RESET_WARNING
    assert plan.to_dict()["from"] == "2026-03-01"
    # planning writes nothing
    assert exported_store.counts("acme")[ExportState.EXPORTED] == 30


def test_applying_without_acknowledgement_is_refused_and_changes_nothing(
    exported_store: StateStore,
) -> None:
    plan = plan_reset(exported_store, "acme", MARCH_1_4, ["emp0"])
    with pytest.raises(AcknowledgementRequired, match="NOT removed"):
        apply_reset(exported_store, plan)
    assert exported_store.counts("acme")[ExportState.EXPORTED] == 30


def test_reset_makes_exactly_the_selection_exportable_in_a_new_generation(
    exported_store: StateStore,
) -> None:
    plan = plan_reset(exported_store, "acme", MARCH_1_4, ["emp1"])
    before = {s.key: s.status.key_for(s.key) for s in exported_store.find("acme")}
    result = apply_reset(exported_store, plan, acknowledge=True, clock=FixedClock())
    assert result.reset == 4 and result.to_dict()["selected"] == 0
    for stored in exported_store.find("acme"):
        if stored.key in plan.keys:
            assert stored.state is ExportState.NOT_EXPORTED
            assert stored.status.generation == 1
            assert stored.status.key_for(stored.key) != before[stored.key]
        else:
            assert stored.state is ExportState.EXPORTED
    assert all(s.state is ExportState.EXPORTED for s in exported_store.find("bolt"))


def test_a_plan_is_single_use(exported_store: StateStore) -> None:
    plan = plan_reset(exported_store, "acme", MARCH_1_4, ["emp1"])
    apply_reset(exported_store, plan, acknowledge=True)
    with pytest.raises(InvalidTransition):
        apply_reset(exported_store, plan, acknowledge=True)


def test_reset_is_atomic_when_a_record_moved_since_the_plan(exported_store: StateStore) -> None:
    plan = plan_reset(exported_store, "acme", MARCH_1_4, ["emp0", "emp1"])
    moved = plan.keys[-1]
    exported_store.apply("acme", [(moved, Event.of(EventKind.UNLINK, "moved"))], at=T0, actor="t")
    with pytest.raises(InvalidTransition):
        apply_reset(exported_store, plan, acknowledge=True)
    untouched = [exported_store.get(k).state for k in plan.keys[:-1]]
    assert all(state is ExportState.EXPORTED for state in untouched)


def test_empty_selections_and_inverted_ranges_are_clear_errors(
    exported_store: StateStore,
) -> None:
    with pytest.raises(EmptySelectionError, match="at least one employee"):
        plan_reset(exported_store, "acme", MARCH_1_4, [])
    with pytest.raises(EmptySelectionError, match="no exported records"):
        plan_reset(exported_store, "acme", DateRange.parse("2025-01-01", "2025-01-31"), ["emp0"])
    with pytest.raises(PeriodError, match="inverted"):
        DateRange.parse("2026-03-05", "2026-03-01")


def test_reset_records_show_up_for_export_again_and_exported_ones_stay_hidden(
    exported_store: StateStore,
) -> None:
    plan = plan_reset(exported_store, "acme", MARCH_1_4, ["emp2"])
    apply_reset(exported_store, plan, acknowledge=True)
    visible = [
        s for s in exported_store.find("acme", date_range=MARCH_1_4) if s.state not in HIDDEN
    ]
    assert {s.key for s in visible} == set(plan.keys)


# ------------------------------------------------------------------ sync results


def test_sync_results_filter_failed_with_message_and_time(store: StateStore) -> None:
    records = make_time_records("acme", 6)
    store.ingest("acme", records, at=T0, actor="t")
    claimed = store.claim("acme", worker="w", lease_until=T0, at=T0, actor="t", limit=6)
    events = [(s.key, Event.succeed(f"R{i}", "0")) for i, s in enumerate(claimed[:4])]
    events += [(s.key, Event.fail("Employee not found")) for s in claimed[4:]]
    store.apply("acme", events, at=T0, actor="t")
    failed = sync_results(store, "acme", filter="failed")
    assert [r.key.source_id for r in failed.items] == ["t00004", "t00005"]
    assert all(r.message == "Employee not found" and r.failed_at == T0 for r in failed.items)
    linked = sync_results(store, "acme", filter=ResultFilter.LINKED)
    assert len(linked.items) == 4
    assert sync_results(store, "acme", search="R2").items[0].key.source_id == "t00002"
    assert sync_results(store, "acme", search="t00005").items[0].state is ExportState.FAILED
    assert sync_results(store, "acme", search="nothing").items == ()


def test_sync_results_page_through_everything_once(store: StateStore) -> None:
    store.ingest("acme", make_time_records("acme", 23), at=T0, actor="t")
    seen, after = [], None
    while True:
        page = sync_results(store, "acme", after=after, limit=10)
        seen += [r.key for r in page.items]
        if page.next_after is None:
            break
        after = page.next_after
    assert len(seen) == len(set(seen)) == 23 and seen == sorted(seen)


def test_unlinked_records_are_skipped_by_exports_and_relink_restores_them(
    store: StateStore,
) -> None:
    records = make_time_records("acme", 4)
    store.ingest("acme", records, at=T0, actor="t")
    [first] = store.claim("acme", worker="w", lease_until=T0, at=T0, actor="t", limit=1)
    store.apply("acme", [(first.key, Event.fail("Customer missing"))], at=T0, actor="t")
    keys = [records[0].key, records[1].key]
    unlink(store, "acme", keys, reason="customer deleted in Intacct")
    claimed = store.claim("acme", worker="w", lease_until=T0, at=T0, actor="t", limit=10)
    assert {s.key for s in claimed}.isdisjoint(keys)
    rows = sync_results(store, "acme", filter="unlinked").items
    assert [r.unlink_reason for r in rows] == ["customer deleted in Intacct"] * 2
    relink(store, "acme", keys)
    assert store.get(records[0].key).state is ExportState.FAILED
    assert store.get(records[1].key).state is ExportState.NOT_EXPORTED
    with pytest.raises(InputError, match="reason"):
        unlink(store, "acme", keys, reason=" ")
    with pytest.raises(EmptySelectionError):
        relink(store, "acme", [])
