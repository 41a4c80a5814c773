"""Customer synchronisation: create or match a remote customer for each client.

Export fails when a client's customer does not exist at the back end
("Customer Does Not Exist" in the seed). :func:`sync_customers` makes sure it
does, client by client, and records the mapping:

* a client already mapped to a customer that exists is ``kept`` (with a
  :class:`~syncstate.ports.names.RemoteIdChecker` back end every mapped id is
  checked in one request);
* otherwise an existing customer is **matched** by name as the back end compares
  names (:class:`~syncstate.ports.names.NameMatcher`: QuickBooks ignores case and
  surrounding whitespace), all names in one pass; a name that is ambiguous
  (several candidates, an inactive or only a similar customer) or ``taken`` by a
  vendor or employee is **proposed**, never guessed: nothing is mapped or created
  for it, and its candidates are in the result;
* otherwise one is **created**, idempotently: through the directory, or as a
  ``customer`` document through the ordinary back end (looked up by its
  idempotency key first, so a repeated sync never creates two). A duplicate-name
  refusal (QuickBooks fault 6240) is matched again instead of stopping the run.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

import attrs

from syncstate.domain.mapping import MappingKind
from syncstate.domain.records import RecordKey
from syncstate.errors import DuplicateDocumentError, InputError, UnsupportedCapability
from syncstate.ports import AccountingBackend, Capability, CustomerDirectory, Document
from syncstate.ports.names import NameCandidate, NameMatch, NameMatcher, RemoteIdChecker
from syncstate.services.bundling import BundleService

__all__ = ["CustomerSync", "customer_key", "sync_customers"]

_NAMESPACE = uuid.UUID("1c1e3b7a-8a4f-4d0e-9a55-637573746f6d")


def customer_key(company: str, client: str) -> str:
    """The idempotency key of creating ``client``'s customer (36 characters)."""
    return str(uuid.uuid5(_NAMESPACE, f"{company}\x1f{client}"))


@attrs.frozen(kw_only=True)
class CustomerSync:
    """One client's result: ``kept``, ``matched``, ``created``, ``ambiguous`` or ``taken``.

    ``ambiguous`` and ``taken`` leave the client unmapped: ``candidates`` are the
    proposals a person chooses from (map one with ``BundleService.set_mapping``),
    ``reason`` says why.
    """

    client: str
    action: str
    remote_id: str
    display_name: str
    candidates: tuple[NameCandidate, ...] = ()
    reason: str = ""


def _clients(service: BundleService, company: str) -> list[str]:
    found = service.store.find(company, kinds=("payment", "usage_log"))
    return sorted({s.record.subject for s in found})


def sync_customers(
    service: BundleService,
    backend: AccountingBackend,
    company: str,
    *,
    clients: Mapping[str, str] | Iterable[str] | None = None,
    dry_run: bool = False,
) -> list[CustomerSync]:
    """Create or match a remote customer for each client and map it.

    ``clients`` maps client → display name (a plain iterable uses the client
    id as the name); default: every client with usage logs or payments.
    """
    if clients is None:
        names = {c: c for c in _clients(service, company)}
    elif isinstance(clients, Mapping):
        names = dict(clients)
    else:
        names = {c: c for c in clients}
    for client, display in names.items():
        if not client.strip() or not display.strip():
            raise InputError(f"client {client!r}: a customer needs a non-empty display name")
    directory = backend if isinstance(backend, CustomerDirectory) else None
    if directory is None and Capability.CREATE not in backend.capabilities:
        raise UnsupportedCapability(f"back end {backend.name} cannot create customers")
    mappings = service.mappings(company)
    current = {c: mappings.customer(c) for c in names}
    bad = _bad_ids(backend, directory, company, {r for r in current.values() if r})
    pending = sorted(c for c, remote in current.items() if remote is None or remote in bad)
    matcher = backend if isinstance(backend, NameMatcher) else None
    matches: Mapping[str, NameMatch] = {}
    if matcher is not None and pending:
        matches = matcher.match_names(company, "customer", sorted({names[c] for c in pending}))
    out: list[CustomerSync] = []
    for client, display in sorted(names.items()):
        remote = current[client]
        if client not in pending and remote is not None:
            out.append(
                CustomerSync(client=client, action="kept", remote_id=remote, display_name=display)
            )
            continue
        result = _resolve(
            service,
            backend,
            directory,
            matcher,
            company,
            client,
            display,
            matches.get(display),
            dry_run=dry_run,
        )
        if result.remote_id and result.action in ("matched", "created") and not dry_run:
            service.set_mapping(company, MappingKind.CUSTOMER, client, result.remote_id)
        out.append(result)
    return out


def _bad_ids(
    backend: AccountingBackend,
    directory: CustomerDirectory | None,
    company: str,
    remote_ids: set[str],
) -> set[str]:
    """Mapped customer ids that do not exist (one request with a RemoteIdChecker)."""
    if not remote_ids:
        return set()
    if isinstance(backend, RemoteIdChecker):
        return set(backend.check_remote_ids(company, "customer", remote_ids))
    if directory is not None:
        return {r for r in remote_ids if directory.get_customer(company, r) is None}
    return set()


def _from_match(client: str, display: str, match: NameMatch) -> CustomerSync | None:
    if match.status == "matched" and match.remote_id:
        return CustomerSync(
            client=client, action="matched", remote_id=match.remote_id, display_name=display
        )
    if match.status in ("ambiguous", "taken"):
        return CustomerSync(
            client=client,
            action=match.status,
            remote_id="",
            display_name=display,
            candidates=match.candidates,
            reason=match.reason,
        )
    return None


def _resolve(
    service: BundleService,
    backend: AccountingBackend,
    directory: CustomerDirectory | None,
    matcher: NameMatcher | None,
    company: str,
    client: str,
    display: str,
    match: NameMatch | None,
    *,
    dry_run: bool,
) -> CustomerSync:
    """Match, or create, the customer of one client that has no usable mapping."""
    if match is not None:
        found = _from_match(client, display, match)
        if found is not None:
            return found
    key = customer_key(company, client)
    action, remote_id = "created", ""
    try:
        if directory is not None:
            existing = None if matcher is not None else directory.find_customer(company, display)
            if existing is not None:
                action, remote_id = "matched", existing.remote_id
            elif not dry_run:
                remote_id = directory.create_customer(
                    company, display, idempotency_key=key
                ).remote_id
        else:
            ref = None
            if Capability.LOOKUP_BY_KEY in backend.capabilities:
                ref = backend.lookup(company, "customer", key)
            if ref is not None:
                action, remote_id = "matched", ref.remote_id
            elif not dry_run:
                document = Document(
                    kind="customer",
                    source=RecordKey(company, "customer", client),
                    date=service.clock.now().date(),
                    party=client,
                    fields={"display_name": display},
                    memo=f"client {client}",
                )
                remote_id = backend.create(company, document, idempotency_key=key).remote_id
    except DuplicateDocumentError as exc:
        # the name appeared since it was matched (or the back end has no matcher)
        if matcher is not None:
            again = matcher.match_names(company, "customer", [display]).get(display)
            found = None if again is None else _from_match(client, display, again)
            if found is not None:
                return found
        return CustomerSync(
            client=client, action="taken", remote_id="", display_name=display, reason=str(exc)
        )
    return CustomerSync(client=client, action=action, remote_id=remote_id, display_name=display)
