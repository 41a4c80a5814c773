"""Mappings from host names to the back end's own: customers, items, deposit accounts.

A back end knows its own customers, items and accounts; the host knows its
clients, bookable resources and payment methods. :class:`Mappings` joins them:

* client → remote **customer**,
* bookable resource → remote **item**,
* payment method → **deposit account** (optional: a method without a mapping
  goes to the back end's default account, unless ``require_deposit_accounts``),
* supplier → remote **vendor** (bills and expenses; ``sync_vendors``).

:func:`check_mappings` runs before anything is sent and returns **every**
missing mapping at once, each naming the records that need it, so a user fixes
them all in one pass instead of meeting them one failed export at a time.
Errors are data here; the service raises
:class:`~syncstate.errors.MappingError` carrying them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

import attrs

from syncstate.domain.records import RecordKey
from syncstate.domain.transactions import Payment, UsageLog

__all__ = ["MappingKind", "Mappings", "MissingMapping", "check_mappings"]


class MappingKind(enum.Enum):
    """What a mapping maps."""

    CUSTOMER = "customer"
    ITEM = "item"
    DEPOSIT_ACCOUNT = "deposit_account"
    VENDOR = "vendor"

    @property
    def label(self) -> str:
        """What the host calls the mapped thing."""
        return _NAMES[self][0]

    @property
    def table(self) -> str:
        """The attribute of :class:`Mappings` holding this kind (``customers``, ...)."""
        return _NAMES[self][1]


#: each kind's host label and :class:`Mappings` attribute
_NAMES = {
    MappingKind.CUSTOMER: ("client", "customers"),
    MappingKind.ITEM: ("bookable resource", "items"),
    MappingKind.DEPOSIT_ACCOUNT: ("payment method", "deposit_accounts"),
    MappingKind.VENDOR: ("supplier", "vendors"),
}


def _pairs(value: Mapping[str, str] | Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted((str(k), str(v)) for k, v in items if str(v).strip()))


@attrs.frozen(kw_only=True)
class Mappings:
    """The host → back end name mappings of one company."""

    customers: tuple[tuple[str, str], ...] = attrs.field(converter=_pairs, default=())
    items: tuple[tuple[str, str], ...] = attrs.field(converter=_pairs, default=())
    deposit_accounts: tuple[tuple[str, str], ...] = attrs.field(converter=_pairs, default=())
    vendors: tuple[tuple[str, str], ...] = attrs.field(converter=_pairs, default=())

    def _table(self, kind: MappingKind) -> dict[str, str]:
        return dict(getattr(self, kind.table))

    def get(self, kind: MappingKind, local: str) -> str | None:
        """The remote id ``local`` maps to, or ``None``."""
        return self._table(kind).get(local)

    def customer(self, client: str) -> str | None:
        """The remote customer of ``client``."""
        return self.get(MappingKind.CUSTOMER, client)

    def item(self, resource: str) -> str | None:
        """The remote item of bookable ``resource``."""
        return self.get(MappingKind.ITEM, resource)

    def deposit_account(self, method: str) -> str | None:
        """The deposit account of payment ``method``."""
        return self.get(MappingKind.DEPOSIT_ACCOUNT, method)

    def with_mapping(self, kind: MappingKind, local: str, remote: str) -> Mappings:
        """A copy with ``local`` mapped to ``remote``."""
        table = self._table(kind)
        table[local] = remote
        return attrs.evolve(self, **{kind.table: table})

    def as_rows(self) -> list[tuple[MappingKind, str, str]]:
        """Every mapping as ``(kind, local, remote)``, in stable order."""
        return [
            (kind, local, remote)
            for kind in MappingKind
            for local, remote in sorted(self._table(kind).items())
        ]

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[MappingKind, str, str]]) -> Mappings:
        """Inverse of :meth:`as_rows`."""
        tables: dict[MappingKind, dict[str, str]] = {kind: {} for kind in MappingKind}
        for kind, local, remote in rows:
            tables[kind][local] = remote
        return cls(**{kind.table: table for kind, table in tables.items()})


@attrs.frozen(kw_only=True)
class MissingMapping:
    """One host name without a mapping, and every record that needs it."""

    kind: MappingKind
    local: str
    records: tuple[RecordKey, ...]
    reason: str = "not mapped"

    def __str__(self) -> str:
        shown = ", ".join(str(key) for key in self.records[:5])
        more = len(self.records) - 5
        if more > 0:
            shown += f" and {more} more"
        what = f"{self.kind.label} {self.local!r}: {self.kind.value} {self.reason}"
        return f"{what} (needed by {shown})"


def check_mappings(
    company: str,
    transactions: Iterable[UsageLog | Payment],
    mappings: Mappings,
    *,
    require_deposit_accounts: bool = False,
    unknown_customers: Iterable[str] = (),
    unknown_items: Iterable[str] = (),
) -> tuple[MissingMapping, ...]:
    """Every missing mapping the ``transactions`` need, each naming its records.

    ``unknown_customers`` / ``unknown_items`` are remote ids known not to exist at
    the back end (checked before sending): clients / resources mapped to one of
    them are reported as ``does not exist`` (or with the reason, when given as a
    mapping id → reason). An empty result means export may proceed.
    """

    def reasons(ids: Iterable[str]) -> dict[str, str]:
        given = ids if isinstance(ids, Mapping) else dict.fromkeys(ids, "does not exist")
        return {str(k): str(v) for k, v in given.items()}

    unknown, unknown_item = reasons(unknown_customers), reasons(unknown_items)
    needs: dict[tuple[MappingKind, str, str], list[RecordKey]] = {}

    def need(kind: MappingKind, local: str, key: RecordKey, reason: str = "not mapped") -> None:
        needs.setdefault((kind, local, reason), []).append(key)

    for tx in transactions:
        key = RecordKey(company, tx.KIND, tx.source_id)
        customer = mappings.customer(tx.client)
        if customer is None:
            need(MappingKind.CUSTOMER, tx.client, key)
        elif customer in unknown:
            need(MappingKind.CUSTOMER, tx.client, key, f"{customer!r} {unknown[customer]}")
        if isinstance(tx, UsageLog):
            item = mappings.item(tx.resource)
            if item is None:
                need(MappingKind.ITEM, tx.resource, key)
            elif item in unknown_item:
                need(MappingKind.ITEM, tx.resource, key, f"{item!r} {unknown_item[item]}")
        elif require_deposit_accounts and mappings.deposit_account(tx.method) is None:
            need(MappingKind.DEPOSIT_ACCOUNT, tx.method, key)
    order = list(MappingKind)
    return tuple(
        MissingMapping(kind=kind, local=local, records=tuple(sorted(keys)), reason=reason)
        for (kind, local, reason), keys in sorted(
            needs.items(), key=lambda item: (order.index(item[0][0]), item[0][1], item[0][2])
        )
    )
