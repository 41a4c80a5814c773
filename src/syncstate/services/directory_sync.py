"""Directory synchronisation: match or create the back end's customers, vendors and items.

Most companies already keep their customers, vendors and items in the back end.
:func:`sync_directory` (and :func:`~syncstate.services.customer_sync.sync_customers`,
:func:`sync_vendors`, :func:`sync_items` on top of it) makes sure each host name has
one, and records the mapping (:class:`~syncstate.domain.mapping.MappingKind`):

* a name already mapped to an id that exists is ``kept`` (with a
  :class:`~syncstate.ports.names.RemoteIdChecker` back end every mapped id is
  checked in one request per list);
* otherwise an existing entity is **matched** by name as the back end compares
  names (:class:`~syncstate.ports.names.NameMatcher`: QuickBooks ignores case and
  surrounding whitespace; items by their ``Parent:Child`` path), all names in one
  read; a name that is ambiguous (several candidates, an inactive or only a
  similar one) or ``taken`` by another kind of entity is **proposed**, never
  guessed: nothing is mapped or created, the candidates are in the result;
* otherwise one is **created**, exactly once: under an idempotency key derived
  from the company and the host name (QuickBooks' ``requestid``: a resend replays
  the first answer), through the back end's directory (:class:`NamedCreator`) or as
  an ordinary document (looked up by its key first). A create whose answer is lost
  is sent again with the same key; a duplicate-name refusal (QuickBooks fault
  6240) is matched again instead of stopping the run. A sub-item's missing parents
  are created first (as categories), each once.

With ``budget`` (:class:`~syncstate.services.budgets.Budgets`, as
``ExportOptions.budget``) every request takes a slot of the company's shared budget,
like an export's (a back end offering :class:`RequestSlots` has each of its HTTP
requests, pages included, take one; another is wrapped in
:class:`~syncstate.services.budgeted.BudgetedBackend`).

Other errors (throttling, refused credentials) stop the run: what was mapped so far
stays mapped, and running it again carries on with the same keys.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

from syncstate.domain.mapping import MappingKind
from syncstate.domain.records import RecordKey
from syncstate.domain.transactions import UsageLog
from syncstate.errors import (
    AmbiguousOutcome,
    DuplicateDocumentError,
    InputError,
    NotSent,
    ThrottledError,
    UnsupportedCapability,
)
from syncstate.ports import AccountingBackend, Capability, CustomerDirectory, Document
from syncstate.ports.names import NameCandidate, NameMatch, NameMatcher, RemoteIdChecker
from syncstate.services.budgeted import BudgetedBackend
from syncstate.services.budgets import Budgets, SharedBudget
from syncstate.services.bundling import BundleService

__all__ = [
    "CUSTOMERS",
    "ITEMS",
    "VENDORS",
    "DirectoryKind",
    "DirectorySync",
    "NamedCreator",
    "RequestSlots",
    "sync_directory",
    "sync_items",
    "sync_vendors",
]

#: sends of one create (the first and resends with the same key after a lost answer)
SENDS = 3


@attrs.frozen(kw_only=True)
class DirectoryKind:
    """What is synchronised: the back end's kind, the mapping it fills, the key space."""

    kind: str
    mapping: MappingKind
    namespace: uuid.UUID
    #: the document field holding the name, for back ends without a directory
    name_field: str = "display_name"

    def key(self, company: str, local: str) -> str:
        """The idempotency key of creating ``local``'s entity (36 characters)."""
        return str(uuid.uuid5(self.namespace, f"{company}\x1f{local}"))


CUSTOMERS = DirectoryKind(
    kind="customer",
    mapping=MappingKind.CUSTOMER,
    namespace=uuid.UUID("1c1e3b7a-8a4f-4d0e-9a55-637573746f6d"),
)
VENDORS = DirectoryKind(
    kind="vendor",
    mapping=MappingKind.VENDOR,
    namespace=uuid.UUID("5f0c2d1e-7b3a-4c8e-9d21-76656e646f72"),
)
ITEMS = DirectoryKind(
    kind="item",
    mapping=MappingKind.ITEM,
    namespace=uuid.UUID("8a7e6f5d-4c3b-4a29-8e17-6974656d7321"),
    name_field="name",
)
_KINDS = {k.kind: k for k in (CUSTOMERS, VENDORS, ITEMS)}
#: keys of parent items (categories), by their path rather than a host name
_PARENTS = uuid.UUID("0b6f3e2a-1d4c-4f5e-8a9b-706172656e74")


