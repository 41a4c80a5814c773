"""Reading untrusted repost JSON: each class of bad bytes is one error naming file and place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncstate.errors import InterchangeError
from syncstate.services.json_input import MAX_DEPTH, load_json, parse_json
from syncstate.services.repost_io import receivables_from_json, wip_from_json

DOC = {
    "period_start": "2024-03-01",
    "documents": [
        {"id": "INV-1", "kind": "invoice", "client": "A", "date": "2024-01-10", "amount": "10.00"}
    ],
}


def _raw(amount: str) -> bytes:
    """DOC with its amount replaced by a raw JSON literal."""
    return json.dumps(DOC, indent=1).replace('"10.00"', amount).encode()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            b'{"period_start": "2024-03-01",\n "documents": [\xff]}',
            "not UTF-8 text: byte 0xff at line 2",
        ),
        (b'{"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", f"nested more than {MAX_DEPTH}"),
        (b'{"a": ' + b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1) + b"}", "nested more"),
        (_raw("9" * 4301), "a number of 4301 digits (at most 40) at line 9 column 14"),
        (_raw("1" + "0" * 41 + ".5"), "a number of 44 characters"),
        (_raw("NaN"), "NaN is not a JSON value at line 9"),
        (_raw("-Infinity"), "-Infinity is not a JSON value"),
        (b'{"documents": [{"id": "\\ud800"}]}', "field 'documents[0].id': an unpaired surrogate"),
        (b'{"documents": [}', "not JSON: Expecting value at line 1 column 16"),
        (b"", "not JSON"),
    ],
)
def test_bad_bytes_are_one_error_naming_the_file_and_where(raw: bytes, message: str) -> None:
    with pytest.raises(InterchangeError) as caught:
        parse_json(raw, source="in.json")
    text = str(caught.value)
    assert text.startswith("in.json: ") and message in text and "\n" not in text


def test_a_utf8_bom_is_skipped_and_a_valid_document_reads(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(DOC).encode())
    start, docs = receivables_from_json(load_json(path), source=str(path))
    assert (start.isoformat(), str(docs[0].amount)) == ("2024-03-01", "10.00")


def test_an_unreadable_file_is_an_interchange_error(tmp_path: Path) -> None:
    with pytest.raises(InterchangeError, match="cannot read"):
        load_json(tmp_path)  # a directory


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ('"1e999999"', "exponent notation"),
        ('"99999999999999999999999999999.99"', "out of range"),
        ('"10.001"', "more than 2 decimal places"),
        ("10.5", "is a float"),
        ("1" + "0" * 20, "out of range"),
    ],
)
def test_amounts_name_the_document_and_field(amount: str, message: str) -> None:
    with pytest.raises(InterchangeError) as caught:
        receivables_from_json(parse_json(_raw(amount), source="l.json"), source="l.json")
    assert "l.json: document INV-1: field 'documents[0].amount'" in str(caught.value)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("quantity", "0.0000001", "more than 6 decimal places"),
        ("amount", "1.001", "more than 2 decimal places"),
        ("date", "9999-12-31", "after 9998-12-31"),
        ("date", "20240101", "not an ISO date"),
        ("id", "a\nb\x1b", None),
    ],
)
def test_wip_fields_are_checked_and_messages_stay_on_one_line(
    field: str, value: str, message: str | None
) -> None:
    entry = {"id": "W1", "type": "time", "date": "2024-01-01", "amount": "1.00", field: value}
    data = {"period_start": "2024-03-01", "entries": [entry, {"id": "W2"}]}
    with pytest.raises(InterchangeError) as caught:
        wip_from_json(data, source="w.json")
    text = str(caught.value)
    assert "\n" not in text and "\x1b" not in text
    if message is not None:
        assert f"field 'entries[0].{field}'" in text and message in text
    else:  # the second entry lacks its date; the first one's odd id was read as given
        assert "document W2: field 'entries[1].date': is required" in text


def test_load_json_accepts_a_plain_string_path(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text('{"period_start": "2024-03-01"}')
    assert load_json(str(path)) == load_json(path) == {"period_start": "2024-03-01"}
    with pytest.raises(InterchangeError, match="cannot read"):
        load_json(str(tmp_path / "missing.json"))
