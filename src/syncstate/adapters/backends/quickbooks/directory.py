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
* :meth:`~QuickBooksDirectory.document_references`: the mapped customer, vendor,
  employee and item ids a document would send (for
  :func:`~syncstate.services.reference_check.checked_renderers`, which validates
  them before anything is sent);
* :meth:`~QuickBooksDirectory.connected`: whether the company's ``CompanyInfo`` can be read;
* :meth:`~QuickBooksDirectory.create_named`: a customer, vendor or item created
  under its ``requestid`` (a sub-item under its parent), used by
  :mod:`syncstate.services.directory_sync` (``sync_customers``, ``sync_vendors``,
  ``sync_items``); the :class:`~syncstate.ports.CustomerDirectory` port
  (``find_customer``, ``get_customer``, ``create_customer``) on top of it;
* :meth:`~QuickBooksDirectory.with_request_slot`: the same back end with every
  HTTP request inside a slot of a shared budget (one slot per request, pages
  and creates alike).

Inactive entities are not returned by a plain QuickBooks query; every query
here asks for ``Active IN (true, false)`` so a name held by an inactive
customer is seen (QuickBooks keeps refusing it with 6240).
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Self
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
    item_path,
    match_names,
    quote,
)
from syncstate.adapters.backends.quickbooks.payloads import (
    EntitySpec,
    QboMapping,
    spec_for,
    tag_for,
)
from syncstate.errors import AuthenticationError, ConfigurationError, InputError
from syncstate.ports import Document, RemoteCustomer, RemoteRef
from syncstate.ports.names import NameCandidate

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
#: kinds :meth:`QuickBooksDirectory.create_named` creates
CREATABLE = ("customer", "vendor", "item")
#: the name list a document's ``party`` is mapped in, by document kind
PARTY_KINDS: Mapping[str, str] = {
    "bill": "vendor",
    "purchase": "vendor",
    "time_activity": "employee",
    **dict.fromkeys(
        ("invoice", "sales_receipt", "payment", "credit_memo", "estimate", "refund_receipt"),
        "customer",
    ),
}
#: document kinds whose lines name items
ITEM_LINES = frozenset({"invoice", "sales_receipt", "credit_memo", "estimate", "refund_receipt"})


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
        _owns_client: bool

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

        _mapping_for: Callable[[str], QboMapping]
        #: ``_post(company, spec, body, idempotency_key, record)``: a create under requestid
        _post: Callable[[str, EntitySpec, Mapping[str, Any], str, str], RemoteRef]

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

    def mapped_ids(self, company: str, kind: str) -> dict[str, str]:
        """The company's mapping table of ``kind`` (host id → QuickBooks id)."""
        _entity_of(kind)
        return dict(getattr(self._mapping_for(company), f"{kind}s", {}))

    def document_references(self, company: str, document: Document) -> list[tuple[str, str, str]]:
        """``(kind, host id, QuickBooks id)`` of every mapped name ``document`` sends.

        The party (customer, vendor or employee by document kind), line items of
        sales documents, and a time activity's ``customer`` / ``item``; host ids
        without a mapping are left out (rendering reports those).
        """
        wanted: list[tuple[str, str]] = []
        party = PARTY_KINDS.get(document.kind)
        if party and document.party:
            wanted.append((party, document.party))
        if document.kind in ITEM_LINES:
            wanted += [("item", line.item) for line in document.lines if line.item]
        if document.kind == "time_activity":
            wanted += [
                (k, document.fields[k]) for k in ("customer", "item") if document.fields.get(k)
            ]
        mapping = self._mapping_for(company)
        out = []
        for kind, host_id in dict.fromkeys(wanted):
            remote = getattr(mapping, f"{kind}s").get(host_id)
            if remote:
                out.append((kind, host_id, str(remote)))
        return out

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

    def with_request_slot(self, slot: Callable[[], contextlib.AbstractContextManager[Any]]) -> Self:
        """A copy of this back end whose every HTTP request runs inside ``slot()``.

        The copy shares the HTTP client, tokens and configuration (and never
        closes the client); ``slot`` is typically a shared budget's slot.
        """
        clone = copy.copy(self)
        clone._owns_client = False
        inner = self._request

        def request(*args: Any, **kwargs: Any) -> httpx.Response:
            with slot():
                return inner(*args, **kwargs)

        setattr(clone, "_request", request)  # noqa: B010 - an instance override
        return clone

    def create_named(
        self,
        company: str,
        kind: str,
        name: str,
        *,
        idempotency_key: str,
        fields: Mapping[str, str] | None = None,
    ) -> NameCandidate:
        """Create a ``customer``, ``vendor`` or ``item`` named ``name`` under ``requestid``.

        A repeated key replays QuickBooks' first answer; a name already used is
        6240 (:class:`~syncstate.errors.DuplicateDocumentError`). Items take
        ``fields``: ``parent_id`` (a sub-item: ``SubItem`` and ``ParentRef``; ``name``
        is then the last level), ``type`` (default ``Service``; ``Category`` for a
        parent), ``income_account`` and ``expense_account`` (QuickBooks Account ids).
        """
        if kind not in CREATABLE:
            raise InputError(f"QuickBooks directory creates {', '.join(CREATABLE)}, not {kind!r}")
        check_request_id(idempotency_key, MAX_REQUEST_ID, name)
        extra = dict(fields or {})
        spec = spec_for(kind)
        body: dict[str, Any]
        if kind == "item":
            (leaf,) = item_path(name)[-1:]
            body = {"Name": leaf, "Type": extra.get("type") or "Service"}
            if extra.get("parent_id"):
                body.update(SubItem=True, ParentRef={"value": extra["parent_id"]})
            for field, ref_name in (
                ("income_account", "IncomeAccountRef"),
                ("expense_account", "ExpenseAccountRef"),
            ):
                if extra.get(field):
                    body[ref_name] = {"value": extra[field]}
        else:
            body = {"DisplayName": name.strip(), "Notes": tag_for(idempotency_key)}
        made = self._post(company, spec, body, idempotency_key, name)
        return NameCandidate(entity=spec.entity, remote_id=made.remote_id, name=name.strip())

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
        made = self.create_named(company, "customer", display_name, idempotency_key=idempotency_key)
        return RemoteCustomer(remote_id=made.remote_id, display_name=made.name)
