"""The Sage Intacct back end: the XML Web Services gateway over an injected ``httpx.Client``.

Sessions: the first request of a company logs in with ``getAPISession`` (sender plus
API user) and keeps the session id and endpoint it answers; later requests
authenticate with the session. When the gateway refuses the session (it expired), the
back end logs in again once and resends the request under a fresh control id (no
function ran: an authentication failure stops the request before its content).

Exactly once: Intacct does **not** replay a repeated control id; with ``uniqueid``
true it refuses it. So the back end does not declare ``REPLAYS_KEY``. Each write is
sent with ``uniqueid`` true and a control id derived from its idempotency key, and the
key itself is written into the object's reference field
(:mod:`~syncstate.adapters.backends.intacct.payloads`). An ambiguous outcome (timeout,
dropped connection, 5xx) is resolved by the engine with :meth:`IntacctBackend.lookup`
(a ``readByQuery`` on the reference field) before anything is resent; a refused control
id means "already processed" and is resolved by the same query here.

Credentials and session ids are :class:`~syncstate.adapters.backends.intacct.config.Secret`:
never logged, never in a ``repr`` or an error. No httpx exception escapes.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence

import httpx

from syncstate.adapters.backends.intacct import options as intacct_options
from syncstate.adapters.backends.intacct.changes import (
    CHANGE_FIELDS,
    change_from_row,
    deleted_change,
)
from syncstate.adapters.backends.intacct.config import (
    CredentialsProvider,
    IntacctConfig,
)
from syncstate.adapters.backends.intacct.envelope import (
    FunctionResult,
    element,
    text_of,
)
from syncstate.adapters.backends.intacct.faults import (
    DuplicateControlId,
    function_error,
)
from syncstate.adapters.backends.intacct.gateway import Gateway
from syncstate.adapters.backends.intacct.payloads import (
    OBJECTS,
    IntacctMapping,
    ObjectSpec,
    ref_from_row,
    render,
    spec_for,
)
from syncstate.adapters.backends.intacct.queries import (
    check_key,
    control_id,
    in_condition,
    modified_since,
    read,
    read_by_query,
    read_more,
    timestamp,
)
from syncstate.adapters.backends.transport import OwnedClient
from syncstate.errors import (
    AmbiguousOutcome,
    BackendError,
    RemoteNotFound,
    UnsupportedCapability,
)
from syncstate.ports import Capability, Clock, Document, RemoteRef, SystemClock
from syncstate.ports.changes import RemoteChange

__all__ = ["IntacctBackend"]

log = logging.getLogger("syncstate.adapters.backends.intacct")

#: keys per ``IN (...)`` condition of one lookup query
_KEYS_PER_QUERY = 100


class IntacctBackend(OwnedClient):
    """:class:`~syncstate.ports.AccountingBackend` for Sage Intacct (XML gateway)."""

    name = "intacct"

    #: options it takes from text (``--backend-option``); see
    #: :mod:`syncstate.adapters.backends.intacct.options`
    OPTIONS = intacct_options.OPTIONS
    #: the back end those options describe
    from_options = staticmethod(intacct_options.from_options)

    #: every kind it creates can be found by its key (each carries a reference field)
    lookup_kinds = frozenset(OBJECTS)

    def __init__(
        self,
        *,
        credentials: CredentialsProvider,
        mapping: IntacctMapping | Callable[[str], IntacctMapping],
        config: IntacctConfig | None = None,
        client: httpx.Client | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config or IntacctConfig()
        self._credentials = credentials
        self._mapping = mapping
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=self.config.timeout)
        self._clock: Clock = clock or SystemClock()
        self._gateway = Gateway(credentials=credentials, config=self.config, client=self._client)

    def __repr__(self) -> str:
        return f"IntacctBackend(endpoint_url={self.config.endpoint_url!r})"

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Create, update, delete, batch and lookups; never ``REPLAYS_KEY``."""
        return frozenset(
            {
                Capability.CREATE,
                Capability.UPDATE,
                Capability.DELETE,
                Capability.BATCH,
                Capability.LOOKUP_BY_KEY,
                Capability.LOOKUP_MANY,
                Capability.FETCH_BY_ID,
            }
        )

    @property
    def max_batch(self) -> int:
        """Most create functions in one :meth:`create_batch` request."""
        return self.config.max_batch

    # ------------------------------------------------------------------ plumbing

    def _mapping_for(self, company: str) -> IntacctMapping:
        if isinstance(self._mapping, IntacctMapping):
            return self._mapping
        return self._mapping(company)

    def _created(self, spec: ObjectSpec, result: FunctionResult, record: str | None) -> RemoteRef:
        rows = result.rows()
        if not rows or not text_of(rows[0], "RECORDNO"):
            raise AmbiguousOutcome(
                f"Intacct created a {spec.object} but answered no RECORDNO", record=record
            )
        return ref_from_row(spec, rows[0])

    def _read(self, company: str, spec: ObjectSpec, remote_id: str) -> ET.Element | None:
        answer = self._gateway.post(
            company, [("read", read(spec, remote_id))], control=str(uuid.uuid4()), unique=False
        )
        rows = self._gateway.result(answer, "read", None).rows()
        return rows[0] if rows else None

    def _query(
        self, company: str, spec: ObjectSpec, condition: str, fields: Sequence[str]
    ) -> list[ET.Element]:
        """Every row of ``readByQuery``, paged with ``readMore`` on its result id."""
        function = read_by_query(spec, condition, fields=fields, page_size=self.config.page_size)
        rows: list[ET.Element] = []
        while True:
            answer = self._gateway.post(
                company, [("query", function)], control=str(uuid.uuid4()), unique=False
            )
            result = self._gateway.result(answer, "query", None)
            rows.extend(result.rows())
            remaining = result.data_attribute("numremaining")
            result_id = result.data_attribute("resultId")
            if not remaining.isdigit() or int(remaining) == 0 or not result_id:
                return rows
            function = read_more(result_id)

    # --------------------------------------------------------------- the port

    def create(self, company: str, document: Document, *, idempotency_key: str) -> RemoteRef:
        """Create the document; a refused (repeated) control id is resolved by key."""
        record = str(document.source)
        check_key(idempotency_key, record)
        spec = spec_for(document.kind, record)
        create = element("create")
        create.append(render(document, self._mapping_for(company), idempotency_key))
        control = control_id("create", company, idempotency_key)
        try:
            answer = self._gateway.post(company, [("create", create)], control=control, unique=True,
                                record=record)  # fmt: skip
        except DuplicateControlId as refused:
            return self._already_processed(company, spec, idempotency_key, refused)
        return self._created(spec, self._gateway.result(answer, "create", record), record)

    def _already_processed(
        self, company: str, spec: ObjectSpec, key: str, refused: DuplicateControlId
    ) -> RemoteRef:
        found = self.lookup(company, spec.kind, key)
        if found is not None:
            log.info("Intacct had processed key %s already: %s", key, found.remote_id)
            return found
        raise AmbiguousOutcome(
            f"{refused.message}; no {spec.object} carries key {key} yet (the first "
            "request may still be running)",
            code=refused.code,
            record=refused.record,
        ) from refused

    def update(
        self, company: str, ref: RemoteRef, document: Document, *, idempotency_key: str
    ) -> RemoteRef:
        """Overwrite the record at ``ref``; its reference field keeps the create key."""
        record = str(document.source)
        check_key(idempotency_key, record)
        spec = spec_for(document.kind, record)
        mapping = self._mapping_for(company)
        render(document, mapping, idempotency_key)  # mapping errors before any request
        current = self._read(company, spec, ref.remote_id)
        if current is None:
            raise RemoteNotFound(
                f"Intacct has no {spec.object} with RECORDNO {ref.remote_id}", record=record
            )
        body = render(document, mapping, text_of(current, spec.reference_field) or idempotency_key)
        body.insert(0, element("RECORDNO", ref.remote_id))
        update = element("update")
        update.append(body)
        control = control_id("update", company, idempotency_key)
        try:
            answer = self._gateway.post(company, [("update", update)], control=control, unique=True,
                                record=record)  # fmt: skip
        except DuplicateControlId:
            # an update sent twice writes the same values: send it once more, fresh id
            again = control_id(control, "again")
            answer = self._gateway.post(
                company, [("update", update)], control=again, unique=True, record=record
            )
        self._gateway.result(answer, "update", record)
        return RemoteRef(
            remote_id=ref.remote_id, version=None, kind=spec.kind, doc_number=ref.doc_number
        )

    def fetch_ref(self, company: str, kind: str, remote_id: str) -> RemoteRef:
        """The current reference of a record by its ``RECORDNO``."""
        spec = spec_for(kind)
        row = self._read(company, spec, remote_id)
        if row is None:
            raise RemoteNotFound(f"Intacct has no {spec.object} with RECORDNO {remote_id}")
        return ref_from_row(spec, row)

    def lookup(self, company: str, kind: str, idempotency_key: str) -> RemoteRef | None:
        """The record whose reference field holds ``idempotency_key``."""
        return self.lookup_many(company, kind, [idempotency_key]).get(idempotency_key)

    def lookup_many(self, company: str, kind: str, keys: Sequence[str]) -> dict[str, RemoteRef]:
        """Every record carrying one of ``keys``: one paged query per 100 keys."""
        spec = OBJECTS.get(kind)
        if spec is None:
            return {}
        found: dict[str, RemoteRef] = {}
        wanted = sorted(set(keys))
        fields = [
            "RECORDNO",
            spec.reference_field,
            *([spec.number_field] if spec.number_field else []),
        ]
        for start in range(0, len(wanted), _KEYS_PER_QUERY):
            condition = in_condition(spec.reference_field, wanted[start : start + _KEYS_PER_QUERY])
            if self.config.lookup_window_days:
                since = self._clock.now() - dt.timedelta(days=self.config.lookup_window_days)
                condition += f" AND WHENCREATED >= '{timestamp(since)[:10]}'"
            for row in self._query(company, spec, condition, fields):
                key = text_of(row, spec.reference_field)
                if key in wanted and key not in found:
                    found[key] = ref_from_row(spec, row)
        return found

    def delete(self, company: str, ref: RemoteRef) -> None:
        """Delete the record (Intacct refuses it, e.g. a paid invoice: the error says so)."""
        spec = spec_for(ref.kind)
        if self._read(company, spec, ref.remote_id) is None:
            raise RemoteNotFound(f"Intacct has no {spec.object} with RECORDNO {ref.remote_id}")
        delete = element("delete")
        delete.append(element("object", spec.object))
        delete.append(element("keys", ref.remote_id))
        answer = self._gateway.post(
            company, [("delete", delete)], control=str(uuid.uuid4()), unique=False
        )
        self._gateway.result(answer, "delete", None)

    def create_batch(
        self, company: str, items: Sequence[tuple[Document, str]]
    ) -> list[RemoteRef | BackendError]:
        """Create up to ``max_batch`` documents in one request, matched by control id.

        Functions are independent (no ``transaction``): one that fails leaves the others
        written. A refused control id (the same batch sent before) is resolved with one
        lookup per kind; failures of the whole request are raised.
        """
        if len(items) > self.max_batch:
            raise UnsupportedCapability(
                f"an Intacct batch holds at most {self.max_batch} documents, got {len(items)}"
            )
        mapping = self._mapping_for(company)
        results: list[RemoteRef | BackendError | None] = [None] * len(items)
        functions: list[tuple[str, ET.Element]] = []
        for index, (document, key) in enumerate(items):
            try:
                check_key(key, str(document.source))
                spec_for(document.kind, str(document.source))
                create = element("create")
                create.append(render(document, mapping, key))
            except BackendError as exc:
                results[index] = exc
                continue
            functions.append((f"f{index}", create))
        if functions:
            keys = [key for _doc, key in items]
            control = control_id("batch", company, *keys)
            try:
                answer = self._gateway.post(company, functions, control=control, unique=True)
            except DuplicateControlId as refused:
                return self._batch_already_processed(company, items, results, refused)
            by_id = answer.by_control_id()
            for function_id, _create in functions:
                index = int(function_id[1:])
                document = items[index][0]
                record = str(document.source)
                result = by_id.get(function_id)
                if result is None:
                    continue
                if result.ok:
                    try:
                        results[index] = self._created(spec_for(document.kind), result, record)
                    except BackendError as exc:
                        results[index] = exc
                else:
                    results[index] = function_error(result, record=record)
        return [
            result
            if result is not None
            else AmbiguousOutcome(
                "Intacct's answer has no result for this document", record=str(items[i][0].source)
            )
            for i, result in enumerate(results)
        ]

    def _batch_already_processed(
        self,
        company: str,
        items: Sequence[tuple[Document, str]],
        results: list[RemoteRef | BackendError | None],
        refused: DuplicateControlId,
    ) -> list[RemoteRef | BackendError]:
        found: dict[str, RemoteRef] = {}
        for kind in sorted({doc.kind for doc, _key in items}):
            keys = [key for doc, key in items if doc.kind == kind]
            found.update(self.lookup_many(company, kind, keys))
        out: list[RemoteRef | BackendError] = []
        for (document, key), earlier in zip(items, results, strict=True):
            if earlier is not None:
                out.append(earlier)
            elif key in found:
                out.append(found[key])
            else:
                out.append(
                    AmbiguousOutcome(
                        f"{refused.message}; no document carries key {key} yet",
                        record=str(document.source),
                    )
                )
        return out

    def fetch_pdf(self, company: str, ref: RemoteRef) -> bytes:
        """Not offered: the XML gateway has no document PDFs."""
        raise UnsupportedCapability("the Intacct back end does not fetch PDFs")

    # --------------------------------------------------------------- two-way

    def changes_since(
        self, company: str, kind: str, since: dt.datetime, *, include_own: bool = False
    ) -> list[RemoteChange]:
        """Records of ``kind`` modified in Intacct at or after ``since`` (``WHENMODIFIED``).

        Paged with ``readMore`` on the query's result id. Records last modified by the
        API user this back end signs in with (``MODIFIEDBY``) are syncstate's own writes
        and left out unless ``include_own``. Feed the answer to
        :func:`~syncstate.services.remote_changes.apply_remote_changes`.
        """
        spec = spec_for(kind)
        own = None if include_own else self._gateway.credentials(company).user_id
        fields = ["RECORDNO", spec.reference_field, *CHANGE_FIELDS]
        rows = self._query(company, spec, modified_since(since), fields)
        return [
            change_from_row(company, spec, row)
            for row in rows
            if own is None or text_of(row, "MODIFIEDBY") != own
        ]

    def deleted(self, company: str, kind: str, remote_ids: Sequence[str]) -> list[RemoteChange]:
        """``delete`` changes for the ``remote_ids`` Intacct no longer holds (one query
        per 100 ids): a query cannot see deleted records, so linked ids are checked."""
        spec = spec_for(kind)
        wanted = sorted(set(remote_ids))
        present: set[str] = set()
        for start in range(0, len(wanted), _KEYS_PER_QUERY):
            condition = in_condition("RECORDNO", wanted[start : start + _KEYS_PER_QUERY])
            rows = self._query(company, spec, condition, ["RECORDNO"])
            present.update(text_of(row, "RECORDNO") for row in rows)
        now = self._clock.now()
        return [deleted_change(company, spec, rid, now) for rid in wanted if rid not in present]
