"""Customer synchronisation: create or match a remote customer for each client.

Export fails when a client's customer does not exist at the back end
("Customer Does Not Exist" in the seed). :func:`sync_customers` makes sure it
does, client by client, and records the mapping:

* a client already mapped to a customer that exists is left alone;
* otherwise a customer with the client's display name is **matched** when the
  back end can search customers (:class:`~syncstate.ports.CustomerDirectory`);
* otherwise one is **created**, idempotently: through the directory, or as a
  ``customer`` document through the ordinary back end (looked up by its
  idempotency key first, so a repeated sync never creates two).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping

import attrs

from syncstate.domain.mapping import MappingKind
from syncstate.domain.records import RecordKey
from syncstate.errors import InputError, UnsupportedCapability
from syncstate.ports import AccountingBackend, Capability, CustomerDirectory, Document
from syncstate.services.bundling import BundleService

__all__ = ["CustomerSync", "customer_key", "sync_customers"]

_NAMESPACE = uuid.UUID("1c1e3b7a-8a4f-4d0e-9a55-637573746f6d")


def customer_key(company: str, client: str) -> str:
    """The idempotency key of creating ``client``'s customer (36 characters)."""
    return str(uuid.uuid5(_NAMESPACE, f"{company}\x1f{client}"))


@attrs.frozen(kw_only=True)
class CustomerSync:
    """One client's result: ``kept``, ``matched`` or ``created``, with the remote id."""

    client: str
    action: str
    remote_id: str
    display_name: str


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
    directory = backend if isinstance(backend, CustomerDirectory) else None
    if directory is None and Capability.CREATE not in backend.capabilities:
        raise UnsupportedCapability(f"back end {backend.name} cannot create customers")
    mappings = service.mappings(company)
    out: list[CustomerSync] = []
    for client, display in sorted(names.items()):
        if not client.strip() or not display.strip():
            raise InputError(f"client {client!r}: a customer needs a non-empty display name")
        current = mappings.customer(client)
        if current is not None and (
            directory is None or directory.get_customer(company, current) is not None
        ):
            out.append(
                CustomerSync(client=client, action="kept", remote_id=current, display_name=display)
            )
            continue
        key = customer_key(company, client)
        action, remote_id = "created", ""
        if directory is not None:
            match = directory.find_customer(company, display)
            if match is not None:
                action, remote_id = "matched", match.remote_id
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
        if remote_id and not dry_run:
            service.set_mapping(company, MappingKind.CUSTOMER, client, remote_id)
        out.append(
            CustomerSync(client=client, action=action, remote_id=remote_id, display_name=display)
        )
    return out