@attrs.frozen(kw_only=True)
class DirectorySync:
    """One host name's result: ``kept``, ``matched``, ``created``, ``ambiguous``,
    ``taken`` or ``failed``.

    ``ambiguous`` and ``taken`` leave the name unmapped: ``candidates`` are the
    proposals a person chooses from (map one with ``BundleService.set_mapping``);
    ``reason`` says why (for ``failed``: the back end's error).
    """

    kind: str
    local: str
    name: str
    action: str
    remote_id: str = ""
    candidates: tuple[NameCandidate, ...] = ()
    reason: str = ""


@runtime_checkable
class NamedCreator(Protocol):
    """Optional: a back end that creates customers, vendors and items by name."""

    def create_named(
        self,
        company: str,
        kind: str,
        name: str,
        *,
        idempotency_key: str,
        fields: Mapping[str, str] | None = None,
    ) -> NameCandidate:
        """Create it (idempotent per key); ``fields``: ``parent_id``, ``type``, accounts."""
        ...


@runtime_checkable
class RequestSlots(Protocol):
    """Optional: a back end that can run each of its HTTP requests inside a slot."""

    def with_request_slot(self, slot: Callable[[], contextlib.AbstractContextManager[Any]]) -> Any:
        """The same back end with every request inside ``slot()``."""
        ...


def _budgeted(budget: SharedBudget) -> Callable[[], contextlib.AbstractContextManager[None]]:
    @contextlib.contextmanager
    def slot() -> Iterator[None]:
        with budget.slot():
            try:
                yield
            except ThrottledError as exc:  # every worker of the company waits
                budget.hold(exc.retry_after)
                raise

    return slot


def _names(entries: Mapping[str, str] | Iterable[str]) -> dict[str, str]:
    if isinstance(entries, Mapping):
        return {str(k): str(v) for k, v in entries.items()}
    return {str(e): str(e) for e in entries}


