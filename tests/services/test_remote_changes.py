"""apply_remote_changes: what an edit, a void or a deletion at the back end does to the
linked record, per policy; never a silent overwrite. On the real SQLite store."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.domain.records import RecordKey, SourceRecord
from syncstate.domain.state import Event, EventKind, ExportState
from syncstate.errors import InputError
from syncstate.ports.changes import RemoteChange
from syncstate.services.remote_changes import apply_remote_changes, resolve_remote_change

CO = "acme"
AT = dt.datetime(2024, 5, 1, 9, tzinfo=dt.UTC)


class Clock:
    def now(self) -> dt.datetime:
        return AT


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    db = SQLiteStore(tmp_path / "state.db")
    yield db
    db.close()


def exported(store: SQLiteStore, source_id: str, remote_id: str, version: str = "0") -> RecordKey:
    key = RecordKey(CO, "bundle.invoice", source_id)
    store.ingest(CO, [SourceRecord(key=key, on=AT.date(), subject="ann")], at=AT, actor="t")
    store.apply(CO, [(key, Event.claim()), (key, Event.succeed(remote_id, version))], at=AT,
                actor="t")  # fmt: skip
    return key


def edit(remote_id: str, version: str | None, operation: str = "update") -> RemoteChange:
    return RemoteChange(company=CO, kind="invoice", remote_id=remote_id,
                        operation=operation, version=version, at=AT)  # type: ignore[arg-type]  # fmt: skip


def test_an_edit_is_held_by_default_and_shown_with_what_changed(store: SQLiteStore) -> None:
    key = exported(store, "b1", "12", "2")
    report = apply_remote_changes(store, [edit("12", "5")], clock=Clock())
    assert report.summary() == {"remote_changed": 1}
    assert store.get(key).state is ExportState.UNLINKED
    reason = store.journal(key)[-1].event.reason
    assert reason.startswith("remote_changed:") and "version 2 -> 5" in reason


@pytest.mark.parametrize(
    ("policy", "state", "version"),
    [
        ("overwrite", ExportState.OUTDATED, "2"),
        ("accept", ExportState.EXPORTED, "5"),
        ("reexport", ExportState.NOT_EXPORTED, None),
    ],
)
def test_each_policy_for_an_edit(
    store: SQLiteStore, policy: str, state: ExportState, version: str | None
) -> None:
    key = exported(store, "b1", "12", "2")
    apply_remote_changes(store, [edit("12", "5")], policy=policy, clock=Clock())  # type: ignore[arg-type]
    assert store.get(key).state is state
    assert store.get(key).status.remote_version == version


def test_own_writes_stale_notices_and_unversioned_changes_change_nothing(
    store: SQLiteStore,
) -> None:
    exported(store, "b1", "12", "3")
    exported(store, "b2", "13", "3")
    exported(store, "b3", "14", "3")
    report = apply_remote_changes(
        store, [edit("12", "3"), edit("13", "1"), edit("14", None)], clock=Clock()
    )
    assert [o.mark for o in report.outcomes] == ["own", "stale", "unverified"]
    assert store.counts(CO)[ExportState.EXPORTED] == 3


def test_a_void_after_an_edit_wins_and_unlinks_once(store: SQLiteStore) -> None:
    key = exported(store, "b1", "12", "0")
    report = apply_remote_changes(
        store, [edit("12", "1"), edit("12", "2", "void"), edit("12", "1")], clock=Clock()
    )
    assert [o.mark for o in report.outcomes] == ["ignored", "remote_deleted", "ignored"]
    assert store.get(key).state is ExportState.UNLINKED
    assert len([e for e in store.journal(key) if e.to_state is ExportState.UNLINKED]) == 1


def test_a_deletion_with_reexport_makes_the_record_exportable_again(store: SQLiteStore) -> None:
    key = exported(store, "b1", "12")
    apply_remote_changes(store, [edit("12", None, "delete")], policy="reexport", clock=Clock())
    assert store.get(key).state is ExportState.NOT_EXPORTED


def test_records_in_flight_are_deferred_and_unknown_documents_reported(
    store: SQLiteStore,
) -> None:
    key = exported(store, "b1", "12")
    store.apply(CO, [(key, Event.of(EventKind.SOURCE_CHANGED)), (key, Event.claim())], at=AT,
                actor="t")  # fmt: skip
    report = apply_remote_changes(store, [edit("12", "4"), edit("99", "1")], clock=Clock())
    assert [o.mark for o in report.outcomes] == ["deferred", "unlinked_doc"]
    assert store.get(key).state is ExportState.IN_FLIGHT


def test_accept_is_refused_silently_overwriting_a_source_change(store: SQLiteStore) -> None:
    key = exported(store, "b1", "12", "0")
    store.apply(CO, [(key, Event.of(EventKind.SOURCE_CHANGED))], at=AT, actor="t")
    apply_remote_changes(store, [edit("12", "1")], policy="accept", clock=Clock())
    assert store.get(key).state is ExportState.UNLINKED
    assert "the source changed too" in store.journal(key)[-1].event.reason


@pytest.mark.parametrize(
    ("decision", "state"),
    [("overwrite", ExportState.OUTDATED), ("accept", ExportState.EXPORTED),
     ("reexport", ExportState.NOT_EXPORTED)],
)  # fmt: skip
def test_the_host_resolves_a_held_record(
    store: SQLiteStore, decision: str, state: ExportState
) -> None:
    key = exported(store, "b1", "12", "0")
    apply_remote_changes(store, [edit("12", "1")], clock=Clock())
    got = resolve_remote_change(store, key, decision, version="1", clock=Clock())  # type: ignore[arg-type]
    assert got is state is store.get(key).state
    if decision == "accept":
        assert store.get(key).status.remote_version == "1"


def test_bad_policies_and_decisions_are_refused(store: SQLiteStore) -> None:
    key = exported(store, "b1", "12")
    with pytest.raises(InputError, match="policy"):
        apply_remote_changes(store, [edit("12", "1")], policy="merge")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="not held"):
        resolve_remote_change(store, key, "overwrite")
