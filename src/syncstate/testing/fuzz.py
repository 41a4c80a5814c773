"""Seeded input generators for fuzzing syncstate's input paths (tests and ``benchmarks/fuzz.py``).

Each generator returns a mutation class (so a failure names it) and the input. The
classes are the ones issue 14 lists: byte flips, truncation, non-UTF-8 bytes, deep
nesting, huge and exponent numbers, out-of-range amounts, wrong types, odd dates,
control characters, unpaired surrogates, a BOM.

* :func:`mutate_json` - a repost input document (:data:`REPOST_SAMPLES`, one per
  calculator);
* :func:`mutate_csv` - a ``bundle import`` CSV file (:data:`BUNDLE_CSV`);
* :func:`mutate_sie` - an SIE file (:data:`SIE_SAMPLE`): flips, structured garbage,
  random bytes;
* :func:`money_value` - a value handed to :func:`~syncstate.money.parse_amount`;
* :func:`command_options` and :func:`random_argv` - command lines drawn from the
  CLI's own parsers, with hostile values (:data:`CLI_VALUES`);
* :func:`table_rows` - every row of an SQLite file (equal snapshots: nothing written);
* :func:`judge` - the rule for one CLI run: a documented status, no traceback, a
  refusal in one line (one JSON object with ``--json``).

Only the standard library: usable without pytest or hypothesis.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = [
    "BUNDLE_CSV",
    "CLI_VALUES",
    "MUTATIONS",
    "REPOST_SAMPLES",
    "SIE_SAMPLE",
    "command_options",
    "judge",
    "money_value",
    "mutate_csv",
    "mutate_json",
    "mutate_sie",
    "random_argv",
    "table_rows",
]

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
#: a valid input document per repost calculator
REPOST_SAMPLES: dict[str, dict[str, Any]] = {
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


def mutate_json(rng: random.Random, sample: dict[str, Any]) -> tuple[str, bytes]:
    """One mutation of the JSON document ``sample``: its class and the bytes of the file."""
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


# ------------------------------------------------------------------ bundle import CSV

_CSV_HEADER = (
    "type,id,client,date,resource,quantity,unit_price,amount,currency,tax_code,description,"
    "method,reference"
)
_CSV_LINES = [
    "usage_log,u1,ann,2024-03-01,room,2,40.00,,USD,,,,",
    "payment,p1,ann,2024-03-01,,,,80.00,USD,,,card,",
    "usage_log,u2,bob,2024-03-02,laser,1.5,99.125,,USD,,,,",
    "usage_log,u3,bob,2024-03-02,laser,1,1,1500,JPY,,,,",
]
#: a valid ``bundle import`` file: usage logs and a payment
BUNDLE_CSV = "\n".join([_CSV_HEADER, *_CSV_LINES]) + "\n"
_CSV_NUMBERS = [
    "1e999999", "-1E+30", "9" * 30, "9" * 16, "99999999", "1." + "1" * 30, "0.001", "NaN",
    "Infinity", "-0", "", "x", "9" * 5000, "1e-999999", "0.0000001", "\u0661\u0662",
]  # fmt: skip


def mutate_csv(rng: random.Random, csv: str = BUNDLE_CSV) -> tuple[str, bytes]:
    """One mutation of ``csv`` (a bundle import file): its class and the file's bytes."""
    kind = rng.choice(["flip", "truncate", "non-utf8", "nul", "huge", "fields", "number", "number"])
    raw = csv.encode()
    at = rng.randrange(len(raw))
    if kind == "flip":
        flipped = bytearray(raw)
        for _ in range(rng.randint(1, 4)):
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        return kind, bytes(flipped)
    if kind == "truncate":
        return kind, raw[:at]
    if kind in ("non-utf8", "nul", "huge"):
        insert = {"non-utf8": rng.choice([b"\xff", b"\x80", b"\xe9"]), "nul": b"\x00"}
        return kind, raw[:at] + insert.get(kind, b"a" * 200_000) + raw[at:]
    lines = csv.splitlines()
    n = rng.randrange(1, len(lines))
    cells = lines[n].split(",")
    if kind == "fields":
        cells = cells[: rng.randrange(len(cells))] if rng.random() < 0.5 else [*cells, "x"]
    else:
        cells[rng.choice([5, 6, 7])] = rng.choice(_CSV_NUMBERS)
    lines[n] = ",".join(cells)
    return kind, ("\n".join(lines) + "\n").encode()


