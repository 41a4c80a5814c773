"""Customer synchronisation: create or match a remote customer for each client.

Export fails when a client's customer does not exist at the back end
("Customer Does Not Exist" in the seed). :func:`sync_customers` makes sure it
does, client by client, and records the mapping. It is the customer case of
:func:`~syncstate.services.directory_sync.sync_directory` (vendors and items are
synchronised the same way: :func:`~syncstate.services.directory_sync.sync_vendors`,
:func:`~syncstate.services.directory_sync.sync_items`):

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
  refusal (QuickBooks fault 6240) is matched again instead of stopping the run; a
  create whose answer stays lost after resending with its key is ``failed`` (run
  the sync again: the key or the name finds it).

With ``budget`` every request takes a slot of the company's shared budget, as an
export's (``ExportOptions.budget``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs

from syncstate.ports import AccountingBackend
from syncstate.ports.names import NameCandidate
from syncstate.services.budgets import Budgets
from syncstate.services.bundling import BundleService
from syncstate.services.directory_sync import CUSTOMERS, sync_directory

__all__ = ["CustomerSync", "customer_key", "sync_customers"]


def customer_key(company: str, client: str) -> str:
    """The idempotency key of creating ``client``'s customer (36 characters)."""
    return CUSTOMERS.key(company, client)


@attrs.frozen(kw_only=True)
class CustomerSync:
    """One client's result: ``kept``, ``matched``, ``created``, ``ambiguous``, ``taken``
    or ``failed``.

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
    budget: Budgets | None = None,
) -> list[CustomerSync]:
    """Create or match a remote customer for each client and map it.

    ``clients`` maps client → display name (a plain iterable uses the client
    id as the name); default: every client with usage logs or payments.
    """
    names = _clients(service, company) if clients is None else clients
    results = sync_directory(
        service, backend, company, CUSTOMERS, names, dry_run=dry_run, budget=budget
    )
    return [
        CustomerSync(
            client=r.local,
            action=r.action,
            remote_id=r.remote_id,
            display_name=r.name,
            candidates=r.candidates,
            reason=r.reason,
        )
        for r in results
    ]
