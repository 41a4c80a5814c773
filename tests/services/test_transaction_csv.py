"""Usage logs and payments from CSV: every bad line is one error naming the file and line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from syncstate.errors import InputError
from syncstate.services.transaction_csv import read_transactions_csv

HEADER = "type,id,client,date,resource,quantity,unit_price,amount,currency,method"
GOOD = [
    "usage_log,u1,ann,2024-03-01,room,2,40.00,,USD,",
    "payment,p1,ann,2024-03-01,,,,80.00,USD,card",
]


def _file(tmp_path: Path, *lines: str, raw: bytes = b"") -> Path:
    path = tmp_path / "tx.csv"
    path.write_bytes(raw or ("\n".join([HEADER, *lines]) + "\n").encode())
    return path


def test_a_good_file_reads_every_record_with_exact_amounts(tmp_path: Path) -> None:
    largest = "payment,p2,bo,2024-03-02,,,,999999999999999.99,USD,"
    records = read_transactions_csv(_file(tmp_path, *GOOD, "", largest), "acme")
    assert [r.key.source_id for r in records] == ["u1", "p1", "p2"]
    assert records[0].data["amount"] == "80.00"
    assert Decimal(records[2].data["amount"]) == Decimal("999999999999999.99")


def test_a_utf8_bom_is_skipped(tmp_path: Path) -> None:
    raw = b"\xef\xbb\xbf" + ("\n".join([HEADER, *GOOD]) + "\n").encode()
    assert len(read_transactions_csv(_file(tmp_path, raw=raw), "acme")) == 2


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("usage_log,u2,bob,2024-03-02,laser,1e999999,1,,USD,", "exponent notation"),
        ("usage_log,u2,bob,2024-03-02,laser,9999999999999999,1,,USD,", "out of range"),
        ("usage_log,u2,bob,2024-03-02,laser,99999999,99999999,,USD,", "quantity × unit price"),
        ("usage_log,u2,bob,2024-03-02,laser,0.0000001,1,,USD,", "more than 6 decimal places"),
        ("payment,p2,bob,2024-03-02,,,,80.001,USD,", "more than 2 decimal places"),
        ("payment,p2,bob,2024-03-02,,,,80.5,JPY,", "more than 0 decimal places"),
        ("payment,p2,bob,2024-03-02,,,,NaN,USD,", "not a decimal number"),
        ("payment,p2,bob,2024-03-02,,,,,USD,", "not a decimal number"),
        ("payment,p2,bob,2024-02-30,,,,1.00,USD,", "not an ISO date"),
        ("payment,p2,bob,2024-03-02,,,,1.00,US,", "three-letter"),
        ("refund,p2,bob,2024-03-02,,,,1.00,USD,", "'refund' is not usage_log or payment"),
        ("usage_log,u2,bob,2024-03-02,,1,1,,USD,", "bookable resource is empty"),
        ("payment,p2,bob", "3 field(s), the header has 10"),
        ("payment,p2,bob,2024-03-02,,,,1.00,USD,,extra", "11 field(s), the header has 10"),
        ('payment,p2,bob,2024-03-02,,,,1.00,USD,"' + "x" * 200_000 + '"', "not valid CSV"),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_returned(
    tmp_path: Path, line: str, message: str
) -> None:
    with pytest.raises(InputError) as caught:
        read_transactions_csv(_file(tmp_path, *GOOD, line), "acme")
    text = str(caught.value)
    assert text.startswith(f"{tmp_path / 'tx.csv'}:4: ") and message in text, text
    assert "\n" not in text and len(text) < 400


def test_bytes_that_are_not_utf8_name_their_line(tmp_path: Path) -> None:
    raw = ("\n".join([HEADER, *GOOD]) + "\n").encode() + b"payment,p\xe9,bob\n"
    with pytest.raises(InputError, match=r"tx\.csv:4: not UTF-8 text \(byte 0xe9\)"):
        read_transactions_csv(_file(tmp_path, raw=raw), "acme")


def test_a_header_without_the_required_columns_is_line_one(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"tx\.csv:1: missing column\(s\) currency"):
        read_transactions_csv(_file(tmp_path, raw=b"type,id,client,date\n"), "acme")
    with pytest.raises(InputError, match="missing column"):
        read_transactions_csv(_file(tmp_path, raw=b"\n"), "acme")
