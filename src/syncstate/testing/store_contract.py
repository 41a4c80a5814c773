"""The storage conformance suite: every :class:`~syncstate.ports.StateStore` passes it.

Subclass :class:`StateStoreContract` in a test module and provide a ``store``
fixture that yields a fresh, empty store::

    class TestMyStore(StateStoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            s = MyStore(tmp_path / "db")
            yield s
            s.close()

pytest collects the inherited tests. The suite needs pytest installed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from syncstate.domain.records import RecordKey, SourceRecord, TimeEntry
from syncstate.domain.state import Event, EventKind, ExportState, replay
from syncstate.errors import InputError, InvalidTransition, RecordNotFound
from syncstate.periods import DateRange
from syncstate.ports import StateStore

__all__ = ["StateStoreContract", "make_time_records"]

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def make_time_records(
    company: str, count: int, *, employees: int = 3, start: dt.date = dt.date(2026, 3, 1)
) -> list[SourceRecord]:
    """``count`` time entries spread over ``employees`` and consecutive days."""
    return [
        TimeEntry(
            source_id=f"t{i:05d}",
            employee=f"emp{i % employees}",
            date=start + dt.timedelta(days=i // employees),
            hours="7.5",
            job="J-1",
        ).to_record(company)
        for i in range(count)
    ]


class StateStoreContract:
    """Behaviour every state store must show. Provide a ``store`` fixture."""

    @pytest.fixture
    def store(self) -> Any:  # pragma: no cover - replaced by subclasses
        raise NotImplementedError("provide a `store` fixture yielding an empty store")

    # -- ingest ---------------------------------------------------------------

    def test_ingest_counts_new_changed_and_unchanged_records(self, store: StateStore) -> None:
        records = make_time_records("acme", 5)
        first = store.ingest("acme", records, at=T0, actor="t")
        assert (first.added, first.changed, first.unchanged) == (5, 0, 0)
        edited = TimeEntry.from_record(records[0])
        changed = TimeEntry(
            source_id=edited.source_id, employee=edited.employee, date=edited.date, hours="8"
        ).to_record("acme")
        second = store.ingest("acme", [changed, *records[1:]], at=T0, actor="t")
        assert (second.added, second.changed, second.unchanged) == (0, 1, 4)
        assert store.get(changed.key).record.data["hours"] == "8"

    def test_changed_source_makes_an_exported_record_outdated(self, store: StateStore) -> None:
        [record] = make_time_records("acme", 1)
        store.ingest("acme", [record], at=T0, actor="t")
        store.apply("acme", [(record.key, Event.claim())], at=T0, actor="t")
        store.apply("acme", [(record.key, Event.succeed("R1", "0"))], at=T0, actor="t")
        changed = SourceRecord(
            key=record.key,
            on=record.on,
            subject=record.subject,
            fields={**record.data, "hours": "9"},
        )
        report = store.ingest("acme", [changed], at=T0, actor="t")
        assert report.outdated == (record.key,)
        stored = store.get(record.key)
        assert stored.state is ExportState.OUTDATED
        assert stored.status.remote_id == "R1"

    def test_ingest_refuses_a_record_of_another_company(self, store: StateStore) -> None:
        [record] = make_time_records("other", 1)
        with pytest.raises(InputError):
            store.ingest("acme", [record], at=T0, actor="t")
        assert store.find("other") == [] and store.find("acme") == []

    # -- reads ----------------------------------------------------------------

    def test_get_of_an_unknown_record_raises_record_not_found(self, store: StateStore) -> None:
        with pytest.raises(RecordNotFound):
            store.get(RecordKey("acme", "time_entry", "nope"))

    def test_find_filters_by_date_subject_state_and_kind(self, store: StateStore) -> None:
        records = make_time_records("acme", 12, employees=3)
        store.ingest("acme", records, at=T0, actor="t")
        march_2_3 = DateRange(dt.date(2026, 3, 2), dt.date(2026, 3, 3))
        found = store.find("acme", date_range=march_2_3, subjects=["emp1"])
        assert [s.record.on for s in found] == [dt.date(2026, 3, 2), dt.date(2026, 3, 3)]
        assert all(s.record.subject == "emp1" for s in found)
        assert len(store.find("acme", states=[ExportState.NOT_EXPORTED])) == 12
        assert store.find("acme", states=[ExportState.EXPORTED]) == []
        assert store.find("acme", kinds=["usage_log"]) == []
        assert store.find("acme", subjects=[]) == []

    def test_find_pages_in_a_stable_order(self, store: StateStore) -> None:
        store.ingest("acme", make_time_records("acme", 25), at=T0, actor="t")
        seen: list[RecordKey] = []
        after = None
        while True:
            page = store.find("acme", after=after, limit=10)
            if not page:
                break
            seen += [s.key for s in page]
            after = page[-1].key
        assert seen == sorted(seen)
        assert len(seen) == len(set(seen)) == 25

    def test_companies_do_not_see_each_other(self, store: StateStore) -> None:
        store.ingest("acme", make_time_records("acme", 3), at=T0, actor="t")
        store.ingest("bolt", make_time_records("bolt", 2), at=T0, actor="t")
        assert len(store.find("acme")) == 3 and len(store.find("bolt")) == 2
        assert store.counts("bolt")[ExportState.NOT_EXPORTED] == 2
        assert store.companies() == ["acme", "bolt"]

    # -- transitions ------------------------------------------------------------

    def test_apply_is_all_or_nothing(self, store: StateStore) -> None:
        records = make_time_records("acme", 3)
        store.ingest("acme", records, at=T0, actor="t")
        events = [(r.key, Event.claim()) for r in records]
        events.append((records[0].key, Event.of(EventKind.RESET, "bad")))  # in_flight: invalid
        with pytest.raises(InvalidTransition):
            store.apply("acme", events, at=T0, actor="t")
        assert all(s.state is ExportState.NOT_EXPORTED for s in store.find("acme"))
        assert all(store.journal(r.key) == [] for r in records)

    def test_apply_refuses_keys_of_another_company(self, store: StateStore) -> None:
        store.ingest("acme", make_time_records("acme", 1), at=T0, actor="t")
        store.ingest("bolt", make_time_records("bolt", 1), at=T0, actor="t")
        bolt_key = store.find("bolt")[0].key
        with pytest.raises(InputError):
            store.apply("acme", [(bolt_key, Event.claim())], at=T0, actor="t")
        assert store.get(bolt_key).state is ExportState.NOT_EXPORTED

    def test_apply_of_an_unknown_record_changes_nothing(self, store: StateStore) -> None:
        [record] = make_time_records("acme", 1)
        store.ingest("acme", [record], at=T0, actor="t")
        ghost = RecordKey("acme", "time_entry", "ghost")
        with pytest.raises(RecordNotFound):
            store.apply(
                "acme", [(record.key, Event.claim()), (ghost, Event.claim())], at=T0, actor="t"
            )
        assert store.get(record.key).state is ExportState.NOT_EXPORTED

    def test_journal_replays_to_the_stored_status(self, store: StateStore) -> None:
        [record] = make_time_records("acme", 1)
        store.ingest("acme", [record], at=T0, actor="t")
        key = record.key
        for event in (
            Event.claim(),
            Event.fail("customer missing"),
            Event.claim(),
            Event.succeed("R7", "3"),
            Event.of(EventKind.RESET, "re-export"),
            Event.of(EventKind.UNLINK, "bad record"),
            Event.of(EventKind.RELINK),
        ):
            store.apply("acme", [(key, event)], at=T0, actor="alice")
        entries = store.journal(key)
        assert [e.event.kind for e in entries][:2] == [EventKind.CLAIM, EventKind.FAIL]
        assert entries[1].event.message == "customer missing"
        assert all(e.actor == "alice" for e in entries)
        assert replay(key, entries) == store.get(key).status
        assert store.get(key).status.generation == 1

    def test_the_document_number_is_kept_with_the_link(self, store: StateStore) -> None:
        """The number the back end shows people (QuickBooks ``DocNumber``) is stored with
        the remote id, one per record in a bulk apply, kept by an update that returns
        none, in the journal, and gone after a reset."""
        records = make_time_records("acme", 300)
        keys = [r.key for r in records]
        store.ingest("acme", records, at=T0, actor="t")
        store.apply("acme", [(k, Event.claim(worker="w")) for k in keys], at=T0, actor="t")
        store.apply(
            "acme",
            [(k, Event.succeed(f"R-{i}", "0", f"INV-{i:04d}")) for i, k in enumerate(keys)],
            at=T0,
            actor="t",
        )
        assert [store.get(k).status.remote_number for k in keys[:3]] == [
            "INV-0000",
            "INV-0001",
            "INV-0002",
        ]
        assert store.get(keys[-1]).status.remote_number == "INV-0299"
        first = keys[0]
        store.apply(
            "acme",
            [
                (first, Event.of(EventKind.SOURCE_CHANGED, "edited")),
                (first, Event.claim(worker="w")),
                (first, Event.succeed("R-0", "1")),  # the update gave no number
            ],
            at=T0,
            actor="t",
        )
        assert store.get(first).status.remote_number == "INV-0000"
        entries = store.journal(first)
        assert entries[1].event.remote_number == "INV-0000"
        assert replay(first, entries) == store.get(first).status
        store.apply("acme", [(first, Event.of(EventKind.RESET, "again"))], at=T0, actor="t")
        assert store.get(first).status.remote_number is None
        assert replay(first, store.journal(first)) == store.get(first).status

    def test_one_apply_may_move_a_record_several_times(self, store: StateStore) -> None:
        records = make_time_records("acme", 3)
        store.ingest("acme", records, at=T0, actor="t")
        first, second = records[0].key, records[1].key
        entries = store.apply(
            "acme",
            [
                (first, Event.claim(worker="w")),
                (second, Event.claim(worker="w")),
                (first, Event.fail("no customer")),
                (first, Event.claim(worker="w")),
                (first, Event.succeed("R-1", "7")),
            ],
            at=T0,
            actor="t",
        )
        assert [(e.key, e.event.kind) for e in entries] == [
            (first, EventKind.CLAIM),
            (second, EventKind.CLAIM),
            (first, EventKind.FAIL),
            (first, EventKind.CLAIM),
            (first, EventKind.SUCCEED),
        ]
        stored = store.journal(first)
        assert stored == [e for e in entries if e.key == first]
        # the failure bumped the revision: the retry was sent with a key of its own
        assert stored[0].idempotency_key == stored[1].idempotency_key
        assert stored[2].idempotency_key != stored[0].idempotency_key
        assert stored[3].event == Event.succeed("R-1", "7")
        assert replay(first, stored) == store.get(first).status
        assert store.get(first).state is ExportState.EXPORTED
        assert store.get(second).state is ExportState.IN_FLIGHT

    def test_bulk_apply_over_many_records_in_mixed_states(self, store: StateStore) -> None:
        """Thousands of records in a few shared statuses (how bulk operations look, and
        what stores may read in chunks or grouped by status) get exactly the transitions
        and journal entries the state machine gives, and a bad record anywhere refuses
        the whole batch."""
        records = make_time_records("acme", 2_600, employees=7)
        keys = [r.key for r in records]
        store.ingest("acme", records, at=T0, actor="t")
        store.apply("acme", [(k, Event.claim(worker="w")) for k in keys], at=T0, actor="t")
        # every third record goes back; every fifth of the rest is exported
        released = keys[::3]
        store.apply("acme", [(k, Event.of(EventKind.RELEASE)) for k in released], at=T0, actor="t")
        exported = [k for i, k in enumerate(keys) if i % 3 and i % 5 == 0]
        store.apply(
            "acme",
            [(k, Event.succeed(f"R-{k.source_id}", "0")) for k in exported],
            at=T0,
            actor="t",
        )
        before = {s.key: s.state for s in store.find("acme")}
        # one event that every state allows: first 600 records in one status, then
        # the rest in reverse order, with states interleaved
        changed = Event.of(EventKind.SOURCE_CHANGED, "bulk edit")
        first = [k for k in keys if before[k] is ExportState.IN_FLIGHT][:600]
        taken = set(first)
        order = [*first, *(k for k in reversed(keys) if k not in taken)]
        entries = store.apply("acme", [(k, changed) for k in order], at=T0, actor="bulk")
        assert len(entries) == len(keys)
        assert [e.key for e in entries] == order
        expected = {
            ExportState.NOT_EXPORTED: ExportState.NOT_EXPORTED,
            ExportState.IN_FLIGHT: ExportState.IN_FLIGHT,
            ExportState.EXPORTED: ExportState.OUTDATED,
        }
        for entry in entries:
            assert entry.from_state is before[entry.key]
            assert entry.to_state is expected[before[entry.key]]
            assert entry.actor == "bulk" and entry.event == changed
        for key in keys[::97]:
            assert replay(key, store.journal(key)) == store.get(key).status
        in_flight = [k for k in keys if before[k] is ExportState.IN_FLIGHT]
        assert all(
            s.status.changed_in_flight
            for s in store.find("acme", source_ids=[k.source_id for k in in_flight[:50]])
        )
        # a reset is refused for in-flight records: one of them late in the batch
        # refuses all, and nothing is written
        outdated = [k for k in keys if before[k] is ExportState.EXPORTED]
        batch = [*outdated, in_flight[-1]]
        with pytest.raises(InvalidTransition, match=in_flight[-1].source_id):
            store.apply(
                "acme", [(k, Event.of(EventKind.RESET, "x")) for k in batch], at=T0, actor="t"
            )
        assert store.counts("acme")[ExportState.OUTDATED] == len(outdated)
        assert len(store.journal(outdated[0])) == 3

    # -- claims ---------------------------------------------------------------

    def test_claim_takes_exportable_records_and_respects_live_leases(
        self, store: StateStore
    ) -> None:
        records = make_time_records("acme", 5)
        store.ingest("acme", records, at=T0, actor="t")
        lease = T0 + dt.timedelta(minutes=5)
        first = store.claim("acme", worker="w1", lease_until=lease, at=T0, actor="t", limit=3)
        assert len(first) == 3 and all(s.state is ExportState.IN_FLIGHT for s in first)
        assert all(s.status.worker == "w1" for s in first)
        second = store.claim("acme", worker="w2", lease_until=lease, at=T0, actor="t", limit=10)
        assert {s.key for s in second}.isdisjoint({s.key for s in first})
        assert len(second) == 2
        assert store.claim("acme", worker="w3", lease_until=lease, at=T0, actor="t") == []
        later = lease + dt.timedelta(seconds=1)
        taken_over = store.claim(
            "acme", worker="w3", lease_until=later + dt.timedelta(minutes=5), at=later, actor="t"
        )
        assert len(taken_over) == 5 and all(s.status.worker == "w3" for s in taken_over)

    def test_claim_by_keys_skips_records_that_are_not_exportable(self, store: StateStore) -> None:
        records = make_time_records("acme", 3)
        store.ingest("acme", records, at=T0, actor="t")
        store.apply(
            "acme", [(records[0].key, Event.of(EventKind.MARK_HISTORICAL))], at=T0, actor="t"
        )
        lease = T0 + dt.timedelta(minutes=1)
        claimed = store.claim(
            "acme", worker="w", lease_until=lease, at=T0, actor="t", keys=[r.key for r in records]
        )
        assert [s.key for s in claimed] == [records[1].key, records[2].key]

    def test_claim_keeps_the_idempotency_key_of_an_expired_in_flight_record(
        self, store: StateStore
    ) -> None:
        [record] = make_time_records("acme", 1)
        store.ingest("acme", [record], at=T0, actor="t")
        lease = T0 + dt.timedelta(seconds=30)
        [first] = store.claim("acme", worker="w1", lease_until=lease, at=T0, actor="t")
        later = lease + dt.timedelta(seconds=1)
        [again] = store.claim(
            "acme", worker="w2", lease_until=later + dt.timedelta(seconds=30), at=later, actor="t"
        )
        assert again.status.key_for(record.key) == first.status.key_for(record.key)

    def test_counts_reports_every_state(self, store: StateStore) -> None:
        records = make_time_records("acme", 4)
        store.ingest("acme", records, at=T0, actor="t")
        store.apply("acme", [(records[0].key, Event.of(EventKind.UNLINK, "x"))], at=T0, actor="t")
        counts = store.counts("acme")
        assert set(counts) == set(ExportState)
        assert counts[ExportState.NOT_EXPORTED] == 3 and counts[ExportState.UNLINKED] == 1
