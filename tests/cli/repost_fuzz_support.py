"""Valid repost documents and a seeded mutator for the bad-input tests of the CLI.

Not a test module: ``test_repost_bad_input.py`` and ``test_bundle_import_bad_input.py``
import it. Every mutation is one of the classes the issue lists (byte flips, truncation,
non-UTF-8, deep nesting, huge numbers, exponent and out-of-range amounts, wrong types,
odd dates, control characters, unpaired surrogates, a BOM) so a failure names its class.
"""

from __future__ import annotations

import copy
import json
import random
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

WIP_ENTRY: dict[str, Any] = {
    "id": "W1",
    "type": "time",
    "client": "ACME",
    "date": "2024-02-01",
    "work_code": "AUD",
    "staff": "S1",
    "project": "P",
    "quantity": "2.5",
    "amount": "300.00",
    "billed_amount": "350.00",
    "invoice": "B1",
    "billing_status": "billed",
}
SAMPLES: dict[str, dict[str, Any]] = {
    "receivables": {
        "period_start": "2024-03-01",
        "documents": [
            {"id": "INV-1", "kind": "invoice", "client": "ACME", "date": "2024-01-10",
             "amount": "1000.00"},
            {"id": "CR-1", "kind": "cash_receipt", "client": "ACME", "date": "2024-02-10",
             "amount": "600.00", "deposit": "DEP-1",
             "allocations": [{"to": "INV-1", "amount": "600.00", "date": "2024-02-10"}]},
            {"id": "CN-1", "kind": "credit_note", "client": "ACME", "date": "2024-02-20",
             "amount": "-400.00",
             "allocations": [{"to": "INV-1", "amount": "400.00", "date": "2024-02-20"}]},
            {"id": "RV-1", "kind": "reversal_cash_receipt", "client": "ACME",
             "date": "2024-03-08", "amount": "-600.00", "reverses": "CR-1"},
            {"id": "DEP-1", "kind": "deposit", "client": None, "date": "2024-02-10",
             "amount": "600.00"},
        ],
    },
    "wip": {
        "period_start": "2024-03-01",
        "invoices": [{"id": "B1", "date": "2024-02-20"}],
        "entries": [WIP_ENTRY, {"id": "W2", "type": "", "client": "ACME", "date": "2024-02-01"},
                    {**WIP_ENTRY, "id": "W3", "invoice": "GONE", "hide": True}],
    },
    "staff": {
        "staff": [{"id": "S1", "rates": [
            {"from": "2023-01-01", "standard_hours": "160", "overtime_rate": "1.5",
             "cost_rate": "40"},
            {"from": "2024-02-15", "standard_hours": "150", "overtime_rate": "1.25",
             "cost_rate": "45.125"}]}],
        "entries": [WIP_ENTRY, {**WIP_ENTRY, "id": "W4", "type": "expense", "quantity": None}],
    },
    "projects": {
        "projects": [
            {"id": "P1", "option": "total_from_staff_budgets",
             "staff_budgets": [{"staff": "S1", "hours": "10", "amount": "1000.00"},
                               {"staff": "S2", "hours": "5.5", "amount": "400.50"}]},
            {"id": "P2", "option": "override_from_subprojects"},
            {"id": "P2.a", "parent": "P2", "budget_hours": "3", "budget_amount": "300.00"},
        ],
    },
}  # fmt: skip

