"""Bad input never crashes `syncstate repost` / `diagnose` and never writes where it should not.

Every refusal: exit 2, stdout empty, exactly one line on stderr (a JSON object with an
``error`` message under ``--json``), no traceback. A refused ``repost load`` leaves the
ledger row-identical; ``diagnose`` and a dry-run ``repost`` leave the file byte-identical.
The mutation loops are seeded, so a failure reproduces; each runs in a few seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import sqlite3
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from repost_fuzz_support import SAMPLES, mutate, table_rows

import syncstate.cli as cli
from syncstate.domain.repost.receivables import DocKind
from syncstate.money import MAX_AMOUNT, format_amount
from syncstate.services.repost_io import schema

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture()
def run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Run:
    """``syncstate ARGS`` in process: (status, stdout, stderr)."""
    monkeypatch.setattr(cli, "COMMANDS", ("repost", "diagnose"))

    def call(*argv: object) -> tuple[int, str, str]:
        status = cli.main([str(a) for a in argv])
        out = capsys.readouterr()
        return status, out.out, out.err

    return call


def assert_clean(
    result: tuple[int, str, str], *, as_json: bool, allowed: tuple[int, ...] = (0, 2)
) -> int:
    """The rule for every input: a documented status, and a refusal is one clear line."""
    status, out, err = result
    assert "Traceback" not in out + err
    (out + err).encode("utf-8")  # printable on any UTF-8 terminal: no lone surrogates
    assert status in allowed, err
    if status == 0 or (status == 1 and err == ""):  # diagnose: findings on stdout
        return status
    assert out == "", "a refused command prints nothing on stdout"
    assert err.endswith("\n") and err.count("\n") == 1, err
    if as_json:
        error = json.loads(err)
        assert isinstance(error, dict) and isinstance(error["error"], str) and error["error"]
    else:
        assert err.startswith("syncstate: error: ")
    return status


def _write(path: Path, data: object) -> Path:
    path.write_bytes(data if isinstance(data, bytes) else json.dumps(data).encode())
    return path


# ---------------------------------------------------------- the classes the issue lists


def _amount(value: str) -> bytes:
    data = json.loads(json.dumps(SAMPLES["receivables"]))
    data["documents"][0]["amount"] = value
    return json.dumps(data).encode()


CRASH_CLASSES = {
    "non-UTF-8 bytes": (b'{"period_start": "2024-03-01",\n"documents": [\xff]}', "not UTF-8"),
    "deep nesting": (b'{"documents": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "nested more"),
    "a 4,301-digit integer": (_amount("9" * 4301).replace(b'"9', b"9").replace(b'9"', b"9"),
                              "4301 digits"),
    "an exponent amount": (_amount("1e999999"), "exponent notation"),
    "a 28-digit amount": (_amount("1234567890123456789012345678.00"), "out of range"),
    "cents lost on a large amount": (_amount("12345678901234567.89"), "out of range"),
    "an amount past SQLite's INTEGER": (_amount("99999999999999999999"), "out of range"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CRASH_CLASSES))
@pytest.mark.parametrize("as_json", [False, True])
def test_each_crash_class_of_the_issue_is_one_error_line(
    tmp_path: Path, run: Run, case: str, as_json: bool
) -> None:
    raw, message = CRASH_CLASSES[case]
    path = _write(tmp_path / "in.json", raw)
    flags = ["--json"] if as_json else []
    for argv in (
        ["repost", "receivables", path, *flags],
        ["repost", "load", path, "--db", tmp_path / "l.db", "--company", "acme", *flags],
    ):
        status, out, err = run(*argv)
        assert assert_clean((status, out, err), as_json=as_json) == 2
        assert "in.json" in err and message in err
    assert not (tmp_path / "l.db").exists(), "a refused load does not even create the file"


# ------------------------------------------------- valid input: the shipped output schema

amounts = st.decimals(min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, places=2).map(format_amount)
hours = st.decimals(min_value=0, max_value=Decimal("99999999.999999"), places=6).map(format_amount)
days = st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(9998, 12, 31)).map(
    lambda d: d.isoformat()
)
ids = st.sampled_from(["A", "B", "C", "D"])


@st.composite
def documents(draw: st.DrawFn, calculator: str) -> dict[str, Any]:
    """A schema-valid input document with amounts anywhere in the accepted range."""
    if calculator == "receivables":
        kinds = st.sampled_from([k.value for k in DocKind])
        docs = []
        for n in range(draw(st.integers(1, 6))):
            link = draw(st.sampled_from([None, "D0", "D1", "D2"]))
            allocations = [
                {"to": f"D{draw(st.integers(0, 5))}", "amount": draw(amounts), "date": draw(days)}
                for _ in range(draw(st.integers(0, 2)))
            ]
            docs.append({"id": f"D{n}", "kind": draw(kinds), "client": draw(ids),
                         "date": draw(days), "amount": draw(amounts), "allocations": allocations,
                         "reverses": link, "refunds": link, "deposit": link})  # fmt: skip
        return {"period_start": draw(days), "documents": docs}
    entries = [
        {"id": f"W{n}", "type": draw(st.sampled_from(["time", "expense", ""])),
         "client": draw(ids), "date": draw(days), "staff": draw(ids), "project": draw(ids),
         "subproject": draw(st.sampled_from([None, "x"])), "quantity": draw(hours),
         "amount": draw(amounts), "billed_amount": draw(amounts),
         "invoice": draw(st.sampled_from([None, "I1", "GONE"])),
         "billing_status": draw(st.sampled_from(["billed", "unbilled"]))}
        for n in range(draw(st.integers(0, 5)))
    ]  # fmt: skip
    if calculator == "wip":
        return {"period_start": draw(days), "invoices": [{"id": "I1", "date": draw(days)}],
                "entries": entries}  # fmt: skip
    if calculator == "staff":
        rates = [{"from": draw(days), "standard_hours": draw(hours), "overtime_rate": draw(hours),
                  "cost_rate": draw(hours)} for _ in range(draw(st.integers(0, 2)))]  # fmt: skip
        return {"staff": [{"id": "A", "rates": rates}], "entries": entries}
    options = st.sampled_from(["none", "total_from_staff_budgets", "override_from_subprojects"])
    return {"projects": [
        {"id": p, "parent": parent, "option": draw(options), "budget_hours": draw(hours),
         "budget_amount": draw(amounts),
         "staff_budgets": [{"staff": s, "hours": draw(hours), "amount": draw(amounts)}
                           for s in draw(st.lists(ids, max_size=3))]}
        for p, parent in (("P", None), ("P.a", "P"), ("P.b", "P"), ("Q", None))
    ]}  # fmt: skip


@pytest.mark.parametrize("calculator", sorted(SAMPLES))
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_every_calculator_prints_output_its_shipped_schema_accepts(
    tmp_path: Path, run: Run, calculator: str, data: st.DataObject
) -> None:
    document = data.draw(documents(calculator))
    jsonschema.validate(document, schema(calculator, "input"))
    path = _write(tmp_path / f"{calculator}.json", document)
    status, out, err = run("repost", calculator, path, "--json")
    assert (status, err) == (0, "")
    result = json.loads(out)
    jsonschema.validate(result, schema(calculator, "output"))
    if calculator == "projects":  # sums are exact, to the cent, at any size
        for project in document["projects"]:
            if project["option"] == "total_from_staff_budgets" and not project["parent"]:
                total = sum((Decimal(b["amount"]) for b in project["staff_budgets"]), Decimal(0))
                assert Decimal(result["projects"][project["id"]]["budget_amount"]) == total


# ------------------------------------------------------------- the seeded mutation loops


@pytest.mark.parametrize("calculator", sorted(SAMPLES))
def test_mutated_documents_never_crash_a_calculator(
    tmp_path: Path, run: Run, calculator: str
) -> None:
    rng = random.Random(f"repost-{calculator}")
    seen: Counter[tuple[str, int]] = Counter()
    for n in range(400):
        kind, raw = mutate(rng, SAMPLES[calculator])
        as_json = rng.random() < 0.5
        path = _write(tmp_path / f"m{n}.json", raw)
        status, out, err = run("repost", calculator, path, *(["--json"] if as_json else []))
        assert_clean((status, out, err), as_json=as_json)
        if status == 0 and as_json:
            jsonschema.validate(json.loads(out), schema(calculator, "output"))
        seen[kind, status] += 1
    # the loop exercised both outcomes, so a loader that refused everything would fail here
    assert {s for _, s in seen} == {0, 2}, seen


@pytest.fixture()
def ledger(tmp_path: Path, run: Run) -> Path:
    """A ledger database with acme's receivables and WIP loaded and reposted."""
    db = tmp_path / "base.db"
    for name in ("receivables", "wip"):
        path = _write(tmp_path / f"{name}.json", SAMPLES[name])
        assert run("repost", "load", path, "--db", db, "--company", "acme")[0] == 0
    assert run("repost", "--db", db, "--company", "acme", "--apply", "--json")[0] == 0
    assert not Path(f"{db}-wal").exists()  # closed cleanly: the file alone is the ledger
    return db