class _Run:
    """One synchronisation of one kind for one company."""

    def __init__(
        self,
        service: BundleService,
        backend: Any,
        company: str,
        kind: DirectoryKind,
        *,
        dry_run: bool,
        fields: Mapping[str, str],
        bare: object,
    ) -> None:
        # optional protocols are tested on the bare back end (a wrapper that delegates
        # by __getattr__ does not show them to isinstance on every Python), called on
        # ``backend`` (the bare one, or the one whose requests take budget slots)
        self.service, self.backend, self.company, self.kind = service, backend, company, kind
        self.dry_run, self.fields = dry_run, dict(fields)
        self.matcher = backend if isinstance(bare, NameMatcher) else None
        self.creator = backend if isinstance(bare, NamedCreator) else None
        self.checker = backend if isinstance(bare, RemoteIdChecker) else None
        self.customers = backend if isinstance(bare, CustomerDirectory) else None
        if kind is not CUSTOMERS:
            self.customers = None
        self.matches: dict[str, NameMatch] = {}
        self.parents: dict[str, str] = {}  # item path key -> remote id, made or matched

    # ------------------------------------------------------------------ reads

    def bad_ids(self, remote_ids: set[str]) -> set[str]:
        """Mapped ids that do not exist (one request per list with a RemoteIdChecker)."""
        if not remote_ids:
            return set()
        if self.checker is not None:
            return set(self.checker.check_remote_ids(self.company, self.kind.kind, remote_ids))
        if self.customers is not None:
            get = self.customers.get_customer
            return {r for r in remote_ids if get(self.company, r) is None}
        return set()

    def match(self, names: Iterable[str]) -> None:
        wanted = sorted(set(names))
        if self.matcher is not None and wanted:
            self.matches.update(self.matcher.match_names(self.company, self.kind.kind, wanted))

    # ---------------------------------------------------------------- results

    def _result(self, local: str, name: str, action: str, **kw: Any) -> DirectorySync:
        return DirectorySync(kind=self.kind.kind, local=local, name=name, action=action, **kw)

    def from_match(self, local: str, name: str, match: NameMatch | None) -> DirectorySync | None:
        if match is None:
            return None
        if match.status == "matched" and match.remote_id:
            return self._result(local, name, "matched", remote_id=match.remote_id)
        if match.status in ("ambiguous", "taken"):
            return self._result(
                local, name, match.status, candidates=match.candidates, reason=match.reason
            )
        return None

    # ----------------------------------------------------------------- writes

    @staticmethod
    def _send(create: Callable[[], str]) -> str:
        """``create()`` sent up to :data:`SENDS` times with its key while answers are lost."""
        for attempt in range(1, SENDS + 1):
            try:
                return create()
            except (AmbiguousOutcome, NotSent):
                if attempt == SENDS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _create(self, local: str, name: str, key: str, fields: Mapping[str, str]) -> str:
        """The remote id of a new entity named ``name``, created under ``key``."""
        if self.creator is not None:
            creator = self.creator
            return self._send(
                lambda: (
                    creator.create_named(
                        self.company, self.kind.kind, name, idempotency_key=key, fields=fields
                    ).remote_id
                )
            )
        if self.customers is not None:
            directory = self.customers
            return self._send(
                lambda: directory.create_customer(self.company, name, idempotency_key=key).remote_id
            )
        backend: AccountingBackend = self.backend
        if Capability.LOOKUP_BY_KEY in backend.capabilities:
            ref = backend.lookup(self.company, self.kind.kind, key)
            if ref is not None:
                return ref.remote_id
        label = "client" if self.kind is CUSTOMERS else self.kind.kind
        document = Document(
            kind=self.kind.kind,
            source=RecordKey(self.company, self.kind.kind, local),
            date=self.service.clock.now().date(),
            party=local,
            fields={self.kind.name_field: name, **fields},
            memo=f"{label} {local}",
        )
        return self._send(
            lambda: backend.create(self.company, document, idempotency_key=key).remote_id
        )

    def _parent(self, path: tuple[str, ...]) -> str | DirectorySync:
        """The remote id of the item at ``path`` (matched, or created as a category)."""
        name = ":".join(path)
        known = self.parents.get(name.casefold())
        if known is not None:
            return known
        parent_id = ""
        if len(path) > 1:
            above = self._parent(path[:-1])
            if isinstance(above, DirectorySync):
                return above
            parent_id = above
        match = self.matches.get(name)
        found = self.from_match(name, name, match)
        if found is not None and found.action != "matched":
            return found
        if found is not None:
            remote = found.remote_id
        elif self.dry_run:
            remote = ""
        else:
            key = str(uuid.uuid5(_PARENTS, f"{self.company}\x1f{name.casefold()}"))
            fields = {"type": "Category", **({"parent_id": parent_id} if parent_id else {})}
            remote = self._create(name, name, key, fields)
        self.parents[name.casefold()] = remote
        return remote

    def resolve(self, local: str, name: str) -> DirectorySync:
        """Match, or create, the entity of one host name without a usable mapping."""
        found = self.from_match(local, name, self.matches.get(name))
        if found is not None:
            return found
        fields = dict(self.fields)
        try:
            if self.kind is ITEMS and ":" in name and self.creator is not None:
                parent = self._parent(tuple(p.strip() for p in name.split(":"))[:-1])
                if isinstance(parent, DirectorySync):
                    return attrs.evolve(
                        parent, local=local, name=name, reason=f"parent: {parent.reason}"
                    )
                if parent:
                    fields["parent_id"] = parent
            if self.customers is not None and self.matcher is None:
                existing = self.customers.find_customer(self.company, name)
                if existing is not None:
                    return self._result(local, name, "matched", remote_id=existing.remote_id)
            if self.dry_run:
                return self._result(local, name, "created")
            remote = self._create(local, name, self.kind.key(self.company, local), fields)
        except DuplicateDocumentError as exc:
            # the name appeared since it was matched (or the back end has no matcher)
            if self.matcher is not None:
                again = self.matcher.match_names(self.company, self.kind.kind, [name])
                found = self.from_match(local, name, again.get(name))
                if found is not None:
                    return found
            return self._result(local, name, "taken", reason=str(exc))
        except (AmbiguousOutcome, NotSent) as exc:
            return self._result(local, name, "failed", reason=f"answer lost, resend later: {exc}")
        return self._result(local, name, "created", remote_id=remote)


