"""Documents rendered as Sage Intacct objects, and Intacct records read back; pure.

One :class:`ObjectSpec` per document kind says which Intacct object it becomes and
which of its fields carries the idempotency key (the *reference field*, queried by
:meth:`~syncstate.adapters.backends.intacct.client.IntacctBackend.lookup`):

==================  ============  =================  ====================================
kind                object        reference field    lines
==================  ============  =================  ====================================
``invoice``         ``ARINVOICE`` ``DOCNUMBER``      ``ARINVOICEITEMS`` (account, amount)
``payment``         ``ARPYMT``    ``DOCNUMBER``      applied to the invoice in ``invoice``
``time_activity``   ``TIMESHEET`` ``DESCRIPTION``    one ``TIMESHEETENTRY`` (hours)
``customer``        ``CUSTOMER``  ``COMMENTS``       none
``journal_entry``   ``GLBATCH``   ``REFERENCENO``    ``ENTRIES`` (debit > 0, credit < 0)
==================  ============  =================  ====================================

Dates are ``mm/dd/yyyy``; amounts are decimal strings, never floats. Host ids map to
Intacct ids through :class:`IntacctMapping`; an unmapped one is an
:class:`~syncstate.errors.UnmappedReference` before anything is sent.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

import attrs

from syncstate.adapters.backends.intacct.envelope import element, text_of
from syncstate.errors import RemoteValidationError, UnmappedReference
from syncstate.ports import Document, RemoteRef

__all__ = [
    "OBJECTS",
    "IntacctMapping",
    "ObjectSpec",
    "intacct_date",
    "ref_from_row",
    "render",
    "spec_for",
    "spec_for_object",
]


@attrs.frozen
class ObjectSpec:
    """How one document kind lives in Intacct."""

    kind: str
    object: str
    reference_field: str
    #: the field that holds the document's own number (None: it has none)
    number_field: str | None = None


OBJECTS: Mapping[str, ObjectSpec] = MappingProxyType(
    {
        "invoice": ObjectSpec("invoice", "ARINVOICE", "DOCNUMBER", "RECORDID"),
        "payment": ObjectSpec("payment", "ARPYMT", "DOCNUMBER"),
        "time_activity": ObjectSpec("time_activity", "TIMESHEET", "DESCRIPTION"),
        "customer": ObjectSpec("customer", "CUSTOMER", "COMMENTS", "CUSTOMERID"),
        "journal_entry": ObjectSpec("journal_entry", "GLBATCH", "REFERENCENO"),
    }
)


def spec_for(kind: str, record: str | None = None) -> ObjectSpec:
    """The spec of ``kind``; :class:`RemoteValidationError` for a kind Intacct lacks here."""
    spec = OBJECTS.get(kind)
    if spec is None:
        known = ", ".join(sorted(OBJECTS))
        raise RemoteValidationError(
            f"the Intacct back end does not create {kind!r} documents (it creates {known})",
            record=record,
        )
    return spec


def spec_for_object(name: str) -> ObjectSpec | None:
    """The spec whose Intacct object is ``name`` (any case)."""
    return next((s for s in OBJECTS.values() if s.object == name.upper()), None)


def _frozen(value: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType({str(k): str(v) for k, v in value.items()})


@attrs.frozen(kw_only=True)
class IntacctMapping:
    """Host ids to Intacct ids for one company.

    ``customers`` (host client → ``CUSTOMERID``), ``employees`` (→ ``EMPLOYEEID``),
    ``items`` (host item → ``ITEMID`` on timesheet entries), ``accounts`` (host item or
    account → GL ``ACCOUNTNO``; invoice lines use the line's item, journal lines the
    line's item as the account); ``revenue_account`` is used for an invoice line whose
    item has no account; ``journal`` is the GL journal symbol of journal entries;
    ``bank_account`` and ``payment_method`` go on payments.
    """

    customers: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)
    employees: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)
    items: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)
    accounts: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)
    revenue_account: str = ""
    journal: str = "GJ"
    bank_account: str = ""
    payment_method: str = "Cash"

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> IntacctMapping:
        """From JSON-like data: tables of strings, and the plain settings."""
        tables = ("customers", "employees", "items", "accounts")
        settings = ("revenue_account", "journal", "bank_account", "payment_method")
        unknown = sorted(set(data) - set(tables) - set(settings))
        if unknown:
            raise ValueError(f"unknown mapping entries: {', '.join(unknown)}")
        kwargs: dict[str, object] = {k: data[k] for k in (*tables, *settings) if k in data}
        return cls(**kwargs)  # type: ignore[arg-type]  # checked by attrs converters

    def _get(self, table: str, host_id: str, record: str | None) -> str:
        value = getattr(self, table).get(host_id)
        if not value:
            what = table.rstrip("s")
            raise UnmappedReference(
                f"{what} {host_id!r} has no Intacct id in the mapping ({table})",
                what=what,
                host_id=host_id,
                record=record,
            )
        return str(value)

    def customer(self, host_id: str, record: str | None = None) -> str:
        """The ``CUSTOMERID`` of host client ``host_id``."""
        return self._get("customers", host_id, record)

    def employee(self, host_id: str, record: str | None = None) -> str:
        """The ``EMPLOYEEID`` of host employee ``host_id``."""
        return self._get("employees", host_id, record)

    def account(self, host_id: str, record: str | None = None) -> str:
        """The GL ``ACCOUNTNO`` of a host item or account."""
        if host_id not in self.accounts and self.revenue_account:
            return self.revenue_account
        return self._get("accounts", host_id, record)


def intacct_date(day: dt.date) -> str:
    """``mm/dd/yyyy``, the date format of Intacct's 3.0 objects."""
    return day.strftime("%m/%d/%Y")


def _amount(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.01'))}"


def _add(parent: ET.Element, tag: str, text: str | None) -> None:
    if text:
        parent.append(element(tag, text))


def _invoice(doc: Document, mapping: IntacctMapping, key: str, record: str) -> ET.Element:
    node = element("ARINVOICE")
    _add(node, "CUSTOMERID", mapping.customer(doc.party, record))
    _add(node, "WHENCREATED", intacct_date(doc.date))
    due = doc.fields.get("due_date")
    _add(node, "WHENDUE", due or intacct_date(doc.date + dt.timedelta(days=30)))
    _add(node, "RECORDID", doc.doc_number)
    _add(node, "DOCNUMBER", key)
    _add(node, "DESCRIPTION", doc.memo)
    _add(node, "CURRENCY", doc.currency)
    if not doc.lines:
        raise RemoteValidationError("an Intacct AR invoice needs at least one line", record=record)
    items = element("ARINVOICEITEMS")
    for line in doc.lines:
        entry = element("arinvoiceitem")
        _add(entry, "ACCOUNTNO", mapping.account(line.item, record))
        _add(entry, "TRX_AMOUNT", _amount(line.amount or line.quantity * line.unit_price))
        _add(entry, "ENTRYDESCRIPTION", line.description)
        items.append(entry)
    node.append(items)
    return node


def _payment(doc: Document, mapping: IntacctMapping, key: str, record: str) -> ET.Element:
    amount = Decimal(doc.fields.get("amount") or sum((ln.amount for ln in doc.lines), Decimal(0)))
    invoice = doc.fields.get("invoice", "")
    if amount <= 0:
        raise RemoteValidationError("an Intacct AR payment needs a positive amount", record=record)
    if not invoice:
        raise RemoteValidationError(
            "an Intacct AR payment is applied to an invoice: set fields['invoice'] to the "
            "invoice's RECORDNO",
            record=record,
        )
    node = element("ARPYMT")
    _add(node, "FINANCIALENTITY", mapping.bank_account or doc.fields.get("bank_account"))
    _add(node, "PAYMENTMETHOD", doc.fields.get("payment_method") or mapping.payment_method)
    _add(node, "CUSTOMERID", mapping.customer(doc.party, record))
    _add(node, "DOCNUMBER", key)
    _add(node, "DESCRIPTION", doc.memo)
    _add(node, "RECEIPTDATE", intacct_date(doc.date))
    _add(node, "CURRENCY", doc.currency)
    details = element("ARPYMTDETAILS")
    detail = element("ARPYMTDETAIL")
    _add(detail, "RECORDKEY", invoice)
    _add(detail, "TRX_PAYMENTAMOUNT", _amount(amount))
    details.append(detail)
    node.append(details)
    return node


def _timesheet(doc: Document, mapping: IntacctMapping, key: str, record: str) -> ET.Element:
    node = element("TIMESHEET")
    _add(node, "EMPLOYEEID", mapping.employee(doc.party, record))
    _add(node, "BEGINDATE", intacct_date(doc.date))
    _add(node, "DESCRIPTION", key)
    hours = doc.fields.get("hours")
    if not hours:
        raise RemoteValidationError("an Intacct timesheet entry needs hours", record=record)
    entries = element("TIMESHEETENTRIES")
    entry = element("TIMESHEETENTRY")
    _add(entry, "ENTRYDATE", intacct_date(doc.date))
    _add(entry, "QTY", str(Decimal(hours)))
    _add(entry, "DESCRIPTION", doc.fields.get("description") or doc.memo)
    if doc.fields.get("customer"):
        _add(entry, "CUSTOMERID", mapping.customer(doc.fields["customer"], record))
    if doc.fields.get("item"):
        _add(entry, "ITEMID", mapping.items.get(doc.fields["item"]) or doc.fields["item"])
    entries.append(entry)
    node.append(entries)
    return node


def _customer(doc: Document, mapping: IntacctMapping, key: str, record: str) -> ET.Element:
    node = element("CUSTOMER")
    _add(node, "CUSTOMERID", doc.fields.get("customer_id") or doc.doc_number)
    _add(node, "NAME", doc.party)
    _add(node, "COMMENTS", key)
    contact = element("DISPLAYCONTACT")
    _add(contact, "PRINTAS", doc.party)
    _add(contact, "EMAIL1", doc.fields.get("email"))
    node.append(contact)
    return node


def _journal(doc: Document, mapping: IntacctMapping, key: str, record: str) -> ET.Element:
    if len(doc.lines) < 2:
        raise RemoteValidationError("an Intacct journal entry needs two lines", record=record)
    total = sum((ln.amount for ln in doc.lines), Decimal(0))
    if total != 0:
        raise RemoteValidationError(
            f"an Intacct journal entry must balance (debits - credits = {total})", record=record
        )
    node = element("GLBATCH")
    _add(node, "JOURNAL", doc.fields.get("journal") or mapping.journal)
    _add(node, "BATCH_DATE", intacct_date(doc.date))
    _add(node, "BATCH_TITLE", doc.memo or doc.doc_number or key)
    _add(node, "REFERENCENO", key)
    entries = element("ENTRIES")
    for line in doc.lines:
        entry = element("GLENTRY")
        _add(entry, "ACCOUNTNO", mapping.account(line.item, record))
        _add(entry, "TR_TYPE", "1" if line.amount > 0 else "-1")
        _add(entry, "TRX_AMOUNT", _amount(abs(line.amount)))
        _add(entry, "DESCRIPTION", line.description)
        entries.append(entry)
    node.append(entries)
    return node


_RENDERERS = {
    "invoice": _invoice,
    "payment": _payment,
    "time_activity": _timesheet,
    "customer": _customer,
    "journal_entry": _journal,
}


def render(document: Document, mapping: IntacctMapping, key: str) -> ET.Element:
    """The object element (``<ARINVOICE>``, ...) for ``document`` carrying ``key``."""
    record = str(document.source)
    spec = spec_for(document.kind, record)
    return _RENDERERS[spec.kind](document, mapping, key, record)


def ref_from_row(spec: ObjectSpec, row: ET.Element) -> RemoteRef:
    """The reference of one record (``RECORDNO``; Intacct has no version token)."""
    number = text_of(row, spec.number_field) if spec.number_field else ""
    return RemoteRef(
        remote_id=text_of(row, "RECORDNO"), version=None, kind=spec.kind, doc_number=number or None
    )
