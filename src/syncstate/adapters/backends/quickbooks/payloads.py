"""Documents rendered as QuickBooks Online JSON, and QuickBooks entities read back.

:class:`QboMapping` maps the host's ids (employees, clients, items, accounts)
to QuickBooks ids; :func:`render` turns a :class:`~syncstate.ports.Document`
into the body of a create or sparse update, and raises
:class:`~syncstate.errors.UnmappedReference` *before* anything is sent when a
host id has no mapping. Every rendered document carries a tag
``[syncstate:<idempotency key>]`` in a free-text field (``PrivateNote`` for
transactions, ``Description`` for time activities, ``Notes`` for customers) so
the document can be found again after an ambiguous failure.

Amounts travel as JSON numbers (QuickBooks' wire format) written straight from
``Decimal`` by :func:`dumps` and read back as ``Decimal`` by :func:`loads`:
no float ever holds an amount.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import attrs

from syncstate.adapters.backends.decimal_json import dumps, loads
from syncstate.adapters.backends.quickbooks.entities import EXTRA_SPECS, RENDERERS
from syncstate.adapters.backends.quickbooks.specs import (
    EntitySpec,
    find_tag,
    ref,
    tag_for,
    with_tag,
)
from syncstate.errors import RemoteValidationError, UnmappedReference
from syncstate.money import quantize, to_decimal
from syncstate.ports import Document, DocumentLine, RemoteRef

__all__ = [
    "ENTITIES",
    "EntitySpec",
    "QboMapping",
    "dumps",
    "find_tag",
    "loads",
    "ref_from_entity",
    "render",
    "spec_for",
    "tag_for",
]

ENTITIES: Mapping[str, EntitySpec] = MappingProxyType(
    {
        spec.kind: spec
        for spec in (
            EntitySpec(
                kind="time_activity",
                entity="TimeActivity",
                tag_field="Description",
                reverse="delete",
            ),
            EntitySpec(
                kind="invoice", entity="Invoice", tag_field="PrivateNote", reverse="void", pdf=True
            ),
            EntitySpec(
                kind="sales_receipt",
                entity="SalesReceipt",
                tag_field="PrivateNote",
                reverse="void_update",
                pdf=True,
            ),
            EntitySpec(
                kind="payment", entity="Payment", tag_field="PrivateNote", reverse="void_update"
            ),
            EntitySpec(
                kind="customer",
                entity="Customer",
                tag_field="Notes",
                reverse="deactivate",
                transaction=False,
            ),
            EntitySpec(
                kind="item", entity="Item", tag_field=None, reverse="deactivate", transaction=False
            ),
            *EXTRA_SPECS,
        )
    }
)


def spec_for(kind: str) -> EntitySpec:
    """The QuickBooks entity for a document kind; an unknown kind is a validation error."""
    try:
        return ENTITIES[kind]
    except KeyError:
        known = ", ".join(sorted(ENTITIES))
        raise RemoteValidationError(
            f"QuickBooks takes no document of kind {kind!r} (known: {known})"
        ) from None


def _frozen_map(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType({str(k): str(v) for k, v in (value or {}).items()})


@attrs.frozen(kw_only=True)
class QboMapping:
    """Host ids → QuickBooks ids, one table per kind of reference (read-only)."""

    customers: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    employees: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    items: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    accounts: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    vendors: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    classes: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)
    departments: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_map)

    @classmethod
    def from_dict(cls, data: Mapping[str, Mapping[str, str]]) -> QboMapping:
        """Build from ``{"customers": {...}, "employees": {...}, ...}``."""
        unknown = set(data) - {f.name for f in attrs.fields(cls)}
        if unknown:
            raise UnmappedReference(
                f"unknown mapping table(s) {sorted(unknown)}", what="mapping", host_id=""
            )
        return cls(**{name: dict(table) for name, table in data.items()})

    def resolve(self, what: str, host_id: str, *, record: str | None = None) -> str:
        """The QuickBooks id for ``host_id`` in table ``what`` (``customer``, ...)."""
        table: Mapping[str, str] = getattr(self, "classes" if what == "class" else f"{what}s")
        try:
            return table[host_id]
        except KeyError:
            raise UnmappedReference(
                f"{what} {host_id!r} has no QuickBooks mapping; map it before exporting",
                what=what,
                host_id=host_id,
                record=record,
            ) from None


def _line_amount(line: DocumentLine) -> Decimal:
    if line.amount:
        return quantize(line.amount)
    return quantize(line.quantity * line.unit_price)


def _sales_lines(doc: Document, mapping: QboMapping, record: str) -> list[dict[str, Any]]:
    if not doc.lines:
        raise RemoteValidationError(
            f"a QuickBooks {doc.kind} needs at least one line", code="2020", record=record
        )
    out = []
    for number, line in enumerate(doc.lines, start=1):
        detail: dict[str, Any] = {
            "ItemRef": ref(mapping.resolve("item", line.item, record=record)),
            "Qty": line.quantity,
            "UnitPrice": line.unit_price,
        }
        if line.tax_code:
            detail["TaxCodeRef"] = ref(line.tax_code)
        entry: dict[str, Any] = {
            "LineNum": number,
            "DetailType": "SalesItemLineDetail",
            "Amount": _line_amount(line),
            "SalesItemLineDetail": detail,
        }
        if line.description:
            entry["Description"] = line.description
        out.append(entry)
    return out


def _time_activity(doc: Document, mapping: QboMapping, key: str, record: str) -> dict[str, Any]:
    fields = doc.fields
    hours = to_decimal(fields.get("hours", ""), what=f"record {record}: hours")
    if hours < 0:
        raise RemoteValidationError(f"hours {hours} is negative", code="2020", record=record)
    minutes_total = int(quantize(hours * 60, Decimal(1)))
    body: dict[str, Any] = {
        "NameOf": "Employee",
        "EmployeeRef": ref(mapping.resolve("employee", doc.party, record=record)),
        "TxnDate": doc.date.isoformat(),
        "Hours": minutes_total // 60,
        "Minutes": minutes_total % 60,
        "Description": with_tag(fields.get("description", doc.memo), key),
    }
    if fields.get("customer"):
        body["CustomerRef"] = ref(mapping.resolve("customer", fields["customer"], record=record))
    if fields.get("item"):
        body["ItemRef"] = ref(mapping.resolve("item", fields["item"], record=record))
    if fields.get("billable"):
        billable = fields["billable"].lower() in {"1", "true", "yes"}
        body["BillableStatus"] = "Billable" if billable else "NotBillable"
    if fields.get("hourly_rate"):
        body["HourlyRate"] = to_decimal(fields["hourly_rate"], what=f"record {record}: rate")
    return body


def _sales(doc: Document, mapping: QboMapping, key: str, record: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "CustomerRef": ref(mapping.resolve("customer", doc.party, record=record)),
        "TxnDate": doc.date.isoformat(),
        "Line": _sales_lines(doc, mapping, record),
        "PrivateNote": with_tag(doc.memo, key),
    }
    if doc.doc_number:
        body["DocNumber"] = doc.doc_number
    if doc.currency:
        body["CurrencyRef"] = ref(doc.currency)
    if doc.kind == "invoice" and doc.fields.get("due_date"):
        body["DueDate"] = dt.date.fromisoformat(doc.fields["due_date"]).isoformat()
    if doc.kind == "sales_receipt" and doc.fields.get("deposit_account"):
        account = mapping.resolve("account", doc.fields["deposit_account"], record=record)
        body["DepositToAccountRef"] = ref(account)
    return body


def _payment(doc: Document, mapping: QboMapping, key: str, record: str) -> dict[str, Any]:
    if doc.fields.get("amount"):
        total = quantize(to_decimal(doc.fields["amount"], what=f"record {record}: amount"))
    else:
        total = quantize(sum((_line_amount(line) for line in doc.lines), Decimal(0)))
    body: dict[str, Any] = {
        "CustomerRef": ref(mapping.resolve("customer", doc.party, record=record)),
        "TxnDate": doc.date.isoformat(),
        "TotalAmt": total,
        "PrivateNote": with_tag(doc.memo, key),
    }
    if doc.fields.get("applications"):
        # "TxnId=amount;TxnId=amount": one payment line per invoice it settles
        body["Line"] = [
            {
                "Amount": quantize(to_decimal(amount, what=f"record {record}: application")),
                "LinkedTxn": [{"TxnId": txn_id, "TxnType": "Invoice"}],
            }
            for txn_id, _, amount in (
                part.partition("=") for part in doc.fields["applications"].split(";") if part
            )
        ]
    elif doc.fields.get("applies_to"):
        body["Line"] = [
            {
                "Amount": total,
                "LinkedTxn": [{"TxnId": doc.fields["applies_to"], "TxnType": "Invoice"}],
            }
        ]
    if doc.fields.get("reference"):
        body["PaymentRefNum"] = doc.fields["reference"]
    if doc.currency:
        body["CurrencyRef"] = ref(doc.currency)
    return body


def _customer(doc: Document, key: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "DisplayName": doc.fields.get("display_name") or doc.party,
        "Notes": with_tag(doc.memo, key),
    }
    if doc.fields.get("email"):
        body["PrimaryEmailAddr"] = {"Address": doc.fields["email"]}
    return body


def _item(doc: Document, mapping: QboMapping, record: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "Name": doc.fields.get("name") or doc.party,
        "Type": doc.fields.get("type", "Service"),
    }
    if doc.fields.get("income_account"):
        account = mapping.resolve("account", doc.fields["income_account"], record=record)
        body["IncomeAccountRef"] = ref(account)
    if doc.fields.get("unit_price"):
        body["UnitPrice"] = to_decimal(doc.fields["unit_price"], what=f"record {record}: price")
    return body


def render(document: Document, mapping: QboMapping, idempotency_key: str) -> dict[str, Any]:
    """The QuickBooks entity body for ``document`` (no ``Id`` / ``SyncToken``)."""
    record = str(document.source)
    kind = spec_for(document.kind).kind
    if kind == "time_activity":
        return _time_activity(document, mapping, idempotency_key, record)
    if kind in ("invoice", "sales_receipt"):
        return _sales(document, mapping, idempotency_key, record)
    if kind == "payment":
        return _payment(document, mapping, idempotency_key, record)
    if kind == "customer":
        return _customer(document, idempotency_key)
    if kind in RENDERERS:

        def resolve(what: str, host_id: str) -> str:
            return mapping.resolve(what, host_id, record=record)

        return RENDERERS[kind](document, resolve, idempotency_key, record)
    return _item(document, mapping, record)


def ref_from_entity(kind: str, entity: Mapping[str, Any]) -> RemoteRef:
    """A :class:`RemoteRef` from a QuickBooks entity (``Id``, ``SyncToken``, ``DocNumber``)."""
    doc_number = entity.get("DocNumber")
    return RemoteRef(
        remote_id=str(entity["Id"]),
        version=None if entity.get("SyncToken") is None else str(entity["SyncToken"]),
        kind=kind,
        doc_number=None if doc_number is None else str(doc_number),
    )
