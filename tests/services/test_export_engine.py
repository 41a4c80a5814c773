"""The export engine against a scripted back end: exactly once, whatever fails."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from export_fakes import ALL, FakeBackend
from syncstate.adapters.storage.memory.state import MemoryStore
from syncstate.domain.records import RecordKey, TimeEntry
from syncstate.domain.state import Event, EventKind, ExportState
from syncstate.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    DuplicateDocumentError,
    InputError,
    StaleVersionError,
    ThrottledError,
    UnsupportedCapability,
)
from syncstate.periods import DateRange
from syncstate.ports import Capability, Document, StoredRecord
from syncstate.services.export import ExportOptions, export_records, unexport
from syncstate.services.retry import RetryPolicy
from syncstate.services.sending import Outcome

AT = dt.datetime(2024, 3, 1, 12, tzinfo=dt.UTC)
CO = "acme"


class FixedClock:
    def __init__(self, at: dt.datetime = AT) -> None:
        self.at = at

    def now(self) -> dt.datetime:
        return self.at


def entries(n: int, *, employee: str = "emp-1", start: int = 0) -> list[TimeEntry]:
    return [
        TimeEntry(
            source_id=f"t{i:04d}",
            employee=employee,
            date=dt.date(2024, 2, 1) + dt.timedelta(days=i % 28),
            hours="1.5",
            notes=f"entry {i}",
        )
        for i in range(start, start + n)
    ]


def make_store(n: int = 5, **kw: str) -> MemoryStore:
    store = MemoryStore()
    store.ingest(CO, [e.to_record(CO) for e in entries(n, **kw)], at=AT, actor="test")
    return store


def opts(**kw: object) -> ExportOptions:
    sleeps: list[float] = kw.pop("sleeps", [])  # type: ignore[assignment]
    kw.setdefault("retry", RetryPolicy(attempts=4, initial=0.01))
    kw.setdefault("concurrency", 3)
    return ExportOptions(sleep=sleeps.append, seed=1, **kw)  # type: ignore[arg-type]


def key(i: int) -> RecordKey:
    return RecordKey(CO, "time_entry", f"t{i:04d}")


def states(store: MemoryStore) -> dict[ExportState, int]:
    return {s: n for s, n in store.counts(CO).items() if n}


def test_every_record_is_exported_once_and_linked() -> None:
    store, backend = make_store(7), FakeBackend(ALL - {Capability.BATCH})
    report = export_records(store, backend, CO, clock=FixedClock(), options=opts())
    assert report.exported == 7 and report.ok
    assert states(store) == {ExportState.EXPORTED: 7}
    assert set(backend.sources().values()) == {1}
    status = store.get(key(0)).status
    assert status.remote_id is not None and status.remote_version == "0"
    again = export_records(store, backend, CO, clock=FixedClock(), options=opts())
    assert again.total == 0 and backend.calls["create"] == 7


def test_selection_by_date_range_and_employee_exports_only_those() -> None:
    store = make_store(10)
    store.ingest(
        CO, [e.to_record(CO) for e in entries(3, employee="emp-2", start=10)], at=AT, actor="t"
    )
    backend = FakeBackend()
    report = export_records(
        store,
        backend,
        CO,
        date_range=DateRange(dt.date(2024, 2, 1), dt.date(2024, 2, 5)),
        subjects=["emp-1"],
        options=opts(),
    )
    assert sorted(k.source_id for k in report.exported_keys) == [f"t{i:04d}" for i in range(5)]


def test_a_validation_error_fails_the_record_with_its_message_and_is_never_retried() -> None:
    store = MemoryStore()
    bad = TimeEntry(source_id="x", employee="invalid", date=dt.date(2024, 2, 1), hours="1")
    store.ingest(CO, [bad.to_record(CO)], at=AT, actor="t")
    backend = FakeBackend(ALL - {Capability.BATCH})
    report = export_records(store, backend, CO, options=opts())
    assert report.failed[0][1].startswith("employee is inactive")
    assert backend.calls["create"] == 1 and report.retries == 0
    assert store.get(RecordKey(CO, "time_entry", "x")).status.message.startswith("employee")


def test_throttling_is_retried_after_the_servers_retry_after() -> None:
    store, backend = make_store(1), FakeBackend(ALL - {Capability.BATCH})
    backend.fail_next("create", ThrottledError("slow down", retry_after=7.0, status=429))
    sleeps: list[float] = []
    report = export_records(store, backend, CO, options=opts(sleeps=sleeps))
    assert report.exported == 1 and report.retries == 1
    assert 7.0 in sleeps


def test_an_ambiguous_create_that_committed_is_found_by_key_not_sent_twice() -> None:
    store, backend = make_store(1), FakeBackend(ALL - {Capability.BATCH})
    backend.fail_next("create", AmbiguousOutcome("connection reset"), commit=True)
    report = export_records(store, backend, CO, options=opts())
    assert report.exported == 1 and report.outcomes[0].message == "found by its idempotency key"
    assert backend.calls["create"] == 1 and backend.calls["lookup"] == 1
    assert len(backend.docs) == 1


def test_a_back_end_that_replays_keys_gets_the_same_key_again() -> None:
    caps = frozenset({Capability.CREATE, Capability.REPLAYS_KEY})
    store, backend = make_store(1), FakeBackend(caps)
    backend.fail_next("create", AmbiguousOutcome("timeout", status=504), commit=True)
    report = export_records(store, backend, CO, options=opts())
    assert report.exported == 1 and backend.calls["create"] == 2 and len(backend.docs) == 1


def test_an_ambiguous_outcome_without_lookup_or_replay_waits_for_an_operator() -> None:
    store, backend = make_store(1), FakeBackend(frozenset({Capability.CREATE}))
    backend.fail_next("create", AmbiguousOutcome("dropped"), commit=True)
    report = export_records(store, backend, CO, options=opts())
    assert report.pending and "operator" in report.pending[0][1]
    assert backend.calls["create"] == 1
    assert states(store) == {ExportState.IN_FLIGHT: 1}


def test_a_record_left_in_flight_by_a_dead_run_is_looked_up_before_resending() -> None:
    store, backend = make_store(2), FakeBackend(ALL - {Capability.BATCH})
    claimed = store.claim(CO, worker="dead", lease_until=AT, at=AT, actor="t")
    # the dead run had sent the first record before it died
    first = claimed[0]
    backend.create(CO, _doc(first), idempotency_key=first.status.key_for(first.key))
    later = FixedClock(AT + dt.timedelta(minutes=1))
    report = export_records(store, backend, CO, clock=later, options=opts())
    assert report.exported == 2 and len(backend.docs) == 2
    assert backend.calls["create"] == 2  # one by the dead run, one for the second record
    assert backend.calls["lookup"] == 2


class _RacingStore(MemoryStore):
    """Between the engine's selection and its claim, another worker claims the first
    record, sends it, and dies; its lease has run out when the engine claims."""

    def __init__(self, backend: FakeBackend) -> None:
        super().__init__()
        self.backend, self.raced = backend, False

    def claim(self, company: str, **kwargs: object) -> list[StoredRecord]:  # type: ignore[override]
        if not self.raced:
            self.raced = True
            [ghost] = super().claim(
                company, worker="ghost", lease_until=AT, at=AT, actor="t", limit=1
            )
            self.backend.create(CO, _doc(ghost), idempotency_key=ghost.status.key_for(ghost.key))
        return super().claim(company, **kwargs)  # type: ignore[arg-type]


def test_a_lease_taken_over_between_selection_and_claim_is_looked_up_not_resent() -> None:
    backend = FakeBackend(ALL - {Capability.BATCH, Capability.REPLAYS_KEY})
    store = _RacingStore(backend)
    store.ingest(CO, [e.to_record(CO) for e in entries(2)], at=AT, actor="test")
    later = FixedClock(AT + dt.timedelta(minutes=1))
    report = export_records(store, backend, CO, clock=later, options=opts())
    assert report.exported == 2
    assert len(backend.docs) == 2  # the ghost's document was found, not created again
    assert backend.calls["create"] == 2 and backend.calls["lookup"] >= 1


def test_records_under_another_workers_live_lease_are_skipped() -> None:
    store, backend = make_store(2), FakeBackend()
    store.claim(
        CO, worker="other", lease_until=AT + dt.timedelta(hours=1), at=AT, actor="t", keys=[key(0)]
    )
    report = export_records(store, backend, CO, clock=FixedClock(), options=opts())
    assert report.exported == 1 and report.skipped == 1
    assert "other" in next(o.message for o in report.outcomes if o.outcome is Outcome.SKIPPED)


def _doc(stored: StoredRecord) -> Document:
    from syncstate.services.rendering import render_time_entry

    return render_time_entry(stored)


def _change(store: MemoryStore, i: int) -> None:
    changed = entries(i + 1)[i]
    store.ingest(
        CO, [TimeEntry(**{**_fields(changed), "hours": "9"}).to_record(CO)], at=AT, actor="t"
    )


def _fields(entry: TimeEntry) -> dict[str, object]:
    return {f: getattr(entry, f) for f in ("source_id", "employee", "date", "hours", "notes")}


def test_an_outdated_record_overwrites_its_remote_document() -> None:
    store, backend = make_store(1), FakeBackend()
    export_records(store, backend, CO, options=opts())
    _change(store, 0)
    assert store.get(key(0)).state is ExportState.OUTDATED
    report = export_records(store, backend, CO, options=opts())
    assert report.updated == 1 and len(backend.docs) == 1
    assert store.get(key(0)).status.remote_version == "1"
    assert next(iter(backend.docs.values())).document.fields["hours"] == "9"


def test_a_stale_version_is_refetched_and_retried_once() -> None:
    store, backend = make_store(1), FakeBackend()
    export_records(store, backend, CO, options=opts())
    next(iter(backend.docs.values())).version = 5  # someone edited it remotely
    _change(store, 0)
    report = export_records(store, backend, CO, options=opts())
    assert report.updated == 1 and store.get(key(0)).status.remote_version == "6"
    assert backend.calls["update"] == 2


def test_a_stale_version_twice_is_reported_as_failed() -> None:
    store, backend = make_store(1), FakeBackend()
    export_records(store, backend, CO, options=opts())
    _change(store, 0)
    backend.fail_next("update", StaleVersionError("stale object", code="5010"), times=2)
    report = export_records(store, backend, CO, options=opts())
    assert report.failed and "after refetching once" in report.failed[0][1]
    assert store.get(key(0)).state is ExportState.FAILED


def test_a_duplicate_naming_the_existing_document_is_relinked() -> None:
    store, backend = make_store(1), FakeBackend(ALL - {Capability.BATCH})
    backend.fail_next("create", DuplicateDocumentError("duplicate", existing_id="77", code="6140"))
    report = export_records(store, backend, CO, options=opts())
    assert report.exported == 1 and store.get(key(0)).status.remote_id == "77"


def test_batches_are_used_and_item_errors_fail_only_their_record() -> None:
    store = make_store(65)
    bad = TimeEntry(source_id="t9999", employee="invalid", date=dt.date(2024, 2, 1), hours="1")
    store.ingest(CO, [bad.to_record(CO)], at=AT, actor="t")
    backend = FakeBackend(max_batch=30)
    report = export_records(store, backend, CO, options=opts())
    assert report.exported == 65 and len(report.failed) == 1
    assert backend.calls["create_batch"] == 3 and backend.calls["create"] == 0


def test_an_ambiguous_batch_is_resolved_item_by_item_without_duplicates() -> None:
    store, backend = make_store(10), FakeBackend(max_batch=30)
    backend.fail_next("create_batch", AmbiguousOutcome("500", status=500), commit=True)
    report = export_records(store, backend, CO, options=opts())
    assert report.exported == 10 and len(backend.docs) == 10
    assert backend.calls["lookup"] == 10 and backend.calls["create"] == 0


def test_cancelling_releases_what_was_not_sent() -> None:
    store, backend = make_store(40), FakeBackend(ALL - {Capability.BATCH})
    cancel = threading.Event()

    class CancelAfterFive:
        done = 0

        def start(self, total: int, label: str) -> None: ...
        def note(self, message: str) -> None: ...
        def finish(self) -> None: ...

        def advance(self, n: int = 1, *, outcome: str = "") -> None:
            self.done += n
            if self.done >= 5:
                cancel.set()

    report = export_records(
        store, backend, CO, progress=CancelAfterFive(), options=opts(cancel=cancel, claim_size=10)
    )
    assert report.cancelled and report.exported >= 5 and report.released > 0
    counts = store.counts(CO)
    assert counts[ExportState.IN_FLIGHT] == 0
    assert counts[ExportState.EXPORTED] == report.exported == len(backend.docs)


def test_refused_credentials_stop_the_run_and_release_the_records() -> None:
    store, backend = make_store(3), FakeBackend(ALL - {Capability.BATCH})
    backend.fail_next("create", AuthenticationError("token expired", status=401), times=3)
    with pytest.raises(AuthenticationError):
        export_records(store, backend, CO, options=opts(concurrency=1))
    assert store.counts(CO)[ExportState.IN_FLIGHT] == 0


def test_exhausted_retries_after_an_ambiguous_outcome_keep_the_record_in_flight() -> None:
    store, backend = make_store(1), FakeBackend(ALL - {Capability.BATCH})
    backend.fail_next("create", AmbiguousOutcome("timeout"), times=1)
    backend.fail_next("lookup", AmbiguousOutcome("timeout"), times=10)
    report = export_records(store, backend, CO, options=opts())
    assert report.pending and "looks it up" in report.pending[0][1]
    assert store.get(key(0)).state is ExportState.IN_FLIGHT


def test_unexport_deletes_remotely_and_starts_a_new_generation() -> None:
    store, backend = make_store(2), FakeBackend()
    export_records(store, backend, CO, options=opts())
    old_key = store.get(key(0)).status.key_for(key(0))
    report = unexport(store, backend, CO, [key(0)])
    assert report.unexported == (key(0),) and len(backend.docs) == 1
    status = store.get(key(0)).status
    assert status.state is ExportState.NOT_EXPORTED and status.generation == 1
    assert status.key_for(key(0)) != old_key
    export_records(store, backend, CO, options=opts())
    assert len(backend.docs) == 2


def test_unexport_of_a_document_already_gone_still_returns_the_record() -> None:
    store, backend = make_store(1), FakeBackend()
    export_records(store, backend, CO, options=opts())
    backend.docs.clear()
    assert unexport(store, backend, CO, [key(0)]).unexported == (key(0),)


def test_unexport_needs_delete_or_void_and_says_so() -> None:
    store, backend = make_store(1), FakeBackend(ALL - {Capability.DELETE, Capability.VOID})
    export_records(store, backend, CO, options=opts())
    with pytest.raises(UnsupportedCapability, match="cannot delete or void"):
        unexport(store, backend, CO, [key(0)])
    assert store.get(key(0)).state is ExportState.EXPORTED


def test_unexport_refuses_records_that_are_not_exported() -> None:
    store, backend = make_store(1), FakeBackend()
    with pytest.raises(Exception, match="only exported or outdated"):
        unexport(store, backend, CO, [key(0)])


def test_kinds_without_a_renderer_are_refused_and_custom_renderers_are_used() -> None:
    store, backend = make_store(1), FakeBackend()
    with pytest.raises(InputError, match="no renderer for record kind 'bundle'"):
        export_records(store, backend, CO, kinds=["bundle"])

    def as_invoice(stored: StoredRecord) -> Document:
        return Document(kind="invoice", source=stored.key, date=stored.record.on, party="c1")

    report = export_records(store, backend, CO, options=opts(renderers={"time_entry": as_invoice}))
    assert report.exported == 1 and next(iter(backend.docs.values())).document.kind == "invoice"


def test_a_renderer_error_fails_the_record_before_anything_is_sent() -> None:
    store, backend = make_store(1), FakeBackend()

    def broken(stored: StoredRecord) -> Document:
        raise InputError(f"record {stored.key}: customer c9 is not mapped")

    report = export_records(store, backend, CO, options=opts(renderers={"time_entry": broken}))
    assert "not mapped" in report.failed[0][1] and not backend.calls


def test_outcomes_are_written_many_per_transaction() -> None:
    store, backend = make_store(200), FakeBackend()
    applied: list[int] = []
    original = store.apply

    def counting(company, events, **kw):  # type: ignore[no-untyped-def]
        events = list(events)
        applied.append(len(events))
        return original(company, events, **kw)

    store.apply = counting  # type: ignore[method-assign]
    export_records(store, backend, CO, options=opts(flush_interval=60))
    assert sum(applied) == 200 and len(applied) <= 2


def test_report_rows_carry_key_outcome_and_remote_id() -> None:
    store, backend = make_store(1), FakeBackend()
    row = export_records(store, backend, CO, options=opts()).to_records()[0]
    assert row["source_id"] == "t0000" and row["outcome"] == "exported" and row["remote_id"]


def test_release_event_returns_claimed_records_to_their_previous_state() -> None:
    # the engine relies on this: a cancelled failed record goes back to failed
    store = make_store(1)
    store.claim(CO, worker="w", lease_until=AT, at=AT, actor="t")
    store.apply(CO, [(key(0), Event.fail("x"))], at=AT, actor="t")
    store.claim(CO, worker="w", lease_until=AT, at=AT, actor="t")
    store.apply(CO, [(key(0), Event.of(EventKind.RELEASE))], at=AT, actor="t")
    assert store.get(key(0)).state is ExportState.FAILED