def test_a_refused_load_writes_nothing_and_reads_never_write(
    tmp_path: Path, run: Run, ledger: Path
) -> None:
    rng = random.Random("repost-load")
    base = table_rows(ledger)
    outcomes: Counter[int] = Counter()
    for n in range(200):
        name = rng.choice(["receivables", "wip"])
        kind, raw = mutate(rng, SAMPLES[name])
        db, path = tmp_path / f"l{n}.db", _write(tmp_path / f"m{n}.json", raw)
        shutil.copyfile(ledger, db)
        flags = ["--json"] if rng.random() < 0.5 else []
        result = run("repost", "load", path, "--db", db, "--company", "acme", *flags)
        outcomes[assert_clean(result, as_json=bool(flags))] += 1
        if result[0] == 2:
            assert table_rows(db) == base, f"{kind}: a refused load changed the ledger"
            continue
        before = db.read_bytes()
        diagnosed = run("diagnose", "--db", db, "--company", "acme", *flags)
        assert_clean(diagnosed, as_json=bool(flags), allowed=(0, 1, 2))
        calc = "wip" if name == "wip" else "receivables"
        planned = run("repost", "--db", db, "--company", "acme", "--calculator", calc, "--json")
        assert_clean(planned, as_json=True)
        assert db.read_bytes() == before, f"{kind}: a read-only command wrote"
        rows = table_rows(db)
        applied = run("repost", "--db", db, "--company", "acme", "--calculator", calc, "--json",
                      "--apply")  # fmt: skip
        if assert_clean(applied, as_json=True) == 2:
            assert table_rows(db) == rows
    assert set(outcomes) == {0, 2}, outcomes


