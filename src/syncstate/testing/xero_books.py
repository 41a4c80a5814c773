"""The books behind the local Xero-like server: elements, rules, filters.

Plain Python, no HTTP: :class:`XeroBooks` keeps the contacts, items, accounts,
invoices, credit notes, payments and manual journals of every tenant (organisation)
and applies Xero's documented rules: an invoice's contact and item codes must exist,
``InvoiceNumber`` is unique for sales invoices, status changes follow Xero's table
(``DRAFT``/``SUBMITTED`` → ``DELETED``; ``AUTHORISED`` → ``VOIDED`` only while nothing
is paid), a payment needs an authorised invoice and cannot exceed what is due, a
manual journal must balance, contact names are unique among active contacts, item
codes are unique. ``UpdatedDateUTC`` moves forward with every change. Refused writes
raise :class:`XeroRefusal` carrying the validation messages; the server answers them as
Xero's ``ValidationException``. :mod:`syncstate.testing.xero_server` puts HTTP in front.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

__all__ = ["COLLECTIONS", "XeroBooks", "XeroRefusal", "xero_date"]

COLLECTIONS = (
    "Contacts",
    "Items",
    "Accounts",
    "Invoices",
    "CreditNotes",
    "Payments",
    "ManualJournals",
)
ID_FIELDS = {name: f"{name[:-1]}ID" for name in COLLECTIONS}
ID_FIELDS["Accounts"] = "AccountID"
_CENT = Decimal("0.01")
_MOVES = {
    "DRAFT": {"DRAFT", "SUBMITTED", "AUTHORISED", "DELETED"},
    "SUBMITTED": {"SUBMITTED", "AUTHORISED", "DRAFT", "DELETED"},
    "AUTHORISED": {"AUTHORISED", "VOIDED"},
    "POSTED": {"POSTED", "VOIDED"},
}


def xero_date(moment: dt.datetime) -> str:
    """A timestamp as Xero's JSON writes it: ``/Date(<ms>+0000)/``."""
    return f"/Date({int(moment.timestamp() * 1000)}+0000)/"


class XeroRefusal(Exception):
    """A write Xero refuses: HTTP 400 ``ValidationException`` with these messages."""

    def __init__(self, *messages: str, status: int = 400) -> None:
        self.messages = messages
        self.status = status
        super().__init__("; ".join(messages))

    def body(self) -> dict[str, Any]:
        """The ``ApiException`` body Xero answers with."""
        if self.status == 404:
            return {"Title": "Not Found", "Status": 404, "Detail": self.messages[0]}
        return {
            "ErrorNumber": 10,
            "Type": "ValidationException",
            "Message": "A validation exception occurred",
            "Elements": [{"ValidationErrors": [{"Message": m} for m in self.messages]}],
        }


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


class _Tenant:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, dict[str, Any]]] = {c: {} for c in COLLECTIONS}
        self.next_number = {"Invoices": 1, "CreditNotes": 1}
        self.last_stamp = 0


