"""The bundle store and customer directory ports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import attrs

from syncstate.domain.records import RecordKey

__all__ = ["BundleEntry", "BundleStore", "CustomerDirectory", "RemoteCustomer"]


# ---------------------------------------------------------------------- bundling


@attrs.frozen(kw_only=True)
class BundleEntry:
    """A live bundle: its record key, client, date and the keys of its members."""

    bundle: RecordKey
    client: str
    on: dt.date
    members: tuple[RecordKey, ...]


class BundleStore(Protocol):
    """Which transactions are in which bundle, and the company's name mappings.

    A transaction is in at most one bundle. Every method is scoped to one
    company and atomic. Entries come back ordered by ``(client, on, bundle)``.
    """

    def add(self, company: str, entries: Iterable[BundleEntry]) -> None:
        """Add bundles atomically; re-adding an identical bundle is a no-op.

        Raises :class:`~syncstate.errors.InputError` naming the record when a
        member is already in another bundle; then nothing is added.
        """
        ...

    def remove(self, company: str, bundles: Iterable[RecordKey]) -> list[BundleEntry]:
        """Delete bundles and their associations atomically; return those removed."""
        ...

    def entries(
        self,
        company: str,
        *,
        clients: Iterable[str] | None = None,
        bundles: Iterable[RecordKey] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[BundleEntry]:
        """Live bundles matching the filters, in stable order, paged by offset/limit."""
        ...

    def bundle_of(self, company: str, members: Iterable[RecordKey]) -> dict[RecordKey, RecordKey]:
        """The bundle each of ``members`` is in (members in no bundle are left out)."""
        ...

    def mappings(self, company: str) -> list[tuple[str, str, str]]:
        """The company's mappings as ``(kind, local, remote)`` rows, in stable order."""
        ...

    def set_mappings(self, company: str, rows: Iterable[tuple[str, str, str]]) -> None:
        """Add or replace mappings ``(kind, local, remote)``; an empty remote deletes one."""
        ...


@attrs.frozen(kw_only=True)
class RemoteCustomer:
    """A customer as the back end knows it."""

    remote_id: str
    display_name: str
    active: bool = True


@runtime_checkable
class CustomerDirectory(Protocol):
    """Optional: a back end that can find and create customers (customer sync)."""

    def find_customer(self, company: str, display_name: str) -> RemoteCustomer | None:
        """The customer with exactly this display name, if any."""
        ...

    def get_customer(self, company: str, remote_id: str) -> RemoteCustomer | None:
        """The customer with this remote id, if it exists."""
        ...

    def create_customer(
        self, company: str, display_name: str, *, idempotency_key: str
    ) -> RemoteCustomer:
        """Create a customer (idempotent per ``idempotency_key``)."""
        ...
