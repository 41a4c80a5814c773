"""Documents rendered as Xero Accounting API JSON, and Xero elements read back.

:class:`XeroMapping` maps the host's ids to Xero's (contacts → ``ContactID``, items →
item ``Code``, accounts → account ``Code``); :func:`render` turns a
:class:`~syncstate.ports.Document` into one element of a create or update and raises
:class:`~syncstate.errors.UnmappedReference` *before* anything is sent when a host id
has no mapping. Every element carries the idempotency key it was created with, so
:meth:`~syncstate.adapters.backends.xero.client.XeroBackend.lookup` can find it with one
``where`` filter: in ``Reference`` (invoices, credit notes, payments: exactly
``[syncstate:<key>]``), in ``ContactNumber`` (contacts, at most 50 characters) or at the
end of ``Narration`` (manual journals). Items carry none (their ``Code`` is the user's).

Amounts travel as exact JSON numbers written from ``Decimal`` by :func:`dumps` and read
back as ``Decimal`` by :func:`loads`: no float ever holds an amount.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from syncstate.adapters.backends.decimal_json import dumps, loads
from syncstate.errors import RemoteValidationError, UnmappedReference
from syncstate.money import quantize, to_decimal
from syncstate.ports import Document, DocumentLine, RemoteRef

__all__ = [
    "ENTITIES",
    "EntitySpec",
    "XeroMapping",
    "dumps",
    "key_of",
    "loads",
    "ref_from_element",
    "render",
    "spec_for",
    "tag_for",
]

TAG_PREFIX = "[syncstate:"
_CONTACT_PREFIX = "syncstate:"
_CONTACT_NUMBER_MAX = 50


@attrs.frozen(kw_only=True)
class EntitySpec:
    """How one document kind lives in Xero."""

    kind: str
    #: the endpoint and the answer's list (``Invoices``)
    collection: str
    #: the element's id field (``InvoiceID``)
    id_field: str
    #: where the idempotency key is written (None: nowhere; no lookup)
    tag_field: str | None
    #: the element's number field, if any
    number_field: str | None = None
    #: how ``delete`` reverses it: ``status`` (VOIDED / DELETED by status), ``deleted``
    #: (Status DELETED), ``archive`` (ContactStatus ARCHIVED) or ``http_delete``
    reverse: str = "status"
    pdf: bool = False


ENTITIES: Mapping[str, EntitySpec] = MappingProxyType(
    {
        spec.kind: spec
        for spec in (
            EntitySpec(
                kind="invoice",
                collection="Invoices",
                id_field="InvoiceID",
                tag_field="Reference",
                number_field="InvoiceNumber",
                pdf=True,
            ),
            EntitySpec(
                kind="credit_note",
                collection="CreditNotes",
                id_field="CreditNoteID",
                tag_field="Reference",
                number_field="CreditNoteNumber",
                pdf=True,
            ),
            EntitySpec(
                kind="payment",
                collection="Payments",
                id_field="PaymentID",
                tag_field="Reference",
                reverse="deleted",
            ),
            EntitySpec(
                kind="customer",
                collection="Contacts",
                id_field="ContactID",
                tag_field="ContactNumber",
                reverse="archive",
            ),
            EntitySpec(
                kind="item",
                collection="Items",
                id_field="ItemID",
                tag_field=None,
                number_field="Code",
                reverse="http_delete",
            ),
            EntitySpec(
                kind="manual_journal",
                collection="ManualJournals",
                id_field="ManualJournalID",
                tag_field="Narration",
            ),
        )
    }
)


def spec_for(kind: str) -> EntitySpec:
    """The Xero entity of a document kind; an unknown kind is a validation error."""
    try:
        return ENTITIES[kind]
    except KeyError:
        known = ", ".join(sorted(ENTITIES))
        raise RemoteValidationError(
            f"Xero takes no document of kind {kind!r} (known: {known})"
        ) from None


def _frozen_map(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType({str(k): str(v) for k, v in (value or {}).items()})


@attrs.frozen(kw_only=True)
class XeroMapping:
    """Host ids → Xero ids: ``ContactID`` s, item codes and account codes (read-only)."""

    contacts: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    items: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    accounts: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, str]]) -> XeroMapping:
        """Build from ``{"contacts": {...}, "items": {...}, "accounts": {...}}``."""
        unknown = set(data) - {"contacts", "items", "accounts"}
        if unknown:
            raise UnmappedReference(
                f"unknown Xero mapping table(s) {sorted(unknown)} (known: accounts, contacts, "
                "items)",
                what="mapping",
                host_id="",
            )
        return cls(**{name: dict(table) for name, table in data.items()})

    def resolve(self, what: str, host_id: str, *, record: str | None = None) -> str:
        """The Xero id for ``host_id`` in table ``what`` (``contact``, ``item``, ``account``)."""
        table: Mapping[str, str] = getattr(self, f"{what}s")
        try:
            return table[host_id]
        except KeyError:
            raise UnmappedReference(
                f"{what} {host_id!r} has no Xero mapping; map it before exporting",
                what=what,
                host_id=host_id,
                record=record,
            ) from None


def tag_for(spec: EntitySpec, key: str) -> str:
    """What ``spec.tag_field`` holds for ``key`` (``[syncstate:<key>]``, or a contact number)."""
    if spec.tag_field == "ContactNumber":
        number = f"{_CONTACT_PREFIX}{key}"
        if len(number) > _CONTACT_NUMBER_MAX:  # Xero's limit: a digest of the key instead
            digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
            number = f"{_CONTACT_PREFIX}#{digest[: _CONTACT_NUMBER_MAX - len(_CONTACT_PREFIX) - 1]}"
        return number
    return f"{TAG_PREFIX}{key}]"


def key_of(spec: EntitySpec, element: Mapping[str, Any], keys: set[str]) -> str | None:
    """Which of ``keys`` the element carries in its tag field, if any."""
    if spec.tag_field is None:
        return None
    value = str(element.get(spec.tag_field) or "")
    for key in keys:
        tag = tag_for(spec, key)
        if value == tag or (spec.tag_field == "Narration" and value.endswith(tag)):
            return key
    return None


def _line_amount(line: DocumentLine) -> Decimal:
    return quantize(line.amount) if line.amount else quantize(line.quantity * line.unit_price)


def _sales_lines(
    doc: Document, mapping: XeroMapping, sales_account: str, record: str
) -> list[dict[str, Any]]:
    if not doc.lines:
        raise RemoteValidationError(f"a Xero {doc.kind} needs at least one line", record=record)
    out = []
    for line in doc.lines:
        entry: dict[str, Any] = {
            "Description": line.description or line.item,
            "Quantity": line.quantity,
            "UnitAmount": line.unit_price,
            "LineAmount": _line_amount(line),
            "ItemCode": mapping.resolve("item", line.item, record=record),
            "AccountCode": sales_account,
        }
        if line.tax_code:
            entry["TaxType"] = line.tax_code
        out.append(entry)
    return out


def _amount(doc: Document, record: str) -> Decimal:
    if doc.fields.get("amount"):
        return quantize(to_decimal(doc.fields["amount"], what=f"record {record}: amount"))
    return quantize(sum((_line_amount(line) for line in doc.lines), Decimal(0)))


def render(
    document: Document,
    mapping: XeroMapping,
    idempotency_key: str,
    *,
    sales_account: str = "200",
    payment_account: str = "090",
    invoice_status: str = "AUTHORISED",
) -> dict[str, Any]:
    """The Xero element for ``document`` (no id), tagged with ``idempotency_key``."""
    record = str(document.source)
    spec = spec_for(document.kind)
    doc, fields = document, document.fields
    body: dict[str, Any]
    if spec.kind in ("invoice", "credit_note"):
        invoice = spec.kind == "invoice"
        body = {
            "Type": "ACCREC" if invoice else "ACCRECCREDIT",
            "Contact": {"ContactID": mapping.resolve("contact", doc.party, record=record)},
            "Date": doc.date.isoformat(),
            "LineAmountTypes": fields.get("line_amount_types", "Exclusive"),
            "LineItems": _sales_lines(doc, mapping, sales_account, record),
            "Reference": tag_for(spec, idempotency_key),
            "Status": fields.get("status", invoice_status),
        }
        if invoice:
            body["DueDate"] = fields.get("due_date") or doc.date.isoformat()
        if doc.doc_number and spec.number_field:
            body[spec.number_field] = doc.doc_number
        if doc.currency:
            body["CurrencyCode"] = doc.currency
        return body
    if spec.kind == "payment":
        invoice_id = fields.get("applies_to")
        if not invoice_id:
            raise RemoteValidationError(
                "a Xero payment must name the invoice it pays (field applies_to: InvoiceID)",
                record=record,
            )
        account = fields.get("account")
        code = mapping.resolve("account", account, record=record) if account else payment_account
        return {
            "Invoice": {"InvoiceID": invoice_id},
            "Account": {"Code": code},
            "Date": doc.date.isoformat(),
            "Amount": _amount(doc, record),
            "Reference": tag_for(spec, idempotency_key),
        }
    if spec.kind == "customer":
        body = {
            "Name": fields.get("display_name") or doc.party,
            "ContactNumber": tag_for(spec, idempotency_key),
        }
        if fields.get("email"):
            body["EmailAddress"] = fields["email"]
        return body
    if spec.kind == "item":
        body = {
            "Code": (fields.get("code") or doc.party)[:30],
            "Name": (fields.get("name") or doc.party)[:50],
        }
        if doc.memo:
            body["Description"] = doc.memo
        if fields.get("unit_price"):
            price = to_decimal(fields["unit_price"], what=f"record {record}: unit_price")
            body["SalesDetails"] = {"UnitPrice": price, "AccountCode": sales_account}
        return body
    lines = [
        {
            "LineAmount": _line_amount(line),
            "AccountCode": mapping.resolve("account", line.item, record=record),
            "Description": line.description,
        }
        for line in doc.lines
    ]
    if len(lines) < 2:
        raise RemoteValidationError("a Xero manual journal needs two lines or more", record=record)
    narration = f"{doc.memo} {tag_for(spec, idempotency_key)}".strip()
    return {
        "Narration": narration,
        "Date": doc.date.isoformat(),
        "Status": "POSTED",
        "LineAmountTypes": "NoTax",
        "JournalLines": lines,
    }


def ref_from_element(spec: EntitySpec, element: Mapping[str, Any]) -> RemoteRef:
    """A :class:`RemoteRef` from a Xero element: its id, ``UpdatedDateUTC`` as the version."""
    number = element.get(spec.number_field) if spec.number_field else None
    version = element.get("UpdatedDateUTC")
    return RemoteRef(
        remote_id=str(element[spec.id_field]),
        version=None if version is None else str(version),
        kind=spec.kind,
        doc_number=None if number is None else str(number),
    )