class XeroBooks:
    """Every tenant's elements. Not thread-safe on its own: the server holds a lock."""

    def __init__(self, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._tenants: dict[str, _Tenant] = {}

    def now(self) -> dt.datetime:
        """The books' clock."""
        return self._clock()

    def tenant(self, tenant: str) -> _Tenant:
        """A tenant's books, created on first use with a sales (200) and a bank (090) account."""
        books = self._tenants.get(tenant)
        if books is None:
            books = self._tenants[tenant] = _Tenant()
            for code, kind in (("200", "REVENUE"), ("090", "BANK")):
                self._store(tenant, "Accounts", {"Code": code, "Type": kind, "Status": "ACTIVE"})
        return books

    def _stamp(self, tenant: str) -> dt.datetime:
        books = self.tenant(tenant)
        ms = max(int(self.now().timestamp() * 1000), books.last_stamp + 1)
        books.last_stamp = ms
        return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)

    def _store(self, tenant: str, collection: str, row: dict[str, Any]) -> dict[str, Any]:
        ident = row.setdefault(ID_FIELDS[collection], str(uuid.uuid4()))
        row["UpdatedDateUTC"] = xero_date(self._stamp(tenant))
        self.tenant(tenant).rows[collection][ident] = row
        return copy.deepcopy(row)

    # --------------------------------------------------------------- reading

    def get(self, tenant: str, collection: str, ident: str) -> dict[str, Any]:
        """A copy of one element, or a 404 refusal."""
        row = self.tenant(tenant).rows[collection].get(ident)
        if row is None:
            raise XeroRefusal("The resource you're looking for cannot be found", status=404)
        return copy.deepcopy(row)

    def all(self, tenant: str, collection: str) -> list[dict[str, Any]]:
        """Copies of every element of a collection, oldest change first."""
        rows = self.tenant(tenant).rows[collection].values()
        return [copy.deepcopy(r) for r in sorted(rows, key=lambda r: r["UpdatedDateUTC"])]

    def add(self, tenant: str, collection: str, fields: Mapping[str, Any]) -> str:
        """Seed an element without validation (contacts, items, accounts); return its id."""
        row = self._store(tenant, collection, copy.deepcopy(dict(fields)))
        return str(row[ID_FIELDS[collection]])

    # ---------------------------------------------------------------- writes

    def write(
        self, tenant: str, collection: str, body: Mapping[str, Any], *, create_only: bool
    ) -> dict[str, Any]:
        """Create (no id, or ``PUT``) or update one element; the element as Xero answers it."""
        ident = body.get(ID_FIELDS[collection])
        if ident and not create_only:
            current = self.get(tenant, collection, str(ident))
            return self._update(tenant, collection, current, dict(body))
        row = copy.deepcopy(dict(body))
        row.pop(ID_FIELDS[collection], None)
        return self._create(tenant, collection, row)

    def _create(self, tenant: str, collection: str, row: dict[str, Any]) -> dict[str, Any]:
        if collection in ("Invoices", "CreditNotes"):
            self._check_document(tenant, collection, row)
        elif collection == "Payments":
            self._pay(tenant, row)
        elif collection == "Contacts":
            self._check_contact(tenant, row)
            row.setdefault("ContactStatus", "ACTIVE")
        elif collection == "Items":
            self._check_item(tenant, row)
        elif collection == "ManualJournals":
            self._check_journal(row)
        else:
            raise XeroRefusal(f"{collection} cannot be created here")
        return self._store(tenant, collection, row)

    def _update(
        self, tenant: str, collection: str, current: dict[str, Any], body: dict[str, Any]
    ) -> dict[str, Any]:
        status = str(current.get("Status", ""))
        if collection == "Payments":
            if body.get("Status") != "DELETED" or status == "DELETED":
                raise XeroRefusal("Payments can only be deleted (Status DELETED)")
            self._unpay(tenant, current)
            current["Status"] = "DELETED"
            return self._store(tenant, collection, current)
        if collection == "Contacts":
            merged = {**current, **body}
            self._check_contact(tenant, merged)
            return self._store(tenant, collection, merged)
        if collection not in ("Invoices", "CreditNotes", "ManualJournals"):
            return self._store(tenant, collection, {**current, **body})
        target = str(body.get("Status") or status)
        if target not in _MOVES.get(status, set()):
            raise XeroRefusal(f"{collection[:-1]} not of valid status for modification")
        if _dec(current.get("AmountPaid")) or _dec(current.get("AmountCredited")):
            raise XeroRefusal(
                "This document cannot be edited as it has a payment or credit note allocated to it."
            )
        merged = {**current, **body, "Status": target}
        if "LineItems" in body or "JournalLines" in body:
            if collection == "ManualJournals":
                self._check_journal(merged)
            else:
                self._check_document(tenant, collection, merged)
        return self._store(tenant, collection, merged)

    # ------------------------------------------------------------- the rules

    def _check_document(self, tenant: str, collection: str, row: dict[str, Any]) -> None:
        books = self.tenant(tenant)
        messages = []
        kinds = (
            ("ACCREC", "ACCPAY") if collection == "Invoices" else ("ACCRECCREDIT", "ACCPAYCREDIT")
        )
        if row.get("Type") not in kinds:
            messages.append(f"{collection[:-1]} not of valid type for creation")
        contact = (row.get("Contact") or {}).get("ContactID")
        if not contact or contact not in books.rows["Contacts"]:
            messages.append("A Contact must be specified for this type of transaction")
        lines = row.get("LineItems") or []
        if not lines:
            messages.append("At least one line item must be specified")
        codes = {r.get("Code") for r in books.rows["Items"].values()}
        accounts = {r.get("Code") for r in books.rows["Accounts"].values()}
        total = Decimal(0)
        for line in lines:
            if line.get("ItemCode") and line["ItemCode"] not in codes:
                messages.append(f"Item code '{line['ItemCode']}' is not valid")
            if line.get("AccountCode") and line["AccountCode"] not in accounts:
                messages.append(f"Account code '{line['AccountCode']}' is not a valid code")
            amount = (_dec(line.get("Quantity", 1)) * _dec(line.get("UnitAmount"))).quantize(_CENT)
            line["LineAmount"] = amount
            total += amount
        number_field = "InvoiceNumber" if collection == "Invoices" else "CreditNoteNumber"
        number = row.get(number_field)
        if number and row.get("Type") in ("ACCREC", "ACCRECCREDIT"):
            for other in books.rows[collection].values():
                same = other.get(number_field) == number and other.get("Status") != "DELETED"
                if same and other[ID_FIELDS[collection]] != row.get(ID_FIELDS[collection]):
                    messages.append(
                        f"{'Invoice' if collection == 'Invoices' else 'Credit Note'}"
                        " # must be unique."
                    )
        if messages:
            raise XeroRefusal(*messages)
        if not number:
            prefix = "INV" if collection == "Invoices" else "CN"
            row[number_field] = f"{prefix}-{books.next_number[collection]:04d}"
            books.next_number[collection] += 1
        row.setdefault("Status", "DRAFT")
        row.update(SubTotal=total, TotalTax=Decimal(0), Total=total)
        row.setdefault("AmountPaid", Decimal(0))
        row.setdefault("AmountCredited", Decimal(0))
        row["AmountDue"] = total - _dec(row["AmountPaid"]) - _dec(row["AmountCredited"])

    def _pay(self, tenant: str, row: dict[str, Any]) -> None:
        books = self.tenant(tenant)
        invoice = books.rows["Invoices"].get(str((row.get("Invoice") or {}).get("InvoiceID")))
        if invoice is None:
            raise XeroRefusal("Invoice could not be found")
        code = (row.get("Account") or {}).get("Code")
        if not any(a.get("Code") == code for a in books.rows["Accounts"].values()):
            raise XeroRefusal("Account could not be found")
        if invoice.get("Status") != "AUTHORISED":
            raise XeroRefusal("Payment can only be made against an Authorised invoice")
        amount = _dec(row.get("Amount"))
        if amount <= 0 or amount > _dec(invoice["AmountDue"]):
            raise XeroRefusal("Payment amount exceeds the amount outstanding on this document")
        invoice["AmountPaid"] = _dec(invoice["AmountPaid"]) + amount
        invoice["AmountDue"] = _dec(invoice["AmountDue"]) - amount
        if invoice["AmountDue"] == 0:
            invoice["Status"] = "PAID"
        self._store(tenant, "Invoices", invoice)
        row.update(Status="AUTHORISED", PaymentType="ACCRECPAYMENT")

    def _unpay(self, tenant: str, payment: Mapping[str, Any]) -> None:
        invoice_id = str((payment.get("Invoice") or {}).get("InvoiceID"))
        invoice = self.tenant(tenant).rows["Invoices"].get(invoice_id)
        if invoice is not None:
            amount = _dec(payment.get("Amount"))
            invoice["AmountPaid"] = _dec(invoice["AmountPaid"]) - amount
            invoice["AmountDue"] = _dec(invoice["AmountDue"]) + amount
            invoice["Status"] = "AUTHORISED"
            self._store(tenant, "Invoices", invoice)

    def _check_contact(self, tenant: str, row: Mapping[str, Any]) -> None:
        name = str(row.get("Name") or "").strip()
        if not name:
            raise XeroRefusal("The contact name must be specified")
        if len(str(row.get("ContactNumber") or "")) > 50:
            raise XeroRefusal("The Contact Number must not be more than 50 characters long")
        for other in self.tenant(tenant).rows["Contacts"].values():
            if (
                other.get("ContactID") != row.get("ContactID")
                and other.get("ContactStatus", "ACTIVE") == "ACTIVE"
                and str(other.get("Name", "")).lower() == name.lower()
            ):
                raise XeroRefusal(
                    f"The contact name {name} is already assigned to another contact. "
                    "The contact name must be unique across all active contacts."
                )

    def _check_item(self, tenant: str, row: Mapping[str, Any]) -> None:
        code = str(row.get("Code") or "")
        if not code or len(code) > 30:
            raise XeroRefusal("Item code must be 1..30 characters")
        if any(r.get("Code") == code for r in self.tenant(tenant).rows["Items"].values()):
            raise XeroRefusal(f"Item code '{code}' already exists")

    @staticmethod
    def _check_journal(row: dict[str, Any]) -> None:
        if not str(row.get("Narration") or "").strip():
            raise XeroRefusal("Narration must be supplied")
        lines = row.get("JournalLines") or []
        if len(lines) < 2:
            raise XeroRefusal("At least two journal lines must be specified")
        total = sum((_dec(line.get("LineAmount")) for line in lines), Decimal(0))
        if total != 0:
            raise XeroRefusal("The total debits must equal the total credits")
        row.setdefault("Status", "DRAFT")

    def delete_item(self, tenant: str, ident: str) -> None:
        """``DELETE /Items/{id}``."""
        self.get(tenant, "Items", ident)
        del self.tenant(tenant).rows["Items"][ident]