# ------------------------------------------------------------------------- SIE files

#: a small valid SIE 4E file (two balanced vouchers, balances, objects, escapes)
SIE_SAMPLE = (
    '#FLAGGA 0\r\n#PROGRAM "fuzz" 1.0\r\n#FORMAT PC8\r\n#GEN 20250301\r\n#SIETYP 4\r\n'
    '#FNAMN "Fuzz \\"AB\\""\r\n#ORGNR 556000-0000\r\n#RAR 0 20250101 20251231\r\n'
    '#DIM 1 "Kostnadsst\u00e4lle"\r\n#OBJEKT 1 S1 "Syd"\r\n'
    '#KONTO 1930 "Bank"\r\n#KONTO 3001 "F\u00f6rs\u00e4ljning"\r\n#KTYP 1930 T\r\n'
    "#IB 0 1930 1000.00\r\n#UB 0 1930 1250.00\r\n#RES 0 3001 -250.00\r\n"
    "#PSALDO 0 202501 3001 {} -100.00\r\n"
    '#VER A 1 20250105 "Sale"\r\n{\r\n   #TRANS 1930 {} 100.00\r\n'
    '   #TRANS 3001 {1 "S1"} -100.00 20250105 "x"\r\n}\r\n'
    '#VER A 2 20250210 "Sale 2"\r\n{\r\n   #TRANS 1930 {} 150.00\r\n'
    "   #TRANS 3001 {} -150.00\r\n}\r\n"
)
_SIE_WORDS = [
    "#VER", "#TRANS", "#RTRANS", "#BTRANS", "#KSUMMA", "#RAR", "#KONTO", "#PSALDO", "#IB",
    "#ORGNR", "#OMFATTN", "{", "}", '"', "{}", "\\", '\\"', "1930", "-1.5", "1e999",
    "9" * 40, "20240101", "20240230", "0", "-1", "#SIETYP", "\t", " ", "\n", "\r", "\u00e9", "x",
]  # fmt: skip


def mutate_sie(rng: random.Random, sample: str = SIE_SAMPLE) -> tuple[str, bytes]:
    """One mutation of an SIE file: its class and the file's bytes."""
    raw = sample.encode("cp437")
    kind = rng.choice(["flip", "flip", "truncate", "garbage", "bytes", "line", "huge"])
    if kind == "flip":
        flipped = bytearray(raw)
        for _ in range(rng.randint(1, 6)):
            flipped[rng.randrange(len(flipped))] = rng.randrange(256)
        return kind, bytes(flipped)
    if kind == "truncate":
        return kind, raw[: rng.randrange(len(raw))]
    if kind == "garbage":
        words = [rng.choice(_SIE_WORDS) for _ in range(rng.randint(0, 60))]
        return kind, ("#FLAGGA 0\n" + " ".join(words)).encode("utf-8")
    if kind == "bytes":
        return kind, bytes(rng.randrange(256) for _ in range(rng.randint(0, 400)))
    lines = sample.split("\r\n")
    n = rng.randrange(len(lines))
    if kind == "line":
        words = [rng.choice(_SIE_WORDS) for _ in range(rng.randint(1, 8))]
        lines.insert(n, " ".join(words))
    else:
        lines[n] = lines[n] + " " + rng.choice(["9" * 5000, '"' + "\\" * 50_000, "{" * 1000])
    return kind, "\r\n".join(lines).encode("cp437", errors="replace")


