"""The books of the local Intacct-like server: records per company and the object rules.

:class:`IntacctBooks` holds, per Intacct company id, the records of each object
(``CUSTOMER``, ``EMPLOYEE``, ``GLACCOUNT``, ``ITEM``, ``ARINVOICE``, ``ARPYMT``,
``TIMESHEET``, ``GLBATCH``) as flat field dictionaries with ``RECORDNO``,
``WHENCREATED`` and ``WHENMODIFIED``, and applies the rules Intacct documents for
``create`` / ``update`` / ``delete``: references must exist, a payment cannot exceed
what an invoice still owes, a paid invoice cannot be deleted, a journal entry must
balance, a customer id is unique. A refused function raises :class:`FunctionFailure`
with an ``errorno`` / ``description2`` / ``correction`` shaped like Intacct's.
"""

from __future__ import annotations

import datetime as dt
import itertools
import xml.etree.ElementTree as ET
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["FunctionFailure", "IntacctBooks", "intacct_stamp"]

Record = dict[str, Any]


class FunctionFailure(Exception):
    """A function Intacct refuses."""

    def __init__(self, errorno: str, description2: str, correction: str = "") -> None:
        self.errorno = errorno
        self.description2 = description2
        self.correction = correction
        super().__init__(f"{errorno} {description2}")


def intacct_stamp(moment: dt.datetime) -> str:
    """``mm/dd/yyyy HH:MM:SS`` (UTC), as ``WHENMODIFIED`` reads."""
    return moment.astimezone(dt.UTC).strftime("%m/%d/%Y %H:%M:%S")


def _text(node: ET.Element, tag: str) -> str:
    child = node.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise FunctionFailure("BL01001973", f"{what} {text!r} is not a number") from None
    if not value.is_finite():
        raise FunctionFailure("BL01001973", f"{what} {text!r} is not a number")
    return value


def _date(text: str, what: str) -> str:
    try:
        dt.datetime.strptime(text, "%m/%d/%Y")
    except ValueError:
        raise FunctionFailure(
            "BL01001973", f"{what} {text!r} is not a date", "Use the format mm/dd/yyyy."
        ) from None
    return text


def _flat(node: ET.Element) -> Record:
    return {child.tag: (child.text or "").strip() for child in node if len(child) == 0}


