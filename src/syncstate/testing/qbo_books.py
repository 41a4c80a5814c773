"""The books behind the local QuickBooks-like server: entities, rules, queries.

Plain Python, no HTTP: :class:`QboBooks` keeps the entities of every realm
(company) and applies QuickBooks' documented rules — ``SyncToken`` checks
(5010), sparse and full updates, voids, deletes, required fields (2020),
invalid references (2500), duplicate document numbers (6140, naming the
existing ``TxnId``), duplicate names (6240; a ``DisplayName`` across customers, vendors and
employees, an item's ``Name`` across every item, sub-items included), item
names with a colon, tab or new line (6000), sub-items (``SubItem``,
``ParentRef`` to an existing item, ``FullyQualifiedName`` ``Parent:Child``,
at most five levels), linked transactions of another
customer (620), closed periods (6210), ended subscriptions (6190), deposited
transactions (6540) and not-found objects (610). Refused operations raise
:class:`QboFaultAnswer`, which knows its HTTP status and ``Fault`` body
(:mod:`syncstate.testing.qbo_faults`, re-exported here with :func:`qbo_time`);
queries are answered by :mod:`syncstate.testing.qbo_query`.
:mod:`syncstate.testing.qbo_server` puts HTTP in front of it.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from syncstate.testing.qbo_entity_rules import RULED, item_names, parse_upload, validate_extra
from syncstate.testing.qbo_faults import (
    QboFaultAnswer,
    invalid_reference,
    missing_field,
    not_found,
    qbo_time,
)
from syncstate.testing.qbo_payments import apply_payment
from syncstate.testing.qbo_query import run_query

__all__ = ["ENTITY_NAMES", "QboBooks", "QboFaultAnswer", "qbo_time"]

ENTITY_NAMES = (
    "Customer",
    "Vendor",
    "Employee",
    "Item",
    "Account",
    "Invoice",
    "SalesReceipt",
    "Payment",
    "TimeActivity",
    "Class",
    "Department",
    "Attachable",
    *sorted(RULED),
)
TRANSACTIONS = frozenset({"Invoice", "SalesReceipt", "Payment", "TimeActivity", *RULED})
#: list entities the API creates (transactions aside)
CREATABLE = frozenset({"Customer", "Vendor", "Employee", "Item", "Account", "Class", "Department"})
NAMED = {
    "Customer": "DisplayName",
    "Vendor": "DisplayName",
    "Item": "Name",
    "Employee": "DisplayName",
    "Account": "Name",
    "Class": "Name",
    "Department": "Name",
}
#: entities whose names share one namespace (a DisplayName is unique across all three)
PEOPLE = ("Customer", "Vendor", "Employee")
_BY_LOWER = {name.lower(): name for name in ENTITY_NAMES}


def _amount(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value or 0))


class _Realm:
    def __init__(self) -> None:
        self.entities: dict[str, dict[str, dict[str, Any]]] = {n: {} for n in ENTITY_NAMES}
        self.next_id = 1
        self.next_doc = 1001
        self.closed_through: dt.date | None = None
        self.subscription_ended = False
        self.deposited: set[tuple[str, str]] = set()
        #: every change, as a webhook names it (name, id, operation, lastUpdated)
        self.events: list[dict[str, str]] = []
        #: deleted entities as change data capture reports them (entity → Id → tombstone)
        self.deleted: dict[str, dict[str, dict[str, Any]]] = {}


class QboBooks:
    """Every realm's entities. Not thread-safe on its own: the server holds a lock."""

    def __init__(self, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._realms: dict[str, _Realm] = {}
        #: check references (customers, items, employees) exist
        self.strict_refs = True
        #: refuse a DocNumber already used by the same entity (6140)
        self.unique_doc_numbers = True

    def now(self) -> dt.datetime:
        """The books' clock."""
        return self._clock()

    def realms(self) -> list[str]:
        """The realms that have books."""
        return list(self._realms)

    def realm(self, realm: str) -> _Realm:
        """The realm's books, created on first use."""
        return self._realms.setdefault(realm, _Realm())

    # ---------------------------------------------------------------- helpers

    @staticmethod
    def entity_name(resource: str) -> str | None:
        """``salesreceipt`` → ``SalesReceipt`` (None when unknown)."""
        return _BY_LOWER.get(resource.lower())

    def add(self, realm: str, entity: str, fields: Mapping[str, Any]) -> str:
        """Seed an entity without validation (customers, items, employees); return its Id."""
        books = self.realm(realm)
        ident = str(books.next_id)
        books.next_id += 1
        stamp = qbo_time(self.now())
        record = {
            **copy.deepcopy(dict(fields)),
            "Id": ident,
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "MetaData": {"CreateTime": stamp, "LastUpdatedTime": stamp},
        }
        if entity == "Item":
            self._item_names(realm, record, strict=False)
        books.entities[entity][ident] = record
        return ident

    def _item_names(self, realm: str, record: dict[str, Any], *, strict: bool = True) -> None:
        item_names(self.realm(realm).entities["Item"], record, strict=strict)

    def get(self, realm: str, entity: str, ident: str) -> dict[str, Any]:
        """A copy of one entity, or a 610 fault."""
        record = self.realm(realm).entities[entity].get(str(ident))
        if record is None:
            raise not_found(entity, ident)
        return copy.deepcopy(record)

    def all(self, realm: str, entity: str) -> list[dict[str, Any]]:
        """Copies of every entity of a kind, by Id order."""
        rows = self.realm(realm).entities[entity].values()
        return [copy.deepcopy(r) for r in sorted(rows, key=lambda r: int(r["Id"]))]

    def count(self, realm: str, entity: str | None = None) -> int:
        """How many entities (of one kind, or transactions of every kind) exist."""
        books = self.realm(realm)
        names = [entity] if entity else sorted(TRANSACTIONS)
        return sum(len(books.entities[name]) for name in names)

    def _ids(self, realm: str) -> dict[str, frozenset[str]]:
        return {n: frozenset(e) for n, e in self.realm(realm).entities.items()}

    def snapshot_ids(self, realm: str) -> dict[str, frozenset[str]]:
        """Ids visible now (a batch's items cannot see each other's new records)."""
        return self._ids(realm)

    # ------------------------------------------------------------- validation

    def _check_ref(self, visible: Mapping[str, frozenset[str]], entity: str, ref: Any) -> None:
        if not self.strict_refs:
            return
        value = ref.get("value") if isinstance(ref, Mapping) else None
        if not value or str(value) not in visible[entity]:
            raise invalid_reference(entity, value)

    def _check_writable(self, realm: str, entity: str, record: Mapping[str, Any]) -> None:
        books = self.realm(realm)
        if books.subscription_ended:
            raise QboFaultAnswer(
                "6190",
                "Invalid Company Status",
                "Subscription period has ended or canceled or there was a billing problem : "
                "You can't add data to QuickBooks Online because your trial or subscription "
                "period ended, you canceled your subscription, or there was a billing problem.",
            )
        if entity in TRANSACTIONS and books.closed_through is not None:
            txn_date = dt.date.fromisoformat(str(record.get("TxnDate")))
            if txn_date <= books.closed_through:
                raise QboFaultAnswer(
                    "6210",
                    "Account Period Closed, Cannot Update Through Services API",
                    f"The account period has closed and the books are locked through "
                    f"{books.closed_through.isoformat()}.",
                )

    def _validate(
        self, realm: str, entity: str, record: dict[str, Any], visible: Mapping[str, frozenset[str]]
    ) -> None:
        books = self.realm(realm)
        if entity in NAMED:
            field = NAMED[entity]
            name = str(record.get(field) or "").strip()
            if not name:
                raise missing_field("Name" if field == "Name" else field)
            record[field] = name
            if entity == "Item":
                record.pop("FullyQualifiedName", None)  # system defined
                self._item_names(realm, record)
            self._check_unique_name(realm, entity, record, name)
            if entity == "Account" and not record.get("AccountType"):
                raise missing_field("AccountType")
            return
        record.setdefault("TxnDate", self.now().date().isoformat())
        if entity in ("Invoice", "SalesReceipt"):
            self._validate_sales(realm, entity, record, visible)
        elif entity == "Payment":
            self._validate_payment(realm, record, visible)
        elif entity == "TimeActivity":
            self._validate_time(record, visible)
        elif entity in RULED:
            validate_extra(entity, record, visible, self._check_ref)
        if self.unique_doc_numbers and record.get("DocNumber"):
            for other in books.entities[entity].values():
                if (
                    other["Id"] != record.get("Id")
                    and other.get("DocNumber") == record["DocNumber"]
                ):
                    raise QboFaultAnswer(
                        "6140",
                        "Duplicate Document Number Error",
                        "Duplicate Document Number Error : You must specify a different number. "
                        f"This number has already been used. DocNumber={record['DocNumber']} is "
                        f"assigned to TxnType={entity} with TxnId={other['Id']}",
                    )

    def _check_unique_name(
        self, realm: str, entity: str, record: Mapping[str, Any], name: str
    ) -> None:
        """6240 when another entity of the namespace has the same name (trimmed, any case)."""
        books = self.realm(realm)
        key = name.strip().casefold()
        for kind in PEOPLE if entity in PEOPLE else (entity,):
            field = NAMED[kind]
            for other in books.entities[kind].values():
                if kind == entity and other["Id"] == record.get("Id"):
                    continue
                if str(other.get(field) or "").strip().casefold() == key:
                    who = "item" if entity == "Item" else "customer, vendor or employee"
                    raise QboFaultAnswer(
                        "6240",
                        "Duplicate Name Exists Error",
                        f"The name supplied already exists. : Another {who} is already using "
                        f"this name. Please use a different name. : Id={other['Id']}",
                    )

    def _validate_sales(
        self, realm: str, entity: str, record: dict[str, Any], visible: Mapping[str, frozenset[str]]
    ) -> None:
        if entity == "Invoice" and not record.get("CustomerRef"):
            raise missing_field("CustomerRef")
        if record.get("CustomerRef"):
            self._check_ref(visible, "Customer", record["CustomerRef"])
        lines = [
            ln for ln in record.get("Line") or [] if ln.get("DetailType") != "SubTotalLineDetail"
        ]
        if not lines:
            raise missing_field("Line")
        total = Decimal(0)
        for line in lines:
            detail = line.get("SalesItemLineDetail") or {}
            self._check_ref(visible, "Item", detail.get("ItemRef"))
            amount = _amount(line.get("Amount"))
            if "Qty" in detail and "UnitPrice" in detail:
                expected = _amount(detail["Qty"]) * _amount(detail["UnitPrice"])
                if expected.quantize(Decimal("0.01")) != amount.quantize(Decimal("0.01")):
                    raise QboFaultAnswer(
                        "6070",
                        "Amount calculation incorrect in the request",
                        f"Amount is not equal to Qty * UnitPrice. Supplied value:{amount}",
                    )
            total += amount
        sub = {"DetailType": "SubTotalLineDetail", "Amount": total, "SubTotalLineDetail": {}}
        record["Line"] = [*lines, sub]
        record["TotalAmt"] = total
        record["Balance"] = total if entity == "Invoice" else Decimal(0)
        if not record.get("DocNumber"):
            books = self.realm(realm)
            record["DocNumber"] = str(books.next_doc)
            books.next_doc += 1

    def _validate_payment(
        self, realm: str, record: dict[str, Any], visible: Mapping[str, frozenset[str]]
    ) -> None:
        if not record.get("CustomerRef"):
            raise missing_field("CustomerRef")
        if record.get("TotalAmt") is None:
            raise missing_field("TotalAmt")
        self._check_ref(visible, "Customer", record["CustomerRef"])
        for line in record.get("Line") or []:
            for link in line.get("LinkedTxn") or []:
                invoice = self.realm(realm).entities["Invoice"].get(str(link.get("TxnId")))
                if invoice is None:
                    raise not_found("Invoice", link.get("TxnId"))
                if invoice.get("CustomerRef", {}).get("value") != record["CustomerRef"].get(
                    "value"
                ):
                    raise QboFaultAnswer(
                        "620",
                        "Transaction can't be linked",
                        "TxnId cannot be linked: transactions can only be linked if they share "
                        "the same customer",
                    )

    def _validate_time(self, record: dict[str, Any], visible: Mapping[str, frozenset[str]]) -> None:
        if not record.get("NameOf"):
            raise missing_field("NameOf")
        if record["NameOf"] == "Employee":
            if not record.get("EmployeeRef"):
                raise missing_field("EmployeeRef")
            self._check_ref(visible, "Employee", record["EmployeeRef"])
        has_span = record.get("StartTime") and record.get("EndTime")
        if record.get("Hours") is None and record.get("Minutes") is None and not has_span:
            raise missing_field("Hours")
        for field, entity in (("CustomerRef", "Customer"), ("ItemRef", "Item")):
            if record.get(field):
                self._check_ref(visible, entity, record[field])

    # ------------------------------------------------------------- operations

    def create(
        self,
        realm: str,
        entity: str,
        body: Mapping[str, Any],
        *,
        visible: Mapping[str, frozenset[str]] | None = None,
    ) -> dict[str, Any]:
        """Create an entity; returns it as QuickBooks answers (``SyncToken`` "0")."""
        if entity not in TRANSACTIONS and entity not in CREATABLE:
            raise QboFaultAnswer("500", "Unsupported Operation", f"create {entity}")
        record = copy.deepcopy(dict(body))
        for field in ("Id", "SyncToken", "MetaData"):
            record.pop(field, None)
        self._validate(realm, entity, record, visible or self._ids(realm))
        self._check_writable(realm, entity, record)
        books = self.realm(realm)
        ident = str(books.next_id)
        books.next_id += 1
        stamp = qbo_time(self.now())
        record.update(
            Id=ident,
            SyncToken="0",
            domain="QBO",
            sparse=False,
            MetaData={"CreateTime": stamp, "LastUpdatedTime": stamp},
        )
        books.entities[entity][ident] = record
        if entity == "Payment":
            apply_payment(books.entities["Invoice"], record, -1)
        self._event(realm, entity, ident, "Create")
        return copy.deepcopy(record)

    def _event(self, realm: str, entity: str, ident: str, operation: str) -> None:
        stamp = qbo_time(self.now())
        self.realm(realm).events.append(
            {"name": entity, "id": ident, "operation": operation, "lastUpdated": stamp}
        )

    def _current(self, realm: str, entity: str, body: Mapping[str, Any]) -> dict[str, Any]:
        ident = body.get("Id")
        if not ident:
            raise missing_field("Id")
        if body.get("SyncToken") is None:
            raise missing_field("SyncToken")
        current = self.realm(realm).entities[entity].get(str(ident))
        if current is None:
            raise not_found(entity, ident)
        if str(body["SyncToken"]) != current["SyncToken"]:
            raise QboFaultAnswer(
                "5010",
                "Stale Object Error",
                "Stale Object Error : You and syncstate test server were working on this at the "
                "same time. syncstate test server finished before you did, so your work was not "
                "saved.",
            )
        if (entity, str(ident)) in self.realm(realm).deposited:
            raise QboFaultAnswer(
                "6540",
                "Deposited Transaction cannot be changed",
                "This transaction has been deposited. If you want to change or delete it, you "
                "must first edit the deposit it appears on and remove it.",
            )
        return current

    def _store(
        self, realm: str, entity: str, record: dict[str, Any], operation: str = "Update"
    ) -> dict[str, Any]:
        record["SyncToken"] = str(int(record["SyncToken"]) + 1)
        record["MetaData"] = {**record["MetaData"], "LastUpdatedTime": qbo_time(self.now())}
        self.realm(realm).entities[entity][record["Id"]] = record
        self._event(realm, entity, record["Id"], operation)
        return copy.deepcopy(record)

    def update(self, realm: str, entity: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Sparse (``"sparse": true``) or full update, checked against ``SyncToken``."""
        current = self._current(realm, entity, body)
        changes = {k: copy.deepcopy(v) for k, v in body.items() if k not in ("sparse", "MetaData")}
        if body.get("sparse"):
            record = {**copy.deepcopy(current), **changes}
        else:
            keep = {k: current[k] for k in ("Id", "SyncToken", "domain", "MetaData")}
            record = {**changes, **keep}
        record["SyncToken"] = current["SyncToken"]
        self._validate(realm, entity, record, self._ids(realm))
        self._check_writable(realm, entity, record)
        self._check_writable(realm, entity, current)
        if entity == "Payment":  # give the old lines back, then apply the new ones
            apply_payment(self.realm(realm).entities["Invoice"], current, +1)
            apply_payment(self.realm(realm).entities["Invoice"], record, -1)
        return self._store(realm, entity, record)

    def void(self, realm: str, entity: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Void a transaction: amounts to zero, ``PrivateNote`` "Voided", token bumped."""
        if entity not in ("Invoice", "SalesReceipt", "Payment"):
            raise QboFaultAnswer("500", "Unsupported Operation", f"void {entity}")
        current = self._current(realm, entity, body)
        self._check_writable(realm, entity, current)
        record = copy.deepcopy(current)
        if entity == "Payment":
            apply_payment(self.realm(realm).entities["Invoice"], current, +1)
        for line in record.get("Line") or []:
            line["Amount"] = Decimal(0)
            if "SalesItemLineDetail" in line:
                line["SalesItemLineDetail"]["Qty"] = Decimal(0)
        record.update(TotalAmt=Decimal(0), Balance=Decimal(0), PrivateNote="Voided")
        return self._store(realm, entity, record, "Void")

    def delete(self, realm: str, entity: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Delete a transaction; answers ``{"status": "Deleted", ...}``."""
        if entity not in TRANSACTIONS:
            raise QboFaultAnswer("500", "Unsupported Operation", f"delete {entity}")
        current = self._current(realm, entity, body)
        self._check_writable(realm, entity, current)
        if entity == "Payment":
            apply_payment(self.realm(realm).entities["Invoice"], current, +1)
        del self.realm(realm).entities[entity][current["Id"]]
        stamp = qbo_time(self.now())
        tombstone = {"domain": "QBO", "status": "Deleted", "Id": current["Id"]}
        self.realm(realm).deleted.setdefault(entity, {})[current["Id"]] = {
            **tombstone,
            "MetaData": {"LastUpdatedTime": stamp},
        }
        self._event(realm, entity, current["Id"], "Delete")
        return tombstone

    def upload(self, realm: str, body: bytes) -> dict[str, Any]:
        """Store an uploaded attachable linked to an existing document (2500 if none)."""
        metadata, content, content_type = parse_upload(body)
        visible = self._ids(realm)
        for link in metadata.get("AttachableRef") or []:
            target = link.get("EntityRef") or {} if isinstance(link, Mapping) else {}
            entity = self.entity_name(str(target.get("type", "")))
            if entity is None:
                raise invalid_reference(str(target.get("type")), target.get("value"))
            self._check_ref(visible, entity, target)
        fields = {**metadata, "ContentType": metadata.get("ContentType") or content_type}
        ident = self.add(realm, "Attachable", {**fields, "Size": len(content)})
        self._event(realm, "Attachable", ident, "Create")
        return self.get(realm, "Attachable", ident)

    def pdf(self, realm: str, entity: str, ident: str) -> bytes:
        """A small but real PDF naming the document."""
        if entity not in ("Invoice", "SalesReceipt", "CreditMemo", "RefundReceipt", "Estimate"):
            raise QboFaultAnswer("500", "Unsupported Operation", f"pdf of {entity}")
        record = self.get(realm, entity, ident)
        text = f"{entity} {record.get('DocNumber', '')} total {record.get('TotalAmt')}"
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1", "replace")
        return b"".join(
            (
                b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n",
                b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n",
                b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 612 792]/Contents 4 0 R>>endobj\n",
                b"4 0 obj<</Length %d>>stream\n%s\nendstream endobj\n" % (len(stream), stream),
                b"trailer<</Root 1 0 R>>\n%%EOF\n",
            )
        )

    # ------------------------------------------------------------------ query

    def query(self, realm: str, statement: str) -> dict[str, Any]:
        """Run a QuickBooks query (``select * from Invoice where DocNumber = '1001'``).

        :func:`~syncstate.testing.qbo_query.run_query` over the realm's entities.
        """
        return run_query(self.realm(realm).entities, statement)
