"""The real SIE files in ../shared/fixtures/sie hold what SOURCES.md says they hold.

This is the second layer of the SIE suite: it runs where ../shared exists (CI
puts it beside the clone) and is skipped elsewhere. The first layer,
``test_sie_project_fixtures.py``, covers the same cases with the project's own
files in tests/fixtures/sie and always runs.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from syncstate.adapters.backends.sie.parser import decode_sie, parse_sie, read_sie
from syncstate.errors import InputError, SieParseError


@pytest.fixture(scope="module")
def sie_dir(shared_dir: Path) -> Path:
    return shared_dir / "fixtures" / "sie"


def _labels(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for line in path.read_bytes().decode("latin-1").splitlines():
        parts = line.split()
        if parts and parts[0].startswith("#"):
            counts[parts[0]] += 1
    return counts


def test_ovningsbolaget_counts_match_sources(sie_dir: Path) -> None:
    path = sie_dir / "jsisie__transaktioner_ovnbolag.se"
    result = read_sie(path)
    doc = result.document
    assert result.encoding == "cp437"
    assert not result.errors
    assert (doc.sie_type, doc.variant, doc.program) == (4, "4E", ("Avendo", "5.20"))
    assert doc.company_name == "Övningsbolaget AB (Ekonomi 60)"
    year0 = doc.year(0)
    assert year0 is not None and (year0.start.isoformat(), year0.end.isoformat()) == (
        "2011-01-01",
        "2011-12-31",
    )
    kinds = Counter(b.kind for b in doc.balances)
    assert len(doc.accounts) == 567
    assert (kinds["IB"], kinds["UB"], kinds["RES"]) == (55, 62, 104)
    periods = Counter(p.kind for p in doc.period_balances)
    assert (periods["PSALDO"], periods["PBUDGET"]) == (705, 1248)
    assert (len(doc.dimensions), len(doc.objects)) == (3, 14)
    assert len(doc.vouchers) == 163
    assert doc.transaction_count == 671
    assert all(v.total == 0 for v in doc.vouchers)
    # the raw file agrees with what was parsed
    raw = _labels(path)
    assert raw["#KONTO"] == 567 and raw["#VER"] == 163


def test_ovningsbolaget_year_zero_reconciles(sie_dir: Path) -> None:
    doc = parse_sie(sie_dir / "jsisie__transaktioner_ovnbolag.se")
    moved: dict[str, Decimal] = defaultdict(Decimal)
    for voucher in doc.vouchers:
        for row in voucher.transactions:
            moved[row.account] += row.amount
    opening = {b.account: b.amount for b in doc.balances if b.kind == "IB" and b.year == 0}
    closing = {b.account: b.amount for b in doc.balances if b.kind == "UB" and b.year == 0}
    result = {b.account: b.amount for b in doc.balances if b.kind == "RES" and b.year == 0}
    assert closing and result
    for account in set(opening) | set(closing):
        assert opening.get(account, 0) + moved.get(account, 0) == closing.get(account, 0), account
    for account, amount in result.items():
        assert moved.get(account, 0) == amount, account


def test_bad_balance_file_is_an_unbalanced_voucher_error(sie_dir: Path) -> None:
    path = sie_dir / "jsisie__transaktioner_ovnbolag-bad-balance.se"
    lines = path.read_bytes().decode("cp437").splitlines()
    assert lines[3906].split() == ["#TRANS", "1910", "{}", "-12899.00"]
    with pytest.raises(SieParseError) as caught:
        parse_sie(path)
    error = caught.value
    assert "B 1 (2011-01-07)" in str(error) and "-12771.00" in str(error)
    assert error.file == str(path) and error.line == 3905
    assert isinstance(error, InputError)


def test_bad_balance_file_no_longer_reconciles_account_1910(sie_dir: Path) -> None:
    doc = parse_sie(
        sie_dir / "jsisie__transaktioner_ovnbolag-bad-balance.se", allow_unbalanced=True
    )
    b1 = next(v for v in doc.vouchers if (v.series, v.number) == ("B", "1"))
    assert b1.total == Decimal("-12771.00")
    moved = sum(r.amount for v in doc.vouchers for r in v.transactions if r.account == "1910")
    ib = next(b.amount for b in doc.balances if (b.kind, b.year, b.account) == ("IB", 0, "1910"))
    ub = next(b.amount for b in doc.balances if (b.kind, b.year, b.account) == ("UB", 0, "1910"))
    assert ib + moved != ub
    assert ib + moved - ub == Decimal("-12771.00")


def test_sie1_counts_and_correct_ksumma(sie_dir: Path) -> None:
    path = sie_dir / "jsisie__Sie1.se"
    result = read_sie(path)
    doc = result.document
    assert not result.errors and result.encoding == "cp437"
    assert (doc.sie_type, doc.program) == (1, ("Visma Compact", "6.00"))
    kinds = Counter(b.kind for b in doc.balances)
    assert len(doc.accounts) == 301
    assert (kinds["IB"], kinds["UB"], kinds["RES"]) == (47, 50, 61)
    assert len(doc.fiscal_years) == 2 and not doc.vouchers
    lines = path.read_bytes().decode("cp437").splitlines()
    assert lines[1].strip() == "#KSUMMA"
    assert doc.ksumma == 909685525


def test_sie1_with_one_changed_amount_fails_its_ksumma(sie_dir: Path, tmp_path: Path) -> None:
    data = (sie_dir / "jsisie__Sie1.se").read_bytes()
    tampered = tmp_path / "tampered.se"
    tampered.write_bytes(data.replace(b"21627.00", b"21627.01", 1))
    with pytest.raises(SieParseError, match="#KSUMMA is 909685525"):
        parse_sie(tampered)


def test_magenta_sie2_reads_omfattn_and_prosa_without_warnings(sie_dir: Path) -> None:
    result = read_sie(sie_dir / "jsisie__magenta_bokforing_SIE2.se")
    doc = result.document
    assert not result.errors and not result.warnings
    assert (doc.sie_type, doc.program) == (2, ("Magenta Bokföring", "2011:1"))
    kinds = Counter(b.kind for b in doc.balances)
    assert len(doc.accounts) == 136
    assert (kinds["IB"], kinds["UB"], kinds["RES"]) == (46, 46, 50)
    assert sum(1 for p in doc.period_balances if p.kind == "PSALDO") == 73
    assert not doc.vouchers
    # #OMFATTN and #PROSA are SIE 4B labels: read into the document, not unknown
    assert doc.unknown == ()
    assert doc.balance_date == dt.date(2011, 1, 31)
    assert len(doc.comments) == 3 and doc.comments[0] == "Kontoplanstyp är BAS2011"
    assert (doc.company_type, doc.tax_year) == ("AB", "2011")


def test_sie1_keeps_ftyp_and_an_empty_prosa(sie_dir: Path) -> None:
    doc = parse_sie(sie_dir / "jsisie__Sie1.se")
    assert (doc.company_type, doc.comments, doc.unknown) == ("AB", ("",), ())


#: the real files that are broken per the specification, and why
_BROKEN = {
    "jsisie__transaktioner_ovnbolag-bad-balance.se": "does not balance",
    "sie4j__BLBLOV_SIE4_UTF_8_with_faulty_transaction.SI": "needs account",
    "jsisie__BokSald.SE": "not an SIE file",
}


def test_every_real_file_is_read_with_warnings_at_most_unless_broken(sie_dir: Path) -> None:
    files = sorted(p for p in sie_dir.iterdir() if p.suffix.lower() in (".se", ".si"))
    assert len(files) == 10
    for path in files:
        result = read_sie(path)
        assert not any("unknown label" in w.message for w in result.warnings), path.name
        if path.name in _BROKEN:
            assert any(_BROKEN[path.name] in e.message for e in result.errors), path.name
        else:
            assert not result.errors, (path.name, result.errors)


def test_bl_administration_4i_has_one_balanced_voucher_with_objects(sie_dir: Path) -> None:
    result = read_sie(sie_dir / "jsisie__BL0001_typ4I.SI")
    doc = result.document
    assert not result.errors
    assert doc.variant == "4I" and doc.program[0] == "BL Administration"
    assert not doc.accounts and not doc.fiscal_years
    assert len(doc.vouchers) == 1
    voucher = doc.vouchers[0]
    assert len(voucher.transactions) == 10 and voucher.total == 0
    assert all(r.objects == () for r in voucher.rows)  # empty object lists '{}'


@pytest.mark.parametrize(
    ("name", "encoding"),
    [
        ("sie4j__BLBLOV_SIE4.SI", "cp437"),
        ("sie4j__BLBLOV_SIE4_UTF_8.SI", "utf-8"),
        ("sie4j__BLBLOV_SIE4_ISO_8859_15.SI", "iso-8859-15"),
    ],
)
def test_blblov_encoding_is_detected_and_a_wrong_declaration_warned(
    sie_dir: Path, name: str, encoding: str
) -> None:
    result = read_sie(sie_dir / name)
    doc = result.document
    assert result.encoding == encoding and not result.errors
    assert doc.format == "PC8"
    assert doc.variant == "4I" and doc.program == ("Kassasystem", "1.0")
    assert len(doc.vouchers) == 2 and doc.transaction_count == 6
    assert all(v.total == 0 for v in doc.vouchers)
    assert doc.company_name == "Övningsbolaget AB"
    assert doc.vouchers[0].text == "Försäljning 25% (DF:157)"
    declared_wrong = any("declares #FORMAT PC8" in p.message for p in result.warnings)
    assert declared_wrong == (encoding != "cp437")


def test_blblov_three_encodings_decode_to_the_same_text(sie_dir: Path) -> None:
    texts = [
        decode_sie((sie_dir / name).read_bytes())[0].rstrip("\n")
        for name in (
            "sie4j__BLBLOV_SIE4.SI",
            "sie4j__BLBLOV_SIE4_UTF_8.SI",
            "sie4j__BLBLOV_SIE4_ISO_8859_15.SI",
        )
    ]
    assert texts[0] == texts[1] == texts[2]
    docs = [
        parse_sie(sie_dir / n) for n in ("sie4j__BLBLOV_SIE4.SI", "sie4j__BLBLOV_SIE4_UTF_8.SI")
    ]
    assert docs[0] == docs[1]


def test_faulty_transaction_is_a_parse_error_naming_line_10(sie_dir: Path) -> None:
    path = sie_dir / "sie4j__BLBLOV_SIE4_UTF_8_with_faulty_transaction.SI"
    with pytest.raises(SieParseError) as caught:
        parse_sie(path)
    assert caught.value.line == 10
    assert caught.value.text.strip() == "#TRANS 1930"
    assert f"{path}:10:" in str(caught.value)


def test_html_page_saved_as_se_is_rejected_as_not_sie(sie_dir: Path) -> None:
    with pytest.raises(SieParseError, match="not an SIE file") as caught:
        parse_sie(sie_dir / "jsisie__BokSald.SE")
    assert caught.value.line == 1 and "<!DOCTYPE" in caught.value.text
