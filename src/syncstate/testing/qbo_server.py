"""A local QuickBooks-Online-like HTTP server with fault injection, for tests and benchmarks.

It listens on 127.0.0.1 on a free port in a background thread and speaks the
subset of REST v3 that syncstate uses, with QuickBooks' documented semantics
(:mod:`syncstate.testing.qbo_books` holds the rules)::

    POST /v3/company/<realm>/<entity>?requestid=..   create, or update when the body has an Id
         ...?operation=void | operation=delete | operation=update&include=void
    GET  /v3/company/<realm>/<entity>/<id>           read
    GET  /v3/company/<realm>/<entity>/<id>/pdf       PDF of an invoice or sales receipt
    GET  /v3/company/<realm>/query?query=select ...  query (POST with the statement works too)
    GET  /v3/company/<realm>/cdc?entities=..&changedSince=..  change data capture
    POST /v3/company/<realm>/batch                   up to 30 BatchItemRequest, answered by bId
    GET  /v3/company/<realm>/companyinfo/<realm>     the company (a connection check)
    POST /v3/company/<realm>/upload                  an Attachable (multipart), linked to a document
    POST /oauth2/v1/tokens/bearer | .../revoke       OAuth 2 (with ``server.oauth`` set)

A repeated ``requestid`` of a write replays the first answer without doing
anything. Faults are set per test through :attr:`QboServer.faults` and the
helper methods: latency, a per-window rate limit and a concurrency limit per
realm answered with 429 ``ThrottleExceeded`` (JSON or XML, with
``Retry-After``), connection resets, "commit then fail", scripted ``Fault``
answers and expired tokens (401, fault 3200)::

    with QboServer() as server:
        customer = server.add(realm, "Customer", {"DisplayName": "Amy"})
        server.faults.latency = 0.05
        server.commit_then_fail(1)
        ...
        assert server.count(realm, "Invoice") == 1
"""

from __future__ import annotations

import collections
import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

import attrs

from syncstate.adapters.backends.quickbooks.payloads import dumps, loads
from syncstate.testing.qbo_books import QboBooks, QboFaultAnswer, qbo_time
from syncstate.testing.qbo_changes import cdc_answer
from syncstate.testing.qbo_http import LocalServer, RequestHandler
from syncstate.testing.qbo_oauth import QboOAuth
from syncstate.testing.qbo_rules import FaultRule, operation_of

__all__ = ["FaultPlan", "FaultRule", "QboServer"]

MAX_BATCH = 30


@attrs.define
class FaultPlan:
    """What the server does wrong; change any field during a test."""

    latency: float = 0.0
    #: most requests per ``rate_window`` seconds per realm (None: unlimited)
    rate_limit: int | None = None
    #: most batch requests per ``rate_window`` seconds per realm
    batch_rate_limit: int | None = None
    rate_window: float = 60.0
    #: most requests in progress at once per realm
    concurrency_limit: int | None = None
    throttle_status: int = 429
    throttle_as_xml: bool = False
    #: ``Retry-After`` seconds sent with 429 (None: computed from the rate window)
    retry_after: float | None = None
    #: the next N requests lose their connection before anything happens
    reset_next: int = 0
    #: the next N writes commit, then answer 500 (``"500"``) or drop the connection
    commit_then_fail: int = 0
    commit_then_fail_mode: str = "500"
    #: answer batch items in reverse order (clients must match by bId)
    reverse_batch: bool = False
    scripted: list[QboFaultAnswer] = attrs.field(factory=list)
    #: targeted faults (:class:`~syncstate.testing.qbo_rules.FaultRule`), first match wins
    rules: list[FaultRule] = attrs.field(factory=list)


@attrs.define
class _Answer:
    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = attrs.field(factory=dict)
    drop: bool = False


