"""Posting rules of the Beancount back end: accounts from mappings, documents to postings.

:class:`LedgerAccounts` says which accounts documents post to; :func:`postings`
turns one :class:`~syncstate.ports.Document` into balanced postings, or
refuses it with :class:`~syncstate.errors.RemoteValidationError` (an
:class:`~syncstate.errors.UnmappedReference` for a missing mapping) before
anything is written.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from syncstate.errors import (
    ConfigurationError,
    InputError,
    RemoteValidationError,
    UnmappedReference,
)
from syncstate.money import quantize, to_decimal
from syncstate.ports import Document, DocumentLine

__all__ = ["CURRENCY", "KINDS", "LedgerAccounts", "Posting", "postings", "read_mappings"]

#: one posting: account, amount, currency
Posting = tuple[str, Decimal, str]

KINDS = ("invoice", "sales_receipt", "payment", "time_activity")

_ACCOUNT = re.compile(r"^(Assets|Liabilities|Equity|Income|Expenses)(:[A-Z0-9][A-Za-z0-9-]*)+$")
CURRENCY = re.compile(r"^[A-Z][A-Z0-9'._-]{0,22}[A-Z0-9]$|^[A-Z]$")


def _pairs(value: Mapping[str, str] | tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), str(v)) for k, v in items))


@attrs.frozen(kw_only=True)
class LedgerAccounts:
    """Which Beancount accounts documents post to.

    ``customers`` maps a host client id to its receivable account, ``items`` a
    host item to its income account, ``employees`` a host employee to a labour
    expense account (default :attr:`labour`), and ``cost_rates`` an employee to
    an hourly cost used when a time activity carries no rate of its own. A
    customer or item without a mapping is refused with
    :class:`~syncstate.errors.UnmappedReference` before anything is written,
    unless ``derive`` is set: then it posts to an account named after its id
    (``Assets:Receivable:Client-1``, ``Income:Consulting``), opened on first use
    (handy for demos and notebooks).
    """

    bank: str = "Assets:Bank"
    labour: str = "Expenses:Labour"
    payroll: str = "Liabilities:Payroll"
    customers: tuple[tuple[str, str], ...] = attrs.field(converter=_pairs, factory=tuple)
    items: tuple[tuple[str, str], ...] = attrs.field(converter=_pairs, factory=tuple)
    employees: tuple[tuple[str, str], ...] = attrs.field(converter=_pairs, factory=tuple)
    cost_rates: tuple[tuple[str, str], ...] = attrs.field(converter=_pairs, factory=tuple)
    derive: bool = False

    def __attrs_post_init__(self) -> None:
        for account in self.all_accounts():
            if not _ACCOUNT.match(account):
                raise ConfigurationError(
                    f"{account!r} is not a Beancount account name "
                    "(Assets|Liabilities|Equity|Income|Expenses, then :Capitalised parts)"
                )
        for employee, rate in self.cost_rates:
            to_decimal(rate, what=f"cost rate of employee {employee}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> LedgerAccounts:
        """Build from plain data (a dict read from TOML or JSON); unknown keys are refused."""
        known = {a.name for a in attrs.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigurationError(
                f"unknown Beancount mapping keys: {', '.join(unknown)}; "
                f"expected some of: {', '.join(sorted(known))}"
            )
        return cls(**dict(data))

    def all_accounts(self) -> list[str]:
        """Every account the mappings name, sorted and without repeats."""
        named = {self.bank, self.labour, self.payroll}
        for table in (self.customers, self.items, self.employees):
            named.update(account for _, account in table)
        return sorted(named)

    def resolve(self, what: str, host_id: str, record: str) -> str:
        """The account mapped to ``host_id`` (a ``customer`` or ``item``)."""
        table = dict(self.customers if what == "customer" else self.items)
        try:
            return table[host_id]
        except KeyError:
            if self.derive:
                root = "Assets:Receivable" if what == "customer" else "Income"
                part = re.sub(r"[^A-Za-z0-9-]+", "-", host_id).strip("-") or "Unnamed"
                return f"{root}:{part[0].upper()}{part[1:]}"
            raise UnmappedReference(
                f"no Beancount account mapped for {what} {host_id!r}",
                what=what,
                host_id=host_id,
                record=record,
            ) from None


def _line_amount(line: DocumentLine) -> Decimal:
    return quantize(line.amount if line.amount else line.quantity * line.unit_price)


def _amount(text: str, what: str, record: str) -> Decimal:
    try:
        return to_decimal(text, what=what)
    except InputError as exc:
        raise RemoteValidationError(str(exc), code="amount", record=record) from exc


def postings(doc: Document, accounts: LedgerAccounts, default_currency: str) -> list[Posting]:
    """The postings of ``doc``: (account, amount, currency), summing to zero per currency."""
    record = str(doc.source)
    currency = doc.currency or default_currency
    if not CURRENCY.match(currency):
        raise RemoteValidationError(
            f"{currency!r} is not a valid currency", code="currency", record=record
        )
    acc = accounts
    if doc.kind in ("invoice", "sales_receipt"):
        if not doc.lines:
            raise RemoteValidationError(f"{doc.kind} has no lines", code="no-lines", record=record)
        credits: dict[str, Decimal] = {}
        for line in doc.lines:
            account = acc.resolve("item", line.item, record)
            credits[account] = credits.get(account, Decimal(0)) + _line_amount(line)
        total = sum(credits.values(), Decimal(0))
        debit = acc.resolve("customer", doc.party, record) if doc.kind == "invoice" else acc.bank
        return [(debit, total, currency)] + [(a, -v, currency) for a, v in credits.items()]
    if doc.kind == "payment":
        if doc.fields.get("amount"):
            total = quantize(_amount(doc.fields["amount"], "payment amount", record))
        else:
            total = quantize(sum((_line_amount(line) for line in doc.lines), Decimal(0)))
        if total <= 0:
            raise RemoteValidationError(
                f"payment amount {total} is not positive", code="amount", record=record
            )
        receivable = acc.resolve("customer", doc.party, record)
        return [(acc.bank, total, currency), (receivable, -total, currency)]
    if doc.kind == "time_activity":
        return _time_postings(doc, accounts, record, currency)
    raise RemoteValidationError(
        f"document kind {doc.kind!r} is not supported by the Beancount back end "
        f"(supported: {', '.join(KINDS)})",
        code="unsupported-kind",
        record=record,
    )


def _time_postings(
    doc: Document, accounts: LedgerAccounts, record: str, currency: str
) -> list[Posting]:
    acc = accounts
    expense = dict(acc.employees).get(doc.party, acc.labour)
    if doc.lines:
        cost = quantize(sum((_line_amount(line) for line in doc.lines), Decimal(0)))
        return [(expense, cost, currency), (acc.payroll, -cost, currency)]
    hours = _amount(doc.fields.get("hours", ""), "hours", record)
    if hours < 0:
        raise RemoteValidationError(f"hours {hours} is negative", code="hours", record=record)
    rate_text = (
        doc.fields.get("cost_rate")
        or doc.fields.get("hourly_rate")
        or dict(acc.cost_rates).get(doc.party)
    )
    if not rate_text:  # no cost known: the ledger still records the hours
        return [(expense, hours, "HOURS"), (acc.payroll, -hours, "HOURS")]
    cost = quantize(hours * _amount(rate_text, "cost rate", record))
    return [(expense, cost, currency), (acc.payroll, -cost, currency)]


def read_mappings(path: Path) -> dict[str, Any]:
    """The mapping data in a ``.json`` or ``.toml`` file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read Beancount mappings {path}: {exc}") from exc
    try:
        data = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:  # JSON and TOML errors are ValueErrors
        raise ConfigurationError(f"Beancount mappings {path} are not valid: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigurationError(f"Beancount mappings {path} must hold a table / object")
    return data
