"""Every SIE 4B label is known; what the specification leaves optional is warned, not refused."""

from __future__ import annotations

import datetime as dt
import shlex
import zlib

import pytest

from syncstate.adapters.backends.sie.parser import parse_sie, read_sie
from syncstate.adapters.backends.sie.spec import LABELS, MANDATORY, missing_labels
from syncstate.adapters.backends.sie.writer import write_sie
from syncstate.errors import SieParseError

HEAD = (
    "#FLAGGA 0\n"
    '#PROGRAM "Testprogram" 1.0\n'
    "#FORMAT PC8\n"
    "#GEN 20240102\n"
    "#SIETYP 4\n"
    '#FNAMN "Test AB"\n'
)
BODY = (
    "#RAR 0 20230101 20231231\n"
    '#KONTO 1930 "Bank"\n'
    '#KONTO 3001 "Försäljning"\n'
    "#IB 0 1930 100.00\n"
    "#UB 0 1930 150.00\n"
    "#RES 0 3001 -50.00\n"
)

#: one valid line for every label of SIE 4B (the voucher block holds the rows)
EVERY_LABEL = (
    "#FLAGGA 0\n"
    "#KSUMMA\n"
    '#PROGRAM "Testprogram" 1.0\n'
    "#FORMAT PC8\n"
    "#GEN 20240102 Kim\n"
    "#SIETYP 4\n"
    '#PROSA "Testfil med alla etiketter"\n'
    "#FTYP AB\n"
    "#FNR T1\n"
    "#ORGNR 556000-0000\n"
    "#BKOD 62010\n"
    '#ADRESS "Kim" "Gatan 1" "111 11  STAD" "08-1"\n'
    '#FNAMN "Test AB"\n'
    "#RAR 0 20230101 20231231\n"
    "#TAXAR 2024\n"
    "#OMFATTN 20231231\n"
    "#KPTYP BAS2014\n"
    "#VALUTA SEK\n"
    '#KONTO 1930 "Bank"\n'
    "#KTYP 1930 T\n"
    "#ENHET 1930 st\n"
    "#SRU 1930 7281\n"
    '#DIM 1 "Kostnadsställe"\n'
    '#UNDERDIM 21 "Avdelning" 1\n'
    '#OBJEKT 1 "10" "Nord"\n'
    "#IB 0 1930 100.00\n"
    "#UB 0 1930 100.00\n"
    '#OIB 0 1930 {1 "10"} 100.00\n'
    '#OUB 0 1930 {1 "10"} 100.00\n'
    "#RES 0 3001 0.00\n"
    "#PSALDO 0 202301 3001 {} 0.00\n"
    "#PBUDGET 0 202301 3001 {} 0.00\n"
    '#VER A 1 20230105 "Verifikation"\n'
    "{\n"
    "#BTRANS 1930 {} 5.00\n"
    "#RTRANS 1930 {} 10.00\n"
    "#TRANS 1930 {} 10.00\n"
    "#TRANS 3001 {} -10.00\n"
    "}\n"
)


def _ksumma(text: str) -> bytes:
    """``text`` (after its opening ``#KSUMMA``) with the closing ``#KSUMMA`` it needs.

    Every record adds its label and field values, without blanks, quotes and braces.
    """
    crc = 0
    for line in text.split("#KSUMMA\n", 1)[1].splitlines():
        if line not in ("{", "}"):
            fields = shlex.split(line.replace("{", " ").replace("}", " "))
            crc = zlib.crc32("".join(fields).encode("cp437"), crc)
    return (text + f"#KSUMMA {crc}\n").encode("cp437")


def test_every_sie_4b_label_is_known_and_read() -> None:
    result = read_sie(_ksumma(EVERY_LABEL))
    assert not result.errors, result.errors
    assert not result.warnings, result.warnings
    doc = result.document
    assert doc.unknown == ()
    assert doc.comments == ("Testfil med alla etiketter",)
    assert (doc.company_type, doc.industry_code, doc.tax_year) == ("AB", "62010", "2024")
    assert doc.balance_date == dt.date(2023, 12, 31)
    assert doc.ksumma is not None
    assert [r.kind for r in doc.vouchers[0].rows] == ["BTRANS", "RTRANS", "TRANS", "TRANS"]
    labels = {line.split()[0] for line in EVERY_LABEL.splitlines() if line.startswith("#")}
    assert labels == set(LABELS)


@pytest.mark.parametrize("line", ["#ORGNR", "#ORGNR   ", '#ORGNR ""', '#ORGNR "" 1'])
def test_an_empty_orgnr_is_a_warning_not_an_error(line: str) -> None:
    result = read_sie((HEAD + line + "\n" + BODY).encode("cp437"))
    assert not result.errors
    assert result.document.org_number == ""
    assert [(w.line, w.message) for w in result.warnings] == [
        (7, "#ORGNR has no organisation number; ignored")
    ]


