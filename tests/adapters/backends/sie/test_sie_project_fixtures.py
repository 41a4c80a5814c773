"""The project's own SIE files (tests/fixtures/sie): the SIE suite without ../shared.

Hand-made files covering what the real files in ../shared cover (see
``test_sie_fixtures.py``, the second layer, which runs only where ../shared
exists): CP437 and UTF-8 / ISO-8859-15 encodings, a correct and a wrong
``#KSUMMA``, unbalanced vouchers, malformed rows, a Fortnox-like export with
an empty ``#ORGNR`` and ``#OMFATTN``, ``#PROSA``/``#FTYP``/``#BKOD``/``#TAXAR``
and several ``#RAR`` years. The companies and amounts are invented.
"""

from __future__ import annotations

import datetime as dt
import json
import shlex
import zlib
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from syncstate.adapters.backends.sie.check import check_sie
from syncstate.adapters.backends.sie.model import SieDocument
from syncstate.adapters.backends.sie.parser import decode_sie, parse_sie, read_sie
from syncstate.adapters.backends.sie.writer import write_sie
from syncstate.cli import main
from syncstate.errors import InputError, SieParseError

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "sie"
FORTNOX = FIXTURES / "fortnox_like_4e.se"
KSUMMA = FIXTURES / "ksumma_sie1.se"
UNBALANCED = FIXTURES / "unbalanced_4i.si"
MALFORMED = FIXTURES / "malformed_rows.si"
SIE2 = FIXTURES / "sie2_prosa_ftyp_bkod.se"
KASSA = ("kassa_pc8.si", "kassa_utf8_declared_pc8.si", "kassa_iso8859_15_declared_pc8.si")


def _moves(doc: SieDocument, objects: bool = False) -> dict[tuple[str, str], Decimal]:
    """Sum of ``#TRANS`` amounts per (account, YYYYMM), or per (account, object) pair."""
    moved: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for voucher in doc.vouchers:
        for row in voucher.transactions:
            if objects:
                for dim, code in row.objects:
                    moved[row.account, f"{dim}:{code}"] += row.amount
            else:
                moved[row.account, voucher.date.strftime("%Y%m")] += row.amount
    return moved


# ----------------------------------------------------------- Fortnox-like 4E


def test_fortnox_like_export_with_empty_orgnr_is_read_with_one_warning() -> None:
    result = read_sie(FORTNOX)
    doc = result.document
    assert not result.errors and result.encoding == "cp437"
    assert [(w.line, w.message) for w in result.warnings] == [
        (7, "#ORGNR has no organisation number; ignored")
    ]
    assert doc.unknown == ()
    assert (doc.sie_type, doc.variant, doc.program) == (4, "4E", ("Fortnox", "3.0"))
    assert doc.company_name == "Rödbergs Snickeri AB"
    assert (doc.org_number, doc.company_id) == ("", "471100")
    assert doc.address == ("", "", "", "")
    assert doc.balance_date == dt.date(2023, 12, 31)
    assert (doc.tax_year, doc.chart_type, doc.currency) == ("2024", "BAS2014", "SEK")
    assert [(y.index, y.start.isoformat(), y.end.isoformat()) for y in doc.fiscal_years] == [
        (0, "2023-01-01", "2023-12-31"),
        (-1, "2022-01-01", "2022-12-31"),
    ]
    assert len(doc.accounts) == 8 and all(a.sru for a in doc.accounts)
    assert doc.accounts[1].name == "Företagskonto/checkkonto/affärskonto"
    assert [o.name for o in doc.objects] == ["Köksrenovering Åkersberga"]
    assert len(doc.vouchers) == 5 and doc.transaction_count == 13
    assert all(v.total == 0 for v in doc.vouchers)


def test_fortnox_like_rows_keep_signatures_and_corrections() -> None:
    doc = parse_sie(FORTNOX)
    fixed = doc.vouchers[-1]
    assert (fixed.series, fixed.number, fixed.sign) == ("A", "3", "Anna Andersson")
    assert fixed.reg_date == dt.date(2023, 4, 12)
    assert [(r.kind, r.amount, r.sign) for r in fixed.rows[:2]] == [
        ("BTRANS", Decimal("-800.00"), "Anna Andersson"),
        ("RTRANS", Decimal("-1000.00"), "Anna Andersson"),
    ]
    first = doc.vouchers[0].rows[1]
    assert (first.objects, first.date, first.text, first.quantity) == (
        (("6", "P100"),),
        None,
        "",
        Decimal(0),
    )