def test_read_only_commands_never_touch_a_database_without_a_ledger(
    tmp_path: Path, run: Run
) -> None:
    db = tmp_path / "other.db"
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("CREATE TABLE t (x)")
    before = db.read_bytes()
    for argv in (["diagnose"], ["repost"], ["repost", "--calculator", "wip"]):
        status, _, err = run(*argv, "--db", db, "--company", "acme")
        assert status == 2 and "holds no repost ledger" in err
    assert db.read_bytes() == before
    missing = tmp_path / "missing.db"
    assert run("diagnose", "--db", missing, "--company", "acme")[0] == 2
    assert not missing.exists()


def test_balances_past_sqlite_integer_are_refused_on_apply_and_nothing_is_written(
    tmp_path: Path, run: Run
) -> None:
    top = format_amount(MAX_AMOUNT)
    receipts = [{"id": f"CR{n}", "kind": "cash_receipt", "client": None, "date": "2024-01-02",
                 "amount": top, "deposit": "DEP"} for n in range(100)]  # fmt: skip
    deposit = {"id": "DEP", "kind": "deposit", "client": None, "date": "2024-01-02", "amount": top}
    path = _write(tmp_path / "big.json", {"period_start": "2024-03-01",
                                          "documents": [deposit, *receipts]})  # fmt: skip
    db = tmp_path / "big.db"
    assert run("repost", "load", path, "--db", db, "--company", "acme")[0] == 0
    # the deposit's receipts sum past 2**63 cents: diagnose still computes it exactly
    status, out, _ = run("diagnose", "--db", db, "--company", "acme", "--json")
    over = [f for f in json.loads(out)["findings"] if f["code"] == "AR-OVER-APPLIED"]
    assert status == 1 and [(f["scope"]["document"], f["actual"]) for f in over] == [
        ("DEP", "99999999999999999.00")  # 100 receipts of the largest amount, to the cent
    ]
    rows = table_rows(db)
    status, out, err = run("repost", "--db", db, "--company", "acme", "--apply", "--json")
    assert assert_clean((status, out, err), as_json=True) == 2
    assert "document DEP restored outstanding" in json.loads(err)["error"]
    assert table_rows(db) == rows
