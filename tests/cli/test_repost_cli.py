"""The repost interchange format, the SQLite ledger store and the repost/diagnose CLI."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import syncstate.cli as cli
from syncstate.adapters.storage.sqlite.ledger import SQLiteLedgerStore
from syncstate.domain.repost.findings import Code
from syncstate.domain.repost.ledger import MemoryLedger, recompute
from syncstate.domain.repost.receivables import repost_rows
from syncstate.domain.repost.synthetic import make_ledger, random_changes
from syncstate.errors import InterchangeError
from syncstate.services import repost as service
from syncstate.services.repost_io import receivables_from_json, schema

LEDGER: dict[str, Any] = {
    "period_start": "2024-03-01",
    "documents": [
        {
            "id": "INV-1",
            "kind": "invoice",
            "client": "ACME",
            "date": "2024-01-10",
            "amount": "1000.00",
        },
        {
            "id": "INV-2",
            "kind": "invoice",
            "client": "ACME",
            "date": "2024-02-05",
            "amount": "500.00",
        },
        {
            "id": "CR-1",
            "kind": "cash_receipt",
            "client": "ACME",
            "date": "2024-02-10",
            "amount": "600.00",
            "deposit": "DEP-1",
            "allocations": [{"to": "INV-1", "amount": "600.00", "date": "2024-02-10"}],
        },
        {
            "id": "CN-1",
            "kind": "credit_note",
            "client": "ACME",
            "date": "2024-02-20",
            "amount": "-400.00",
            "allocations": [{"to": "INV-1", "amount": "400.00", "date": "2024-02-20"}],
        },
        {
            "id": "DEP-1",
            "kind": "deposit",
            "client": None,
            "date": "2024-02-10",
            "amount": "600.00",
        },
        {
            "id": "INV-9",
            "kind": "invoice",
            "client": "BETA",
            "date": "2024-02-05",
            "amount": "80.00",
        },
    ],
}
WIP: dict[str, Any] = {
    "period_start": "2024-03-01",
    "invoices": [{"id": "B1", "date": "2024-02-20"}],
    "entries": [
        {
            "id": "W1",
            "type": "time",
            "client": "ACME",
            "date": "2024-02-01",
            "work_code": "AUD",
            "quantity": "2",
            "amount": "300.00",
            "billed_amount": "350.00",
            "invoice": "B1",
            "billing_status": "billed",
        },
        {"id": "W2", "type": "", "client": "ACME", "date": "2024-02-01"},
    ],
}


@pytest.fixture()
def syncstate(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run ``syncstate ...`` in process; return (status, stdout, stderr)."""
    monkeypatch.setattr(cli, "COMMANDS", ("repost", "diagnose"))

    def run(*argv: str) -> tuple[int, str, str]:
        status = cli.main(list(argv))
        out = capsys.readouterr()
        return status, out.out, out.err

    return run


