"""An in-memory :class:`~syncstate.ports.BundleStore` for tests and notebooks.

Opened :meth:`~MemoryBundleStore.beside` a :class:`MemoryStore` it also offers
:class:`~syncstate.ports.AtomicUnbundle`: both stores' changes happen under
their locks, after every event has been checked, so an un-bundle is whole.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Sequence

from syncstate.adapters.storage.base import check_company
from syncstate.adapters.storage.memory.state import MemoryStore
from syncstate.domain.records import RecordKey
from syncstate.domain.state import Event
from syncstate.errors import InputError
from syncstate.ports import BundleEntry

__all__ = ["MemoryBundleStore", "entry_order"]


def entry_order(entry: BundleEntry) -> tuple[str, str, str, str]:
    """The stable order of bundle entries: client, date, bundle kind, bundle id."""
    return (entry.client, entry.on.isoformat(), entry.bundle.kind, entry.bundle.source_id)


def check_entry(company: str, entry: BundleEntry) -> None:
    """Refuse an entry of another company or one without members."""
    check_company(company, entry.bundle)
    if not entry.members:
        raise InputError(f"bundle {entry.bundle} has no members")
    for member in entry.members:
        check_company(company, member)


class MemoryBundleStore:
    """Bundle associations and mappings in dictionaries; gone when the process ends."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._bundles: dict[RecordKey, BundleEntry] = {}
        self._member_of: dict[RecordKey, RecordKey] = {}
        self._mappings: dict[tuple[str, str, str], str] = {}
        self._state: MemoryStore | None = None

    @classmethod
    def beside(cls, store: MemoryStore) -> MemoryBundleStore:
        """A bundle store whose un-bundle also writes ``store`` at once (AtomicUnbundle)."""
        bundles = cls()
        bundles._state = store
        return bundles

    def shares_transactions_with(self, store: object) -> bool:
        """True for the state store this one was opened beside."""
        return self._state is not None and store is self._state

    def remove_and_apply(
        self,
        company: str,
        bundles: Sequence[RecordKey],
        events: Sequence[tuple[RecordKey, Event]],
        *,
        at: dt.datetime,
        actor: str,
    ) -> list[BundleEntry]:
        """Apply ``events`` to the state store and remove ``bundles``, both or neither."""
        if self._state is None:
            raise InputError("this bundle store was not opened beside a state store")
        for key in bundles:
            check_company(company, key)
        with self._state._lock, self._lock:  # the state store's lock first, always
            if events:  # checks every event before it changes anything
                self._state.apply(company, events, at=at, actor=actor)
            return self.remove(company, bundles)

    def close(self) -> None:
        """Nothing to release."""

    def __repr__(self) -> str:
        return f"MemoryBundleStore(bundles={len(self._bundles)})"

    def add(self, company: str, entries: Iterable[BundleEntry]) -> None:
        """Add bundles atomically; a member already in another bundle refuses them all."""
        batch = list(entries)
        with self._lock:
            claimed: dict[RecordKey, RecordKey] = {}
            for entry in batch:
                check_entry(company, entry)
                existing = self._bundles.get(entry.bundle)
                if existing is not None and existing != entry:
                    raise InputError(f"bundle {entry.bundle} already exists with other content")
                for member in entry.members:
                    owner = claimed.get(member) or self._member_of.get(member)
                    if owner is not None and owner != entry.bundle:
                        raise InputError(f"record {member} is already in bundle {owner}")
                    claimed[member] = entry.bundle
            for entry in batch:
                self._bundles[entry.bundle] = entry
            self._member_of.update(claimed)

    def remove(self, company: str, bundles: Iterable[RecordKey]) -> list[BundleEntry]:
        """Delete bundles and their associations; return those removed."""
        keys = list(bundles)
        with self._lock:
            for key in keys:
                check_company(company, key)
            removed = [self._bundles[key] for key in dict.fromkeys(keys) if key in self._bundles]
            for entry in removed:
                del self._bundles[entry.bundle]
                for member in entry.members:
                    self._member_of.pop(member, None)
            return sorted(removed, key=entry_order)

    def entries(
        self,
        company: str,
        *,
        clients: Iterable[str] | None = None,
        bundles: Iterable[RecordKey] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[BundleEntry]:
        """Live bundles of ``company`` matching the filters, in stable order."""
        wanted_clients = None if clients is None else set(clients)
        wanted = None if bundles is None else set(bundles)
        with self._lock:
            found = [
                e
                for e in self._bundles.values()
                if e.bundle.company == company
                and (wanted_clients is None or e.client in wanted_clients)
                and (wanted is None or e.bundle in wanted)
            ]
        found.sort(key=entry_order)
        end = None if limit is None else offset + limit
        return found[offset:end]

    def bundle_of(self, company: str, members: Iterable[RecordKey]) -> dict[RecordKey, RecordKey]:
        """The bundle each member is in."""
        with self._lock:
            out = {}
            for member in members:
                check_company(company, member)
                owner = self._member_of.get(member)
                if owner is not None:
                    out[member] = owner
            return out

    def mappings(self, company: str) -> list[tuple[str, str, str]]:
        """The company's mappings, sorted."""
        with self._lock:
            return sorted(
                (kind, local, remote)
                for (co, kind, local), remote in self._mappings.items()
                if co == company
            )

    def set_mappings(self, company: str, rows: Iterable[tuple[str, str, str]]) -> None:
        """Add, replace or (with an empty remote) delete mappings."""
        batch = [(str(k), str(lo), str(r)) for k, lo, r in rows]
        with self._lock:
            for kind, local, remote in batch:
                if remote.strip():
                    self._mappings[(company, kind, local)] = remote
                else:
                    self._mappings.pop((company, kind, local), None)