def test_fortnox_like_year_zero_reconciles() -> None:
    doc = parse_sie(FORTNOX)
    moved: dict[str, Decimal] = defaultdict(Decimal)
    for (account, _), amount in _moves(doc).items():
        moved[account] += amount
    balance = {(b.kind, b.year, b.account): b.amount for b in doc.balances}
    for kind, year, account in balance:
        if kind == "UB" and year == 0:
            opening = balance.get(("IB", 0, account), Decimal(0))
            assert opening + moved[account] == balance[kind, year, account], account
        if kind == "RES":
            assert moved[account] == balance[kind, year, account], account
        if kind == "IB" and year == 0:
            assert balance[kind, year, account] == balance["UB", -1, account]
    monthly, per_object = _moves(doc), _moves(doc, objects=True)
    for p in doc.period_balances:
        if p.kind == "PSALDO" and not p.objects:
            assert monthly[p.account, p.period] == p.amount
        elif p.kind == "PSALDO":
            ((dim, code),) = p.objects
            assert per_object[p.account, f"{dim}:{code}"] == p.amount


def test_sie_check_reports_the_fortnox_like_export_as_valid(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["sie", "check", "--json", str(FORTNOX)]) == 0
    (entry,) = json.loads(capsys.readouterr().out)["files"]
    assert entry["valid"] is True and entry["sie_type"] == "4E"
    assert entry["org_number"] == "" and entry["ksumma"] == "absent"
    assert (entry["accounts"], entry["vouchers"], entry["transactions"]) == (8, 5, 13)
    assert entry["unbalanced_vouchers"] == [] and entry["undeclared_accounts"] == []
    assert [(p["line"], p["severity"]) for p in entry["problems"]] == [(7, "warning")]
    assert main(["sie", "check", str(FORTNOX)]) == 0
    out = capsys.readouterr().out
    assert f"{FORTNOX}: valid\n" in out and "(no org number)" in out
    assert f"{FORTNOX}:7: warning: #ORGNR has no organisation number" in out


# ------------------------------------------------------------------ encodings


@pytest.mark.parametrize(
    ("name", "encoding"),
    [(KASSA[0], "cp437"), (KASSA[1], "utf-8"), (KASSA[2], "iso-8859-15")],
)
def test_encoding_is_detected_and_a_wrong_pc8_declaration_warned(name: str, encoding: str) -> None:
    result = read_sie(FIXTURES / name)
    doc = result.document
    assert result.encoding == encoding and not result.errors
    assert doc.format == "PC8" and doc.variant == "4I"
    assert doc.company_name == "Café Ängsbacken AB" and doc.generated_by == "Märta Öberg"
    assert doc.vouchers[1].text == "Kortköp i kiosken å bryggan"
    assert [v.date for v in doc.vouchers] == [dt.date(2024, 2, 29)] * 2
    assert doc.transaction_count == 7 and all(v.total == 0 for v in doc.vouchers)
    warned = [w.message for w in result.warnings]
    if encoding == "cp437":
        assert warned == []
    else:
        assert warned == [
            f"the file declares #FORMAT PC8 (CP437) but is encoded as {encoding}; "
            f"read as {encoding}"
        ]


def test_the_same_content_in_three_encodings_reads_the_same() -> None:
    texts = {decode_sie((FIXTURES / name).read_bytes())[0] for name in KASSA}
    assert len(texts) == 1
    docs = [parse_sie(FIXTURES / name) for name in KASSA]
    assert docs[0] == docs[1] == docs[2]


def test_utf8_declared_in_format_is_read_as_utf8() -> None:
    result = read_sie(FIXTURES / "kassa_utf8.si")
    assert result.encoding == "utf-8" and not result.errors
    assert result.document.format == "UTF-8"
    assert [w.message for w in result.warnings] == ["#FORMAT UTF-8: SIE 4 defines only PC8 (CP437)"]
    pc8 = parse_sie(FIXTURES / KASSA[0])
    assert result.document.vouchers == pc8.vouchers
    assert result.document.company_name == pc8.company_name


# --------------------------------------------------------------------- KSUMMA


