"""Random event sequences through the state machine and both stores (hypothesis stateful).

Invariants checked after every step:
- the memory and SQLite stores agree on every record's status;
- no record is created remotely twice in one export generation;
- a reset of one company never touches another company's records;
- every record's status rebuilt from its journal equals the stored status.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from syncstate.adapters.storage.memory.state import MemoryStore
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.state import Event, EventKind, ExportState, replay
from syncstate.errors import EmptySelectionError, InvalidTransition
from syncstate.periods import DateRange
from syncstate.services.reset import apply_reset, plan_reset
from syncstate.testing.store_contract import make_time_records

COMPANIES = ("acme", "bolt")
T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
EMPLOYEES = ("emp0", "emp1", "emp2")
companies = st.sampled_from(COMPANIES)
indexes = st.integers(min_value=0, max_value=3)

ANY_EVENT = st.sampled_from(
    [
        Event.claim(),
        Event.succeed("R-any", "1"),
        Event.fail("rejected"),
        Event.of(EventKind.RELEASE),
        Event.of(EventKind.RESET, "r"),
        Event.of(EventKind.UNEXPORT),
        Event.of(EventKind.UNLINK, "u"),
        Event.of(EventKind.RELINK),
        Event.of(EventKind.MARK_HISTORICAL),
    ]
)


class StoresAgree(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.memory = MemoryStore()
        self.sqlite = SQLiteStore(":memory:")
        self.stores = (self.memory, self.sqlite)
        self.clock = T0
        self.records: dict[str, list[SourceRecord]] = {}
        self.creates: Counter[tuple[RecordKey, int]] = Counter()
        self.serial = 0
        for company in COMPANIES:
            records = make_time_records(company, 4, employees=3)
            self.records[company] = records
            for store in self.stores:
                store.ingest(company, records, at=self.clock, actor="t")

    def teardown(self) -> None:
        self.sqlite.close()

    def tick(self) -> dt.datetime:
        self.clock += dt.timedelta(seconds=1)
        return self.clock

    def key(self, company: str, index: int) -> RecordKey:
        return self.records[company][index].key

    def both(self, company: str, events: list[tuple[RecordKey, Event]]) -> bool:
        """Apply to both stores; they must both succeed or both refuse."""
        at = self.tick()
        outcomes = []
        for store in self.stores:
            try:
                store.apply(company, events, at=at, actor="t")
                outcomes.append(True)
            except InvalidTransition:
                outcomes.append(False)
        assert outcomes[0] == outcomes[1], f"stores disagree on {events}"
        return outcomes[0]

    @rule(company=companies, limit=st.integers(min_value=1, max_value=4))
    def claim(self, company: str, limit: int) -> None:
        at = self.tick()
        lease = at + dt.timedelta(seconds=5)
        got = [
            [
                s.key
                for s in store.claim(
                    company, worker="w", lease_until=lease, at=at, actor="t", limit=limit
                )
            ]
            for store in self.stores
        ]
        assert got[0] == got[1]

    @rule(company=companies, index=indexes)
    def succeed(self, company: str, index: int) -> None:
        key = self.key(company, index)
        before = self.memory.get(key).status
        self.serial += 1
        if self.both(company, [(key, Event.succeed(f"R{self.serial}", "0"))]) and (
            before.remote_id is None
        ):
            self.creates[(key, before.generation)] += 1

    @rule(company=companies, index=indexes)
    def export_one(self, company: str, index: int) -> None:
        """Claim one record and confirm it, as one export attempt does."""
        key = self.key(company, index)
        at = self.tick()
        claimed = [
            store.claim(company, worker="w", lease_until=at, at=at, actor="t", keys=[key])
            for store in self.stores
        ]
        assert [s.key for s in claimed[0]] == [s.key for s in claimed[1]]
        if claimed[0]:
            self.succeed(company, index)

    @rule(company=companies, index=indexes, event=ANY_EVENT)
    def any_event(self, company: str, index: int, event: Event) -> None:
        key = self.key(company, index)
        before = self.memory.get(key).status
        applied = self.both(company, [(key, event)])
        if applied and event.kind is EventKind.SUCCEED and before.remote_id is None:
            self.creates[(key, before.generation)] += 1

    @rule(company=companies, index=indexes, hours=st.sampled_from(["1", "2.5", "8"]))
    def source_changes(self, company: str, index: int, hours: str) -> None:
        old = self.records[company][index]
        new = SourceRecord(
            key=old.key, on=old.on, subject=old.subject, fields={**old.data, "hours": hours}
        )
        self.records[company][index] = new
        at = self.tick()
        reports = [store.ingest(company, [new], at=at, actor="t") for store in self.stores]
        assert reports[0] == reports[1]

    @rule(
        company=companies,
        employees=st.sets(st.sampled_from(EMPLOYEES), min_size=1),
        days=st.integers(min_value=0, max_value=2),
    )
    def reset(self, company: str, employees: set[str], days: int) -> None:
        other = "bolt" if company == "acme" else "acme"
        other_before = [s.status for s in self.memory.find(other)]
        span = DateRange(dt.date(2026, 3, 1), dt.date(2026, 3, 1) + dt.timedelta(days=days))
        plans = []
        for store in self.stores:
            try:
                plans.append(plan_reset(store, company, span, employees))
            except EmptySelectionError:
                plans.append(None)
        assert (plans[0] is None) == (plans[1] is None)
        if plans[0] is None or plans[1] is None:
            return
        assert plans[0].keys == plans[1].keys
        for store, plan in zip(self.stores, plans, strict=True):
            apply_reset(store, plan, acknowledge=True)
        for store in self.stores:
            assert [s.status for s in store.find(other)] == other_before

    @invariant()
    def stores_agree_and_journals_replay(self) -> None:
        for company in COMPANIES:
            mem = self.memory.find(company)
            sql = self.sqlite.find(company)
            assert [(s.key, s.status) for s in mem] == [(s.key, s.status) for s in sql]
            for stored in sql:
                assert replay(stored.key, self.sqlite.journal(stored.key)) == stored.status

    @invariant()
    def never_created_twice_in_one_generation(self) -> None:
        assert all(count <= 1 for count in self.creates.values()), self.creates

    @invariant()
    def exported_records_have_a_remote_document(self) -> None:
        for company in COMPANIES:
            for stored in self.memory.find(company, states=[ExportState.EXPORTED]):
                assert stored.status.remote_id


StoresAgree.TestCase.settings = settings(
    max_examples=300,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestStoresAgree = StoresAgree.TestCase