class QboServer(LocalServer):
    """The server; a context manager that starts and stops it."""

    def __init__(self, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.books = QboBooks(clock=clock)
        self.faults = FaultPlan()
        #: accepted bearer tokens; None accepts any non-empty token
        self.valid_tokens: set[str] | None = None
        #: the OAuth token endpoint (``/oauth2/v1/tokens/...``); when set, only its live
        #: access tokens are accepted
        self.oauth: QboOAuth | None = None
        self._lock = threading.RLock()
        self._replies: dict[tuple[str, str], _Answer] = {}
        self._in_flight: collections.Counter[str] = collections.Counter()
        self._recent: dict[tuple[str, bool], collections.deque[float]] = {}
        self.stats: collections.Counter[str] = collections.Counter()

    # ------------------------------------------------------------ life cycle

    def handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler bound to this server."""
        return type("Handler", (RequestHandler,), {"qbo": self})

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (pass it as ``QuickBooksConfig.base_url``)."""
        return self.root_url

    # -------------------------------------------------------- test helpers

    def add(self, realm: str, entity: str, fields: Mapping[str, Any]) -> str:
        """Seed a customer, item, employee or account; return its Id."""
        with self._lock:
            return self.books.add(realm, entity, fields)

    def count(self, realm: str, entity: str | None = None) -> int:
        """Documents of ``entity`` (or all transactions) in ``realm``."""
        with self._lock:
            return self.books.count(realm, entity)

    def documents(self, realm: str, entity: str) -> list[dict[str, Any]]:
        """Copies of every ``entity`` in ``realm``."""
        with self._lock:
            return self.books.all(realm, entity)

    def fail_next(
        self, code: str, message: str, detail: str = "", *, status: int = 400, times: int = 1
    ) -> None:
        """Answer the next ``times`` requests with this ``Fault`` (nothing is done)."""
        fault_type = "AUTHENTICATION" if status == 401 else "ValidationFault"
        answer = QboFaultAnswer(code, message, detail, status=status, fault_type=fault_type)
        with self._lock:
            self.faults.scripted.extend([answer] * times)

    def inject(self, rule: FaultRule) -> FaultRule:
        """Add a targeted fault rule; returns it (its ``seen`` / ``fired`` counters)."""
        with self._lock:
            self.faults.rules.append(rule)
        return rule

    def reset_next(self, n: int = 1) -> None:
        """Drop the connection of the next ``n`` requests before processing them."""
        with self._lock:
            self.faults.reset_next += n

    def commit_then_fail(self, n: int = 1, *, mode: str = "500") -> None:
        """The next ``n`` writes commit, then answer 500 (``mode="500"``) or drop."""
        with self._lock:
            self.faults.commit_then_fail += n
            self.faults.commit_then_fail_mode = mode

    def close_books(self, realm: str, through: dt.date) -> None:
        """Lock the books of ``realm`` through a date (writes before it: 6210)."""
        with self._lock:
            self.books.realm(realm).closed_through = through

    def end_subscription(self, realm: str) -> None:
        """The company's subscription ended (writes: 6190)."""
        with self._lock:
            self.books.realm(realm).subscription_ended = True

    def mark_deposited(self, realm: str, entity: str, ident: str) -> None:
        """The transaction was deposited (changes: 6540)."""
        with self._lock:
            self.books.realm(realm).deposited.add((entity, ident))

    # -------------------------------------------------------------- handling

    def _throttle(self, realm: str, batch: bool) -> _Answer | None:
        plan = self.faults
        now = time.monotonic()
        wait = plan.retry_after
        if plan.concurrency_limit is not None and self._in_flight[realm] >= plan.concurrency_limit:
            return self._throttled(wait if wait is not None else 1.0)
        limits = [(False, plan.rate_limit)] + ([(True, plan.batch_rate_limit)] if batch else [])
        for kind, limit in limits:
            if limit is None:
                continue
            recent = self._recent.setdefault((realm, kind), collections.deque())
            while recent and recent[0] <= now - plan.rate_window:
                recent.popleft()
            if len(recent) >= limit:
                until = (recent[0] + plan.rate_window - now) if recent else plan.rate_window
                return self._throttled(wait if wait is not None else max(until, 0.001))
        for kind, limit in limits:
            if limit is not None:
                self._recent[(realm, kind)].append(now)
        return None

    def _throttled(self, wait: float) -> _Answer:
        self.stats["throttled"] += 1
        status = self.faults.throttle_status
        message = f"message=ThrottleExceeded; errorCode=003001; statusCode={status}"
        detail = "The request limit was reached.  Try again later"
        headers = {"Retry-After": f"{wait:.3f}".rstrip("0").rstrip(".")}
        stamp = qbo_time(self.books.now())
        if self.faults.throttle_as_xml:
            xml = (
                '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                f'<IntuitResponse time="{stamp}" xmlns="http://schema.intuit.com/finance/v3">'
                f'<Fault type="SERVICE"><Error code="3001"><Message>{message}</Message>'
                f"<Detail>{detail}</Detail></Error></Fault></IntuitResponse>"
            )
            return _Answer(status, xml.encode(), "application/xml", headers)
        fault = QboFaultAnswer("3001", message, detail, status=status, fault_type="SERVICE")
        return _Answer(status, dumps(fault.body(self.books.now())), headers=headers)

    def _auth_failure(self) -> _Answer:
        body = {
            "warnings": None,
            "intuitObject": None,
            "fault": {
                "error": [
                    {
                        "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                        "detail": "Token expired",
                        "code": "3200",
                        "element": None,
                    }
                ],
                "type": "AUTHENTICATION",
            },
            "requestId": None,
            "time": int(time.time() * 1000),
        }
        self.stats["unauthorized"] += 1
        return _Answer(401, dumps(body))

    def _ok(self, payload: Mapping[str, Any]) -> _Answer:
        return _Answer(200, dumps({**payload, "time": qbo_time(self.books.now())}))

    def _fault(self, fault: QboFaultAnswer) -> _Answer:
        return _Answer(fault.status, dumps(fault.body(self.books.now())))

    def handle(
        self, method: str, path: str, query: Mapping[str, str], auth: str, body: bytes
    ) -> _Answer:
        """Answer one request (the HTTP handler calls this)."""
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[0] == "oauth2" and self.oauth is not None and method == "POST":
            with self._lock:
                status, payload = self.oauth.handle(path, auth, body)
            return _Answer(status, dumps(payload))
        if len(parts) < 4 or parts[:2] != ["v3", "company"]:
            return _Answer(404, b'{"error": "not a QuickBooks v3 path"}')
        realm, rest = parts[2], parts[3:]
        token = auth[7:] if auth.startswith("Bearer ") else ""
        with self._lock:
            self.stats["requests"] += 1
            refused = self.valid_tokens is not None and token not in self.valid_tokens
            if not token or refused or (self.oauth is not None and not self.oauth.accepts(token)):
                return self._auth_failure()
            if self.faults.reset_next > 0:
                self.faults.reset_next -= 1
                self.stats["resets"] += 1
                return _Answer(0, b"", drop=True)
            throttled = self._throttle(realm, rest[0] == "batch")
            if throttled is not None:
                return throttled
            self._in_flight[realm] += 1
        try:
            if self.faults.latency:
                time.sleep(self.faults.latency)
            return self._process(method, realm, rest, query, body)
        finally:
            with self._lock:
                self._in_flight[realm] -= 1

    def _process(
        self, method: str, realm: str, rest: list[str], query: Mapping[str, str], body: bytes
    ) -> _Answer:
        write = method == "POST" and rest[0] != "query"
        request_id = query.get("requestid")
        with self._lock:
            if rest[0] == "query":
                self.stats["queries"] += 1
            if write and request_id and (realm, request_id) in self._replies:
                self.stats["replays"] += 1
                return self._replies[(realm, request_id)]
            if self.faults.scripted:
                return self._injected(self.faults.scripted.pop(0))
            rule = self._rule(method, rest, query, body)
            if rule is not None and not rule.after_commit:
                return self._injected(rule.answer, drop=rule.drop)
            try:
                answer = self._dispatch(method, realm, rest, query, body)
            except QboFaultAnswer as fault:
                answer = self._fault(fault)
            if rule is not None:  # after commit: the write is done, the answer is lost
                if write and request_id:
                    self._replies[(realm, request_id)] = answer
                return self._injected(rule.answer, drop=rule.drop)
            if write and request_id:
                self._replies[(realm, request_id)] = answer
            if write and answer.status == 200:
                self.stats["writes"] += 1
                if self.faults.commit_then_fail > 0:
                    self.faults.commit_then_fail -= 1
                    self.stats["commit_then_fail"] += 1
                    if self.faults.commit_then_fail_mode == "drop":
                        return _Answer(0, b"", drop=True)
                    return self._fault(
                        QboFaultAnswer(
                            "3100",
                            "message=InternalServerError; errorCode=003100; statusCode=500",
                            status=500,
                            fault_type="SERVICE",
                        )
                    )
            return answer

    def _rule(
        self, method: str, rest: list[str], query: Mapping[str, str], body: bytes
    ) -> FaultRule | None:
        if not self.faults.rules:
            return None
        operation = operation_of(method, rest, query)
        statement = query.get("query") or body.decode("utf-8", "replace")
        try:
            document = loads(body) if body and operation in ("write", "batch") else None
        except ValueError:
            document = None
        if isinstance(document, Mapping) and len(document) == 1:
            document = next(iter(document.values())) if operation == "batch" else document
        for rule in self.faults.rules:
            if rule.matches(operation, rest[0], statement, document) and rule.fires():
                return rule
        return None

    def _injected(self, fault: QboFaultAnswer | None, *, drop: bool = False) -> _Answer:
        self.stats["injected_faults"] += 1
        if drop or fault is None:
            self.stats["resets"] += 1
            return _Answer(0, b"", drop=True)
        if fault.status == 429:
            self.stats["throttled"] += 1
        return self._fault(fault)

    def _json(self, body: bytes) -> Any:
        try:
            return loads(body)
        except ValueError:
            raise QboFaultAnswer(
                "2020",
                "Request has invalid or unsupported property",
                "the request body is not JSON",
            ) from None

    def _dispatch(
        self, method: str, realm: str, rest: list[str], query: Mapping[str, str], body: bytes
    ) -> _Answer:
        books = self.books
        if rest[0] == "query":
            statement = query.get("query") or body.decode("utf-8", "replace")
            return self._ok({"QueryResponse": books.query(realm, statement)})
        if rest[0] == "cdc" and method == "GET":
            since = query.get("changedSince", "")
            return self._ok(cdc_answer(books, realm, query.get("entities", ""), since))
        if rest[0] == "upload" and method == "POST":
            return self._ok({"AttachableResponse": [{"Attachable": books.upload(realm, body)}]})
        if rest[0] == "batch" and method == "POST":
            return self._ok({"BatchItemResponse": self._batch(realm, self._json(body))})
        if rest[0].lower() == "companyinfo" and method == "GET":
            return self._ok({"CompanyInfo": {"Id": realm, "CompanyName": f"Company {realm}"}})
        entity = books.entity_name(rest[0])
        if entity is None:
            raise QboFaultAnswer("500", "Unsupported Operation", f"no resource {rest[0]!r}")
        if method == "GET" and len(rest) == 3 and rest[2] == "pdf":
            return _Answer(200, books.pdf(realm, entity, rest[1]), "application/pdf")
        if method == "GET" and len(rest) == 2:
            return self._ok({entity: books.get(realm, entity, rest[1])})
        if method != "POST" or len(rest) != 1:
            raise QboFaultAnswer("500", "Unsupported Operation", f"{method} {'/'.join(rest)}")
        data = self._json(body)
        operation = query.get("operation", "")
        void = query.get("include") == "void"
        return self._ok({entity: self._write(realm, entity, data, operation, void)})

    def _write(
        self,
        realm: str,
        entity: str,
        data: Mapping[str, Any],
        operation: str,
        void: bool,
        visible: Mapping[str, frozenset[str]] | None = None,
    ) -> dict[str, Any]:
        books = self.books
        if operation == "delete":
            return books.delete(realm, entity, data)
        if operation == "void" or (operation == "update" and void):
            return books.void(realm, entity, data)
        if operation == "update" or data.get("Id"):
            return books.update(realm, entity, data)
        return books.create(realm, entity, data, visible=visible)

    def _batch(self, realm: str, data: Any) -> list[dict[str, Any]]:
        items = data.get("BatchItemRequest") if isinstance(data, Mapping) else None
        if not isinstance(items, list) or not items:
            raise QboFaultAnswer(
                "2020", "Required param missing", "BatchItemRequest", element="BatchItemRequest"
            )
        if len(items) > MAX_BATCH:
            raise QboFaultAnswer(
                "6000",
                "A business validation error has occurred while processing your request",
                f"Business Validation Error: a batch holds at most {MAX_BATCH} items, "
                f"got {len(items)}",
            )
        visible = self.books.snapshot_ids(realm)
        answers = []
        for item in items:
            bid = str(item.get("bId", ""))
            try:
                if "Query" in item:
                    answers.append(
                        {"bId": bid, "QueryResponse": self.books.query(realm, item["Query"])}
                    )
                    continue
                entity = next(
                    (self.books.entity_name(k) for k in item if self.books.entity_name(k)), None
                )
                if entity is None:
                    raise QboFaultAnswer("2020", "Required param missing", "no entity in item")
                operation = str(item.get("operation", "create"))
                void = item.get("optionsData") == "void"
                record = self._write(realm, entity, item[entity], operation, void, visible)
                answers.append({"bId": bid, entity: record})
            except QboFaultAnswer as fault:
                answers.append(
                    {"bId": bid, "Fault": {"Error": [fault.error()], "type": fault.fault_type}}
                )
        return list(reversed(answers)) if self.faults.reverse_batch else answers