def write(tmp_path: Path, name: str, data: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_repost_receivables_json_output_has_the_documented_shape(tmp_path, syncstate) -> None:  # type: ignore[no-untyped-def]
    status, out, _ = syncstate(
        "repost", "receivables", str(write(tmp_path, "l.json", LEDGER)), "--json"
    )
    assert status == 0
    result = json.loads(out)
    jsonschema.validate(result, schema("receivables", "output"))
    assert result["documents"]["INV-1"] == {
        "outstanding": "0.00",
        "clear_date": "2024-02-20",
        "clear_flag": True,
        "payment_type": "multiple",
        "gl": {"bank": "0.00", "receivables": "1000.00"},
    }
    assert result["documents"]["CR-1"]["payment_type"] is None
    assert result["findings"] == []


@pytest.mark.parametrize(
    ("calculator", "data"),
    [
        ("receivables", LEDGER),
        ("wip", WIP),
        (
            "staff",
            {
                "staff": [
                    {
                        "id": "S1",
                        "rates": [
                            {
                                "from": "2024-01-01",
                                "standard_hours": "160",
                                "overtime_rate": "1.5",
                                "cost_rate": "40",
                            }
                        ],
                    }
                ],
                "entries": [{**WIP["entries"][0], "staff": "S1", "project": "P"}],
            },
        ),
        (
            "projects",
            {
                "projects": [
                    {
                        "id": "P",
                        "option": "total_from_staff_budgets",
                        "staff_budgets": [{"staff": "S1", "hours": "3", "amount": "30.00"}],
                    }
                ]
            },
        ),
    ],
)
def test_every_calculator_reads_and_writes_its_schema(
    tmp_path, syncstate, calculator, data
) -> None:  # type: ignore[no-untyped-def]
    jsonschema.validate(data, schema(calculator, "input"))
    status, out, err = syncstate(
        "repost", calculator, str(write(tmp_path, "in.json", data)), "--json"
    )
    assert (status, err) == (0, "")
    jsonschema.validate(json.loads(out), schema(calculator, "output"))


def test_malformed_amount_is_one_line_naming_file_document_and_field(tmp_path, syncstate) -> None:  # type: ignore[no-untyped-def]
    bad = json.loads(json.dumps(LEDGER))
    bad["documents"][2]["allocations"][0]["amount"] = "6OO"
    path = write(tmp_path, "bad.json", bad)
    status, out, err = syncstate("repost", "receivables", str(path))
    assert status == 2 and out == ""
    assert err.count("\n") == 1
    assert "bad.json" in err and "document CR-1" in err and "allocations[0].amount" in err


def test_invalid_json_names_the_line(tmp_path, syncstate) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "broken.json"
    path.write_text('{"period_start": "2024-03-01",\n "documents": [}')
    status, _, err = syncstate("repost", "receivables", str(path))
    assert status == 2 and "broken.json" in err and "line 2" in err


def test_reference_to_missing_document_is_a_finding(tmp_path, syncstate) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(json.dumps(LEDGER))
    data["documents"].append(
        {
            "id": "RV-1",
            "kind": "reversal_cash_receipt",
            "client": "ACME",
            "date": "2024-03-02",
            "amount": "-5.00",
            "reverses": "CR-404",
        }
    )
    status, out, _ = syncstate(
        "repost", "receivables", str(write(tmp_path, "l.json", data)), "--json"
    )
    assert status == 0
    (finding,) = json.loads(out)["findings"]
    assert finding["code"] == "AR-MISSING-DOCUMENT" and finding["scope"]["document"] == "RV-1"


def test_ledger_dry_run_writes_nothing_until_apply(tmp_path, syncstate) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "ledger.db")
    assert (
        syncstate(
            "repost",
            "load",
            str(write(tmp_path, "l.json", LEDGER)),
            "--db",
            db,
            "--company",
            "acme",
        )[0]
        == 0
    )

    status, out, _ = syncstate("diagnose", "--db", db, "--company", "acme", "--json")
    assert status == 1
    assert {f["code"] for f in json.loads(out)["findings"]} == {"AR-MISSING-BALANCE"}

    status, out, _ = syncstate("repost", "--db", db, "--company", "acme", "--dry-run")
    assert status == 0 and "dry run: 6 balance row(s) would change" in out
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM ar_balances").fetchone() == (0,)

    status, out, _ = syncstate("repost", "--db", db, "--company", "acme", "--apply", "--json")
    assert json.loads(out)["written"] == 6
    assert syncstate("diagnose", "--db", db, "--company", "acme")[0] == 0
    # applying again is a no-op: the repost is idempotent
    status, out, _ = syncstate("repost", "--db", db, "--company", "acme", "--apply", "--json")
    assert json.loads(out)["written"] == 0


def test_diagnose_finds_a_tampered_balance_and_the_drill_down_repairs_only_that_invoice(
    tmp_path,
) -> None:  # type: ignore[no-untyped-def]
    start, docs = receivables_from_json(LEDGER)
    with SQLiteLedgerStore(tmp_path / "l.db") as store:
        service.import_receivables(store, "acme", docs, period_start=start)
        service.apply_plan(store, service.plan_receivables_repost(store, "acme"))
        with store.writing() as conn:
            conn.execute(
                "UPDATE ar_balances SET outstanding = 1234, clear_day = NULL WHERE id = 'INV-1'"
            )
            conn.execute("UPDATE ar_balances SET outstanding = 1 WHERE id = 'INV-9'")

        findings = service.diagnose_ledger(store, "acme")
        by_code = {(f.code, f.scope.document): f for f in findings}
        finding = by_code[Code.AR_OUTSTANDING, "INV-1"]
        assert (finding.expected, finding.actual, finding.scope.client) == ("0.00", "12.34", "ACME")
        assert (Code.AR_CLEAR_DATE, "INV-1") in by_code

        plan = service.drill_down(store, "acme", finding)
        assert plan.scope == "document INV-1"
        assert {c.document for c in plan.changes} == {"INV-1"}
        service.apply_plan(store, plan)
        left = service.diagnose_ledger(store, "acme")
        assert [(f.code, f.scope.document) for f in left] == [(Code.AR_OUTSTANDING, "INV-9")]


