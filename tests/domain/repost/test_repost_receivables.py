"""Receivables repost rules, one test per rule, with hand-worked numbers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from syncstate.domain.repost.findings import Code
from syncstate.domain.repost.receivables import (
    Allocation,
    DocKind,
    PaymentType,
    ReceivableDocument,
    ReceivablesResult,
    repost_receivables,
    to_rows,
)
from syncstate.errors import MoneyError

D = Decimal
PERIOD = dt.date(2024, 3, 1)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def doc(
    id: str,
    kind: DocKind,
    amount: str,
    on: str,
    client: str | None = "ACME",
    allocs: list[tuple[str, str, str]] | None = None,
    **links: str,
) -> ReceivableDocument:
    allocations = tuple(Allocation(to, D(a), day(d)) for to, a, d in allocs or [])
    return ReceivableDocument(
        id=id,
        kind=kind,
        client=client,
        date=day(on),
        amount=D(amount),
        allocations=allocations,
        **links,  # type: ignore[arg-type]
    )


def run(*docs: ReceivableDocument) -> ReceivablesResult:
    return repost_receivables(docs, period_start=PERIOD)


INV = DocKind.INVOICE


def test_invoice_outstanding_is_amount_minus_payments() -> None:
    result = run(
        doc("I1", INV, "1000.00", "2024-01-10"),
        doc(
            "R1",
            DocKind.CASH_RECEIPT,
            "600.00",
            "2024-02-10",
            allocs=[("I1", "600.00", "2024-02-10")],
        ),
        doc(
            "N1",
            DocKind.CREDIT_NOTE,
            "-150.00",
            "2024-02-12",
            allocs=[("I1", "150.00", "2024-02-12")],
        ),
    )
    assert result.balance("I1").outstanding == D("250.00")
    assert result.balance("I1").clear_date is None
    assert result.balance("I1").clear_flag is False


def test_paid_invoice_clears_on_the_last_payment_date() -> None:
    result = run(
        doc("I1", INV, "100.00", "2024-01-10"),
        doc(
            "R1",
            DocKind.CASH_RECEIPT,
            "70.00",
            "2024-01-30",
            allocs=[("I1", "70.00", "2024-02-15")],
        ),
        doc(
            "R2",
            DocKind.CASH_RECEIPT,
            "30.00",
            "2024-01-20",
            allocs=[("I1", "30.00", "2024-01-20")],
        ),
    )
    assert result.balance("I1").outstanding == D("0.00")
    assert result.balance("I1").clear_date == day("2024-02-15")


def test_clear_flag_true_only_when_paid_before_the_current_period() -> None:
    result = run(
        doc("I1", INV, "100.00", "2024-01-10"),
        doc("I2", INV, "100.00", "2024-01-10"),
        doc(
            "R1",
            DocKind.CASH_RECEIPT,
            "100.00",
            "2024-02-29",
            allocs=[("I1", "100.00", "2024-02-29")],
        ),
        doc(
            "R2",
            DocKind.CASH_RECEIPT,
            "100.00",
            "2024-03-01",
            allocs=[("I2", "100.00", "2024-03-01")],
        ),
    )
    assert result.balance("I1").clear_flag is True
    assert result.balance("I2").clear_flag is False


def test_payment_type_none_full_multiple() -> None:
    result = run(
        doc("I0", INV, "10.00", "2024-01-01"),
        doc("I1", INV, "10.00", "2024-01-01"),
        doc("I2", INV, "10.00", "2024-01-01"),
        doc(
            "R1",
            DocKind.CASH_RECEIPT,
            "15.00",
            "2024-01-05",
            allocs=[("I1", "10.00", "2024-01-05"), ("I2", "5.00", "2024-01-05")],
        ),
        doc(
            "N1", DocKind.CREDIT_NOTE, "-5.00", "2024-01-06", allocs=[("I2", "5.00", "2024-01-06")]
        ),
    )
    assert result.balance("I0").payment_type is PaymentType.NONE
    assert result.balance("I1").payment_type is PaymentType.FULL
    assert result.balance("I2").payment_type is PaymentType.MULTIPLE
    assert result.balance("R1").payment_type is None


def test_one_receipt_in_two_parts_is_still_a_full_payment() -> None:
    result = run(
        doc("I1", INV, "10.00", "2024-01-01"),
        doc(
            "R1",
            DocKind.CASH_RECEIPT,
            "10.00",
            "2024-01-05",
            allocs=[("I1", "4.00", "2024-01-05"), ("I1", "6.00", "2024-01-05")],
        ),
    )
    assert result.balance("I1").payment_type is PaymentType.FULL


def test_cash_receipt_and_credit_note_outstanding_is_the_unapplied_part() -> None:
    result = run(
        doc("I1", INV, "100.00", "2024-01-01"),
        doc(
            "R1",
            DocKind.CASH_RECEIPT,
            "80.00",
            "2024-01-05",
            allocs=[("I1", "50.00", "2024-01-05")],
        ),
        doc(
            "N1",
            DocKind.CREDIT_NOTE,
            "-40.00",
            "2024-01-06",
            allocs=[("I1", "25.00", "2024-01-06")],
        ),
    )
    assert result.balance("R1").outstanding == D("30.00")
    assert result.balance("N1").outstanding == D("-15.00")
    assert result.balance("I1").outstanding == D("25.00")


def test_reversed_receipt_reopens_the_invoices_it_paid() -> None:
    result = run(
        doc("I1", INV, "500.00", "2024-02-05"),
        doc(
            "R1",
            DocKind.CASH_RECEIPT,
            "500.00",
            "2024-03-05",
            allocs=[("I1", "500.00", "2024-03-05")],
        ),
        doc("V1", DocKind.REVERSAL, "-500.00", "2024-03-08", reverses="R1"),
    )
    invoice, receipt, reversal = (result.balance(i) for i in ("I1", "R1", "V1"))
    assert invoice.outstanding == D("500.00")
    assert invoice.payment_type is PaymentType.NONE
    assert receipt.outstanding == D("0.00") and receipt.clear_date == day("2024-03-08")
    assert reversal.outstanding == D("0.00") and reversal.clear_date == day("2024-03-08")


def test_refund_is_cleared_on_its_own_date_and_clears_the_credit_note() -> None:
    result = run(
        doc("N1", DocKind.CREDIT_NOTE, "-50.00", "2024-01-15"),
        doc("F1", DocKind.REFUND, "50.00", "2024-02-01", refunds="N1"),
    )
    assert result.balance("F1").outstanding == D("0.00")
    assert result.balance("F1").clear_date == day("2024-02-01")
    assert result.balance("N1").outstanding == D("0.00")
    assert result.balance("N1").clear_date == day("2024-02-01")
    assert result.balance("F1").gl.receivables == D("50.00")


def test_deposit_outstanding_is_amount_minus_its_receipts() -> None:
    result = run(
        doc("R1", DocKind.CASH_RECEIPT, "600.00", "2024-02-10", deposit="DEP"),
        doc("M1", DocKind.CASH_RECEIPT, "75.00", "2024-02-11", client=None, deposit="DEP"),
        doc("DEP", DocKind.DEPOSIT, "700.00", "2024-02-11", client=None),
    )
    deposit = result.balance("DEP")
    assert deposit.outstanding == D("25.00")
    assert deposit.gl.bank == D("700.00")
    assert deposit.gl.receivables == D("625.00")  # 700 - 75 applied directly to GL


def test_gl_amounts_per_kind() -> None:
    result = run(
        doc("I1", INV, "100.00", "2024-01-01"),
        doc("T1", DocKind.INTEREST, "2.50", "2024-01-31"),
        doc("N1", DocKind.CREDIT_NOTE, "-20.00", "2024-01-02"),
        doc("R1", DocKind.CASH_RECEIPT, "30.00", "2024-01-03"),
        doc("V1", DocKind.REVERSAL, "-30.00", "2024-01-04", reverses="R1"),
        doc("M1", DocKind.CASH_RECEIPT, "9.00", "2024-01-03", client=None),
        doc("MV", DocKind.REVERSAL, "-9.00", "2024-01-04", client=None, reverses="M1"),
    )
    gl = {b.id: (b.gl.bank, b.gl.receivables) for b in result.balances}
    assert gl["I1"] == (D("0.00"), D("100.00"))
    assert gl["T1"] == (D("0.00"), D("2.50"))
    assert gl["N1"] == (D("0.00"), D("-20.00"))
    assert gl["R1"] == (D("30.00"), D("-30.00"))
    assert gl["V1"] == (D("-30.00"), D("30.00"))
    assert gl["M1"] == (D("9.00"), D("0.00"))
    assert gl["MV"] == (D("-9.00"), D("0.00"))


def test_allocation_to_a_missing_document_is_a_finding_not_an_error() -> None:
    result = run(
        doc(
            "R1",
            DocKind.CASH_RECEIPT,
            "10.00",
            "2024-01-03",
            allocs=[("NOPE", "10.00", "2024-01-03")],
        )
    )
    (finding,) = result.findings
    assert finding.code is Code.AR_MISSING_DOCUMENT
    assert finding.scope.document == "R1" and "NOPE" in finding.message
    assert result.balance("R1").outstanding == D("10.00")


def test_over_applied_invoice_is_reported_with_expected_and_actual() -> None:
    result = run(
        doc("I1", INV, "10.00", "2024-01-01"),
        doc(
            "R1",
            DocKind.CASH_RECEIPT,
            "15.00",
            "2024-01-03",
            allocs=[("I1", "15.00", "2024-01-03")],
        ),
    )
    codes = {(f.code, f.scope.document) for f in result.findings}
    assert (Code.AR_OVER_APPLIED, "I1") in codes
    assert result.balance("I1").outstanding == D("-5.00")


def test_partial_reversal_is_reported_with_expected_and_actual() -> None:
    result = run(
        doc("I1", INV, "10.00", "2024-01-01"),
        doc(
            "R1",
            DocKind.CASH_RECEIPT,
            "10.00",
            "2024-01-03",
            allocs=[("I1", "10.00", "2024-01-03")],
        ),
        doc("V1", DocKind.REVERSAL, "-4.00", "2024-01-04", reverses="R1"),
    )
    found = {(f.code, f.scope.document, f.expected, f.actual) for f in result.findings}
    assert found == {(Code.AR_REVERSAL_AMOUNT, "V1", "-10.00", "-4.00")}


def test_cross_client_allocation_is_ignored_and_reported() -> None:
    result = run(
        doc("I1", INV, "10.00", "2024-01-01", client="OTHER"),
        doc(
            "R1",
            DocKind.CASH_RECEIPT,
            "10.00",
            "2024-01-03",
            allocs=[("I1", "10.00", "2024-01-03")],
        ),
    )
    assert [f.code for f in result.findings] == [Code.AR_CROSS_CLIENT]
    assert result.balance("I1").outstanding == D("10.00")


def test_sub_cent_amount_is_refused_naming_the_document() -> None:
    with pytest.raises(MoneyError, match="document I1 amount"):
        to_rows([doc("I1", INV, "10.001", "2024-01-01")])


def test_duplicate_ids_are_reported() -> None:
    result = run(doc("I1", INV, "1.00", "2024-01-01"), doc("I1", INV, "2.00", "2024-01-01"))
    assert [f.code for f in result.findings] == [Code.AR_DUPLICATE_ID]
    assert len(result.balances) == 1
