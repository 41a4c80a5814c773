"""The entities hosts export beyond sales: payables, expenses, journals, refunds, lists.

Each kind is an :class:`~syncstate.adapters.backends.quickbooks.specs.EntitySpec`
in :data:`EXTRA_SPECS` and a renderer in :data:`RENDERERS`;
:mod:`.payloads` merges both into ``ENTITIES`` and ``render``. A renderer turns a
neutral :class:`~syncstate.ports.Document` into the entity's JSON, resolving host
ids through ``resolve(what, host_id)`` (the company's
:class:`~syncstate.adapters.backends.quickbooks.payloads.QboMapping`), so a
missing mapping is an :class:`~syncstate.errors.UnmappedReference` before
anything is sent. What each kind reads from the document:

==================  =================================================================
kind                document → QuickBooks
==================  =================================================================
``bill``            party: vendor; lines: ``item`` = expense account, ``amount``;
                    fields ``due_date``
``purchase``        party: vendor (optional); fields ``account`` (bank or card paid
                    from, required), ``payment_type`` (Cash, Check, CreditCard);
                    lines as a bill
``journal_entry``   lines: ``item`` = account, ``amount`` > 0 debit, < 0 credit;
                    debits must equal credits (checked before sending)
``credit_memo``,    party: customer; lines: items, as an invoice
``estimate``
``refund_receipt``  as a credit memo, plus fields ``refund_account`` (required)
``deposit``         fields ``deposit_account`` (required); lines: ``item`` = account
``vendor``          fields ``display_name`` (else party)
``employee``        fields ``given_name``, ``family_name``, ``display_name``
``account``         fields ``name`` (else party), ``account_type`` (required)
``class``,          fields ``name`` (else party)
``department``
==================  =================================================================

Every transaction may also carry ``class`` and ``department`` (host ids, mapped),
and a foreign currency: the document's ``currency`` becomes ``CurrencyRef`` and
fields ``exchange_rate`` the ``ExchangeRate`` (home currency per unit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from syncstate.adapters.backends.quickbooks.specs import EntitySpec, ref, with_tag
from syncstate.errors import RemoteValidationError
from syncstate.money import quantize, to_decimal
from syncstate.ports import Document, DocumentLine

__all__ = ["EXTRA_SPECS", "RENDERERS", "Resolve"]

#: ``resolve(what, host_id)`` → the QuickBooks id (raises UnmappedReference)
Resolve = Callable[[str, str], str]
Renderer = Callable[[Document, Resolve, str, str], dict[str, Any]]


def _spec(kind: str, entity: str, tag: str | None, reverse: str, **extra: Any) -> EntitySpec:
    return EntitySpec(kind=kind, entity=entity, tag_field=tag, reverse=reverse, **extra)


EXTRA_SPECS: tuple[EntitySpec, ...] = (
    _spec("bill", "Bill", "PrivateNote", "delete"),
    _spec("purchase", "Purchase", "PrivateNote", "delete"),
    _spec("journal_entry", "JournalEntry", "PrivateNote", "delete"),
    _spec("credit_memo", "CreditMemo", "PrivateNote", "delete", pdf=True),
    _spec("refund_receipt", "RefundReceipt", "PrivateNote", "delete", pdf=True),
    _spec("deposit", "Deposit", "PrivateNote", "delete"),
    _spec("estimate", "Estimate", "PrivateNote", "delete", pdf=True),
    _spec("vendor", "Vendor", "Notes", "deactivate", transaction=False),
    _spec("employee", "Employee", None, "deactivate", transaction=False),
    _spec("account", "Account", "Description", "deactivate", transaction=False),
    _spec("class", "Class", None, "deactivate", transaction=False),
    _spec("department", "Department", None, "deactivate", transaction=False),
)


def _amount(line: DocumentLine) -> Decimal:
    return quantize(line.amount if line.amount else line.quantity * line.unit_price)


def _need(doc: Document, field: str, record: str) -> str:
    value = doc.fields.get(field, "").strip()
    if not value:
        raise RemoteValidationError(
            f"a QuickBooks {doc.kind} needs the field {field!r}", code="2020", record=record
        )
    return value


def _lines_needed(doc: Document, record: str) -> None:
    if not doc.lines:
        raise RemoteValidationError(
            f"a QuickBooks {doc.kind} needs at least one line", code="2020", record=record
        )


def _common(doc: Document, resolve: Resolve, key: str, record: str) -> dict[str, Any]:
    """TxnDate, the tagged PrivateNote, DocNumber, currency and tracking references."""
    body: dict[str, Any] = {
        "TxnDate": doc.date.isoformat(),
        "PrivateNote": with_tag(doc.memo, key),
    }
    if doc.doc_number:
        body["DocNumber"] = doc.doc_number
    if doc.currency:
        body["CurrencyRef"] = ref(doc.currency)
    if doc.fields.get("exchange_rate"):
        rate = to_decimal(doc.fields["exchange_rate"], what=f"record {record}: exchange_rate")
        if rate <= 0:
            raise RemoteValidationError(
                f"exchange rate {rate} must be positive", code="2020", record=record
            )
        body["ExchangeRate"] = rate
    if doc.fields.get("department"):
        body["DepartmentRef"] = ref(resolve("department", doc.fields["department"]))
    return body


def _tracking(doc: Document, resolve: Resolve) -> dict[str, Any]:
    return (
        {"ClassRef": ref(resolve("class", doc.fields["class"]))} if doc.fields.get("class") else {}
    )


def _expense_lines(doc: Document, resolve: Resolve, record: str) -> list[dict[str, Any]]:
    _lines_needed(doc, record)
    return [
        {
            "LineNum": number,
            "DetailType": "AccountBasedExpenseLineDetail",
            "Amount": _amount(line),
            "Description": line.description,
            "AccountBasedExpenseLineDetail": {
                "AccountRef": ref(resolve("account", line.item)),
                **_tracking(doc, resolve),
            },
        }
        for number, line in enumerate(doc.lines, start=1)
    ]


def _sales_lines(doc: Document, resolve: Resolve, record: str) -> list[dict[str, Any]]:
    _lines_needed(doc, record)
    out = []
    for number, line in enumerate(doc.lines, start=1):
        detail: dict[str, Any] = {
            "ItemRef": ref(resolve("item", line.item)),
            "Qty": line.quantity,
            "UnitPrice": line.unit_price,
            **_tracking(doc, resolve),
        }
        if line.tax_code:
            detail["TaxCodeRef"] = ref(line.tax_code)
        out.append(
            {
                "LineNum": number,
                "DetailType": "SalesItemLineDetail",
                "Amount": _amount(line),
                "Description": line.description,
                "SalesItemLineDetail": detail,
            }
        )
    return out


def _bill(doc: Document, resolve: Resolve, key: str, record: str) -> dict[str, Any]:
    body = _common(doc, resolve, key, record)
    body["VendorRef"] = ref(resolve("vendor", doc.party))
    body["Line"] = _expense_lines(doc, resolve, record)
    if doc.fields.get("due_date"):
        body["DueDate"] = dt.date.fromisoformat(doc.fields["due_date"]).isoformat()
    return body


def _purchase(doc: Document, resolve: Resolve, key: str, record: str) -> dict[str, Any]:
    body = _common(doc, resolve, key, record)
    kind = doc.fields.get("payment_type", "Cash")
    if kind not in ("Cash", "Check", "CreditCard"):
        raise RemoteValidationError(
            f"payment_type {kind!r} must be Cash, Check or CreditCard", code="2020", record=record
        )
    body["PaymentType"] = kind
    body["AccountRef"] = ref(resolve("account", _need(doc, "account", record)))
    if doc.party:
        body["EntityRef"] = {"value": resolve("vendor", doc.party), "type": "Vendor"}
    body["Line"] = _expense_lines(doc, resolve, record)
    return body


def _journal(doc: Document, resolve: Resolve, key: str, record: str) -> dict[str, Any]:
    body = _common(doc, resolve, key, record)
    _lines_needed(doc, record)
    lines = []
    balance = Decimal(0)
    for number, line in enumerate(doc.lines, start=1):
        amount = _amount(line)
        if amount == 0:
            raise RemoteValidationError(
                f"journal line {number} has no amount", code="2020", record=record
            )
        balance += amount
        lines.append(
            {
                "LineNum": number,
                "DetailType": "JournalEntryLineDetail",
                "Amount": abs(amount),
                "Description": line.description,
                "JournalEntryLineDetail": {
                    "PostingType": "Debit" if amount > 0 else "Credit",
                    "AccountRef": ref(resolve("account", line.item)),
                    **_tracking(doc, resolve),
                },
            }
        )
    if balance != 0:
        raise RemoteValidationError(
            f"a journal entry must balance: debits exceed credits by {balance}",
            code="6000",
            record=record,
        )
    body["Line"] = lines
    return body


def _customer_doc(doc: Document, resolve: Resolve, key: str, record: str) -> dict[str, Any]:
    body = _common(doc, resolve, key, record)
    body["CustomerRef"] = ref(resolve("customer", doc.party))
    body["Line"] = _sales_lines(doc, resolve, record)
    if doc.kind == "refund_receipt":
        account = resolve("account", _need(doc, "refund_account", record))
        body["DepositToAccountRef"] = ref(account)
    if doc.kind == "estimate" and doc.fields.get("expiration_date"):
        body["ExpirationDate"] = dt.date.fromisoformat(doc.fields["expiration_date"]).isoformat()
    return body


def _deposit(doc: Document, resolve: Resolve, key: str, record: str) -> dict[str, Any]:
    body = _common(doc, resolve, key, record)
    body["DepositToAccountRef"] = ref(resolve("account", _need(doc, "deposit_account", record)))
    _lines_needed(doc, record)
    body["Line"] = [
        {
            "LineNum": number,
            "DetailType": "DepositLineDetail",
            "Amount": _amount(line),
            "Description": line.description,
            "DepositLineDetail": {
                "AccountRef": ref(resolve("account", line.item)),
                **_tracking(doc, resolve),
            },
        }
        for number, line in enumerate(doc.lines, start=1)
    ]
    return body


def _vendor(doc: Document, resolve: Resolve, key: str, record: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "DisplayName": doc.fields.get("display_name") or doc.party,
        "Notes": with_tag(doc.memo, key),
    }
    if doc.fields.get("email"):
        body["PrimaryEmailAddr"] = {"Address": doc.fields["email"]}
    if doc.currency:
        body["CurrencyRef"] = ref(doc.currency)
    return body


def _employee(doc: Document, resolve: Resolve, key: str, record: str) -> dict[str, Any]:
    given, family = doc.fields.get("given_name", ""), doc.fields.get("family_name", "")
    display = doc.fields.get("display_name") or " ".join(p for p in (given, family) if p)
    body: dict[str, Any] = {"DisplayName": display or doc.party}
    if given:
        body["GivenName"] = given
    if family:
        body["FamilyName"] = family
    return body


def _account(doc: Document, resolve: Resolve, key: str, record: str) -> dict[str, Any]:
    return {
        "Name": doc.fields.get("name") or doc.party,
        "AccountType": _need(doc, "account_type", record),
        "Description": with_tag(doc.memo, key),
    }


def _named(doc: Document, resolve: Resolve, key: str, record: str) -> dict[str, Any]:
    return {"Name": doc.fields.get("name") or doc.party}


RENDERERS: Mapping[str, Renderer] = MappingProxyType(
    {
        "bill": _bill,
        "purchase": _purchase,
        "journal_entry": _journal,
        "credit_memo": _customer_doc,
        "refund_receipt": _customer_doc,
        "estimate": _customer_doc,
        "deposit": _deposit,
        "vendor": _vendor,
        "employee": _employee,
        "account": _account,
        "class": _named,
        "department": _named,
    }
)