@pytest.mark.parametrize(
    ("label", "what"),
    [
        ("#FNR", "company id"),
        ("#FTYP", "company type"),
        ("#BKOD", "industry code (SNI)"),
        ("#TAXAR", "tax year"),
        ("#OMFATTN", "date"),
        ("#KPTYP", "chart of accounts type"),
        ("#VALUTA", "currency"),
        ("#SIETYP", "SIE type"),
    ],
)
def test_optional_labels_without_a_value_are_warned_and_ignored(label: str, what: str) -> None:
    result = read_sie((HEAD + label + "\n" + BODY).encode("cp437"))
    assert not result.errors
    assert [w.message for w in result.warnings] == [f"{label} has no {what}; ignored"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("#FLAGGA", "#FLAGGA has no flag (SIE requires it); ignored"),
        ("#FORMAT", "#FORMAT has no format (SIE requires it); ignored"),
        ("#GEN", "#GEN has no date (SIE requires it); ignored"),
        ('#FNAMN ""', "#FNAMN has no company name (SIE requires it)"),
        ("#PROGRAM", "#PROGRAM has no program name (SIE requires it)"),
    ],
)
def test_mandatory_labels_without_a_value_are_warned(line: str, message: str) -> None:
    result = read_sie((HEAD + line + "\n" + BODY).encode("cp437"))
    assert not result.errors
    assert [w.message for w in result.warnings] == [message]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("#OMFATTN 2023-12-31", "#OMFATTN date '2023-12-31' is not a date"),
        ("#GEN 20241301", "#GEN date '20241301' is not a date"),
        ("#SIETYP fyra", "not a whole number"),
    ],
)
def test_a_malformed_value_is_still_an_error(line: str, message: str) -> None:
    with pytest.raises(SieParseError, match=message) as caught:
        parse_sie((HEAD + line + "\n" + BODY).encode("cp437"))
    assert caught.value.line == 7


def test_prosa_lines_are_kept_in_order_quoted_unquoted_or_empty() -> None:
    text = HEAD + '#PROSA "Första raden"\n#PROSA andra raden utan citat\n#PROSA\n#PROSA ""\n'
    doc = parse_sie((text + BODY).encode("cp437"))
    assert doc.comments == ("Första raden", "andra raden utan citat", "", "")
    assert doc.unknown == ()


def test_a_format_other_than_pc8_is_warned() -> None:
    text = HEAD.replace("#FORMAT PC8", "#FORMAT UTF-8") + "#FNR Åsa\n" + BODY
    result = read_sie(text.encode("utf-8"))
    assert not result.errors and result.encoding == "utf-8"
    assert result.document.format == "UTF-8" and result.document.company_id == "Åsa"
    assert [w.message for w in result.warnings] == ["#FORMAT UTF-8: SIE 4 defines only PC8 (CP437)"]


def test_missing_mandatory_labels_are_warnings_naming_each() -> None:
    text = "#FLAGGA 0\n#FORMAT PC8\n#SIETYP 4\n" + BODY.replace("#RAR 0 20230101 20231231\n", "")
    result = read_sie(text.encode("cp437"))
    assert not result.errors
    assert [w.message for w in result.warnings] == [
        f"no {label}: SIE requires it in a type 4E file"
        for label in ("#PROGRAM", "#GEN", "#FNAMN", "#RAR")
    ]
    assert all(w.line == 0 for w in result.warnings)


def test_a_4i_file_needs_no_rar_or_konto() -> None:
    text = HEAD + "#VER A 1 20240105\n{\n#TRANS 1930 {} 1.00\n#TRANS 3001 {} -1.00\n}\n"
    result = read_sie(text.encode("cp437"))
    assert result.document.variant == "4I" and result.problems == ()


def test_type_2_with_balances_needs_omfattn() -> None:
    text = HEAD.replace("#SIETYP 4", "#SIETYP 2") + BODY
    result = read_sie(text.encode("cp437"))
    assert [w.message for w in result.warnings] == ["no #OMFATTN: SIE requires it in a type 2 file"]
    assert not read_sie((text + "#OMFATTN 20231231\n").encode("cp437")).warnings


def test_missing_labels_follow_the_specification_table() -> None:
    assert MANDATORY["4I"] == ("#FLAGGA", "#PROGRAM", "#FORMAT", "#GEN", "#FNAMN")
    assert missing_labels("4I", set(), has_balances=False) == list(MANDATORY["4I"])
    assert missing_labels("1", set(LABELS), has_balances=True) == []
    assert "#OMFATTN" in missing_labels("3", set(), has_balances=True)
    assert "#OMFATTN" not in missing_labels("3", set(), has_balances=False)
    assert "#OMFATTN" not in missing_labels("4E", set(), has_balances=True)


def test_new_identification_fields_survive_writing_and_reading() -> None:
    doc = parse_sie(_ksumma(EVERY_LABEL))
    for ksumma in (False, True):
        again = parse_sie(write_sie(doc, ksumma=ksumma))
        assert (again.comments, again.company_type, again.industry_code) == (
            doc.comments,
            doc.company_type,
            doc.industry_code,
        )
        assert (again.balance_date, again.tax_year) == (doc.balance_date, doc.tax_year)


def test_not_sie_text_gets_no_missing_label_warnings() -> None:
    result = read_sie(b"<!DOCTYPE html>\n<html><body>404</body></html>\n")
    assert [(p.line, p.severity) for p in result.problems] == [(1, "error")]
    assert read_sie(b"\n\n").problems[0].message == "the file is empty: not an SIE file"
    assert len(read_sie(b"\n\n").problems) == 1
