"""``syncstate repost``: every scope option is honoured by the calculator or refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import syncstate.cli as cli
from syncstate.adapters.storage.sqlite.ledger import SQLiteLedgerStore
from syncstate.testing.ledger_samples import ledger_snapshot, load_messy_ledger

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture()
def syncstate(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    monkeypatch.setattr(cli, "COMMANDS", ("repost", "diagnose"))

    def run(*argv: str) -> tuple[int, str, str]:
        status = cli.main(list(argv))
        out = capsys.readouterr()
        return status, out.out, out.err

    return run


@pytest.fixture()
def db(tmp_path: Path) -> str:
    path = tmp_path / "ledger.db"
    with SQLiteLedgerStore(path) as store:
        load_messy_ledger(store)
    return str(path)


def _snapshot(db: str) -> dict[tuple[str, str, str], Any]:
    with SQLiteLedgerStore(db, readonly=True) as store:
        return ledger_snapshot(store)


def test_wip_repost_of_one_client_plans_and_writes_only_that_client(
    db: str, syncstate: Run
) -> None:
    base = ("repost", "--db", db, "--company", "acme", "--calculator", "wip")
    status, out, _ = syncstate(*base, "--client", "BETA", "--json")
    plan = json.loads(out)
    assert status == 0 and plan["scope"] == "client BETA"
    assert plan["deleted"] == [] and plan["rewritten"] == ["W6", "W8"]
    before = _snapshot(db)
    status, out, _ = syncstate(*base, "--client", "BETA", "--apply", "--json")
    assert status == 0 and json.loads(out)["written"] == 2
    after = _snapshot(db)
    changed = {k for k in before | after if before.get(k) != after.get(k)}
    assert changed == {("acme", "wip", "W6"), ("acme", "wip", "W8")}


def test_wip_repost_of_one_invoice_and_of_one_entry(db: str, syncstate: Run) -> None:
    base = ("repost", "--db", db, "--company", "acme", "--calculator", "wip", "--json")
    invoice = json.loads(syncstate(*base, "--invoice", "B1")[1])
    assert (invoice["scope"], invoice["rewritten"]) == ("invoice B1", ["W1"])
    entry = json.loads(syncstate(*base, "--document", "W4")[1])
    assert (entry["scope"], entry["deleted"], entry["rewritten"]) == ("entry W4", ["W4"], [])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--calculator", "receivables", "--invoice", "INV-1"), "for receivables use --document"),
        (("--client", "ACME", "--document", "INV-1"), "give one scope"),
        (("--calculator", "wip", "--client", "ACME", "--invoice", "B1"), "give one scope"),
        (("--calculator", "wip", "--client", "NOBODY"), "no WIP entries for client NOBODY"),
        (("--calculator", "wip", "--invoice", "B404"), "no WIP entries for invoice B404"),
    ],
)
def test_options_a_calculator_cannot_honour_are_refused_with_exit_2(
    db: str, syncstate: Run, options: tuple[str, ...], message: str
) -> None:
    before = _snapshot(db)
    status, out, err = syncstate(
        "repost", "--db", db, "--company", "acme", *options, "--apply", "--json"
    )
    assert status == 2 and out == ""
    error = json.loads(err)
    assert message in error["error"] and error["exit"] == 2
    assert _snapshot(db) == before


def test_diagnose_names_each_findings_calculator(db: str, syncstate: Run) -> None:
    status, out, _ = syncstate("diagnose", "--db", db, "--company", "acme", "--json")
    assert status == 1
    pairs = {(f["code"].split("-")[0], f["calculator"]) for f in json.loads(out)["findings"]}
    assert pairs == {("AR", "receivables"), ("WIP", "wip")}


STAFF = {
    "staff": [
        {
            "id": "S1",
            "rates": [
                {
                    "from": "2023-01-01",
                    "standard_hours": "150",
                    "overtime_rate": "1.5",
                    "cost_rate": "90.00",
                }
            ],
        }
    ],
    "entries": [],
}
PROJECTS = {
    "projects": [
        {"id": "P1", "option": "override_from_subprojects", "budget_hours": "1"},
        {
            "id": "P1A",
            "parent": "P1",
            "option": "total_from_staff_budgets",
            "staff_budgets": [{"staff": "S1", "hours": "10", "amount": "900.00"}],
        },
    ]
}


WORKED = {
    "period_start": "2024-03-01",
    "invoices": [],
    "entries": [
        {
            "id": f"T{n}",
            "type": "time",
            "client": "GAMMA",
            "date": day,
            "work_code": "AUD",
            "staff": "S1",
            "project": "P1",
            "subproject": "P1A",
            "quantity": "3",
            "amount": "270.00",
        }
        for n, day in enumerate(("2023-07-03", "2024-02-26"))
    ],
}


def _load_work(tmp_path: Path, db: str, syncstate: Run) -> None:
    load = ("repost", "load", "--db", db, "--company", "acme")
    for name, data in (("staff", STAFF), ("projects", PROJECTS), ("worked", WORKED)):
        (tmp_path / f"{name}.json").write_text(json.dumps(data))
    staff, projects = tmp_path / "staff.json", tmp_path / "projects.json"
    assert syncstate(*load[:2], str(tmp_path / "worked.json"), *load[2:])[0] == 0
    status, _, err = syncstate(
        *load[:2], str(staff), *load[2:], "--fiscal-start-month", "7", "--periods", "4-4-5"
    )
    assert status == 0, err
    assert syncstate(*load[:2], str(projects), *load[2:])[0] == 0


def test_stored_staff_and_projects_are_diagnosed_and_repaired_by_scope(
    tmp_path: Path, db: str, syncstate: Run
) -> None:
    _load_work(tmp_path, db, syncstate)
    status, out, _ = syncstate("diagnose", "--db", db, "--company", "acme", "--json")
    found = json.loads(out)["findings"]
    codes = {(f["code"], f["calculator"], f["drill_down"]) for f in found}
    assert ("PROJECT-BUDGET", "projects", "none") in codes
    staff_rows = [f for f in found if f["code"] == "STAFF-BALANCE"]
    # S1 has WIP in fiscal year 2023 (July 2023 - June 2024): twelve 4-4-5 periods unstored
    messages = {f["message"] for f in staff_rows if f["scope"].get("staff") == "S1"}
    assert len(messages) == 12
    assert "staff S1 period 2023-P08 is not stored" in messages
    assert {f["scope"].get("project") for f in staff_rows} == {None, "P1"}  # work totals too

    base = ("repost", "--db", db, "--company", "acme", "--json")
    status, out, _ = syncstate(*base, "--calculator", "staff", "--staff", "S1", "--apply")
    assert status == 0 and json.loads(out)["written"] == 12
    status, out, _ = syncstate(*base, "--calculator", "staff", "--project", "P1", "--apply")
    assert status == 0 and json.loads(out)["written"] == 2  # P1 and P1A totals
    status, out, _ = syncstate(*base, "--calculator", "projects", "--project", "P1", "--apply")
    assert status == 0 and json.loads(out)["written"] == 2
    status, out, _ = syncstate("diagnose", "--db", db, "--company", "acme", "--json")
    left = {f["code"] for f in json.loads(out)["findings"]}
    assert not left & {"STAFF-BALANCE", "PROJECT-BUDGET"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (("--calculator", "staff", "--client", "ACME"), "--client is not honoured by the staff"),
        (("--calculator", "projects", "--staff", "S1"), "--staff is not honoured by the projects"),
        (("--calculator", "wip", "--project", "P1"), "--project is not honoured by the wip"),
        (("--calculator", "staff", "--staff", "S1", "--project", "P1"), "give one scope"),
        (("--calculator", "staff", "--staff", "NOBODY"), "no staff member 'NOBODY'"),
    ],
)
def test_staff_and_project_options_are_honoured_or_refused(
    tmp_path: Path, db: str, syncstate: Run, options: tuple[str, ...], message: str
) -> None:
    _load_work(tmp_path, db, syncstate)
    before = _snapshot(db)
    status, out, err = syncstate(
        "repost", "--db", db, "--company", "acme", *options, "--apply", "--json"
    )
    assert status == 2 and out == "" and message in json.loads(err)["error"]
    assert _snapshot(db) == before


def test_a_fiscal_calendar_given_with_a_receivables_file_is_refused(
    tmp_path: Path, syncstate: Run
) -> None:
    from syncstate.testing.ledger_samples import MESSY_RECEIVABLES

    path = tmp_path / "r.json"
    path.write_text(json.dumps(MESSY_RECEIVABLES))
    db = str(tmp_path / "new.db")
    status, _, err = syncstate(
        "repost", "load", str(path), "--db", db, "--company", "acme", "--periods", "4-4-5"
    )
    assert status == 2 and "staff files only" in err
    assert not Path(db).exists()


@pytest.mark.parametrize(
    "argv",
    [
        ("repost", "--client", "ACME", "receivables", "{file}"),
        ("repost", "--apply", "wip", "{file}"),
        ("repost", "--staff", "S1", "load", "{file}", "--company", "acme", "--db", "{db}"),
    ],
)
def test_ledger_options_given_to_a_file_command_are_refused(
    tmp_path: Path, syncstate: Run, argv: tuple[str, ...]
) -> None:
    from syncstate.testing.ledger_samples import MESSY_RECEIVABLES

    path = tmp_path / "r.json"
    path.write_text(json.dumps(MESSY_RECEIVABLES))
    db = tmp_path / "new.db"
    args = [a.format(file=path, db=db) for a in argv]
    status, out, err = syncstate(*args)
    assert status == 2 and out == "" and "apply to a stored ledger" in err
    assert not db.exists()
