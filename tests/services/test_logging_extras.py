"""Log records carry structured extras (company, record, idempotency key) a host can index.

A host's log handler reads ``record.company``, ``record.record`` and
``record.idempotency_key`` (``logging``'s ``extra=``) to file a line under the
right company and record; these tests pin that for the operations an
operator asks about most (reset, unlink / relink, bundling, repost, the
QuickBooks adapter's requests).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator

import httpx
import pytest

from syncstate.adapters.backends.memory import MemoryBackend
from syncstate.adapters.backends.quickbooks.client import (
    QboMapping,
    QuickBooksBackend,
    QuickBooksConfig,
)
from syncstate.adapters.storage.memory.bundles import MemoryBundleStore
from syncstate.adapters.storage.memory.state import MemoryStore
from syncstate.domain.records import RecordKey, TimeEntry
from syncstate.domain.transactions import UsageLog
from syncstate.periods import DateRange
from syncstate.services.bundling import BundleService
from syncstate.services.export import ExportOptions, export_records
from syncstate.services.reset import apply_reset, plan_reset
from syncstate.services.results import relink, unlink
from syncstate.testing.qbo_server import QboServer

CO = "acme"
AT = dt.datetime(2026, 3, 9, 8, 0, tzinfo=dt.UTC)
MONDAY = dt.date(2026, 3, 2)
FAST = ExportOptions(concurrency=1, use_batch=False, sleep=lambda _s: None, seed=1)
TOKEN = "eyJhbGciOi.SECRET-access-token-93ab"


def _store(n: int = 3) -> MemoryStore:
    store = MemoryStore()
    entries = [
        TimeEntry(source_id=f"t{d}", employee="ann", date=MONDAY + dt.timedelta(d), hours="8")
        for d in range(n)
    ]
    store.ingest(CO, [e.to_record(CO) for e in entries], at=AT, actor="test")
    return store


def _from(caplog: pytest.LogCaptureFixture, module: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == module]


def test_reset_plan_and_apply_log_the_company_and_each_record_with_its_new_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = _store()
    export_records(store, MemoryBackend(), CO, options=FAST)
    caplog.set_level(logging.DEBUG, logger="syncstate.services.reset")
    plan = plan_reset(store, CO, DateRange(MONDAY, MONDAY + dt.timedelta(2)), ["ann"])
    result = apply_reset(store, plan, acknowledge=True)

    logged = _from(caplog, "syncstate.services.reset")
    summaries = [r for r in logged if r.levelno == logging.INFO]
    assert [(r.company, r.records) for r in summaries] == [(CO, 3), (CO, 3)]  # type: ignore[attr-defined]
    per_record = {r.record: r for r in logged if r.levelno == logging.DEBUG}  # type: ignore[attr-defined]
    assert set(per_record) == {str(k) for k, _ in result.generations}
    for key, _generation in result.generations:
        entry = per_record[str(key)]
        assert entry.company == CO  # type: ignore[attr-defined]
        # the key the remote document was exported with (what an operator searches for);
        # the next export uses a fresh one
        exported_with = store.journal(key)[-1].idempotency_key
        assert entry.idempotency_key == exported_with  # type: ignore[attr-defined]
        assert exported_with != store.get(key).status.key_for(key)


def test_unlink_and_relink_log_company_records_and_their_keys(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = _store(2)
    keys = [RecordKey(CO, TimeEntry.KIND, "t0"), RecordKey(CO, TimeEntry.KIND, "t1")]
    caplog.set_level(logging.DEBUG, logger="syncstate.services.results")
    unlink(store, CO, keys, reason="billed by hand")
    relink(store, CO, keys[:1])

    logged = _from(caplog, "syncstate.services.results")
    info = [r for r in logged if r.levelno == logging.INFO]
    assert [(r.company, r.records) for r in info] == [(CO, 2), (CO, 1)]  # type: ignore[attr-defined]
    assert "unlink" in info[0].getMessage() and "relink" in info[1].getMessage()
    debug = [r for r in logged if r.levelno == logging.DEBUG]
    assert [r.record for r in debug] == [str(k) for k in (*keys, keys[0])]  # type: ignore[attr-defined]
    assert all(r.company == CO and r.idempotency_key for r in debug)  # type: ignore[attr-defined]
    assert not any("billed by hand" in r.getMessage() for r in logged)  # free text stays out


def test_per_record_lines_are_not_built_unless_debug_is_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = _store(2)
    caplog.set_level(logging.INFO, logger="syncstate.services.results")
    unlink(store, CO, [RecordKey(CO, TimeEntry.KIND, "t0")], reason="x")
    assert [r.levelno for r in _from(caplog, "syncstate.services.results")] == [logging.INFO]


def test_bundling_logs_each_bundle_under_its_company(caplog: pytest.LogCaptureFixture) -> None:
    service = BundleService(MemoryStore(), MemoryBundleStore())
    usage = UsageLog(
        source_id="u1",
        client="ann",
        date=MONDAY,
        resource="room",
        quantity="1",
        unit_price="10.00",
        currency="USD",
    )
    service.store.ingest(CO, [usage.to_record(CO)], at=AT, actor="test")
    caplog.set_level(logging.DEBUG, logger="syncstate.services.bundling")
    (bundle,) = service.bundle(CO).bundles
    service.unbundle(CO, [bundle.bundle_id])
    logged = _from(caplog, "syncstate.services.bundling")
    assert {r.company for r in logged} == {CO}  # type: ignore[attr-defined]
    assert [r.record for r in logged if r.levelno == logging.DEBUG] == [str(bundle.key)] * 2  # type: ignore[attr-defined]


# ---------------------------------------------------------------- QuickBooks


class Tokens:
    def access_token(self, company: str) -> str:
        return TOKEN

    def refresh(self, company: str) -> str:
        return TOKEN


@pytest.fixture
def quickbooks() -> Iterator[tuple[QboServer, QuickBooksBackend]]:
    with QboServer() as server, httpx.Client(timeout=5.0) as client:
        server.valid_tokens = {TOKEN}
        mapping = QboMapping(
            employees={"ann": server.add("99", "Employee", {"DisplayName": "Ann Secretname"})},
            customers={"J-1": server.add("99", "Customer", {"DisplayName": "Harbor"})},
            items={"framing": server.add("99", "Item", {"Name": "Framing"})},
        )
        backend = QuickBooksBackend(
            tokens=Tokens(),
            mapping=mapping,
            client=client,
            config=QuickBooksConfig(base_url=server.base_url, realms={CO: "99"}),
        )
        yield server, backend


def test_quickbooks_requests_log_method_entity_status_duration_and_key_never_the_token(
    quickbooks: tuple[QboServer, QuickBooksBackend], caplog: pytest.LogCaptureFixture
) -> None:
    _server, backend = quickbooks
    store = MemoryStore()
    entry = TimeEntry(
        source_id="t1", employee="ann", date=MONDAY, hours="8", job="J-1", cost_code="framing"
    )
    store.ingest(CO, [entry.to_record(CO)], at=AT, actor="test")
    caplog.set_level(logging.DEBUG, logger="syncstate.adapters.backends.quickbooks")
    report = export_records(store, backend, CO, options=FAST)
    assert report.summary()["exported"] == 1

    logged = _from(caplog, "syncstate.adapters.backends.quickbooks")
    key = RecordKey(CO, TimeEntry.KIND, "t1")
    (create,) = [r for r in logged if r.method == "POST"]  # type: ignore[attr-defined]
    assert create.company == CO and create.record == str(key)  # type: ignore[attr-defined]
    sent_with = store.journal(key)[-1].idempotency_key  # the SUCCEED entry names the key used
    assert create.idempotency_key == sent_with  # type: ignore[attr-defined]
    assert create.status == 200 and create.duration_ms >= 0  # type: ignore[attr-defined]
    assert create.entity == "timeactivity"  # type: ignore[attr-defined]
    for r in logged:
        text = r.getMessage() + repr(vars(r))
        assert TOKEN not in text and "SECRET" not in text
        assert "Secretname" not in text  # no request or response body is logged
