"""Existing customers, vendors, employees and items of a QuickBooks company.

:class:`QuickBooksDirectory` is mixed into
:class:`~syncstate.adapters.backends.quickbooks.client.QuickBooksBackend`; it
reads QuickBooks' name lists with paged queries and gives the back end:

* :meth:`~QuickBooksDirectory.match_names`: host names matched to existing
  entities as QuickBooks compares names
  (:mod:`syncstate.adapters.backends.quickbooks.matching`), ambiguous ones
  proposed rather than guessed;
* :meth:`~QuickBooksDirectory.check_remote_ids`: mapped remote ids validated
  **before** sending: one query per :data:`IDS_PER_QUERY` ids, answering which
  ones do not exist or are inactive;
* :meth:`~QuickBooksDirectory.connected`: whether the company's ``CompanyInfo`` can be read;
* the :class:`~syncstate.ports.CustomerDirectory` port (``find_customer``,
  ``get_customer``, ``create_customer``) used by
  :func:`~syncstate.services.customer_sync.sync_customers`.

Inactive entities are not returned by a plain QuickBooks query; every query
here asks for ``Active IN (true, false)`` so a name held by an inactive
customer is seen (QuickBooks keeps refusing it with 6240).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote as quote_path

import httpx

from syncstate.adapters.backends.quickbooks.config import (
    MAX_REQUEST_ID,
    QUERY_PAGE,
    QuickBooksConfig,
    check_request_id,
)
from syncstate.adapters.backends.quickbooks.matching import (
    NAME_FIELDS,
    NameMatch,
    match_names,
    quote,
)
from syncstate.adapters.backends.quickbooks.payloads import dumps, spec_for, tag_for
from syncstate.errors import AuthenticationError, ConfigurationError, InputError
from syncstate.ports import RemoteCustomer

__all__ = ["IDS_PER_QUERY", "NAME_LISTS", "QuickBooksDirectory"]

#: most ids named in one ``Id IN (...)`` query (keeps the URL short)
IDS_PER_QUERY = 500
#: the entities whose names share one namespace, per wanted kind
NAME_LISTS: Mapping[str, tuple[str, ...]] = {
    "customer": ("Customer", "Vendor", "Employee"),
    "vendor": ("Vendor", "Customer", "Employee"),
    "employee": ("Employee", "Customer", "Vendor"),
    "item": ("Item",),
    "account": ("Account",),
    "class": ("Class",),
    "department": ("Department",),
}
#: entities with an ``Active`` flag (a plain query shows only the active ones)
_HAS_ACTIVE = frozenset(NAME_FIELDS)


def _entity_of(kind: str) -> str:
    try:
        return NAME_LISTS[kind][0]
    except KeyError:
        known = ", ".join(sorted(NAME_LISTS))
        raise InputError(f"QuickBooks has no name list {kind!r} (known: {known})") from None


class QuickBooksDirectory:
    """Name lists of QuickBooks: matching, validation, the customer directory."""

    if TYPE_CHECKING:
        config: QuickBooksConfig

        def _request(
            self,
            company: str,
            method: str,
            path: str,
            *,
            params: Mapping[str, str] | None = None,
            body: bytes | None = None,
            accept: str = "application/json",
            record: str | None = None,
        ) -> httpx.Response: ...

        def _decode(self, response: httpx.Response, record: str | None) -> Mapping[str, Any]: ...

    def query_rows(self, company: str, entity: str, where: str = "") -> Iterator[dict[str, Any]]:
        """Every row of ``entity`` matching ``where`` (QuickBooks' syntax), page by page.

        Entities with an ``Active`` flag are read active or not, unless ``where``
        names ``Active`` itself.
        """
        conditions = [where] if where else []
        if entity in _HAS_ACTIVE and "active" not in where.lower():
            conditions.append("Active IN (true, false)")
        clause = f" where {' and '.join(conditions)}" if conditions else ""
        position = 1
        while True:
            statement = (
                f"select * from {entity}{clause} orderby Id "
                f"startposition {position} maxresults {QUERY_PAGE}"
            )
            response = self._request(company, "GET", "query", params={"query": statement})
            rows = self._decode(response, None).get("QueryResponse", {}).get(entity, [])
            yield from (dict(row) for row in rows)
            if len(rows) < QUERY_PAGE:
                return
            position += QUERY_PAGE

    def match_names(self, company: str, kind: str, names: Iterable[str]) -> dict[str, NameMatch]:
        """Each name matched to an existing ``kind`` (``customer``, ``vendor``, ``item``, ...).

        Reads the whole name namespace once (customers, vendors and employees
        share one), so any number of names costs the same few paged queries.
        """
        wanted = list(names)
        _entity_of(kind)
        lists = NAME_LISTS[kind]
        rows = {entity: list(self.query_rows(company, entity)) for entity in lists}
        return match_names(lists[0], wanted, rows)

    def check_remote_ids(
        self, company: str, kind: str, remote_ids: Iterable[str]
    ) -> dict[str, str]:
        """The ids among ``remote_ids`` that cannot be used, each with the reason.

        ``does not exist`` or ``is inactive``; an empty answer means every id is
        good. One query per :data:`IDS_PER_QUERY` ids, before anything is sent.
        """
        entity = _entity_of(kind)
        wanted = sorted({str(i) for i in remote_ids if str(i).strip()})
        found: dict[str, bool] = {}
        for start in range(0, len(wanted), IDS_PER_QUERY):
            chunk = wanted[start : start + IDS_PER_QUERY]
            listed = ", ".join(quote(i) for i in chunk)
            for row in self.query_rows(company, entity, f"Id IN ({listed})"):
                found[str(row.get("Id"))] = row.get("Active") is not False
        problems: dict[str, str] = {}
        for ident in wanted:
            if ident not in found:
                problems[ident] = "does not exist"
            elif not found[ident]:
                problems[ident] = "is inactive"
        return problems

    def connected(self, company: str) -> bool:
        """Whether the company's ``CompanyInfo`` can be read: False when tokens are refused."""
        realm = quote_path(self.config.realm_for(company), safe="")
        try:
            data = self._decode(self._request(company, "GET", f"companyinfo/{realm}"), None)
        except AuthenticationError:
            return False
        if not isinstance(data.get("CompanyInfo"), Mapping):
            raise ConfigurationError(f"QuickBooks answered no CompanyInfo for company {company!r}")
        return True

    # ------------------------------------------------- the CustomerDirectory port

    def find_customer(self, company: str, display_name: str) -> RemoteCustomer | None:
        """The customer QuickBooks considers to have ``display_name`` (trimmed, any case)."""
        match = self.match_names(company, "customer", [display_name])[display_name]
        if match.status != "matched" or match.remote_id is None:
            return None
        return RemoteCustomer(
            remote_id=match.remote_id, display_name=match.candidates[0].name, active=True
        )

    def get_customer(self, company: str, remote_id: str) -> RemoteCustomer | None:
        """The customer with this id, if it exists (inactive ones too)."""
        rows = list(self.query_rows(company, "Customer", f"Id = {quote(remote_id)}"))
        if not rows:
            return None
        row = rows[0]
        return RemoteCustomer(
            remote_id=str(row["Id"]),
            display_name=str(row.get("DisplayName") or ""),
            active=row.get("Active") is not False,
        )

    def create_customer(
        self, company: str, display_name: str, *, idempotency_key: str
    ) -> RemoteCustomer:
        """Create a customer under ``requestid``; a name already used raises 6240's error."""
        check_request_id(idempotency_key, MAX_REQUEST_ID, display_name)
        spec = spec_for("customer")
        body = {"DisplayName": display_name.strip(), "Notes": tag_for(idempotency_key)}
        response = self._request(
            company,
            "POST",
            spec.resource,
            params={"requestid": idempotency_key},
            body=dumps(body),
            record=display_name,
        )
        entity = self._decode(response, display_name).get("Customer", {})
        return RemoteCustomer(
            remote_id=str(entity.get("Id", "")),
            display_name=str(entity.get("DisplayName") or display_name),
        )