class IntacctBooks:
    """Every company's records; not thread-safe (the server holds a lock)."""

    def __init__(self, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.now = clock or (lambda: dt.datetime.now(dt.UTC))
        self.companies: dict[str, dict[str, dict[str, Record]]] = {}
        self._numbers = itertools.count(1001)

    def company(self, company_id: str) -> dict[str, dict[str, Record]]:
        """The objects of ``company_id`` (created on first use, with journal ``GJ``)."""
        if company_id not in self.companies:
            self.companies[company_id] = {}
            self.add(company_id, "GLJOURNAL", {"SYMBOL": "GJ"})
        return self.companies[company_id]

    def table(self, company_id: str, obj: str) -> dict[str, Record]:
        """The records of ``obj`` by ``RECORDNO``."""
        return self.company(company_id).setdefault(obj, {})

    def add(self, company_id: str, obj: str, fields: Record) -> str:
        """Store a record as is (seeding); its ``RECORDNO``."""
        number = str(next(self._numbers))
        stamp = intacct_stamp(self.now())
        record = {**fields, "RECORDNO": number, "WHENCREATED": stamp, "WHENMODIFIED": stamp}
        self.table(company_id, obj)[number] = record
        return number

    def _find(self, company_id: str, obj: str, field: str, value: str) -> Record | None:
        return next(
            (r for r in self.table(company_id, obj).values() if r.get(field) == value), None
        )

    def _require(self, company_id: str, obj: str, field: str, value: str, what: str) -> Record:
        found = self._find(company_id, obj, field, value) if value else None
        if found is None:
            raise FunctionFailure(
                "BL01001973",
                f"Invalid {what} '{value}' specified.",
                f"Use a valid {what}, or create it first.",
            )
        return found

    # ---------------------------------------------------------------- rules

    def _validate(
        self, company_id: str, obj: str, node: ET.Element, current: Record | None
    ) -> Record:
        record = _flat(node)
        if obj == "ARINVOICE":
            self._require(
                company_id, "CUSTOMER", "CUSTOMERID", record.get("CUSTOMERID", ""), "Customer ID"
            )
            _date(record.get("WHENCREATED", ""), "Date")
            lines = node.findall("ARINVOICEITEMS/arinvoiceitem")
            if not lines:
                raise FunctionFailure("BL01001973", "An invoice needs at least one line item.")
            total = Decimal(0)
            for n, line in enumerate(lines, 1):
                self._require(
                    company_id,
                    "GLACCOUNT",
                    "ACCOUNTNO",
                    _text(line, "ACCOUNTNO"),
                    f"GL account on line {n}",
                )
                total += _decimal(_text(line, "TRX_AMOUNT"), f"Amount on line {n}")
            paid = Decimal(current.get("TOTALPAID", "0")) if current else Decimal(0)
            record.update(TOTALENTERED=str(total), TOTALPAID=str(paid), TOTALDUE=str(total - paid))
        elif obj == "ARPYMT":
            customer = record.get("CUSTOMERID", "")
            self._require(company_id, "CUSTOMER", "CUSTOMERID", customer, "Customer ID")
            detail = node.find("ARPYMTDETAILS/ARPYMTDETAIL")
            if detail is None:
                raise FunctionFailure("BL01001973", "A payment must be applied to an invoice.")
            invoice = self.table(company_id, "ARINVOICE").get(_text(detail, "RECORDKEY"))
            if invoice is None or invoice.get("CUSTOMERID") != customer:
                raise FunctionFailure(
                    "BL01001973",
                    f"Invoice {_text(detail, 'RECORDKEY')!r} was not found for customer "
                    f"{customer}.",
                )
            amount = _decimal(_text(detail, "TRX_PAYMENTAMOUNT"), "Payment amount")
            if amount <= 0 or amount > Decimal(invoice["TOTALDUE"]):
                raise FunctionFailure(
                    "BL01001973",
                    f"Payment amount {amount} exceeds the amount due {invoice['TOTALDUE']} "
                    f"of invoice {invoice['RECORDNO']}.",
                )
            record.update(INVOICEKEY=invoice["RECORDNO"], TOTALPAID=str(amount))
        elif obj == "TIMESHEET":
            self._require(
                company_id, "EMPLOYEE", "EMPLOYEEID", record.get("EMPLOYEEID", ""), "Employee ID"
            )
            _date(record.get("BEGINDATE", ""), "Begin date")
            entries = node.findall("TIMESHEETENTRIES/TIMESHEETENTRY")
            if not entries:
                raise FunctionFailure("BL01001973", "A timesheet needs at least one entry.")
            hours = sum((_decimal(_text(e, "QTY"), "Hours") for e in entries), Decimal(0))
            if hours <= 0:
                raise FunctionFailure("BL01001973", "Timesheet hours must be positive.")
            record["HOURS"] = str(hours)
        elif obj == "CUSTOMER":
            if not record.get("NAME"):
                raise FunctionFailure("BL01001973", "Customer name is required.")
            ident = record.get("CUSTOMERID") or (current or {}).get("CUSTOMERID")
            other = self._find(company_id, "CUSTOMER", "CUSTOMERID", ident) if ident else None
            if other is not None and (current is None or other["RECORDNO"] != current["RECORDNO"]):
                raise FunctionFailure(
                    "BL01001973", "Another Customer with the given value(s) already exists."
                )
            record["CUSTOMERID"] = ident or f"C-{next(self._numbers)}"
        elif obj == "GLBATCH":
            self._require(company_id, "GLJOURNAL", "SYMBOL", record.get("JOURNAL", ""), "Journal")
            balance = Decimal(0)
            entries = node.findall("ENTRIES/GLENTRY")
            for n, entry in enumerate(entries, 1):
                self._require(
                    company_id,
                    "GLACCOUNT",
                    "ACCOUNTNO",
                    _text(entry, "ACCOUNTNO"),
                    f"GL account on line {n}",
                )
                sign = Decimal(_text(entry, "TR_TYPE") or "1")
                balance += sign * _decimal(_text(entry, "TRX_AMOUNT"), f"Amount on line {n}")
            if len(entries) < 2 or balance != 0:
                raise FunctionFailure("BL01001973", "Debits and credits must balance.")
        else:
            raise FunctionFailure("BL01001973", f"Object definition {obj} not found")
        return record

    def create(self, company_id: str, node: ET.Element) -> str:
        """Apply a ``create`` of ``node`` (``<ARINVOICE>``, ...); its ``RECORDNO``."""
        record = self._validate(company_id, node.tag, node, None)
        if node.tag == "ARPYMT":
            invoice = self.table(company_id, "ARINVOICE")[record["INVOICEKEY"]]
            self._pay(invoice, Decimal(record["TOTALPAID"]))
        return self.add(company_id, node.tag, record)

    def _pay(self, invoice: Record, amount: Decimal) -> None:
        invoice["TOTALPAID"] = str(Decimal(invoice["TOTALPAID"]) + amount)
        invoice["TOTALDUE"] = str(Decimal(invoice["TOTALDUE"]) - amount)
        invoice["WHENMODIFIED"] = intacct_stamp(self.now())

    def _existing(self, company_id: str, obj: str, number: str) -> Record:
        record = self.table(company_id, obj).get(number)
        if record is None:
            raise FunctionFailure(
                "BL01001973", f"Could not find {obj} record with RECORDNO {number!r}."
            )
        return record

    def update(self, company_id: str, node: ET.Element) -> str:
        """Apply an ``update`` (the record named by ``RECORDNO``)."""
        current = self._existing(company_id, node.tag, _text(node, "RECORDNO"))
        if node.tag == "ARPYMT":
            raise FunctionFailure("BL01001973", "A posted payment cannot be edited; reverse it.")
        record = self._validate(company_id, node.tag, node, current)
        current.update(record)
        current["WHENMODIFIED"] = intacct_stamp(self.now())
        return str(current["RECORDNO"])

    def delete(self, company_id: str, obj: str, number: str) -> None:
        """Apply a ``delete``."""
        record = self._existing(company_id, obj, number)
        if obj == "ARINVOICE" and Decimal(record.get("TOTALPAID", "0")) > 0:
            raise FunctionFailure(
                "BL01001973",
                f"Transaction {record.get('RECORDID') or number} is already paid and can't be "
                "deleted.",
                "Reverse or delete its payments first.",
            )
        if obj == "ARPYMT":
            invoice = self.table(company_id, "ARINVOICE").get(record.get("INVOICEKEY", ""))
            if invoice is not None:
                self._pay(invoice, -Decimal(record["TOTALPAID"]))
        del self.table(company_id, obj)[number]