def _independent_ksumma(path: Path) -> tuple[int, int]:
    """(CRC over the records between the two ``#KSUMMA`` lines, the value the file declares).

    Computed here without the reader: each record adds its label and field values,
    without separators and quotes (the rule the real files follow).
    """
    lines = path.read_bytes().decode("cp437").splitlines()
    opening = lines.index("#KSUMMA")
    crc = 0
    for line in lines[opening + 1 : -1]:
        crc = zlib.crc32("".join(shlex.split(line)).encode("cp437"), crc)
    label, declared = lines[-1].split()
    assert label == "#KSUMMA"
    return crc, int(declared)


def test_correct_ksumma_is_verified() -> None:
    computed, declared = _independent_ksumma(KSUMMA)
    assert computed == declared
    result = read_sie(KSUMMA)
    assert result.problems == () and result.document.ksumma == declared
    doc = result.document
    assert (doc.sie_type, doc.variant, doc.program) == (1, "1", ("Bokföring Lätt", "4.2"))
    assert doc.address[2] == "701 12  ÖREBRO"  # spaces inside quotes are kept
    assert len(doc.accounts) == 4 and doc.accounts[0].sru == ("7281",)
    assert check_sie(KSUMMA).ksumma == "valid"


def test_one_changed_amount_fails_the_ksumma(tmp_path: Path) -> None:
    _, declared = _independent_ksumma(KSUMMA)
    tampered = tmp_path / "tampered.se"
    tampered.write_bytes(KSUMMA.read_bytes().replace(b"3000.00", b"3000.01", 1))
    with pytest.raises(SieParseError, match=f"#KSUMMA is {declared} but") as caught:
        parse_sie(tampered)
    assert caught.value.line == len(tampered.read_bytes().splitlines())
    check = check_sie(tampered)
    assert not check.valid and check.ksumma == "invalid"


def test_files_without_ksumma_say_so() -> None:
    assert check_sie(FORTNOX).ksumma == "absent"


# --------------------------------------------------------- unbalanced vouchers


def test_unbalanced_vouchers_are_errors_naming_each_voucher_and_line() -> None:
    with pytest.raises(SieParseError) as caught:
        parse_sie(UNBALANCED)
    error = caught.value
    assert error.line == 13 and "L 2 (2024-04-25)" in str(error) and "sums to 0.01" in str(error)
    assert isinstance(error, InputError)
    result = read_sie(UNBALANCED)
    assert [(e.line, e.message) for e in result.errors] == [
        (13, "voucher L 2 (2024-04-25) does not balance: sums to 0.01"),
        (23, "voucher L 4 (2024-04-26) does not balance: sums to 100.00"),
    ]


def test_unbalanced_vouchers_can_be_allowed_as_warnings() -> None:
    result = read_sie(UNBALANCED, allow_unbalanced=True)
    assert not result.errors and len(result.warnings) == 2
    doc = result.document
    assert [v.total for v in doc.vouchers] == [
        Decimal(0),
        Decimal("0.01"),
        Decimal(0),
        Decimal("100.00"),
    ]
    benefit = doc.vouchers[3].rows[0]
    assert benefit.objects == (("1", "10"), ("7", "17")) and benefit.text == "Förmån, Kim Berg"
    check = check_sie(UNBALANCED)
    assert not check.valid
    assert [(v["number"], v["line"], v["sum"]) for v in check.unbalanced_vouchers] == [
        ("2", 13, "0.01"),
        ("4", 23, "100.00"),
    ]


# -------------------------------------------------------------- malformed rows


def test_malformed_rows_are_each_an_error_with_its_line() -> None:
    result = read_sie(MALFORMED)
    assert [(e.line, e.message) for e in result.errors] == [
        (9, "#TRANS needs account, object list and amount"),
        (14, "amount '100,00' is not a decimal number"),
        (17, "voucher date '20241305' is not a date (YYYYMMDD)"),
        (24, "object list '{' is not closed"),
        (29, "object list must hold (dimension, object) pairs"),
        (32, "#TRANS outside a voucher block"),
    ]
    assert not result.warnings
    # only the voucher without a broken row is kept
    assert [v.number for v in result.document.vouchers] == ["6"]


def test_the_first_malformed_row_is_the_parse_error() -> None:
    with pytest.raises(SieParseError) as caught:
        parse_sie(MALFORMED)
    assert caught.value.line == 9 and caught.value.text == "#TRANS 1930"
    assert f"{MALFORMED}:9:" in str(caught.value)
    assert len(caught.value.problems) == 6


