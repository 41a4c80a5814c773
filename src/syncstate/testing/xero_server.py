"""A local Xero-like HTTP server with fault injection, for tests and benchmarks.

It listens on 127.0.0.1 on a free port in a background thread and speaks the subset of
the Accounting API (``/api.xro/2.0``) syncstate uses, with Xero's documented semantics
(:mod:`syncstate.testing.xero_books` holds the rules)::

    PUT  /api.xro/2.0/<Collection>?summarizeErrors=false     create (one or many elements)
    POST /api.xro/2.0/<Collection>[/<id>]                     create or update
    GET  /api.xro/2.0/<Collection>?where=..&page=N            filter (If-Modified-Since too)
    GET  /api.xro/2.0/<Collection>/<id>                       read (Accept: application/pdf)
    DELETE /api.xro/2.0/Items/<id>                            delete an item

Every request needs ``Authorization: Bearer ...`` (401 otherwise) and ``Xero-tenant-id``
(403 otherwise). ``Idempotency-Key`` on a write: a repeat within
:attr:`FaultPlan.idempotency_window` (6 minutes) with the same request replays the first
answer, errors included; with a different request it answers 400 "... is used with a
different request". Limits per tenant, as Xero documents them: :attr:`FaultPlan.minute_limit`
calls per :attr:`FaultPlan.minute_window` seconds, :attr:`FaultPlan.day_limit` per day
and :attr:`FaultPlan.concurrent_limit` in progress, answered with 429, ``Retry-After``
and ``X-Rate-Limit-Problem`` (``minute`` / ``day`` / ``concurrent``); every answer carries
``X-MinLimit-Remaining`` and ``X-DayLimit-Remaining``. Faults: latency, dropped
connections, "commit then fail" (500 or a dropped connection after the write is done),
scripted answers::

    with XeroServer() as server:
        contact = server.add(tenant, "Contacts", {"Name": "Amy"})
        server.commit_then_fail(1, mode="drop")
        ...
        assert server.count(tenant, "Invoices") == 1
"""

from __future__ import annotations

import collections
import copy
import datetime as dt
import hashlib
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

import attrs

from syncstate.adapters.backends.xero.payloads import dumps, loads
from syncstate.testing.qbo_http import LocalServer
from syncstate.testing.xero_books import COLLECTIONS, ID_FIELDS, XeroBooks, XeroRefusal, xero_date
from syncstate.testing.xero_http import XeroRequestHandler
from syncstate.testing.xero_where import compile_where

__all__ = ["FaultPlan", "XeroServer"]

PREFIX = "/api.xro/2.0/"
PAGE = 100


@attrs.define
class FaultPlan:
    """What the server does (wrong); change any field during a test."""

    latency: float = 0.0
    #: Xero's limits per tenant (None: unlimited); the minute window can be shortened
    #: (a compressed minute answers ``Retry-After`` in fractions of a second)
    minute_limit: int | None = 60
    minute_window: float = 60.0
    day_limit: int | None = 5000
    concurrent_limit: int | None = 5
    #: how long an ``Idempotency-Key`` is kept (seconds)
    idempotency_window: float = 360.0
    #: the next N requests lose their connection before anything happens
    reset_next: int = 0
    #: the next N writes commit, then answer 500 (``"500"``) or drop the connection
    commit_then_fail: int = 0
    commit_then_fail_mode: str = "500"
    #: answers for the next requests, instead of doing anything: (status, body)
    scripted: list[tuple[int, dict[str, Any]]] = attrs.field(factory=list)


@attrs.define
class _Answer:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = attrs.field(factory=dict)
    drop: bool = False


