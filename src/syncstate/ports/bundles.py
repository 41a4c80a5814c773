"""The bundle store and customer directory ports.

What a host implements to keep bundles in its own database (see
:class:`BundleStore`), the optional :class:`AtomicUnbundle` a store offers when
it shares a database with the state store, and the kit that proves an
implementation: :class:`syncstate.testing.bundle_contract.BundleStoreContract`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

import attrs

from syncstate.domain.records import RecordKey
from syncstate.domain.state import Event

__all__ = ["AtomicUnbundle", "BundleEntry", "BundleStore", "CustomerDirectory", "RemoteCustomer"]


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

    What an implementation must guarantee (the kit,
    :class:`~syncstate.testing.bundle_contract.BundleStoreContract`, checks each):

    * **One company per call.** Every key handed in must belong to ``company``
      (else :class:`~syncstate.errors.InputError` naming the record, and nothing
      changes); nothing of another company is ever read or written.
    * **A transaction is in at most one bundle**, also when two processes add at
      once: the store itself must enforce it (a unique key on the member, or a
      lock per company held for the write), not the caller.
    * **Every write is one transaction.** :meth:`add`, :meth:`remove` and
      :meth:`set_mappings` change everything they were given, or nothing
      (also when the process dies half-way).
    * **Reads are consistent**: an entry always comes back with all its
      members, never a bundle half added or half removed.
    * **Order**: entries come back ordered by ``(client, on, bundle.kind,
      bundle.source_id)`` (code-point order), members sorted; mappings sorted.
    * :meth:`close` releases what the store opened (and nothing the host gave it).
    """

    def add(self, company: str, entries: Iterable[BundleEntry]) -> None:
        """Add bundles atomically; re-adding an identical bundle is a no-op.

        Raises :class:`~syncstate.errors.InputError` naming the record when a
        member is already in another bundle, when a bundle exists with other
        content or has no members; then nothing is added.
        """
        ...

    def remove(self, company: str, bundles: Iterable[RecordKey]) -> list[BundleEntry]:
        """Delete bundles and their associations atomically; return those removed.

        Unknown bundles are skipped; removing again is a no-op (returns ``[]``).
        """
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

    def close(self) -> None:
        """Release connections and files this store opened."""
        ...


@runtime_checkable
class AtomicUnbundle(Protocol):
    """Optional: a bundle store that shares one database with a state store.

    Un-bundling writes both stores: the bundle records' export state (reset,
    unlink) and the membership. A store opened *beside* a state store in the
    same database (an SQLite file, a PostgreSQL schema) offers this, and
    :meth:`~syncstate.services.bundling.BundleService.unbundle` then writes
    both in **one transaction**: after a crash either both changed or neither.
    Without it the service writes the state first and the membership second;
    running the un-bundle again finishes it (see ``docs/bundling.md``).
    """

    def shares_transactions_with(self, store: object) -> bool:
        """Whether :meth:`remove_and_apply` writes to ``store`` in its own transaction."""
        ...

    def remove_and_apply(
        self,
        company: str,
        bundles: Sequence[RecordKey],
        events: Sequence[tuple[RecordKey, Event]],
        *,
        at: dt.datetime,
        actor: str,
    ) -> list[BundleEntry]:
        """Apply ``events`` to the state store and remove ``bundles``, in one transaction.

        An invalid event (:class:`~syncstate.errors.InvalidTransition`) changes
        nothing in either store. Returns the removed entries as :meth:`BundleStore.remove`.
        """
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
