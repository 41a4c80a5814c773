"""The local server's rules for payables, expenses, journals, refunds, deposits, estimates.

Called by :class:`~syncstate.testing.qbo_books.QboBooks` for a create or update of
one of :data:`RULED`; each raises the QuickBooks fault the real service answers:
a missing required field (2020), a reference to nothing (2500), a journal entry
that does not balance (6000, "Transaction must balance"). Totals are computed
as QuickBooks computes them (``TotalAmt`` from the lines; ``Balance`` of a bill).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from syncstate.testing.qbo_faults import QboFaultAnswer, invalid_reference, missing_field

__all__ = ["ITEM_LEVELS", "RULED", "item_names", "parse_upload", "validate_extra"]

#: check_ref(visible ids, entity, reference) raises 2500 for a reference to nothing
CheckRef = Callable[[Mapping[str, frozenset[str]], str, Any], None]

#: most levels of an item's ``FullyQualifiedName`` (Intuit's Item reference)
ITEM_LEVELS = 5

RULED = frozenset(
    {"Bill", "Purchase", "JournalEntry", "CreditMemo", "RefundReceipt", "Deposit", "Estimate"}
)
_DETAIL = {
    "Bill": "AccountBasedExpenseLineDetail",
    "Purchase": "AccountBasedExpenseLineDetail",
    "JournalEntry": "JournalEntryLineDetail",
    "Deposit": "DepositLineDetail",
}


def _amount(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


def _lines(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    lines = [ln for ln in record.get("Line") or [] if ln.get("DetailType") != "SubTotalLineDetail"]
    if not lines:
        raise missing_field("Line")
    return lines


def _need(record: Mapping[str, Any], field: str) -> Any:
    if not record.get(field):
        raise missing_field(field)
    return record[field]


def validate_extra(
    entity: str,
    record: dict[str, Any],
    visible: Mapping[str, frozenset[str]],
    check_ref: CheckRef,
) -> None:
    """Check ``record`` as QuickBooks would and fill in its computed totals."""
    if entity in ("CreditMemo", "RefundReceipt", "Estimate"):
        return _sales_like(entity, record, visible, check_ref)
    if entity == "Bill":
        check_ref(visible, "Vendor", _need(record, "VendorRef"))
    elif entity == "Purchase":
        if record.get("PaymentType") not in ("Cash", "Check", "CreditCard"):
            raise missing_field("PaymentType")
        check_ref(visible, "Account", _need(record, "AccountRef"))
        entity_ref = record.get("EntityRef")
        if entity_ref:
            check_ref(visible, str(entity_ref.get("type") or "Vendor"), entity_ref)
    elif entity == "Deposit":
        check_ref(visible, "Account", _need(record, "DepositToAccountRef"))
    lines = _lines(record)
    detail_name = _DETAIL[entity]
    total, debits, credits = Decimal(0), Decimal(0), Decimal(0)
    for line in lines:
        detail = line.get(detail_name)
        if not isinstance(detail, Mapping):
            raise missing_field(detail_name)
        check_ref(visible, "Account", detail.get("AccountRef"))
        amount = _amount(line.get("Amount"))
        total += amount
        if entity == "JournalEntry":
            posting = detail.get("PostingType")
            if posting not in ("Debit", "Credit"):
                raise missing_field("PostingType")
            debits += amount if posting == "Debit" else Decimal(0)
            credits += amount if posting == "Credit" else Decimal(0)
    if entity == "JournalEntry":
        if debits != credits:
            raise QboFaultAnswer(
                "6000",
                "A business validation error has occurred while processing your request",
                "Business Validation Error: Transaction must balance; debits "
                f"{debits} and credits {credits} differ",
            )
        return
    record["TotalAmt"] = total
    if entity == "Bill":
        record["Balance"] = total


def _sales_like(
    entity: str,
    record: dict[str, Any],
    visible: Mapping[str, frozenset[str]],
    check_ref: CheckRef,
) -> None:
    check_ref(visible, "Customer", _need(record, "CustomerRef"))
    if entity == "RefundReceipt":
        check_ref(visible, "Account", _need(record, "DepositToAccountRef"))
    total = Decimal(0)
    for line in _lines(record):
        detail = line.get("SalesItemLineDetail")
        if not isinstance(detail, Mapping):
            raise missing_field("SalesItemLineDetail")
        check_ref(visible, "Item", detail.get("ItemRef"))
        total += _amount(line.get("Amount"))
    record["TotalAmt"] = total
    if entity == "CreditMemo":
        record["RemainingCredit"] = total


def _business(detail: str, element: str) -> QboFaultAnswer:
    return QboFaultAnswer(
        "6000",
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        element=element,
    )


def item_names(
    items: Mapping[str, Mapping[str, Any]], record: dict[str, Any], *, strict: bool = True
) -> None:
    """Fill an item's ``FullyQualifiedName`` (and ``Level``) from its parent in ``items``.

    ``strict`` (creates and updates) refuses a name with a colon, tab or new line
    (6000), a sub-item without ``ParentRef`` (2020) or with one naming no item
    (2500), and a sixth level (6000); seeded items are filled in as far as possible.
    """
    name = str(record.get("Name") or "")
    if strict and any(c in name for c in ":\t\r\n"):
        raise _business(f"an item name cannot include colons, tabs or new lines: {name!r}", "Name")
    if not record.get("SubItem"):
        record.setdefault("FullyQualifiedName", name)
        return
    ref = record.get("ParentRef")
    parent = items.get(str(ref.get("value"))) if isinstance(ref, Mapping) else None
    if parent is None:
        if not strict:
            return
        if not isinstance(ref, Mapping) or not ref.get("value"):
            raise missing_field("ParentRef")
        raise invalid_reference("Item", ref.get("value"))
    level = int(parent.get("Level") or 0) + 1
    if strict and level >= ITEM_LEVELS:
        raise _business(f"items nest at most {ITEM_LEVELS} levels deep", "ParentRef")
    parent_name = parent.get("FullyQualifiedName") or parent.get("Name")
    record["FullyQualifiedName"] = f"{parent_name}:{name}"
    record["Level"] = level
    record["ParentRef"] = {"value": str(parent["Id"]), "name": str(parent.get("Name"))}


def parse_upload(body: bytes) -> tuple[dict[str, Any], bytes, str]:
    """The Attachable metadata, the file and its content type from a multipart upload.

    Exactly the parts ``file_metadata_01`` (JSON) and ``file_content_01``; anything
    else is fault 2020, as QuickBooks refuses it.
    """
    first, _, _rest = body.partition(b"\r\n")
    if not first.startswith(b"--") or len(first) < 3:
        raise missing_field("file_metadata_01")
    parts: dict[str, tuple[dict[str, str], bytes]] = {}
    for chunk in body.split(first)[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n").removesuffix(b"\r\n")  # the framing only
        head, _, content = chunk.partition(b"\r\n\r\n")
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = headers.get("content-disposition", "")
        found = re.search(r'(?<!\w)name="([^"]*)"', disposition)
        name = found.group(1) if found else ""
        parts[name] = (headers, content)
    if set(parts) != {"file_metadata_01", "file_content_01"}:
        raise missing_field(
            "file_metadata_01" if "file_metadata_01" not in parts else "file_content_01"
        )
    try:
        metadata = json.loads(parts["file_metadata_01"][1])
    except ValueError:
        raise missing_field("file_metadata_01") from None
    headers, content = parts["file_content_01"]
    if not isinstance(metadata, dict) or not metadata.get("FileName") or not content:
        raise missing_field("FileName" if not content or isinstance(metadata, dict) else "file")
    return metadata, content, headers.get("content-type", "application/octet-stream")