class XeroServer(LocalServer):
    """The server; a context manager that starts and stops it."""

    def __init__(self, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.books = XeroBooks(clock=clock)
        self.faults = FaultPlan()
        #: accepted bearer tokens; None accepts any non-empty token
        self.valid_tokens: set[str] | None = None
        #: tenants the app is connected to; None: every tenant id
        self.connected: set[str] | None = None
        self.stats: collections.Counter[str] = collections.Counter()
        #: every request as (method, path, headers) with the Authorization header masked
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self._lock = threading.RLock()
        self._keys: dict[str, tuple[float, str, _Answer]] = {}
        self._in_flight: collections.Counter[str] = collections.Counter()
        self._calls: dict[str, collections.deque[float]] = {}
        self._minute: dict[str, collections.deque[float]] = {}

    # ------------------------------------------------------------ life cycle

    def handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler bound to this server."""
        return type("Handler", (XeroRequestHandler,), {"xero": self})

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/api.xro/2.0`` (pass it as ``XeroConfig.base_url``)."""
        return self.root_url + "/api.xro/2.0"

    # -------------------------------------------------------- test helpers

    def add(self, tenant: str, collection: str, fields: Mapping[str, Any]) -> str:
        """Seed a contact, item or account; return its id."""
        with self._lock:
            return self.books.add(tenant, collection, fields)

    def documents(self, tenant: str, collection: str) -> list[dict[str, Any]]:
        """Copies of every element of ``collection`` in ``tenant``."""
        with self._lock:
            return self.books.all(tenant, collection)

    def count(self, tenant: str, collection: str) -> int:
        """How many elements ``collection`` holds in ``tenant`` (deleted ones too)."""
        return len(self.documents(tenant, collection))

    def reset_next(self, n: int = 1) -> None:
        """Drop the connection of the next ``n`` requests before processing them."""
        with self._lock:
            self.faults.reset_next += n

    def commit_then_fail(self, n: int = 1, *, mode: str = "500") -> None:
        """The next ``n`` writes commit, then answer 500 (``mode="500"``) or drop."""
        with self._lock:
            self.faults.commit_then_fail += n
            self.faults.commit_then_fail_mode = mode

    def forget_keys(self) -> None:
        """Drop every stored ``Idempotency-Key`` (keys are per app, not per tenant)."""
        with self._lock:
            self._keys.clear()

    def fail_next(self, status: int, body: Mapping[str, Any], *, times: int = 1) -> None:
        """Answer the next ``times`` requests with ``status`` and ``body`` (nothing is done)."""
        with self._lock:
            self.faults.scripted.extend([(status, dict(body))] * times)

    # -------------------------------------------------------------- handling

    def _windows(self, tenant: str) -> tuple[collections.deque[float], collections.deque[float]]:
        """The tenant's calls of the last minute and of the last day (oldest first)."""
        now = time.monotonic()
        minute = self._minute.setdefault(tenant, collections.deque())
        day = self._calls.setdefault(tenant, collections.deque())
        while minute and minute[0] <= now - self.faults.minute_window:
            minute.popleft()
        while day and day[0] <= now - 86400:
            day.popleft()
        return minute, day

    def _limits(self, tenant: str) -> dict[str, str]:
        plan = self.faults
        minute, day = self._windows(tenant)
        headers = {"X-AppMinLimit-Remaining": "9999"}
        if plan.minute_limit is not None:
            headers["X-MinLimit-Remaining"] = str(max(plan.minute_limit - len(minute), 0))
        if plan.day_limit is not None:
            headers["X-DayLimit-Remaining"] = str(max(plan.day_limit - len(day), 0))
        return headers

    def _throttle(self, tenant: str) -> _Answer | None:
        plan, now = self.faults, time.monotonic()
        minute, day = self._windows(tenant)
        problem, wait = "", 0.0
        if plan.concurrent_limit is not None and self._in_flight[tenant] >= plan.concurrent_limit:
            problem, wait = "concurrent", 1.0
        elif plan.minute_limit is not None and len(minute) >= plan.minute_limit:
            problem = "minute"
            wait = (minute[0] if minute else now) + plan.minute_window - now
        elif plan.day_limit is not None and len(day) >= plan.day_limit:
            problem = "day"
            wait = (day[0] if day else now) + 86400 - now
        if not problem:
            minute.append(now)
            day.append(now)
            return None
        self.stats["throttled"] += 1
        self.stats[f"throttled_{problem}"] += 1
        headers = {**self._limits(tenant), "X-Rate-Limit-Problem": problem}
        if problem != "concurrent":
            # whole seconds, as Xero sends them; in a compressed minute, the fraction
            compressed = problem == "minute" and plan.minute_window < 60
            seconds = f"{max(wait, 0.001):.3f}" if compressed else str(max(1, int(wait + 0.999)))
            headers["Retry-After"] = seconds
        return _Answer(429, b"", "text/plain", headers)

    def handle(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
    ) -> _Answer:
        """Answer one request (the HTTP handler calls this)."""
        masked = {k: ("Bearer ***" if k == "authorization" else v) for k, v in headers.items()}
        auth = headers.get("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        tenant = headers.get("xero-tenant-id", "")
        with self._lock:
            self.stats["requests"] += 1
            self.seen.append((method, path, masked))
            if not path.startswith(PREFIX):
                return _Answer(404, b'{"Title": "Not Found"}')
            if not token or (self.valid_tokens is not None and token not in self.valid_tokens):
                self.stats["unauthorized"] += 1
                detail = {
                    "Type": None,
                    "Title": "Unauthorized",
                    "Status": 401,
                    "Detail": "AuthenticationUnsuccessful",
                }
                return _Answer(401, dumps(detail))
            if not tenant or (self.connected is not None and tenant not in self.connected):
                detail = {
                    "Type": None,
                    "Title": "Forbidden",
                    "Status": 403,
                    "Detail": "AuthenticationUnsuccessful",
                }
                return _Answer(403, dumps(detail))
            if self.faults.reset_next > 0:
                self.faults.reset_next -= 1
                self.stats["resets"] += 1
                return _Answer(0, b"", drop=True)
            throttled = self._throttle(tenant)
            if throttled is not None:
                return throttled
            self._in_flight[tenant] += 1
        try:
            if self.faults.latency:
                time.sleep(self.faults.latency)
            with self._lock:
                answer = self._keyed(method, path, query, headers, body, tenant)
                answer.headers.update(self._limits(tenant))
                return answer
        finally:
            with self._lock:
                self._in_flight[tenant] -= 1

    def _keyed(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
        tenant: str,
    ) -> _Answer:
        key = headers.get("idempotency-key") if method in ("PUT", "POST") else None
        request = f"{method} {path} {sorted(query.items())} {tenant} "
        fingerprint = hashlib.sha256(request.encode() + body).hexdigest()
        now = time.monotonic()
        if key:
            stored = self._keys.get(key)
            if stored is not None and stored[0] > now - self.faults.idempotency_window:
                if stored[1] != fingerprint:
                    refusal = XeroRefusal(
                        f"Idempotency Key {key} is used with a different request."
                    )
                    return _Answer(400, dumps(refusal.body()))
                self.stats["replays"] += 1
                return copy.deepcopy(stored[2])
        if self.faults.scripted:
            status, scripted = self.faults.scripted.pop(0)
            answer = _Answer(status, dumps(scripted))
        else:
            answer = self._dispatch(method, path, query, headers, body, tenant)
        # Xero keeps errors too, but not a 429: the rate limiter refuses a request before
        # the idempotency layer sees it (as this server's own throttle does, in handle)
        if key and answer.status != 429:
            self._keys[key] = (now, fingerprint, copy.deepcopy(answer))
        if method != "GET" and answer.status == 200 and self.faults.commit_then_fail > 0:
            self.faults.commit_then_fail -= 1
            self.stats["commit_then_fail"] += 1
            if self.faults.commit_then_fail_mode == "drop":
                return _Answer(0, b"", drop=True)
            failure = _Answer(500, b'{"Title": "An error occurred", "Status": 500}')
            if key:
                self._keys[key] = (now, fingerprint, copy.deepcopy(failure))
            return failure
        return answer

    def _ok(self, collection: str, rows: list[dict[str, Any]]) -> _Answer:
        envelope = {
            "Id": str(uuid.uuid4()),
            "Status": "OK",
            "ProviderName": "syncstate local",
            "DateTimeUTC": xero_date(self.books.now()),
            collection: rows,
        }
        return _Answer(200, dumps(envelope))

    def _dispatch(
        self,
        method: str,
        path: str,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        body: bytes,
        tenant: str,
    ) -> _Answer:
        parts = [unquote(p) for p in path[len(PREFIX) :].strip("/").split("/")]
        collection = parts[0]
        if collection not in COLLECTIONS or len(parts) > 2:
            return _Answer(404, b'{"Title": "Not Found", "Status": 404}')
        ident = parts[1] if len(parts) == 2 else None
        try:
            if method == "GET":
                return self._get(collection, ident, query, headers, tenant)
            if method == "DELETE" and collection == "Items" and ident:
                self.books.delete_item(tenant, ident)
                self.stats["writes"] += 1
                return _Answer(204, b"")
            if method in ("PUT", "POST"):
                return self._write(method, collection, ident, query, body, tenant)
        except XeroRefusal as refusal:
            return _Answer(refusal.status, dumps(refusal.body()))
        return _Answer(405, b'{"Title": "Method Not Allowed"}')

    def _get(
        self,
        collection: str,
        ident: str | None,
        query: Mapping[str, str],
        headers: Mapping[str, str],
        tenant: str,
    ) -> _Answer:
        if ident is not None:
            row = self.books.get(tenant, collection, ident)
            if "application/pdf" in headers.get("accept", ""):
                number = row.get("InvoiceNumber") or row.get("CreditNoteNumber") or ident
                return _Answer(200, f"%PDF-1.4\n% {number}\n%%EOF\n".encode(), "application/pdf")
            return self._ok(collection, [row])
        self.stats["queries"] += 1
        rows = self.books.all(tenant, collection)
        if query.get("where"):
            predicate = compile_where(query["where"])
            rows = [r for r in rows if predicate(r)]
        since = headers.get("if-modified-since")
        if since:
            moment = dt.datetime.fromisoformat(since.rstrip("Z")).replace(tzinfo=dt.UTC)
            rows = [r for r in rows if r["UpdatedDateUTC"] >= xero_date(moment)]
        if query.get("page"):
            page = max(int(query["page"]), 1)
            rows = rows[(page - 1) * PAGE : page * PAGE]
        return self._ok(collection, rows)

    def _write(
        self,
        method: str,
        collection: str,
        ident: str | None,
        query: Mapping[str, str],
        body: bytes,
        tenant: str,
    ) -> _Answer:
        try:
            data = loads(body)
        except ValueError:
            raise XeroRefusal("The request body could not be read as JSON") from None
        elements = data.get(collection) if isinstance(data, Mapping) else None
        if isinstance(data, Mapping) and elements is None:
            elements = [data]
        if not isinstance(elements, list) or not elements:
            raise XeroRefusal(f"No {collection} were supplied")
        if ident is not None:
            elements = [{**elements[0], ID_FIELDS[collection]: ident}]
        summarize = query.get("summarizeErrors", "true").lower() != "false"
        # all or nothing when errors are summarised (a refused single element stores nothing)
        atomic = summarize and len(elements) > 1
        saved = copy.deepcopy(self.books.tenant(tenant).rows) if atomic else None
        out, failed = [], []
        for element in elements:
            try:
                row = self.books.write(tenant, collection, element, create_only=method == "PUT")
                out.append({**row, "StatusAttributeString": "OK"})
                self.stats["writes"] += 1
            except XeroRefusal as refusal:
                if refusal.status == 404:
                    raise
                failed.append(refusal)
                errors = [{"Message": m} for m in refusal.messages]
                out.append(
                    {
                        **element,
                        "HasErrors": True,
                        "StatusAttributeString": "ERROR",
                        "ValidationErrors": errors,
                    }
                )
        if failed and summarize:
            if saved is not None:
                self.books.tenant(tenant).rows = saved  # nothing is saved
            raise XeroRefusal(*(m for f in failed for m in f.messages))
        return self._ok(collection, out)