_NUMBER_FIELDS = {
    "amount", "quantity", "billed_amount", "write_updown", "hours", "standard_hours",
    "overtime_rate", "cost_rate", "budget_hours", "budget_amount",
}  # fmt: skip
_NASTY_NUMBERS: list[object] = [
    "1e999999", "-1E+30", "1e-999999", "9" * 30 + ".99", "9" * 16, "1234567890123456.78",
    "0.001", "1." + "1" * 30, "NaN", "Infinity", "1_000", "", " ", 10**30, 10**16, 12.5,
    True, None, [], {}, "x", "-0",
]  # fmt: skip
_ODD_TEXT = ["a\nb", "\x1b[2J", "x" * 5000, "\u2028", "é", "", "\x00"]
_ODD_DATES = ["9999-12-31", "0001-01-01", "2024-02-30", "20240101", "2024-W01-1", ""]
_WRONG_TYPES: list[object] = [1, "s", [], {}, None, True, 1.5, [1], {"a": 1}]
MUTATIONS = (
    "flip", "truncate", "non-utf8", "deep", "huge-int", "number", "number", "type", "date",
    "text", "surrogate", "bom",
)  # fmt: skip


def _paths(value: object, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*path, key))
    elif isinstance(value, list):
        for n, item in enumerate(value):
            found += _paths(item, (*path, n))
    return found


def _set(data: Any, path: tuple[Any, ...], value: object) -> Any:
    if not path:
        return value
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return data


def _raw_at(data: Any, path: tuple[Any, ...], raw: str) -> bytes:
    marker = "\u0001MARK\u0001"
    text = json.dumps(_set(data, path, marker))
    return text.replace(json.dumps(marker), raw, 1).encode()


def mutate(rng: random.Random, sample: dict[str, Any]) -> tuple[str, bytes]:
    """One mutation of ``sample``: its class and the bytes of the file."""
    kind = rng.choice(MUTATIONS)
    text = json.dumps(sample)
    data = copy.deepcopy(sample)
    paths = _paths(data)
    leaves = [p for p in paths if p]
    if kind == "flip":
        flipped = bytearray(text.encode())
        for _ in range(rng.randint(1, 4)):
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        return kind, bytes(flipped)
    if kind == "truncate":
        return kind, text.encode()[: rng.randrange(len(text))]
    if kind == "non-utf8":
        raw, at = text.encode(), rng.randrange(len(text))
        return kind, raw[:at] + rng.choice([b"\xff", b"\x80", b"\xc3\x28", b"\xed\xa0\x80"]) + raw[
            at:
        ]
    if kind == "bom":
        return kind, b"\xef\xbb\xbf" + text.encode()
    if kind == "deep":
        depth = rng.choice([33, 200, 5_000, 100_000])
        return kind, _raw_at(data, rng.choice(paths), "[" * depth + "1" + "]" * depth)
    if kind == "huge-int":
        return kind, _raw_at(data, rng.choice(paths), "9" * rng.choice([41, 4_301, 10_000]))
    if kind == "surrogate":
        texts = [p for p in leaves if isinstance(_get(data, p), str)]
        escape = rng.choice(["\\ud800", "\\udfff", "\\u0000", "\\ud83d\\ude00"])
        return kind, _raw_at(data, rng.choice(texts), f'"a{escape}b"')
    if kind == "number":
        numbers = [p for p in leaves if p[-1] in _NUMBER_FIELDS] or leaves
        return kind, json.dumps(
            _set(data, rng.choice(numbers), rng.choice(_NASTY_NUMBERS))
        ).encode()
    if kind == "date":
        dates = [p for p in leaves if str(p[-1]) in ("date", "from", "period_start")] or leaves
        return kind, json.dumps(_set(data, rng.choice(dates), rng.choice(_ODD_DATES))).encode()
    if kind == "text":
        ids = [p for p in leaves if p[-1] in ("id", "client", "staff", "to", "kind")] or leaves
        return kind, json.dumps(_set(data, rng.choice(ids), rng.choice(_ODD_TEXT))).encode()
    return kind, json.dumps(_set(data, rng.choice(paths), rng.choice(_WRONG_TYPES))).encode()


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        data = data[step]
    return data


def table_rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: equal snapshots mean nothing was written."""
    with closing(sqlite3.connect(db)) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {n: sorted(conn.execute(f'SELECT * FROM "{n}"'), key=repr) for n in names}
