"""Reports read well in a REPL and a notebook: one short repr line, summaries as tables.

A user who types ``report`` at a prompt gets the totals, not 14 KB of record
outcomes; ``report.summary()`` is still a dict; rows come in a stable order;
and DataFrames have typed columns (amounts, dates, booleans, text).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest

from syncstate import (
    BundleService,
    DateRange,
    ExportOptions,
    Finding,
    Findings,
    MappingKind,
    MemoryBackend,
    MemoryBundleStore,
    MemoryStore,
    Payment,
    RemoteValidationError,
    TimeEntry,
    UsageLog,
    apply_reset,
    export_records,
    plan_reset,
    repost_receivables,
    sync_results,
    unexport,
)
from syncstate.domain.repost.diagnostics import Change, RepostPlan
from syncstate.domain.repost.findings import Code, Scope
from syncstate.domain.repost.receivables import DocKind, ReceivableDocument
from syncstate.notebook import Summary, compact_repr, to_dataframe

CO = "acme"
AT = dt.datetime(2026, 3, 9, 8, 0, tzinfo=dt.UTC)
MONDAY = dt.date(2026, 3, 2)
ONE_AT_A_TIME = ExportOptions(concurrency=1, use_batch=False, sleep=lambda _s: None, seed=1)


class FixedClock:
    def now(self) -> dt.datetime:
        return AT


def _store(people: int, days: int) -> MemoryStore:
    store = MemoryStore()
    entries = [
        TimeEntry(
            source_id=f"e{p}-{d:02}", employee=f"e{p}", date=MONDAY + dt.timedelta(d), hours="8"
        )
        for p in range(people)
        for d in range(days)
    ]
    store.ingest(CO, [e.to_record(CO) for e in entries], at=AT, actor="test")
    return store


def _export(store: MemoryStore, *, options: ExportOptions = ONE_AT_A_TIME) -> Any:
    backend = MemoryBackend()
    backend.fail_next("create", RemoteValidationError("closed period", code="6210"))
    return export_records(store, backend, CO, options=options, clock=FixedClock())


def test_an_export_report_reads_as_one_line_of_totals() -> None:
    report = _export(_store(4, 10))
    assert repr(report) == (
        "ExportReport(company='acme', backend='memory', selected=40, exported=39, "
        "updated=0, failed=1, pending=0, ok=False)"
    )


def test_reprs_do_not_grow_with_the_number_of_records() -> None:
    lengths = []
    for people, days in ((3, 5), (20, 50)):
        store = _store(people, days)
        report = _export(store)
        plan = plan_reset(store, CO, DateRange(MONDAY, MONDAY + dt.timedelta(60)), ["e0", "e1"])
        result = apply_reset(store, plan, acknowledge=True, clock=FixedClock())
        others = [k for k in report.exported_keys if not k.source_id.startswith(("e0-", "e1-"))]
        undone = unexport(store, MemoryBackend(), CO, others[:2], actor="test")
        page = sync_results(store, CO, limit=500)
        lengths.append([len(repr(x)) for x in (report, plan, result, undone, page)])
    assert max(lengths[1]) < 130
    # 15 records or 1,000: only the numbers get longer
    assert all(abs(a - b) <= 10 for a, b in zip(*lengths, strict=True)), lengths
    assert repr(plan) == (
        "ResetPlan(company='acme', date_range='2026-03-02..2026-05-01', employees=2, records=100)"
    )
    assert repr(result) == "ResetResult(company='acme', reset=100, employees=2)"
    assert repr(page) == (
        "SyncResultsPage(rows=500, states={'exported': 398, 'not_exported': 102}, "
        "next_after='e17-49')"
    )


def test_bundle_reports_count_their_bundles() -> None:
    service = BundleService(MemoryStore(), MemoryBundleStore(), clock=FixedClock())
    rows: list[UsageLog | Payment] = []
    for client in ("lee", "amy", "ray"):
        rows.append(
            UsageLog(source_id=f"u-{client}", client=client, date=MONDAY, resource="room",
                     quantity="2", unit_price="40.00", currency="USD")
        )  # fmt: skip
        rows.append(
            Payment(source_id=f"p-{client}", client=client, date=MONDAY, amount="80.00",
                    currency="USD", method="card")
        )  # fmt: skip
        service.set_mapping(CO, MappingKind.CUSTOMER, client, f"C-{client}")
    service.set_mapping(CO, MappingKind.ITEM, "room", "I-1")
    service.store.ingest(CO, [r.to_record(CO) for r in rows], at=AT, actor="test")
    made = service.bundle(CO)
    assert repr(made) == (
        "BundleReport(company='acme', bundles=3, invoice=0, sales_receipt=3, payment=0, "
        "applied=True)"
    )
    assert [r["client"] for r in made.to_records()] == ["amy", "lee", "ray"]  # listing order
    undone = service.unbundle(CO, [made.bundles[0].bundle_id])
    assert repr(undone) == (
        "UnbundleReport(company='acme', removed=1, reopened=2, left_remote=0, reversed=0)"
    )


def test_findings_and_repost_results_read_as_counts() -> None:
    findings = Findings(
        Finding(code=code, scope=Scope(company=CO, document=f"INV-{n}"), message="stale")
        for n, code in enumerate([Code.AR_GL, Code.AR_OUTSTANDING, Code.AR_GL])
    )
    assert repr(findings) == "Findings(findings=3, codes={'AR-GL': 2, 'AR-OUTSTANDING': 1})"
    assert repr(findings[0]) == (
        "Finding(code='AR-GL', where='company acme, document INV-0', expected=None, actual=None)"
    )
    docs = [
        ReceivableDocument(id=f"INV-{n}", kind=DocKind.INVOICE, client="ACME", date=MONDAY,
                           amount=Decimal("10.00"))
        for n in range(300)
    ]  # fmt: skip
    assert repr(repost_receivables(docs, period_start=MONDAY)) == (
        "ReceivablesResult(balances=300, findings=0)"
    )
    change = Change(document="INV-1", client="ACME", field="outstanding", before="1", after="0")
    plan = RepostPlan(
        company=CO, calculator="receivables", scope="company", rows=(), changes=(change,) * 50,
        findings=(),
    )  # fmt: skip
    assert repr(plan) == (
        "RepostPlan(company='acme', calculator='receivables', scope='company', rows=0, "
        "changes=50, findings=0)"
    )


def test_a_short_repr_cuts_long_text() -> None:
    text = compact_repr(object(), message="x" * 500, count=3)
    assert text == f"object(message='{'x' * 39}…', count=3)"


def test_export_rows_come_in_record_key_order_whatever_the_concurrency() -> None:
    report = _export(_store(5, 8), options=ExportOptions(concurrency=8, use_batch=False))
    ids = [row["source_id"] for row in report.to_records()]
    assert ids == sorted(ids) and len(ids) == 40


def test_a_summary_is_a_dict_that_jupyter_shows_as_a_table() -> None:
    report = _export(_store(1, 3))
    summary = report.summary()
    assert isinstance(summary, Summary) and isinstance(summary, dict)
    assert summary == {**dict(summary)} and summary["failed"] == 1
    assert json.loads(json.dumps(summary))["exported"] == 2
    page = summary._repr_html_()
    assert page.startswith('<table class="syncstate">')
    assert "<td>exported</td><td>2</td>" in page and "<td>ok</td>" not in page


def test_an_export_report_shows_its_totals_above_a_row_per_record() -> None:
    report = _export(_store(2, 2))
    page = report._repr_html_()
    caption = page.split("</caption>")[0]
    assert "4 selected, 3 exported" in caption and "1 failed" in caption and "NOT ok" in caption
    assert page.count("<tr>") == 1 + 4 and "closed period" in page


# ------------------------------------------------------------------ DataFrames


def test_dataframe_columns_are_typed() -> None:
    pandas = pytest.importorskip("pandas")
    rows = [
        {"client": "ann", "amount": Decimal("80.00"), "on": MONDAY, "paid": True, "n": 1,
         "at": AT, "note": None},
        {"client": None, "amount": Decimal("12.50"), "on": MONDAY, "paid": False, "n": 2,
         "at": AT, "note": "late"},
    ]  # fmt: skip
    frame = to_dataframe(rows)
    assert frame["amount"].tolist() == [Decimal("80.00"), Decimal("12.50")]  # exact by default
    assert pandas.api.types.is_datetime64_any_dtype(frame["on"])
    assert frame["on"].dt.date.tolist() == [MONDAY, MONDAY]
    assert str(frame["at"].dt.tz) == "UTC"
    assert frame["paid"].dtype == bool and frame["n"].dtype == "int64"
    assert frame["client"].dtype == "string" and frame["client"].isna().tolist() == [False, True]
    assert frame["client"][1] is pandas.NA  # not NaN among strings
    assert frame["note"].dtype == "string"

    floats = to_dataframe(rows, money="float")
    assert floats["amount"].dtype == float and floats["amount"].sum() == 92.5


def test_missing_values_keep_the_column_type_and_mixed_columns_stay_as_given() -> None:
    pytest.importorskip("pandas")
    frame = to_dataframe([{"ok": True, "n": 3, "x": 1}, {"ok": None, "n": None, "x": "a"}])
    assert frame["ok"].dtype == "boolean" and frame["n"].dtype == "Int64"
    assert frame["x"].tolist() == [1, "a"]


def test_a_report_converts_with_amounts_as_floats_on_request() -> None:
    pytest.importorskip("pandas")
    docs = [
        ReceivableDocument(id="INV-1", kind=DocKind.INVOICE, client="ACME", date=MONDAY,
                           amount=Decimal("10.25"))
    ]  # fmt: skip
    result = repost_receivables(docs, period_start=MONDAY)
    assert result.to_dataframe()["outstanding"].tolist() == [Decimal("10.25")]
    assert result.to_dataframe(money="float")["outstanding"].tolist() == [10.25]
