"""The Xero back end: the Accounting API (``/api.xro/2.0``) over an injected ``httpx.Client``.

One attempt per call (the export engine owns retries and pacing); the only automatic
second request is the one after a ``401``, when the host's token provider is asked to
refresh. Every request names the company's organisation in ``Xero-tenant-id``; every
create and update carries the idempotency key in ``Idempotency-Key``, so a resend within
Xero's replay window (6 minutes) answers the first result instead of creating a second
document. The key is also written into the document (``Reference``, ``ContactNumber`` or
``Narration``, see :mod:`~syncstate.adapters.backends.xero.payloads`), so
:meth:`XeroBackend.lookup` finds it with one ``where`` filter at any age: past the window
the engine looks documents up instead of relying on the replay.

Versions are ``UpdatedDateUTC``: Xero does not check them, so :meth:`XeroBackend.update`
reads the document first and raises :class:`~syncstate.errors.StaleVersionError` when it
changed since it was exported (a client-side check). Errors: see
:mod:`~syncstate.adapters.backends.xero.faults`; transport failures are classified by
:mod:`~syncstate.adapters.backends.transport`. No httpx exception escapes. Access tokens
are fetched from the host for each request and never stored, logged or put in an error.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from syncstate.adapters.backends.transport import OwnedClient, transport_error
from syncstate.adapters.backends.xero import options as xero_options
from syncstate.adapters.backends.xero.answers import (
    elements,
    match_batch,
    one_ref,
    reversal_status,
    where_filter,
)
from syncstate.adapters.backends.xero.config import (
    CONCURRENT_LIMIT,
    MINUTE_LIMIT,
    PAGE_SIZE,
    TokenProvider,
    XeroConfig,
    check_idempotency_key,
)
from syncstate.adapters.backends.xero.faults import (
    error_from_response,
    parse_retry_after,
)
from syncstate.adapters.backends.xero.payloads import (
    ENTITIES,
    EntitySpec,
    XeroMapping,
    dumps,
    key_of,
    ref_from_element,
    render,
    spec_for,
)
from syncstate.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    BackendError,
    StaleVersionError,
    SyncStateError,
    UnsupportedCapability,
)
from syncstate.ports import Capability, Clock, Document, RemoteRef, SystemClock

__all__ = ["XeroBackend"]

log = logging.getLogger("syncstate.adapters.backends.xero")

_KEY_NAMESPACE = uuid.UUID("0b6f3c2e-8f0a-4d8e-9c57-3e2f1d7a9b44")
#: keys per ``where`` filter of a lookup (keeps the URL short)
_KEYS_PER_FILTER = 20
_GONE = frozenset({"DELETED"})


class XeroBackend(OwnedClient):
    """:class:`~syncstate.ports.AccountingBackend` for Xero's Accounting API."""

    name = "xero"

    #: options it takes from text (``syncstate export --backend-option``); see
    #: :mod:`syncstate.adapters.backends.xero.options`
    OPTIONS = xero_options.OPTIONS
    #: the back end those options describe
    from_options = staticmethod(xero_options.from_options)

    #: Xero's limits per tenant: pace an export with ``ExportOptions(requests_per_minute=
    #: backend.requests_per_minute, concurrency=backend.concurrency_limit)``
    requests_per_minute = MINUTE_LIMIT
    concurrency_limit = CONCURRENT_LIMIT

    #: kinds :meth:`lookup` can find by key (an item's only free field is its user code;
    #: its key is replayed by ``Idempotency-Key`` within Xero's window, and a second
    #: create of the same code is refused as a duplicate)
    lookup_kinds = frozenset(kind for kind, spec in ENTITIES.items() if spec.tag_field)

    def __init__(
        self,
        *,
        tokens: TokenProvider,
        mapping: XeroMapping | Callable[[str], XeroMapping],
        config: XeroConfig | None = None,
        client: httpx.Client | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config or XeroConfig()
        self._tokens = tokens
        self._mapping = mapping
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=self.config.timeout)
        self._clock: Clock = clock or SystemClock()
        #: the last ``X-MinLimit-Remaining`` / ``X-DayLimit-Remaining`` seen, per company
        self.remaining: dict[str, dict[str, int]] = {}

    def __repr__(self) -> str:
        return f"XeroBackend(url={self.config.url!r}, tenants={len(self.config.tenants)})"

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Create, update, void, batch, PDF, lookup (one and many), fetch by id, replay."""
        return frozenset(
            {
                Capability.CREATE,
                Capability.UPDATE,
                Capability.VOID,
                Capability.BATCH,
                Capability.PDF,
                Capability.LOOKUP_BY_KEY,
                Capability.LOOKUP_MANY,
                Capability.FETCH_BY_ID,
                Capability.REPLAYS_KEY,
            }
        )

    @property
    def max_batch(self) -> int:
        """Most documents in one :meth:`create_batch` call."""
        return self.config.max_batch

    # ------------------------------------------------------------------ plumbing

    def _mapping_for(self, company: str) -> XeroMapping:
        return self._mapping if isinstance(self._mapping, XeroMapping) else self._mapping(company)

    def _render(self, document: Document, key: str, company: str) -> dict[str, Any]:
        c = self.config
        return render(
            document,
            self._mapping_for(company),
            key,
            sales_account=c.sales_account,
            payment_account=c.payment_account,
            invoice_status=c.invoice_status,
        )

    def _token(self, company: str, *, refresh: bool) -> str:
        try:
            return self._tokens.refresh(company) if refresh else self._tokens.access_token(company)
        except SyncStateError:
            raise
        except Exception as exc:
            what = "refresh" if refresh else "provide"
            raise AuthenticationError(
                f"the token provider failed to {what} a Xero token for company {company!r} "
                f"({type(exc).__name__})"
            ) from exc

    def _request(
        self,
        company: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        key: str | None = None,
        accept: str = "application/json",
        since: dt.datetime | None = None,
        record: str | None = None,
    ) -> httpx.Response:
        url = f"{self.config.url}/{path}"
        content = None if body is None else dumps(body)
        token = self._token(company, refresh=False)
        # what a log record may carry: never the token or the body
        extra = {
            "company": company,
            "record": record,
            "idempotency_key": key,
            "method": method,
            "entity": path.split("/", 1)[0],
        }
        refreshed = False
        while True:
            headers = {
                "Authorization": f"Bearer {token}",
                "Xero-tenant-id": self.config.tenant_for(company),
                "Accept": accept,
            }
            if content is not None:
                headers["Content-Type"] = "application/json"
            if key is not None:
                headers["Idempotency-Key"] = key
            if since is not None:
                headers["If-Modified-Since"] = since.strftime("%Y-%m-%dT%H:%M:%S")
            started = time.monotonic()
            try:
                response = self._client.request(
                    method, url, params=params, content=content, headers=headers
                )
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                operation = f"{method} {extra['entity']}"
                raise transport_error(
                    exc, service="Xero", operation=operation, record=record
                ) from exc
            elapsed = round((time.monotonic() - started) * 1000, 1)
            log.debug(
                "Xero %s %s -> %s in %.1f ms",
                method,
                extra["entity"],
                response.status_code,
                elapsed,
                extra={**extra, "status": response.status_code, "duration_ms": elapsed},
            )
            self._note_limits(company, response.headers)
            if response.status_code == 401 and not refreshed:
                refreshed = True
                log.info(
                    "Xero refused the access token of %s; asking for a fresh one",
                    company,
                    extra=extra,
                )
                token = self._token(company, refresh=True)
                continue
            break
        if response.status_code >= 400:
            raise error_from_response(
                response.status_code,
                response.content,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                limit_problem=response.headers.get("X-Rate-Limit-Problem"),
                record=record,
            )
        return response

    def _note_limits(self, company: str, headers: httpx.Headers) -> None:
        seen = {}
        for name, header in (("minute", "X-MinLimit-Remaining"), ("day", "X-DayLimit-Remaining")):
            value = headers.get(header)
            if value is not None and value.strip().isdigit():
                seen[name] = int(value)
        if seen:
            self.remaining[company] = seen

    @staticmethod
    def _rows(response: httpx.Response, spec: EntitySpec, record: str | None) -> list[Any]:
        return elements(response.status_code, response.content, spec, record)

    def _read(self, company: str, spec: EntitySpec, remote_id: str) -> Mapping[str, Any]:
        response = self._request(company, "GET", f"{spec.collection}/{quote(remote_id, safe='')}")
        rows = self._rows(response, spec, None)
        if not rows or not isinstance(rows[0], Mapping):
            raise AmbiguousOutcome(f"Xero answered without the {spec.collection[:-1]}")
        return rows[0]

    # --------------------------------------------------------------- the port

    def create(self, company: str, document: Document, *, idempotency_key: str) -> RemoteRef:
        """Create the document (``PUT``); a repeated key within 6 minutes replays the answer."""
        record = str(document.source)
        check_idempotency_key(idempotency_key, record)
        spec = spec_for(document.kind)
        body = {spec.collection: [self._render(document, idempotency_key, company)]}
        response = self._request(
            company,
            "PUT",
            spec.collection,
            params={"summarizeErrors": "false"},
            body=body,
            key=idempotency_key,
            record=record,
        )
        return one_ref(self._rows(response, spec, record), spec, response.status_code, record)

    def fetch_ref(self, company: str, kind: str, remote_id: str) -> RemoteRef:
        """The current :class:`RemoteRef` (its ``UpdatedDateUTC``) of a document."""
        spec = spec_for(kind)
        return ref_from_element(spec, self._read(company, spec, remote_id))

    def update(
        self, company: str, ref: RemoteRef, document: Document, *, idempotency_key: str
    ) -> RemoteRef:
        """Overwrite the document at ``ref`` (``POST /{collection}/{id}``).

        The current document is read first: its lookup tag (the key it was created with)
        is kept, and ``ref.version`` is compared with its ``UpdatedDateUTC`` (a stale
        version raises :class:`~syncstate.errors.StaleVersionError`; ``None`` overwrites
        whatever is current). Xero itself refuses changes to paid or voided documents.
        """
        record = str(document.source)
        check_idempotency_key(idempotency_key, record)
        spec = spec_for(document.kind)
        self._render(document, idempotency_key, company)  # mapping errors before any request
        current = self._read(company, spec, ref.remote_id)
        current_version = current.get("UpdatedDateUTC")
        if ref.version is not None and str(current_version) != ref.version:
            raise StaleVersionError(
                f"Xero {spec.collection[:-1]} {ref.remote_id} changed since it was exported "
                f"(UpdatedDateUTC {current_version}, expected {ref.version})",
                record=record,
            )
        body = self._render(document, idempotency_key, company)
        original = str(current.get(spec.tag_field) or "") if spec.tag_field else ""
        if spec.tag_field and "syncstate:" in original:
            body[spec.tag_field] = original  # keep the key the document was created with
        body[spec.id_field] = ref.remote_id
        path = f"{spec.collection}/{quote(ref.remote_id, safe='')}"
        response = self._request(
            company,
            "POST",
            path,
            params={"summarizeErrors": "false"},
            body={spec.collection: [body]},
            key=idempotency_key,
            record=record,
        )
        return one_ref(self._rows(response, spec, record), spec, response.status_code, record)

    def lookup(self, company: str, kind: str, idempotency_key: str) -> RemoteRef | None:
        """The document created with ``idempotency_key``, if any (deleted ones are not)."""
        return self.lookup_many(company, kind, [idempotency_key]).get(idempotency_key)

    def lookup_many(self, company: str, kind: str, keys: Sequence[str]) -> dict[str, RemoteRef]:
        """Every document created with one of ``keys``: one ``where`` filter per 20 keys."""
        if kind not in ENTITIES:
            return {}
        spec = ENTITIES[kind]
        if spec.tag_field is None:
            raise UnsupportedCapability(f"Xero {spec.collection} carry no lookup tag")
        since = None
        if self.config.lookup_window is not None:
            since = (self._clock.now() - self.config.lookup_window).astimezone(dt.UTC)
        wanted = [k for k in dict.fromkeys(keys) if k]
        found: dict[str, RemoteRef] = {}
        for start in range(0, len(wanted), _KEYS_PER_FILTER):
            chunk = wanted[start : start + _KEYS_PER_FILTER]
            for key in chunk:
                check_idempotency_key(key, None)
            page = 1
            while True:
                params = {"where": where_filter(spec, chunk), "page": str(page)}
                response = self._request(
                    company, "GET", spec.collection, params=params, since=since
                )
                rows = self._rows(response, spec, None)
                for row in rows:
                    if not isinstance(row, Mapping) or str(row.get("Status", "")) in _GONE:
                        continue
                    match = key_of(spec, row, set(chunk))
                    if match is not None and match not in found:
                        found[match] = ref_from_element(spec, row)
                if len(rows) < PAGE_SIZE:
                    break
                page += 1
        return found

    def delete(self, company: str, ref: RemoteRef) -> None:
        """Take the document out of the books the way Xero allows.

        Invoices and credit notes: a draft or submitted one is ``DELETED``, an authorised
        one ``VOIDED``; a paid (or part-paid, or credited) one cannot be voided and raises
        :class:`~syncstate.errors.RemoteValidationError` saying so. Manual journals: draft
        ``DELETED``, posted ``VOIDED``. Payments: ``DELETED``. Contacts: ``ARCHIVED``.
        Items: deleted. Already voided or deleted documents are left as they are.
        """
        spec = spec_for(ref.kind or "invoice")
        path = f"{spec.collection}/{quote(ref.remote_id, safe='')}"
        if spec.reverse == "http_delete":
            self._request(company, "DELETE", path)
            return
        body: dict[str, Any] = {spec.id_field: ref.remote_id}
        if spec.reverse == "archive":
            body["ContactStatus"] = "ARCHIVED"
        elif spec.reverse == "deleted":
            body["Status"] = "DELETED"
        else:
            body["Status"] = self._reversal_status(company, spec, ref)
            if body["Status"] == "":
                return
        self._request(
            company,
            "POST",
            path,
            params={"summarizeErrors": "false"},
            body={spec.collection: [body]},
            key=str(uuid.uuid4()),
        )

    def _reversal_status(self, company: str, spec: EntitySpec, ref: RemoteRef) -> str:
        return reversal_status(spec, self._read(company, spec, ref.remote_id), ref.remote_id)

    def create_batch(
        self, company: str, items: Sequence[tuple[Document, str]]
    ) -> list[RemoteRef | BackendError]:
        """Create up to ``max_batch`` documents: one ``PUT`` per kind, ``summarizeErrors=false``.

        Each answer element is matched back to its document by the key it carries (by
        position for items, which carry none); per-element validation errors are returned
        in place. A failure of a whole request (timeout, 429, 5xx, authentication) is raised.
        """
        if len(items) > self.max_batch:
            raise UnsupportedCapability(
                f"a Xero batch holds at most {self.max_batch} documents, got {len(items)}"
            )
        results: list[RemoteRef | BackendError | None] = [None] * len(items)
        groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for index, (document, key) in enumerate(items):
            try:
                check_idempotency_key(key, str(document.source))
                spec = spec_for(document.kind)
                groups.setdefault(spec.kind, []).append(
                    (index, self._render(document, key, company))
                )
            except BackendError as exc:
                results[index] = exc
        for kind, group in groups.items():
            spec = ENTITIES[kind]
            keys = [items[i][1] for i, _body in group]
            batch_key = str(uuid.uuid5(_KEY_NAMESPACE, "\x1f".join([spec.collection, *keys])))
            response = self._request(
                company,
                "PUT",
                spec.collection,
                params={"summarizeErrors": "false"},
                body={spec.collection: [b for _i, b in group]},
                key=batch_key,
            )
            records = [str(items[i][0].source) for i, _body in group]
            matched = match_batch(self._rows(response, spec, None), spec, keys, records)
            for position, result in matched.items():
                results[group[position][0]] = result
        return [
            r
            if r is not None
            else AmbiguousOutcome(
                "Xero's batch answer has no element for this document",
                record=str(items[i][0].source),
            )
            for i, r in enumerate(results)
        ]

    def fetch_pdf(self, company: str, ref: RemoteRef) -> bytes:
        """The invoice or credit note as Xero renders it (PDF bytes)."""
        spec = spec_for(ref.kind or "invoice")
        if not spec.pdf:
            raise UnsupportedCapability(f"Xero has no PDF of {spec.collection}")
        path = f"{spec.collection}/{quote(ref.remote_id, safe='')}"
        response = self._request(company, "GET", path, accept="application/pdf")
        if not response.content.startswith(b"%PDF"):
            raise AmbiguousOutcome(
                f"Xero answered the PDF of {ref.remote_id} with no PDF", status=response.status_code
            )
        return response.content
