"""Every main result object reads as a table in Jupyter and converts to plain rows.

Each test builds a real result (through the library's own functions where
they are pure or in memory) whose data holds a name with markup in it, and
checks that the HTML table shows it escaped and that ``to_records()`` gives
the data, one plain dict per row.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from syncstate.adapters.backends.memory import MemoryBackend
from syncstate.adapters.backends.sie.check import SieCheck, check_sie
from syncstate.adapters.storage.memory.bundles import MemoryBundleStore
from syncstate.adapters.storage.memory.state import MemoryStore
from syncstate.domain.mapping import MappingKind
from syncstate.domain.mirror import (
    LoadedYear,
    MirrorTransaction,
    MirrorVoucher,
    MirrorYear,
    YearDrift,
    compute_drift,
)
from syncstate.domain.records import TimeEntry
from syncstate.domain.repost.diagnostics import Change, RepostPlan
from syncstate.domain.repost.findings import Code, Finding, Findings, Scope
from syncstate.domain.repost.projects import Project, ProjectsResult, repost_projects
from syncstate.domain.repost.receivables import (
    Allocation,
    DocKind,
    ReceivableDocument,
    ReceivablesResult,
    repost_receivables,
)
from syncstate.domain.repost.staff import StaffMember, StaffRate, StaffResult, repost_staff
from syncstate.domain.repost.wip import WipEntry, WipResult, repost_wip
from syncstate.domain.transactions import Payment, UsageLog
from syncstate.notebook import Tabular
from syncstate.periods import DateRange, FiscalYear, Period
from syncstate.services.bundle_export import BundleExportReport, export_bundles
from syncstate.services.bundling import BundleReport, BundleService, UnbundleReport
from syncstate.services.export import ExportOptions, export_records
from syncstate.services.mirror import ClearPlan, LoadReport, MirrorRun
from syncstate.services.repost import WipPlan
from syncstate.services.reset import ResetPlan, ResetResult, apply_reset, plan_reset
from syncstate.services.results import SyncResultsPage, sync_results

CO = "acme"
NASTY = "<b>O'Brien & Co</b>"
ESCAPED = html.escape(NASTY)
AT = dt.datetime(2026, 3, 9, 8, 0, tzinfo=dt.UTC)
MONDAY = dt.date(2026, 3, 2)
FAST = ExportOptions(concurrency=1, use_batch=False, sleep=lambda _s: None, seed=1)
D = Decimal


class FixedClock:
    def now(self) -> dt.datetime:
        return AT


def _shows_escaped(result: Tabular) -> str:
    page = result._repr_html_()
    assert ESCAPED in page, page
    assert NASTY not in page and "<b>" not in page
    return page


# ------------------------------------------------------------ reset, results


@pytest.fixture
def exported() -> MemoryStore:
    store = MemoryStore()
    entries = [
        TimeEntry(source_id=f"{who}-{d}", employee=who, date=MONDAY + dt.timedelta(d), hours="8")
        for who in (NASTY, "bo")
        for d in range(3)
    ]
    store.ingest(CO, [e.to_record(CO) for e in entries], at=AT, actor="test")
    export_records(store, MemoryBackend(), CO, options=FAST)
    return store


def test_reset_plan_shows_employees_escaped_with_the_warning_in_its_caption(
    exported: MemoryStore,
) -> None:
    plan = plan_reset(exported, CO, DateRange(MONDAY, MONDAY + dt.timedelta(6)), [NASTY, "bo"])
    assert isinstance(plan, ResetPlan)
    page = _shows_escaped(plan)
    assert "<caption>" in page and "NOT removed" in page.split("</caption>")[0]
    assert plan.to_records() == [
        {"employee": NASTY, "records": 3},
        {"employee": "bo", "records": 3},
    ]


def test_reset_result_rows_are_records_reset_per_employee(exported: MemoryStore) -> None:
    plan = plan_reset(exported, CO, DateRange(MONDAY, MONDAY), [NASTY])
    result = apply_reset(exported, plan, acknowledge=True, clock=FixedClock())
    assert isinstance(result, ResetResult)
    _shows_escaped(result)
    assert result.to_records() == [{"employee": NASTY, "reset": 1}]


def test_sync_results_page_is_a_table_of_every_row(exported: MemoryStore) -> None:
    page = sync_results(exported, CO, limit=4)
    assert isinstance(page, SyncResultsPage)
    shown = _shows_escaped(page)
    assert "4 sync results; more after" in shown
    rows = page.to_records()
    assert [r["source_id"] for r in rows] == [i.key.source_id for i in page.items]
    assert {r["state"] for r in rows} == {"exported"}
    assert rows[0]["subject"] == NASTY and rows[0]["date"] == MONDAY  # a date, not text


# ------------------------------------------------------------------ bundling


@pytest.fixture
def bundling() -> BundleService:
    service = BundleService(MemoryStore(), MemoryBundleStore(), clock=FixedClock())
    txs = [
        UsageLog(
            source_id="u1",
            client=NASTY,
            date=MONDAY,
            resource="room",
            quantity="2",
            unit_price="40.00",
            currency="USD",
        ),
        Payment(
            source_id="p1", client=NASTY, date=MONDAY, amount="80.00", currency="USD", method="card"
        ),
    ]
    service.store.ingest(CO, [t.to_record(CO) for t in txs], at=AT, actor="test")
    service.set_mapping(CO, MappingKind.CUSTOMER, NASTY, "C-1")
    service.set_mapping(CO, MappingKind.ITEM, "room", "I-1")
    return service


def test_bundle_report_rows_are_the_bundles_with_decimal_amounts(bundling: BundleService) -> None:
    report = bundling.bundle(CO, dry_run=True)
    assert isinstance(report, BundleReport)
    assert "dry run" in _shows_escaped(report)
    (row,) = report.to_records()
    (bundle,) = report.bundles
    assert row["bundle_id"] == bundle.bundle_id and row["client"] == NASTY
    assert (row["kind"], row["total"], row["paid"], row["members"]) == (
        "sales_receipt",
        D("80.00"),
        D("80.00"),
        2,
    )
    assert row["date"] == MONDAY


def test_bundle_export_and_unbundle_reports_are_tables(bundling: BundleService) -> None:
    (bundle,) = bundling.bundle(CO).bundles
    exported = export_bundles(bundling, MemoryBackend(), CO, options=FAST)
    assert isinstance(exported, BundleExportReport)
    assert "1 exported" in _shows_escaped(exported)
    (row,) = exported.to_records()
    (outcome,) = exported.outcomes
    assert row == outcome.to_dict()
    assert (row["bundle_id"], row["client"], row["outcome"]) == (
        bundle.bundle_id,
        NASTY,
        "exported",
    )

    undone = bundling.unbundle(CO, [bundle.bundle_id])
    assert isinstance(undone, UnbundleReport)
    page = undone._repr_html_()
    assert "NOT" in page.split("</caption>")[0]  # the remote document stays: the caption warns
    assert undone.to_records() == [
        {
            "bundle_id": bundle.bundle_id,
            "kind": bundle.key.kind,
            "remote_document": "left",
            "remote_id": row["remote_id"],
        }
    ]


# -------------------------------------------------------------------- repost


def _doc(ident: str, kind: DocKind, day: str, amount: str, *pays: tuple[str, str]) -> Any:
    return ReceivableDocument(
        id=ident,
        kind=kind,
        client=NASTY,
        date=dt.date.fromisoformat(day),
        amount=D(amount),
        allocations=tuple(
            Allocation(to=to, amount=D(a), date=dt.date.fromisoformat(day)) for to, a in pays
        ),
    )


def test_receivables_result_rows_are_balances_per_document() -> None:
    result = repost_receivables(
        [
            _doc(NASTY, DocKind.INVOICE, "2026-01-10", "1000.00"),
            _doc("CR-1", DocKind.CASH_RECEIPT, "2026-02-10", "600.00", (NASTY, "600.00")),
        ],
        period_start=dt.date(2026, 3, 1),
    )
    assert isinstance(result, ReceivablesResult)
    _shows_escaped(result)
    rows = result.to_records()
    assert [r["document"] for r in rows] == [b.id for b in result.balances]
    first = result.balance(NASTY)
    assert rows[0]["outstanding"] == first.outstanding == D("400.00")
    assert (rows[0]["clear_flag"], rows[0]["gl_receivables"]) == (False, first.gl.receivables)


def _wip(ident: str, **kw: Any) -> WipEntry:
    base: dict[str, Any] = {
        "type": "time",
        "client": NASTY,
        "date": dt.date(2024, 2, 1),
        "work_code": "AUD",
        "quantity": D("2.0"),
        "amount": D("300.00"),
    }
    base.update(kw)
    return WipEntry(id=ident, **base)


def test_wip_result_and_plan_rows_keep_and_delete_entries() -> None:
    result = repost_wip(
        [_wip("W1"), _wip("W2", type="")], {"B1": dt.date(2024, 2, 20)}, period_start=MONDAY
    )
    assert isinstance(result, WipResult)
    _shows_escaped(result)
    rows = result.to_records()
    assert [(r["entry"], r["action"]) for r in rows] == [("W1", "keep"), ("W2", "delete")]
    assert rows[0]["client"] == NASTY and rows[0]["billing_status"] == "unbilled"
    assert rows[1]["reason"].startswith(Code.WIP_BLANK_TYPE.value)

    plan = WipPlan(company=CO, result=result, findings=result.findings)
    assert plan.to_records() == rows
    assert "1 deleted" in _shows_escaped(plan)


def test_staff_result_shows_periods_and_project_totals() -> None:
    rate = StaffRate(
        start=MONDAY.replace(day=1),
        standard_hours=D("160"),
        overtime_rate=D("1.5"),
        cost_rate=D("40"),
    )
    staff = [StaffMember(NASTY, (rate,))]
    result = repost_staff(staff, [_wip("W1", staff=NASTY, date=MONDAY, project="P-1")])
    assert isinstance(result, StaffResult)
    page = _shows_escaped(result)
    assert page.count("<table") == 2 and "<td>P-1</td>" in page
    rows = result.to_records()
    march = next(r for r in rows if r["period"] == str(Period(2026, 3)))
    assert (march["staff"], march["hours_worked"], march["cost_rate"]) == (NASTY, D("2.0"), D("40"))
    assert result.project_records()[0]["project"] == "P-1"


def test_projects_result_rows_are_restored_budgets() -> None:
    result = repost_projects([Project(id=NASTY, budget_hours=D("5.00"))])
    assert isinstance(result, ProjectsResult)
    _shows_escaped(result)
    (budget,) = result.budgets
    assert result.to_records() == [
        {
            "project": NASTY,
            "budget_hours": budget.budget_hours,
            "budget_amount": budget.budget_amount,
            "changed": budget.changed,
        }
    ]


def test_repost_plan_rows_are_the_changes() -> None:
    change = Change(document="INV-1", client=NASTY, field="outstanding", before="1", after="0")
    plan = RepostPlan(
        company=CO,
        calculator="receivables",
        scope="company",
        rows=(),
        changes=(change,),
        findings=(),
    )
    assert "1 changes" in _shows_escaped(plan)
    assert plan.to_records() == [
        {"document": "INV-1", "client": NASTY, "field": "outstanding", "before": "1", "after": "0"}
    ]


def test_findings_are_a_list_that_shows_as_a_table() -> None:
    finding = Finding(
        code=Code.AR_OUTSTANDING,
        scope=Scope(company=CO, client=NASTY, document="INV-1"),
        message="stale",
        expected="0.00",
        actual="400.00",
    )
    findings = Findings([finding])
    assert findings == [finding] and findings[-1] is finding and isinstance(findings, list)
    assert Findings() == [] and not Findings()
    _shows_escaped(findings)
    assert findings.to_records() == [
        {
            "code": "AR-OUTSTANDING",
            "scope": f"company {CO}, client {NASTY}, document INV-1",
            "message": "stale",
            "expected": "0.00",
            "actual": "400.00",
            "drill_down": finding.drill_down.value,
        }
    ]


# -------------------------------------------------------------------- mirror

YEAR = FiscalYear(dt.date(2024, 1, 1), dt.date(2024, 12, 31))


def test_year_drift_rows_are_account_differences() -> None:
    def year(amount: str) -> MirrorYear:
        lines = (
            MirrorTransaction(account=NASTY, amount=D(amount)),
            MirrorTransaction(account="3010", amount=-D(amount)),
        )
        voucher = MirrorVoucher(
            series="A", number="1", date=dt.date(2024, 1, 5), transactions=lines
        )
        return MirrorYear(year=YEAR, vouchers=(voucher,))

    drift = compute_drift(year("10"), year("12"))
    assert isinstance(drift, YearDrift)
    assert "1 changed" in _shows_escaped(drift)
    rows = sorted(drift.to_records(), key=lambda r: r["account"])
    assert rows == [
        {
            "account": "3010",
            "period": "2024-01",
            "mirror": D(-10),
            "source": D(-12),
            "difference": D(-2),
        },
        {
            "account": NASTY,
            "period": "2024-01",
            "mirror": D(10),
            "source": D(12),
            "difference": D(2),
        },
    ]


def test_clear_plan_load_report_and_mirror_run_are_tables() -> None:
    loaded = LoadedYear(
        year=YEAR, generation=3, loaded_at=AT, source=NASTY, vouchers=5, transactions=12
    )
    plan = ClearPlan(company=CO, years=(YEAR,), loaded=(loaded,), token="abc123")
    assert "token abc123" in _shows_escaped(plan)
    assert plan.to_records() == [
        {
            "year": str(YEAR),
            "generation": 3,
            "loaded_at": AT,
            "source": NASTY,
            "vouchers": 5,
            "transactions": 12,
        }
    ]
    load = LoadReport(company=CO, years=(YEAR,), vouchers=5, transactions=12, source=NASTY)
    _shows_escaped(load)
    assert load.to_records() == [
        {"company": CO, "years": str(YEAR), "vouchers": 5, "transactions": 12, "source": NASTY}
    ]
    run = MirrorRun(
        company=CO,
        years=(YEAR,),
        cleared=False,
        reloaded=False,
        error=f"reload failed: {NASTY}",
    )
    _shows_escaped(run)
    (row,) = run.to_records()
    assert (row["cleared"], row["loaded_vouchers"], row["error"]) == (False, None, run.error)


# ----------------------------------------------------------------------- SIE


def test_sie_check_rows_are_its_problems_and_the_caption_summarises(tmp_path: Path) -> None:
    path = tmp_path / "bad.se"
    path.write_text(
        '#FLAGGA 0\n#SIETYP 4\n#FNAMN "<b>O\'Brien & Co</b>"\n#KONTO 1930 "Bank"\n#NONSENSE\n',
        encoding="cp437",
    )
    check = check_sie(path)
    assert isinstance(check, SieCheck)
    _shows_escaped(check)
    assert check.problems, "the file has a problem to show"
    assert check.to_records() == [{"file": check.file, **p.to_dict()} for p in check.problems]


# ---------------------------------------------------------------- DataFrames


def _examples(store: MemoryStore, service: BundleService) -> list[Tabular]:
    plan = plan_reset(store, CO, DateRange(MONDAY, MONDAY), [NASTY])
    return [
        plan,
        sync_results(store, CO),
        service.bundle(CO, dry_run=True),
        repost_projects([Project(id=NASTY)]),
        Findings([Finding(code=Code.AR_GL, scope=Scope(client=NASTY), message="m")]),
        LoadReport(company=CO, years=(YEAR,), vouchers=1, transactions=2, source=NASTY),
    ]


@pytest.mark.parametrize("index", range(6))
def test_each_kind_converts_to_a_dataframe_with_its_rows(
    index: int, exported: MemoryStore, bundling: BundleService
) -> None:
    pytest.importorskip("pandas")
    result = _examples(exported, bundling)[index]
    records = result.to_records()
    frame = result.to_dataframe()
    assert list(frame.columns) == list(records[0])
    assert [_plain(row) for row in frame.to_dict("records")] == records


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A DataFrame row with pandas' values back as Python's (the frame's dtypes are typed)."""
    import pandas

    def value(v: Any) -> Any:
        if v is pandas.NA:
            return None
        if isinstance(v, pandas.Timestamp):
            return v.date() if v == v.normalize() and v.tz is None else v.to_pydatetime()
        return v

    return {k: value(v) for k, v in row.items()}


def test_every_adopting_class_is_tabular() -> None:
    classes: list[Callable[..., object]] = [
        ResetPlan,
        ResetResult,
        SyncResultsPage,
        BundleExportReport,
        BundleReport,
        UnbundleReport,
        RepostPlan,
        WipPlan,
        ReceivablesResult,
        WipResult,
        StaffResult,
        ProjectsResult,
        Findings,
        ClearPlan,
        LoadReport,
        MirrorRun,
        YearDrift,
        SieCheck,
    ]
    assert [c for c in classes if not issubclass(c, Tabular)] == []  # type: ignore[arg-type]
