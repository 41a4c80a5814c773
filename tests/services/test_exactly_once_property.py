"""Property: whatever the back end does, one document per (record, generation), none lost.

Hypothesis draws a fault mix for the local QuickBooks-like server (commits that answer
500 or drop the connection, failing lookup queries, throttles, definite refusals, dropped
requests) plus connection errors at the network edge (an httpx transport that refuses to
connect), runs the exporter until it settles, and checks after every run:

* the server never holds two documents tagged with one idempotency key, and no record
  has documents under two keys of one generation;
* every record is exported, failed with the back end's definite refusal, or in flight
  (pending) with a reason: nothing is silently lost;
* once the faults stop, every record that was not refused ends exported, exactly once.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections import Counter
from typing import Any

import attrs
import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncstate import (
    BackendUnavailable,
    ExportOptions,
    ExportState,
    QboMapping,
    QuickBooksBackend,
    QuickBooksConfig,
    SQLiteStore,
    TimeEntry,
    export_records,
)
from syncstate.adapters.backends.quickbooks.payloads import find_tag
from syncstate.services.retry import RetryPolicy
from syncstate.testing.qbo_faults import QboFaultAnswer
from syncstate.testing.qbo_server import FaultRule, QboServer

CO = "acme"
RECORDS = 12
SERVER_ERROR = QboFaultAnswer("3100", "InternalServerError", status=500, fault_type="SERVICE")
PARSE_ERROR = QboFaultAnswer("4000", "Error parsing query", "QueryParserError")
THROTTLE = QboFaultAnswer("3001", "ThrottleExceeded", status=429, fault_type="SERVICE")
REFUSAL = QboFaultAnswer("2050", "Invalid string", "Description is too long")


class Tokens:
    def access_token(self, company: str) -> str:
        return "prop-token"

    def refresh(self, company: str) -> str:
        return "prop-token"


class RefusingTransport(httpx.BaseTransport):
    """The network edge: some requests never connect (ConnectError), as a down host."""

    def __init__(self, rate: float, seed: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.rate = rate
        self.rng = random.Random(seed)
        self.refused = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.rng.random() < self.rate:
            self.refused += 1
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


@attrs.frozen
class Fault:
    operation: str
    what: str
    every: int
    times: int

    def rule(self) -> FaultRule:
        answers = {"500": SERVER_ERROR, "4000": PARSE_ERROR, "429": THROTTLE, "2050": REFUSAL}
        return FaultRule(
            operation=self.operation,
            answer=answers.get(self.what.removeprefix("commit-")),
            drop=self.what.endswith("drop"),
            after_commit=self.what.startswith("commit-"),
            every=self.every,
            times=self.times,
        )


faults = st.lists(
    st.builds(
        Fault,
        operation=st.sampled_from(["write", "batch", "query"]),
        what=st.sampled_from(["commit-500", "commit-drop", "500", "drop", "4000", "429", "2050"]),
        every=st.integers(1, 4),
        times=st.integers(1, 4),
    ),
    max_size=5,
)


@attrs.define
class Later:
    hours: float = 0.0

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(hours=self.hours)


def _check(server: QboServer, realm: str, store: SQLiteStore) -> dict[str, Any]:
    docs = server.documents(realm, "TimeActivity")
    per_key = Counter(find_tag(str(d.get("Description", ""))) for d in docs)
    assert all(n == 1 for n in per_key.values()), f"duplicates: {per_key}"
    # one record, one generation: never a second document under another revision's key
    assert len(docs) <= RECORDS, f"{len(docs)} documents for {RECORDS} records"
    records = store.find(CO)
    states = Counter(r.status.state for r in records)
    for r in records:
        state = r.status.state
        assert state in (ExportState.EXPORTED, ExportState.FAILED, ExportState.IN_FLIGHT,
                         ExportState.NOT_EXPORTED), state  # fmt: skip
        if state is ExportState.FAILED:
            assert r.status.message, "a failed record keeps the back end's message"
        if state is ExportState.EXPORTED:
            assert r.status.remote_id in {str(d["Id"]) for d in docs}
    return {"docs": len(docs), "states": states}


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    mix=faults,
    refuse_rate=st.sampled_from([0.0, 0.0, 0.05, 0.2]),
    seed=st.integers(0, 2**16),
    batch=st.booleans(),
)
def test_no_fault_mix_duplicates_or_loses_a_record(
    tmp_path_factory: Any, mix: list[Fault], refuse_rate: float, seed: int, batch: bool
) -> None:
    folder = tmp_path_factory.mktemp("prop")
    with QboServer() as server, SQLiteStore(folder / "s.db") as store:
        realm = f"p-{uuid.uuid4().hex[:8]}"
        employee = server.add(realm, "Employee", {"DisplayName": "Ann"})
        transport = RefusingTransport(refuse_rate, seed)
        with httpx.Client(transport=transport, timeout=5.0) as client:
            backend = QuickBooksBackend(
                tokens=Tokens(),
                mapping=QboMapping(employees={"ann": employee}),
                config=QuickBooksConfig(base_url=server.base_url, realms={CO: realm}),
                client=client,
            )
            entries = [
                TimeEntry(
                    source_id=f"t{i:02d}", employee="ann", date=dt.date(2026, 3, 2), hours="2"
                ).to_record(CO)
                for i in range(RECORDS)
            ]
            store.ingest(CO, entries, at=dt.datetime.now(dt.UTC), actor="test")
            for fault in mix:
                server.inject(fault.rule())
            options = ExportOptions(
                use_batch=batch,
                retry=RetryPolicy(attempts=3, initial=0.0, jitter=0.0),
                sleep=lambda _s: None,
                lease=dt.timedelta(minutes=10),
                seed=seed,
                max_connection_failures=50,
            )
            refused: set[str] = set()
            # a few runs under faults, each after the previous run's leases ran out
            for run in range(3):
                try:
                    report = export_records(
                        store, backend, CO, options=options, clock=Later(hours=run)
                    )
                except BackendUnavailable as exc:
                    report = exc.report
                for key, reason in report.pending:
                    assert reason, f"{key} pending without a reason"
                refused |= {str(k) for k, _m in report.failed}
                _check(server, realm, store)
            # the faults stop: everything not refused ends exported exactly once
            server.faults.rules.clear()
            transport.rate = 0.0
            final = export_records(store, backend, CO, options=options, clock=Later(hours=5))
            seen = _check(server, realm, store)
            assert final.ok, final.to_records()
            assert seen["states"][ExportState.EXPORTED] == RECORDS
            assert seen["docs"] == RECORDS
