"""Leases an operator hands back, heartbeats, undoing a historical mark, and the preview.

Each runs on the real SQLite store and, where a back end is involved, the local
QuickBooks-like server; the state after each step is read back from the store.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from syncstate import (
    Event,
    EventKind,
    ExportOptions,
    ExportState,
    InputError,
    InvalidTransition,
    QboMapping,
    QuickBooksBackend,
    QuickBooksConfig,
    RecordKey,
    SQLiteStore,
    TimeEntry,
    export_records,
    preview_export,
    release_worker,
    unmark_historical,
)
from syncstate.adapters.backends.quickbooks.payloads import find_tag
from syncstate.testing.qbo_server import QboServer

CO = "acme"
T0 = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


class Tokens:
    def access_token(self, company: str) -> str:
        return "t"

    def refresh(self, company: str) -> str:
        return "t"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    with SQLiteStore(tmp_path / "s.db") as s:
        s.ingest(
            CO,
            [
                TimeEntry(
                    source_id=f"t{i}", employee="ann", date=dt.date(2026, 3, 2), hours="1"
                ).to_record(CO)
                for i in range(4)
            ],
            at=T0,
            actor="test",
        )
        yield s


def key(i: int) -> RecordKey:
    return RecordKey(CO, "time_entry", f"t{i}")


def claim(store: SQLiteStore, worker: str, minutes: float = 10) -> None:
    store.claim(
        CO, worker=worker, lease_until=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes),
        at=dt.datetime.now(dt.UTC), actor=worker, keys=[key(0), key(1)], limit=2,
    )  # fmt: skip


def test_release_worker_hands_back_a_dead_workers_claims_as_takeovers(
    store: SQLiteStore,
) -> None:
    claim(store, "dead-box:123")
    preview = preview_export(store, CO)
    assert preview.counts()["held"] == 2
    released = release_worker(store, CO, "dead-box:123", actor="ops")
    assert set(released) == {key(0), key(1)}
    status = store.get(key(0)).status
    assert status.state is ExportState.IN_FLIGHT and status.previous is ExportState.IN_FLIGHT
    # claimable at once, and the next run resolves them by key before sending
    assert preview_export(store, CO).counts() == {
        "create": 2, "update": 0, "resolve": 2, "held": 0
    }  # fmt: skip
    journal = store.journal(key(0))
    assert journal[-1].event.kind is EventKind.RECOVER and journal[-1].actor == "ops"
    # handing back again is harmless: the leases end again (and it is journaled)
    assert set(release_worker(store, CO, "dead-box:123")) == {key(0), key(1)}


def test_a_released_claim_is_looked_up_not_resent(store: SQLiteStore) -> None:
    with QboServer() as server, httpx.Client() as client:
        realm = f"l-{uuid.uuid4().hex[:6]}"
        ann = server.add(realm, "Employee", {"DisplayName": "Ann"})
        backend = QuickBooksBackend(
            tokens=Tokens(),
            mapping=QboMapping(employees={"ann": ann}),
            config=QuickBooksConfig(base_url=server.base_url, realms={CO: realm}),
            client=client,
        )
        claim(store, "dead-box:1")
        # the dead worker had sent t0 before it died
        from syncstate.services.rendering import default_renderers

        stored = store.get(key(0))
        backend.create(
            CO, default_renderers()["time_entry"](stored),
            idempotency_key=stored.status.key_for(key(0)),
        )  # fmt: skip
        release_worker(store, CO, "dead-box:1")
        report = export_records(store, backend, CO)
        assert report.exported == 4 and report.ok
        tags = [find_tag(d["Description"]) for d in server.documents(realm, "TimeActivity")]
        assert len(tags) == 4 == len(set(tags))


def test_heartbeats_keep_the_leases_of_a_slow_send(store: SQLiteStore) -> None:
    with QboServer() as server, httpx.Client(timeout=10) as client:
        realm = f"h-{uuid.uuid4().hex[:6]}"
        ann = server.add(realm, "Employee", {"DisplayName": "Ann"})
        backend = QuickBooksBackend(
            tokens=Tokens(),
            mapping=QboMapping(employees={"ann": ann}),
            config=QuickBooksConfig(base_url=server.base_url, realms={CO: realm}),
            client=client,
        )
        server.faults.latency = 0.6  # each request outlasts the 0.5 s lease
        seen: list[dt.datetime | None] = []
        stop = threading.Event()

        def watch() -> None:
            with SQLiteStore(store.path) as other:
                while not stop.is_set():
                    for s in other.find(CO, states=[ExportState.IN_FLIGHT]):
                        seen.append(s.status.lease_until)
                    time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        options = ExportOptions(
            lease=dt.timedelta(seconds=0.5), use_batch=False, concurrency=1, claim_size=4
        )
        try:
            report = export_records(store, backend, CO, options=options)
        finally:
            stop.set()
            watcher.join()
        assert report.exported == 4 and report.ok
        # leases were extended while requests were in progress (not one fixed deadline)
        assert len({lease for lease in seen if lease is not None}) > 1
        assert server.count(realm, "TimeActivity") == 4


def test_a_wrong_historical_cutoff_is_undone_only_for_records_never_sent(
    store: SQLiteStore,
) -> None:
    store.apply(
        CO, [(key(i), Event.of(EventKind.MARK_HISTORICAL, "cutoff")) for i in (0, 1)], at=T0,
        actor="t",
    )  # fmt: skip
    assert preview_export(store, CO).counts()["create"] == 2
    entries = unmark_historical(store, CO, [key(0)], actor="ops")
    assert [e.to_state for e in entries] == [ExportState.NOT_EXPORTED]
    assert store.get(key(0)).state is ExportState.NOT_EXPORTED
    with pytest.raises(InvalidTransition):
        unmark_historical(store, CO, [key(1), key(2)])  # key(2) is not historical
    assert store.get(key(1)).state is ExportState.HISTORICAL  # atomic: nothing changed


def test_preview_lists_what_the_next_export_would_send_and_writes_nothing(
    store: SQLiteStore,
) -> None:
    before = Path(store.path).read_bytes()
    preview = preview_export(store, CO)
    assert [r["source_id"] for r in preview.to_records()] == ["t0", "t1", "t2", "t3"]
    assert {r["action"] for r in preview.to_records()} == {"create"}
    assert repr(preview) == "ExportPreview(company='acme', records=4, create=4)"
    assert Path(store.path).read_bytes() == before


def test_relink_checks_every_record_first_and_relinks_all_or_none(store: SQLiteStore) -> None:
    from syncstate import UnmappedReference
    from syncstate.services.relink import relink_checked

    store.apply(
        CO, [(key(i), Event.of(EventKind.UNLINK, "bad employee")) for i in (0, 1)], at=T0,
        actor="t",
    )  # fmt: skip

    def validate(document: object) -> None:
        raise UnmappedReference("employee 'ann' has no mapping", what="employee", host_id="ann")

    with pytest.raises(InputError, match=r"nothing relinked.*t0.*has no mapping.*t2.*not unlinked"):
        relink_checked(store, CO, [key(0), key(2)], validate=validate)
    assert store.get(key(0)).state is ExportState.UNLINKED  # nothing changed
    gone = {key(1)}
    with pytest.raises(InputError, match="no longer present at the source"):
        relink_checked(store, CO, [key(1)], present=lambda k: k not in gone)
    report = relink_checked(store, CO, [key(0), key(1)], validate=lambda d: None)
    assert report.checks == (
        "unlinked",
        "renders as a document",
        "accepted by the back end's mappings",
    )
    assert {e.key for e in report.entries} == {key(0), key(1)}
    assert store.get(key(0)).state is ExportState.NOT_EXPORTED