def test_sie_check_lists_every_malformed_row(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sie", "check", "--json", str(MALFORMED), str(FORTNOX)]) == 1
    bad, good = json.loads(capsys.readouterr().out)["files"]
    assert not bad["valid"] and good["valid"]
    assert [p["line"] for p in bad["problems"] if p["severity"] == "error"] == [
        9,
        14,
        17,
        24,
        29,
        32,
    ]


def test_text_that_is_not_sie_is_rejected(tmp_path: Path) -> None:
    page = tmp_path / "page.se"
    page.write_bytes(b"<!DOCTYPE html>\n<html><body><h1>Not Found</h1></body></html>\n")
    with pytest.raises(SieParseError, match="not an SIE file") as caught:
        parse_sie(page)
    assert caught.value.line == 1 and "<!DOCTYPE" in caught.value.text
    check = check_sie(page)
    assert not check.valid and check.sie_type is None and len(check.problems) == 1


# ------------------------------------------- #PROSA, #FTYP, #BKOD, #TAXAR, #RAR


def test_sie2_identification_labels_are_kept_not_unknown() -> None:
    result = read_sie(SIE2)
    assert result.problems == ()
    doc = result.document
    assert doc.unknown == ()
    assert doc.comments == ("Bokslut ej upprättat", "Kontoplan enligt BAS 2023", "")
    assert (doc.company_type, doc.industry_code, doc.tax_year) == ("EK", "43320", "2024")
    assert doc.balance_date == dt.date(2023, 3, 31)
    assert (doc.sie_type, doc.variant, doc.chart_type) == (2, "2", "BAS2023")
    assert doc.company_name == "Båtklubben Bryggan ek. för."
    assert doc.address == ("Siv Lund", "Bryggvägen 4", "123 45  FISKSÄTRA", "08-123 45 67")
    assert {a.number: a.type for a in doc.accounts} == {
        "1930": "T",
        "2083": "S",
        "3890": "I",
        "5060": "K",
    }
    kinds = [p.kind for p in doc.period_balances]
    assert (kinds.count("PSALDO"), kinds.count("PBUDGET")) == (3, 2)


def test_three_broken_fiscal_years_follow_each_other() -> None:
    doc = parse_sie(SIE2)
    assert [y.index for y in doc.fiscal_years] == [0, -1, -2]
    year = doc.year(0)
    assert year is not None
    assert (year.start, year.end) == (dt.date(2022, 7, 1), dt.date(2023, 6, 30))
    for index in (0, -1):
        later, earlier = doc.year(index), doc.year(index - 1)
        assert later is not None and earlier is not None
        assert later.start == earlier.end + dt.timedelta(days=1)
    closing = {(b.year, b.account): b.amount for b in doc.balances if b.kind == "UB"}
    opening = {(b.year, b.account): b.amount for b in doc.balances if b.kind == "IB"}
    result: dict[int, Decimal] = defaultdict(Decimal)
    for b in doc.balances:
        if b.kind == "RES":
            result[b.year] += b.amount
    for index in (0, -1):
        # the bank account carries over; equity takes the year's result with it
        assert opening[index, "1930"] == closing[index - 1, "1930"]
        assert opening[index, "2083"] == closing[index - 1, "2083"] + result[index - 1]


@pytest.mark.parametrize("path", [FORTNOX, SIE2, KSUMMA], ids=lambda p: p.name)
def test_what_is_read_is_written_and_read_back_equal(path: Path) -> None:
    doc = parse_sie(path)
    for ksumma in (False, True):
        again = parse_sie(write_sie(doc, ksumma=ksumma))
        assert again.ksumma is not None if ksumma else again.ksumma is None
        assert again == SieDocument(**{**_fields(doc), "ksumma": again.ksumma})


def _fields(doc: SieDocument) -> dict[str, object]:
    import attrs

    return attrs.asdict(doc, recurse=False)


def test_every_project_fixture_is_covered_here() -> None:
    covered = {FORTNOX.name, KSUMMA.name, UNBALANCED.name, MALFORMED.name, SIE2.name, *KASSA}
    covered.add("kassa_utf8.si")
    assert {p.name for p in FIXTURES.iterdir()} == covered