def test_wip_ledger_repost_deletes_blank_entries_only_on_apply(tmp_path, syncstate) -> None:  # type: ignore[no-untyped-def]
    db = str(tmp_path / "ledger.db")
    syncstate(
        "repost", "load", str(write(tmp_path, "w.json", WIP)), "--db", db, "--company", "acme"
    )
    _, out, _ = syncstate(
        "repost", "--db", db, "--company", "acme", "--calculator", "wip", "--json"
    )
    assert json.loads(out)["deleted"] == ["W2"]
    _, out, _ = syncstate("diagnose", "--db", db, "--company", "acme", "--json")
    codes = {f["code"] for f in json.loads(out)["findings"]}
    assert codes == {"WIP-BLANK-TYPE", "WIP-CLEAR-FLAG", "WIP-CLEAR-DATE", "WIP-WRITE-UPDOWN"}
    syncstate("repost", "--db", db, "--company", "acme", "--calculator", "wip", "--apply")
    assert syncstate("diagnose", "--db", db, "--company", "acme")[0] == 0


def test_unknown_company_or_database_is_a_usage_error(tmp_path, syncstate) -> None:  # type: ignore[no-untyped-def]
    status, _, err = syncstate("diagnose", "--db", str(tmp_path / "none.db"), "--company", "x")
    assert status == 2 and "does not exist" in err
    db = str(tmp_path / "ledger.db")
    syncstate(
        "repost", "load", str(write(tmp_path, "l.json", LEDGER)), "--db", db, "--company", "acme"
    )
    status, _, err = syncstate("repost", "--db", db, "--company", "other")
    assert status == 2 and "other" in err


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_store_incremental_and_streaming_reposts_equal_the_in_memory_full_repost(
    tmp_path, seed
) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    led = make_ledger(rng, documents=600, clients=15, messy=True)
    docs, allocs = led.rows()
    with SQLiteLedgerStore(tmp_path / "l.db") as store:
        store.put_receivables("acme", docs, allocs)
        store.set_setting("acme", "period_start", _iso(led.period_start))
        store.put_receivables("other", docs[:50], [])  # another company, never touched
        service.apply_plan(store, service.plan_receivables_repost(store, "acme", batch=100))
        rows, _ = repost_rows(docs, allocs, led.period_start)
        assert store.balances("acme", [r[0] for r in rows]) == {r[0]: r for r in rows}

        upserts, deletes = random_changes(rng, led, 30)
        plan = service.incremental_repost(
            store, "acme", upserts=[_document(row, mine) for row, mine in upserts], deletes=deletes
        )
        service.apply_plan(store, plan)
        index = MemoryLedger(docs, allocs)
        index.apply(upserts, deletes)
        expected, _ = repost_rows(
            list(index.all_documents()), list(index.all_allocations()), led.period_start
        )
        assert store.balances("acme", [r[0] for r in expected]) == {r[0]: r for r in expected}
        # a scoped repost through the store equals the in-memory one
        client = expected[0][0]
        ids = store.client_documents("acme", index.documents([client])[0][2])
        got_rows, got_findings = recompute(store.ledger("acme"), ids, led.period_start)
        want_rows, want_findings = recompute(index, ids, led.period_start)
        assert sorted(got_rows) == sorted(want_rows) and got_findings == want_findings
        assert store.balances("other", [d[0] for d in docs[:50]]) == {}


def _iso(ordinal: int) -> str:
    import datetime as dt

    return dt.date.fromordinal(ordinal).isoformat()


def _document(row, allocs):  # type: ignore[no-untyped-def]
    import datetime as dt

    from syncstate.domain.repost.receivables import (
        KINDS,
        Allocation,
        ReceivableDocument,
        from_cents,
    )

    kind = KINDS[row[1]]
    link = row[5]
    return ReceivableDocument(
        id=row[0],
        kind=kind,
        client=row[2],
        date=dt.date.fromordinal(row[3]),
        amount=from_cents(row[4]),
        allocations=tuple(
            Allocation(a[1], from_cents(a[2]), dt.date.fromordinal(a[3])) for a in allocs
        ),
        reverses=link if kind.value == "reversal_cash_receipt" else None,
        refunds=link if kind.value == "credit_note_refund" else None,
        deposit=link if kind.value == "cash_receipt" else None,
    )


def test_interchange_error_is_an_input_error() -> None:
    with pytest.raises(InterchangeError, match=r"document X: field 'documents\[0\]\.kind'"):
        receivables_from_json(
            {"period_start": "2024-01-01", "documents": [{"id": "X", "kind": "bill"}]}
        )