def sync_directory(
    service: BundleService,
    backend: AccountingBackend,
    company: str,
    kind: DirectoryKind | str,
    names: Mapping[str, str] | Iterable[str],
    *,
    dry_run: bool = False,
    budget: Budgets | None = None,
    fields: Mapping[str, str] | None = None,
) -> list[DirectorySync]:
    """Match or create the back-end entity of each host name and map it (module doc).

    ``names`` maps host id → name (a plain iterable uses the id as the name); an
    item name ``"Parent:Child"`` is a sub-item. ``fields`` go to every create
    (items: ``type``, ``income_account``, ``expense_account``: back-end ids).
    """
    what = _KINDS.get(kind) if isinstance(kind, str) else kind
    if what is None:
        raise InputError(f"directory kind {kind!r} is not one of {', '.join(sorted(_KINDS))}")
    wanted = _names(names)
    for local, name in wanted.items():
        if not local.strip() or not name.strip():
            raise InputError(f"{what.kind} {local!r}: a {what.kind} needs a non-empty name")
        if what is ITEMS and any(not level.strip() for level in name.split(":")):
            raise InputError(f"item {local!r}: every level of {name!r} (Parent:Child) needs a name")
    directory = isinstance(backend, NamedCreator) or (
        what is CUSTOMERS and isinstance(backend, CustomerDirectory)
    )
    if not directory and Capability.CREATE not in backend.capabilities:
        raise UnsupportedCapability(f"back end {backend.name} cannot create {what.kind}s")
    shared = budget.for_company(backend, company) if budget is not None else None
    remote: Any = backend
    if shared is not None:
        if isinstance(backend, RequestSlots):
            remote = backend.with_request_slot(_budgeted(shared))
        else:
            remote = BudgetedBackend(backend, shared)
    try:
        run = _Run(
            service, remote, company, what, dry_run=dry_run, fields=fields or {}, bare=backend
        )
        return _sync(service, run, wanted)
    finally:
        if shared is not None:
            shared.flush()


def _sync(service: BundleService, run: _Run, names: dict[str, str]) -> list[DirectorySync]:
    company, kind, dry_run = run.company, run.kind, run.dry_run
    mappings = service.mappings(company)
    current = {local: mappings.get(kind.mapping, local) for local in names}
    bad = run.bad_ids({r for r in current.values() if r})
    pending = sorted(c for c, r in current.items() if r is None or r in bad)
    wanted = {names[c] for c in pending}
    if kind is ITEMS:  # parents of sub-items are matched in the same read
        for name in list(wanted):
            levels = [p.strip() for p in name.split(":")]
            wanted.update(":".join(levels[:n]) for n in range(1, len(levels)))
    if pending:
        run.match(wanted)
    out: list[DirectorySync] = []
    for local, name in sorted(names.items()):
        mapped = current[local]
        if local not in pending and mapped is not None:
            out.append(run._result(local, name, "kept", remote_id=mapped))
            continue
        result = run.resolve(local, name)
        if result.remote_id and result.action in ("matched", "created") and not dry_run:
            service.set_mapping(company, kind.mapping, local, result.remote_id)
        out.append(result)
    return out


def sync_vendors(
    service: BundleService,
    backend: AccountingBackend,
    company: str,
    vendors: Mapping[str, str] | Iterable[str],
    *,
    dry_run: bool = False,
    budget: Budgets | None = None,
) -> list[DirectorySync]:
    """Match or create a vendor for each host supplier (id → ``DisplayName``) and map it."""
    return sync_directory(
        service, backend, company, VENDORS, vendors, dry_run=dry_run, budget=budget
    )


def _resources(service: BundleService, company: str) -> list[str]:
    found = service.store.find(company, kinds=("usage_log",))
    return sorted({UsageLog.from_record(s.record).resource for s in found} - {""})


def sync_items(
    service: BundleService,
    backend: AccountingBackend,
    company: str,
    items: Mapping[str, str] | Iterable[str] | None = None,
    *,
    dry_run: bool = False,
    budget: Budgets | None = None,
    item_type: str = "Service",
    income_account: str | None = None,
    expense_account: str | None = None,
) -> list[DirectorySync]:
    """Match or create an item for each bookable resource (id → ``Name``) and map it.

    ``items`` defaults to every resource of the company's usage logs. A name
    ``"Parent:Child"`` is a sub-item (its missing parents are created as
    categories). ``item_type``, ``income_account`` and ``expense_account`` (back-end
    account ids; QuickBooks wants accounts for service items) go to every create.
    """
    fields = {"type": item_type}
    if income_account:
        fields["income_account"] = income_account
    if expense_account:
        fields["expense_account"] = expense_account
    wanted = _resources(service, company) if items is None else items
    return sync_directory(
        service, backend, company, ITEMS, wanted, dry_run=dry_run, budget=budget, fields=fields
    )
