"""SIE reading and writing: generated edge cases, round trips and fuzzing."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncstate.adapters.backends.sie.model import (
    SieAccount,
    SieBalance,
    SieDocument,
    SieFiscalYear,
    SieTrans,
    SieVoucher,
)
from syncstate.adapters.backends.sie.parser import parse_sie, read_sie
from syncstate.adapters.backends.sie.writer import write_sie
from syncstate.errors import InputError, SieParseError

HEAD = "#FLAGGA 0\n#FORMAT PC8\n#SIETYP 4\n#RAR 0 20240101 20241231\n"


def _write(tmp_path: Path, body: str, name: str = "edge.se") -> Path:
    path = tmp_path / name
    path.write_bytes((HEAD + body).encode("cp437"))
    return path


def test_quoted_strings_with_escapes_and_object_lists(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        '#VER "A" "7" 20240105 "Säljer \\"Bästa\\" \\\\ varan" 20240106 "Kim"\n'
        "{\n"
        '\t#TRANS 1930 {"1" "Nord" 6 "P 1"} 100.50 20240105 "rad ett" 2 "Kim"\n'
        "\t#TRANS 3010 {} -100.50\n"
        "}\n",
    )
    voucher = parse_sie(path).vouchers[0]
    assert voucher.text == 'Säljer "Bästa" \\ varan'
    assert (voucher.reg_date, voucher.sign) == (dt.date(2024, 1, 6), "Kim")
    first = voucher.rows[0]
    assert first.objects == (("1", "Nord"), ("6", "P 1"))
    assert (first.amount, first.text, first.quantity, first.sign) == (
        Decimal("100.50"),
        "rad ett",
        Decimal(2),
        "Kim",
    )


def test_rtrans_and_btrans_are_kept_but_only_trans_counts(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "#VER A 1 20240105 x\n{\n"
        "\t#BTRANS 1930 {} 50.00\n\t#RTRANS 1910 {} 50.00\n"
        "\t#TRANS 1910 {} 50.00\n\t#TRANS 3010 {} -50.00\n}\n",
    )
    voucher = parse_sie(path).vouchers[0]
    assert [r.kind for r in voucher.rows] == ["BTRANS", "RTRANS", "TRANS", "TRANS"]
    assert voucher.total == 0 and len(voucher.transactions) == 2


def test_unknown_labels_are_kept_with_a_warning(tmp_path: Path) -> None:
    result = read_sie(_write(tmp_path, '#NYTT 1 "två"\n#KONTO 1930 Bank\n'))
    assert not result.errors
    assert result.document.unknown[0].label == "#NYTT"
    assert result.document.unknown[0].fields == ("1", "två")
    assert any("#NYTT" in w.message and w.line == 5 for w in result.warnings)


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("#TRANS 1930 {} 1.00\n", 5, "outside a voucher"),
        ("#VER A 1 20240105 x\n{\n\t#TRANS 1930 {} 1.00\n", 5, "not closed"),
        ("#VER A 1 20241305 x\n{\n}\n", 5, "not a date"),
        ("#VER A 1 20240105 x\n{\n\t#TRANS 1930 {} 1,00\n}\n", 7, "not a decimal"),
        ("#VER A 1 20240105 x\n{\n\t#TRANS 1930 {1} 1.00\n}\n", 7, "pairs"),
        ('#VER A 1 20240105 x\n{\n\t#TRANS 1930 {"1" 1.00\n}\n', 7, "not closed"),
        ('#KONTO 1930 "Bank\n', 5, "unterminated"),
        ("#VER A 1 20240105 x\n#TRANS 1930 {} 1.00\n", 6, "followed by a '{'"),
        ("#KSUMMA\n#KONTO 1930 Bank\n", 6, "without a closing"),
        ("#KSUMMA 12\n", 5, "without an opening"),
        ("#SIETYP 9\n", 5, "not 1, 2, 3 or 4"),
        ("}\n", 5, "without an open voucher"),
        ("KONTO 1930\n", 5, "expected an SIE label"),
    ],
)
def test_malformed_lines_name_file_and_line(
    tmp_path: Path, body: str, line: int, message: str
) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(SieParseError, match=message) as caught:
        parse_sie(path)
    assert caught.value.line == line
    assert caught.value.file == str(path)


def test_empty_file_and_missing_file_are_parse_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty.se"
    empty.write_bytes(b"\n\n")
    with pytest.raises(SieParseError, match="empty"):
        parse_sie(empty)
    with pytest.raises(SieParseError, match="cannot read"):
        parse_sie(tmp_path / "missing.se")


def test_crlf_line_ends_and_a_utf8_bom_are_read(tmp_path: Path) -> None:
    path = tmp_path / "crlf.se"
    text = (
        HEAD + '#FNAMN "Åkeri AB"\n#VER A 1 20240105 x\n{\n#TRANS 1930 {} 1\n#TRANS 3010 {} -1\n}\n'
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    result = read_sie(path)
    assert not result.errors and result.encoding == "utf-8"
    assert result.document.company_name == "Åkeri AB"
    assert result.document.transaction_count == 2


def test_written_ksumma_is_verified_on_reading(tmp_path: Path) -> None:
    doc = _sample_document()
    data = write_sie(doc, ksumma=True)
    assert parse_sie(data).ksumma is not None
    tampered = data.replace(b"-250.00", b"-250.01").replace(b"250.00", b"250.01", 1)
    with pytest.raises(SieParseError, match="#KSUMMA"):
        parse_sie(tampered)


def test_4i_leaves_balances_out(tmp_path: Path) -> None:
    doc = _sample_document()
    read_back = parse_sie(write_sie(doc, variant="4I"))
    assert read_back.variant == "4I" and not read_back.balances
    assert read_back.vouchers == doc.vouchers


def test_text_cp437_cannot_hold_is_refused_on_writing() -> None:
    doc = SieDocument(company_name="Łódź Sp. z o.o.")
    with pytest.raises(InputError, match="CP437"):
        write_sie(doc)


def _sample_document() -> SieDocument:
    return SieDocument(
        program=("syncstate", "1"),
        company_name="Test AB",
        org_number="556000-0000",
        fiscal_years=(SieFiscalYear(0, dt.date(2024, 1, 1), dt.date(2024, 12, 31)),),
        accounts=(SieAccount(number="1930", name="Bank", type="T"),),
        balances=(SieBalance(kind="IB", year=0, account="1930", amount=Decimal("10.00")),),
        vouchers=(
            SieVoucher(
                series="A",
                number="1",
                date=dt.date(2024, 1, 5),
                text="Hyra",
                rows=(
                    SieTrans("TRANS", "1930", (), Decimal("250.00")),
                    SieTrans("TRANS", "5010", (("1", "Nord"),), Decimal("-250.00")),
                ),
            ),
        ),
    )


# ------------------------------------------------------------- properties

# Printable ASCII and the Swedish letters: CP437 bytes above 0x9F without any
# Swedish letter look like ISO-8859-15 to the encoding detection (by design).
_text = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=126) | st.sampled_from("åäöÅÄÖéü"),
    max_size=12,
)
_code = st.text(alphabet="0123456789ABCxyz", min_size=1, max_size=6)
_amount = st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False)
_date = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31))
_row = st.builds(
    SieTrans,
    kind=st.sampled_from(["TRANS", "TRANS", "RTRANS", "BTRANS"]),
    account=_code,
    objects=st.lists(st.tuples(_code, _text), max_size=2).map(tuple),
    amount=_amount,
    date=st.none() | _date,
    text=_text,
    quantity=st.none() | _amount,
    sign=_text,
)
_voucher = st.builds(
    SieVoucher,
    series=_text,
    number=_text,
    date=_date,
    text=_text,
    reg_date=st.none() | _date,
    sign=_text,
    rows=st.lists(_row, max_size=4).map(tuple),
)
_document = st.builds(
    SieDocument,
    program=st.tuples(_text, _text),
    company_name=_text,
    org_number=_text,
    company_type=_text,
    industry_code=_text,
    tax_year=_text,
    balance_date=st.none() | _date,
    comments=st.lists(_text, max_size=2).map(tuple),
    accounts=st.lists(
        st.builds(SieAccount, number=_code, name=_text, type=st.sampled_from(["", "T", "S"])),
        max_size=3,
        unique_by=lambda a: a.number,
    ).map(tuple),
    balances=st.lists(
        st.builds(
            SieBalance,
            kind=st.sampled_from(["IB", "UB", "RES"]),
            year=st.integers(-1, 0),
            account=_code,
            amount=_amount,
        ),
        max_size=3,
    ).map(tuple),
    vouchers=st.lists(_voucher, max_size=3).map(tuple),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=_document, ksumma=st.booleans())
def test_what_is_written_reads_back_equal(doc: SieDocument, ksumma: bool) -> None:
    result = read_sie(write_sie(doc, variant="4E", ksumma=ksumma), allow_unbalanced=True)
    assert not result.errors, result.errors
    read_back = result.document
    if not ksumma:
        assert read_back == doc
    else:
        assert read_back.ksumma is not None
        assert read_back == SieDocument(**{**_fields(doc), "ksumma": read_back.ksumma})


def _fields(doc: SieDocument) -> dict[str, object]:
    import attrs

    return attrs.asdict(doc, recurse=False)


_sie_words = st.sampled_from(
    [
        "#VER",
        "#TRANS",
        "#KSUMMA",
        "#RAR",
        "#KONTO",
        "#PSALDO",
        "#IB",
        "{",
        "}",
        '"',
        "{}",
        "\\",
        '\\"',
        "1930",
        "-1.5",
        "20240101",
        "0",
        "#SIETYP",
        "\t",
        " ",
        "\n",
        "\r",
        "é",
        "x",
    ]
)


@settings(max_examples=300, deadline=2000)
@given(parts=st.lists(_sie_words, max_size=60))
def test_structured_garbage_raises_only_sie_parse_errors(parts: list[str]) -> None:
    data = ("#FLAGGA 0\n" + " ".join(parts)).encode("utf-8")
    try:
        parse_sie(data, file="fuzz.se")
    except SieParseError as exc:
        assert exc.file == "fuzz.se"


@settings(max_examples=300, deadline=2000)
@given(data=st.binary(max_size=400))
def test_random_bytes_raise_only_sie_parse_errors(data: bytes) -> None:
    with contextlib.suppress(SieParseError):
        parse_sie(data, file="fuzz.se")


@settings(max_examples=100, deadline=2000)
@given(position=st.integers(0, 10_000), byte=st.integers(0, 255))
def test_mutated_real_file_raises_only_sie_parse_errors(position: int, byte: int) -> None:
    data = bytearray(write_sie(_sample_document(), ksumma=True) * 3)
    data[position % len(data)] = byte
    with contextlib.suppress(SieParseError):
        parse_sie(bytes(data), file="mutant.se")


def test_a_huge_line_does_not_hang() -> None:
    big = b"#FLAGGA 0\n#KONTO 1930 " + b'"' + b"\\\\\\" * 200_000 + b"\n"
    with pytest.raises(SieParseError):
        parse_sie(big + b"#VER A 1 20240101 x\n{\n#TRANS 1 {} 9" + b"9" * 5000 + b"\n}\n")


@pytest.mark.parametrize(
    ("amounts", "total"),
    [
        (("100.00", "-99.99"), Decimal("0.01")),  # two decimals: summed in whole öre
        (("100.5", "-100.49"), Decimal("0.01")),  # other precisions: summed as Decimal
        (("7", "-6.999"), Decimal("0.001")),
    ],
)
def test_unbalanced_voucher_reports_its_exact_sum_and_line(
    tmp_path: Path, amounts: tuple[str, str], total: Decimal
) -> None:
    balanced = "#VER A 1 20240105\n{\n\t#TRANS 1930 {} 1.000\n\t#TRANS 3010 {} -1\n}\n"
    rows = "".join(f"\t#TRANS 1930 {{}} {a}\n" for a in amounts)
    path = _write(tmp_path, balanced * 3 + f"#VER A 2 20240106\n{{\n{rows}}}\n")
    with pytest.raises(SieParseError) as caught:
        parse_sie(path)
    assert caught.value.line == 4 + 3 * 5 + 1
    assert f"sums to {total}" in str(caught.value)
    document = read_sie(path, allow_unbalanced=True).document
    assert [v.total for v in document.vouchers] == [Decimal(0)] * 3 + [total]
    assert str(document.vouchers[0].total) == "0.000"


def test_balanced_two_decimal_voucher_totals_zero_with_two_decimals(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "#VER A 1 20240105\n{\n\t#TRANS 1930 {} 0.10\n\t#TRANS 3010 {} -0.10\n}\n"
    )
    assert str(parse_sie(path).vouchers[0].total) == "0.00"