# ----------------------------------------------------------------------------- money


def money_value(rng: random.Random) -> tuple[str, object]:
    """A value for :func:`~syncstate.money.parse_amount`: its class and the value."""
    kind = rng.choice(["nasty", "digits", "decimal", "text", "exponent"])
    if kind == "nasty":
        return kind, rng.choice(_NASTY_NUMBERS)
    if kind == "digits":
        sign = rng.choice(["", "-", "+", " "])
        whole = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 20)))
        frac = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 8)))
        return kind, sign + whole + (("." + frac) if rng.random() < 0.7 else "")
    if kind == "decimal":
        digits = rng.randint(1, 30)
        return kind, Decimal(rng.randrange(10**digits)).scaleb(-rng.randint(0, 12)) * rng.choice(
            [1, -1]
        )
    if kind == "exponent":
        mantissa = rng.choice(["1", "-1", "1.5", "9.99", "0"])
        return (
            kind,
            f"{mantissa}{rng.choice('eE')}{rng.choice(['', '+', '-'])}{rng.randint(0, 10**6)}",
        )
    alphabet = "0123456789.,-+eE _\u0661\u00a0xN\x00"
    return kind, "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))


# -------------------------------------------------------------------- command lines

#: hostile option values (plus file names of the workspace, see :func:`random_argv`)
CLI_VALUES = [
    "acme", "", "-", "--", "0", "-1", "1e999999", "9" * 5000, "2026-02-30", "2026-03-01",
    "9999-12-31", "nan", "a=b", "=x", "\x00", "\u00e9\u202e", "../../etc/passwd", "{}", "[]",
    "memory", "quickbooks", "time_entry", "all", "exported", "J-100",
]  # fmt: skip


def command_options(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> dict[tuple[str, ...], list[str]]:
    """Each (sub-)command path under ``parser`` with the option strings it accepts."""
    found: dict[tuple[str, ...], list[str]] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.update(command_options(sub, (*prefix, name)))
    if prefix:
        options = [o for a in parser._actions for o in a.option_strings]
        found[prefix] = [o for o in options if o not in ("-h", "--help")]
    return found


def random_argv(
    rng: random.Random,
    commands: dict[tuple[str, ...], list[str]],
    files: Sequence[str],
) -> list[str]:
    """A command line: a command path, up to six of its options (or ``--bogus``) with
    hostile values or ``files``, maybe ``--db FILE`` and ``--json``."""
    path = rng.choice(sorted(commands))
    options = commands[path]
    argv = list(path)
    for _ in range(rng.randint(0, 6)):
        argv.append(rng.choice([*options, "--bogus"]))
        if rng.random() < 0.5:
            if rng.random() < 0.5:
                argv.append(rng.choice(files))
            elif rng.random() < 0.8:
                argv.append(rng.choice(CLI_VALUES))
            else:
                argv.append(
                    "".join(chr(rng.randrange(32, 0x2FF)) for _ in range(rng.randint(0, 12)))
                )
    if rng.random() < 0.5 and "--db" in options:
        argv += ["--db", rng.choice(files)]
    if rng.random() < 0.5 and "--json" in options:
        argv.append("--json")
    return argv


def judge(status: int, out: str, err: str, *, allowed: Sequence[int], as_json: bool) -> str | None:
    """What is wrong with one CLI run, or None: ``traceback``, ``exit code`` (not in
    ``allowed``) or ``message`` (a refusal that is not one line / one JSON object)."""
    if "Traceback" in out + err:
        return "traceback"
    if status not in allowed:
        return "exit code"
    if status == 0 or not err.strip():
        return None
    last = err.strip().splitlines()[-1]
    if last.startswith("usage:") or ": error:" in last:
        return None
    if as_json:
        try:
            ok = isinstance(json.loads(last), dict)
        except ValueError:
            ok = False
        return None if ok else "message"
    return None if last.startswith("syncstate") else "message"
