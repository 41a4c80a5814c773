"""The QuickBooks Online back end: REST v3 over an injected ``httpx.Client``.

One attempt per call (the export engine owns retries); the only automatic
second request is the one after a ``401``, when the host's token provider is
asked to refresh. Every create and update carries the idempotency key as
QuickBooks' ``requestid``, so a resend after a timeout replays the first answer
instead of creating a second document; the key is also written as a tag into
the document so :meth:`QuickBooksBackend.lookup` can find it.

Errors: timeouts, dropped connections and 5xx become
:class:`~syncstate.errors.AmbiguousOutcome`; 429 (and the older 403
``ThrottleExceeded``) :class:`~syncstate.errors.ThrottledError` with
``retry_after``; ``Fault`` answers the typed errors of
:mod:`syncstate.adapters.backends.quickbooks.faults`. No httpx exception
escapes. Access tokens are fetched from the host for each request and are never
stored, logged or put in an error. :class:`QuickBooksConfig`, :class:`TokenProvider`,
the API URLs and QuickBooks' limits live in
:mod:`syncstate.adapters.backends.quickbooks.config` (re-exported here).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import attrs
import httpx

from syncstate.adapters.backends.quickbooks import options as quickbooks_options
from syncstate.adapters.backends.quickbooks.attachments import QuickBooksAttachments
from syncstate.adapters.backends.quickbooks.cdc import QuickBooksChanges
from syncstate.adapters.backends.quickbooks.config import (
    MAX_REQUEST_ID,
    PRODUCTION_URL,
    QUERY_PAGE,
    SANDBOX_URL,
    QuickBooksConfig,
    TokenProvider,
    check_request_id,
)
from syncstate.adapters.backends.quickbooks.directory import QuickBooksDirectory
from syncstate.adapters.backends.quickbooks.faults import (
    error_from_fault,
    error_from_response,
    fault_from_json,
    parse_retry_after,
)
from syncstate.adapters.backends.quickbooks.payloads import (
    ENTITIES,
    EntitySpec,
    QboMapping,
    dumps,
    find_tag,
    loads,
    ref_from_entity,
    render,
    spec_for,
)
from syncstate.adapters.backends.transport import OwnedClient, transport_error
from syncstate.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    BackendError,
    StaleVersionError,
    SyncStateError,
    UnsupportedCapability,
)
from syncstate.ports import Capability, Clock, Document, RemoteRef, SystemClock

__all__ = [
    "PRODUCTION_URL",
    "SANDBOX_URL",
    "QuickBooksBackend",
    "QuickBooksConfig",
    "TokenProvider",
]

log = logging.getLogger("syncstate.adapters.backends.quickbooks")

_KEY_NAMESPACE = uuid.UUID("5b0f6f0e-2d4c-4c1e-9a43-6f1f3c0c5a51")


class QuickBooksBackend(OwnedClient, QuickBooksDirectory, QuickBooksChanges, QuickBooksAttachments):
    """:class:`~syncstate.ports.AccountingBackend` for QuickBooks Online (and its name lists)."""

    name = "quickbooks"

    #: options it takes from text (``syncstate export --backend-option``); see
    #: :mod:`syncstate.adapters.backends.quickbooks.options`
    OPTIONS = quickbooks_options.OPTIONS
    #: the back end those options describe
    from_options = staticmethod(quickbooks_options.from_options)

    def __init__(
        self,
        *,
        tokens: TokenProvider,
        mapping: QboMapping | Callable[[str], QboMapping],
        config: QuickBooksConfig | None = None,
        client: httpx.Client | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config or QuickBooksConfig()
        self._tokens = tokens
        self._mapping = mapping
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=self.config.timeout)
        self._clock: Clock = clock or SystemClock()

    def __repr__(self) -> str:
        return (
            f"QuickBooksBackend(url={self.config.url!r}, minorversion={self.config.minorversion})"
        )

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Everything, with ``VOID`` or ``DELETE`` as ``config.reverse`` says."""
        reverse = Capability.VOID if self.config.reverse == "void" else Capability.DELETE
        return frozenset(
            {
                Capability.CREATE,
                Capability.UPDATE,
                reverse,
                Capability.BATCH,
                Capability.PDF,
                Capability.LOOKUP_BY_KEY,
                Capability.LOOKUP_MANY,
                Capability.FETCH_BY_ID,
                Capability.REPLAYS_KEY,
            }
        )

    #: kinds :meth:`lookup` can find by key: those whose entity carries the lookup tag
    #: (an Item has no free-text field to tag; its key is replayed by ``requestid``)
    lookup_kinds = frozenset(kind for kind, spec in ENTITIES.items() if spec.tag_field)

    @property
    def max_batch(self) -> int:
        """Most documents in one :meth:`create_batch` call."""
        return self.config.max_batch

    # ------------------------------------------------------------------ plumbing

    def _mapping_for(self, company: str) -> QboMapping:
        if isinstance(self._mapping, QboMapping):
            return self._mapping
        return self._mapping(company)

    def _token(self, company: str, *, refresh: bool) -> str:
        try:
            if refresh:
                return self._tokens.refresh(company)
            return self._tokens.access_token(company)
        except SyncStateError:
            raise
        except Exception as exc:
            what = "refresh" if refresh else "provide"
            raise AuthenticationError(
                f"the token provider failed to {what} a token for company {company!r} "
                f"({type(exc).__name__})"
            ) from exc

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
        content_type: str = "application/json",
    ) -> httpx.Response:
        realm = quote(self.config.realm_for(company), safe="")
        url = f"{self.config.url}/v3/company/{realm}/{path}"
        query = {**(params or {}), "minorversion": str(self.config.minorversion)}
        refreshed = False
        token = self._token(company, refresh=False)
        # what a log record may carry: never the token, the URL's query or the body
        extra = {
            "company": company,
            "record": record,
            "idempotency_key": query.get("requestid"),
            "method": method,
            "entity": path.split("/", 1)[0],
        }
        while True:
            headers = {"Authorization": f"Bearer {token}", "Accept": accept}
            if body is not None:
                headers["Content-Type"] = content_type
            started = time.monotonic()
            try:
                response = self._client.request(
                    method, url, params=query, content=body, headers=headers
                )
            except (httpx.HTTPError, httpx.InvalidURL) as exc:
                # never sent (connect, DNS, TLS, pool) or maybe sent (read, drop): see transport
                raise transport_error(
                    exc,
                    service="QuickBooks",
                    operation=f"{method} {extra['entity']}",
                    record=record,
                ) from exc
            duration_ms = round((time.monotonic() - started) * 1000, 1)
            log.debug(
                "QuickBooks %s %s -> %s in %.1f ms",
                method,
                extra["entity"],
                response.status_code,
                duration_ms,
                extra={**extra, "status": response.status_code, "duration_ms": duration_ms},
            )
            if response.status_code == 401 and not refreshed:
                refreshed = True
                log.info(
                    "QuickBooks refused the access token of %s; asking the host for a fresh one",
                    company,
                    extra=extra,
                )
                token = self._token(company, refresh=True)
                continue
            break
        if response.status_code >= 400:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise error_from_response(
                response.status_code, response.content, retry_after=retry_after, record=record
            )
        return response

    @staticmethod
    def _decode(response: httpx.Response, record: str | None) -> Mapping[str, Any]:
        try:
            data = loads(response.content)
        except ValueError:
            data = None
        if not isinstance(data, Mapping):
            raise AmbiguousOutcome(
                f"QuickBooks answered HTTP {response.status_code} with an unreadable body",
                status=response.status_code,
                record=record,
            )
        fault = fault_from_json(data)
        if fault is not None:
            raise error_from_fault(fault, status=response.status_code, record=record)
        return data

    def _entity(
        self, response: httpx.Response, spec: EntitySpec, record: str | None
    ) -> Mapping[str, Any]:
        data = self._decode(response, record)
        entity = data.get(spec.entity)
        if not isinstance(entity, Mapping) or "Id" not in entity:
            raise AmbiguousOutcome(
                f"QuickBooks answered without a {spec.entity}",
                status=response.status_code,
                record=record,
            )
        return entity

    def _post(
        self,
        company: str,
        spec: EntitySpec,
        body: Mapping[str, Any],
        idempotency_key: str,
        record: str,
    ) -> RemoteRef:
        """POST ``body`` to the entity's resource under ``requestid`` (a create, or a
        sparse update when the body carries ``Id``); the reference it answers with."""
        response = self._request(
            company,
            "POST",
            spec.resource,
            params={"requestid": idempotency_key},
            body=dumps(body),
            record=record,
        )
        return ref_from_entity(spec.kind, self._entity(response, spec, record))

    def _read(self, company: str, spec: EntitySpec, remote_id: str) -> Mapping[str, Any]:
        response = self._request(company, "GET", f"{spec.resource}/{quote(remote_id, safe='')}")
        return self._entity(response, spec, None)

    def fetch_ref(self, company: str, kind: str, remote_id: str) -> RemoteRef:
        """The current :class:`RemoteRef` (with its ``SyncToken``) of a document."""
        spec = spec_for(kind)
        return ref_from_entity(spec.kind, self._read(company, spec, remote_id))

    def _current_version(self, company: str, spec: EntitySpec, ref: RemoteRef) -> str:
        if ref.version is not None:
            return ref.version
        return str(self._read(company, spec, ref.remote_id)["SyncToken"])

    # --------------------------------------------------------------- the port

    def create(self, company: str, document: Document, *, idempotency_key: str) -> RemoteRef:
        """Create the document; a repeated key replays the first answer."""
        record = str(document.source)
        check_request_id(idempotency_key, MAX_REQUEST_ID, record)
        spec = spec_for(document.kind)
        body = render(document, self._mapping_for(company), idempotency_key)
        return self._post(company, spec, body, idempotency_key, record)

    def update(
        self, company: str, ref: RemoteRef, document: Document, *, idempotency_key: str
    ) -> RemoteRef:
        """Sparse-update the document at ``ref`` with its ``SyncToken``.

        The current document is read first so its lookup tag (the key it was
        created with) is kept. ``ref.version`` None means "overwrite whatever is
        current" (use it after a :class:`~syncstate.errors.StaleVersionError`);
        otherwise QuickBooks checks ``ref.version`` and answers 5010 if stale.
        """
        record = str(document.source)
        check_request_id(idempotency_key, MAX_REQUEST_ID, record)
        spec = spec_for(document.kind)
        mapping = self._mapping_for(company)
        render(document, mapping, idempotency_key)  # mapping errors before any request
        current = self._read(company, spec, ref.remote_id)
        original = find_tag(current.get(spec.tag_field)) if spec.tag_field else None
        body = render(document, mapping, original or idempotency_key)
        version = ref.version if ref.version is not None else str(current["SyncToken"])
        body.update({"Id": ref.remote_id, "SyncToken": version, "sparse": True})
        return self._post(company, spec, body, idempotency_key, record)

    def lookup(self, company: str, kind: str, idempotency_key: str) -> RemoteRef | None:
        """The document tagged with ``idempotency_key`` created within ``lookup_window``."""
        return self.lookup_many(company, kind, [idempotency_key]).get(idempotency_key)

    def lookup_many(self, company: str, kind: str, keys: Sequence[str]) -> dict[str, RemoteRef]:
        """Every document tagged with one of ``keys`` (created within ``lookup_window``).

        One query, paged by :data:`QUERY_PAGE` rows, whatever the number of keys: this
        resolves a whole ambiguous batch at once. Stops as soon as every key is found.
        """
        if kind not in ENTITIES:
            return {}
        spec = ENTITIES[kind]
        if spec.tag_field is None:
            raise UnsupportedCapability(f"QuickBooks {spec.entity} documents carry no lookup tag")
        wanted = set(keys)
        found: dict[str, RemoteRef] = {}
        since = (self._clock.now() - self.config.lookup_window).astimezone(dt.UTC)
        stamp = since.isoformat(timespec="seconds")
        position = 1
        while wanted - found.keys():
            statement = (
                f"select * from {spec.entity} where MetaData.CreateTime >= '{stamp}' "
                f"orderby MetaData.CreateTime desc "
                f"startposition {position} maxresults {QUERY_PAGE}"
            )
            response = self._request(company, "GET", "query", params={"query": statement})
            rows = self._decode(response, None).get("QueryResponse", {}).get(spec.entity, [])
            for row in rows:
                tag = find_tag(row.get(spec.tag_field))
                if tag in wanted and tag not in found:
                    found[tag] = ref_from_entity(spec.kind, row)
            if len(rows) < QUERY_PAGE:
                break
            position += QUERY_PAGE
        return found

    def delete(self, company: str, ref: RemoteRef) -> None:
        """Void (default) or delete a transaction; make a customer or item inactive.

        A stale ``SyncToken`` (fault 5010: the document changed since it was exported)
        is refetched by the document's id and the void or delete sent once more.
        """
        try:
            self._reverse(company, ref)
        except StaleVersionError:
            log.info("stale SyncToken voiding %s %s; refetching it", ref.kind, ref.remote_id)
            self._reverse(company, attrs.evolve(ref, version=None))

    def _reverse(self, company: str, ref: RemoteRef) -> None:
        spec = spec_for(ref.kind)
        version = self._current_version(company, spec, ref)
        mode = spec.reverse
        if self.config.reverse == "delete" and mode in ("void", "void_update"):
            mode = "delete"
        body: dict[str, Any] = {"Id": ref.remote_id, "SyncToken": version}
        # a fresh requestid: deleting twice answers RemoteNotFound, not a replay
        params = {"requestid": str(uuid.uuid4())}
        if mode == "void":
            params["operation"] = "void"
        elif mode == "delete":
            params["operation"] = "delete"
        elif mode == "void_update":
            params.update(operation="update", include="void")
            body["sparse"] = True
        else:
            body.update(sparse=True, Active=False)
        response = self._request(company, "POST", spec.resource, params=params, body=dumps(body))
        self._decode(response, None)

    def create_batch(
        self, company: str, items: Sequence[tuple[Document, str]]
    ) -> list[RemoteRef | BackendError]:
        """Create up to ``max_batch`` documents in one request, matched back by ``bId``.

        Per-item faults are returned in place; a failure of the whole request
        (timeout, 429, 5xx, authentication) is raised.
        """
        if len(items) > self.max_batch:
            raise UnsupportedCapability(
                f"a QuickBooks batch holds at most {self.max_batch} documents, got {len(items)}"
            )
        mapping = self._mapping_for(company)
        results: list[RemoteRef | BackendError | None] = [None] * len(items)
        requests: list[dict[str, Any]] = []
        specs: dict[str, tuple[int, EntitySpec]] = {}
        for index, (document, key) in enumerate(items):
            try:
                check_request_id(key, MAX_REQUEST_ID, str(document.source))
                spec = spec_for(document.kind)
                body = render(document, mapping, key)
            except BackendError as exc:
                results[index] = exc
                continue
            bid = f"b{index}"
            specs[bid] = (index, spec)
            requests.append({"bId": bid, "operation": "create", spec.entity: body})
        if requests:
            keys = "\x1f".join(key for _doc, key in items)
            batch_id = str(uuid.uuid5(_KEY_NAMESPACE, f"batch\x1f{keys}"))
            response = self._request(
                company,
                "POST",
                "batch",
                params={"requestid": batch_id},
                body=dumps({"BatchItemRequest": requests}),
            )
            answers = self._decode(response, None).get("BatchItemResponse", [])
            for answer in answers:
                bid = str(answer.get("bId", ""))
                if bid not in specs:
                    continue
                index, spec = specs[bid]
                record = str(items[index][0].source)
                fault = fault_from_json(answer)
                if fault is not None:
                    results[index] = error_from_fault(fault, record=record)
                elif isinstance(answer.get(spec.entity), Mapping):
                    results[index] = ref_from_entity(spec.kind, answer[spec.entity])
        return [
            result
            if result is not None
            else AmbiguousOutcome(
                "QuickBooks' batch answer has no result for this document",
                record=str(items[i][0].source),
            )
            for i, result in enumerate(results)
        ]

    def fetch_pdf(self, company: str, ref: RemoteRef) -> bytes:
        """The invoice or sales receipt as QuickBooks renders it (PDF bytes)."""
        spec = spec_for(ref.kind)
        if not spec.pdf:
            raise UnsupportedCapability(f"QuickBooks has no PDF for a {spec.entity}")
        path = f"{spec.resource}/{quote(ref.remote_id, safe='')}/pdf"
        response = self._request(company, "GET", path, accept="application/pdf")
        if not response.content.startswith(b"%PDF"):
            raise AmbiguousOutcome(
                f"QuickBooks answered the PDF of {spec.entity} {ref.remote_id} with no PDF",
                status=response.status_code,
            )
        return response.content
