"""A local Sage-Intacct-like XML gateway with fault injection, for tests and benchmarks.

It listens on 127.0.0.1 on a free port in a background thread and answers ``POST``
requests shaped as Intacct's Web Services documents (``<request>`` with ``<control>``,
``<operation><authentication>`` and ``<content><function controlid=...>``), with the
functions syncstate uses: ``getAPISession`` (login → session id and endpoint),
``create`` / ``update`` / ``delete`` of ``CUSTOMER``, ``ARINVOICE``, ``ARPYMT``,
``TIMESHEET`` and ``GLBATCH``, ``read``, ``readByQuery`` and ``readMore`` (paged on a
result id). The object rules are in :mod:`syncstate.testing.intacct_books`.

As the real gateway: a write request sent with ``uniqueid`` true whose control id was
already processed is **refused** at the control level (never replayed); functions of a
request succeed or fail one by one; a sign-in failure runs no function. Faults, set per
test through :attr:`IntacctServer.faults` and the helpers: latency, a per-company rate
limit answered with HTTP 429 and ``GW-0010``, dropped connections, "commit then fail"
(the write is done, the answer is a 500 or a dropped connection), failing queries and
expired sessions::

    with IntacctServer() as server:
        server.add("ACME", "CUSTOMER", {"CUSTOMERID": "C1", "NAME": "Amy"})
        server.commit_then_fail(1)
        ...
        assert server.count("ACME", "ARINVOICE") == 1
"""

from __future__ import annotations

import collections
import datetime as dt
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler
from typing import Any

import attrs

from syncstate.testing.intacct_books import FunctionFailure, IntacctBooks
from syncstate.testing.intacct_query import Cursor, run_query
from syncstate.testing.qbo_http import LocalServer, RequestHandler

__all__ = ["DUPLICATE_CONTROL_ID", "IntacctFaults", "IntacctServer"]

#: the errorno this server gives a refused repeated control id (a stand-in: Intacct's
#: own code for it is not documented; the client does not depend on it)
DUPLICATE_CONTROL_ID = "SYNCSTATE-DUPLICATE-CONTROLID"
_WRITES = frozenset({"create", "update", "delete"})


@attrs.define
class IntacctFaults:
    """What the server does wrong; change any field during a test."""

    latency: float = 0.0
    #: most requests per ``rate_window`` seconds per company (None: unlimited)
    rate_limit: int | None = None
    rate_window: float = 60.0
    #: most requests in progress at once (None: unlimited), answered with 429 ``GW-0010``
    concurrency_limit: int | None = None
    #: ``Retry-After`` seconds sent with a 429 (None: no header, as Intacct documents none)
    retry_after: float | None = None
    #: the next N requests lose their connection before anything happens
    reset_next: int = 0
    #: the next N write requests commit, then answer 500 (``"500"``) or drop (``"drop"``)
    commit_then_fail: int = 0
    commit_then_fail_mode: str = "500"
    #: every Nth committed write request also fails after its commit (None: never)
    commit_then_fail_every: int | None = None
    #: the next N ``readByQuery`` requests fail: ``"error"`` (function failure),
    #: ``"500"`` or ``"drop"``
    fail_queries: int = 0
    fail_queries_mode: str = "error"


@attrs.define
class _Answer:
    status: int
    body: bytes
    content_type: str = "application/xml"
    headers: dict[str, str] = attrs.field(factory=dict)
    drop: bool = False


def _node(tag: str, text: str | None = None) -> ET.Element:
    node = ET.Element(tag)
    if text is not None:
        node.text = text
    return node


def _add(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    child = _node(tag, text)
    parent.append(child)
    return child


def _errormessage(
    parent: ET.Element, errorno: str, description2: str, correction: str = ""
) -> None:
    message = _add(parent, "errormessage")
    error = _add(message, "error")
    _add(error, "errorno", errorno)
    _add(error, "description", "")
    _add(error, "description2", description2)
    _add(error, "correction", correction)


def _text(node: ET.Element | None, tag: str) -> str:
    child = node.find(tag) if node is not None else None
    return (child.text or "").strip() if child is not None else ""


class IntacctServer(LocalServer):
    """The server; a context manager that starts and stops it."""

    def __init__(self, *, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.books = IntacctBooks(clock=clock)
        self.faults = IntacctFaults()
        #: accepted senders (id -> password); None accepts any non-empty pair
        self.senders: dict[str, str] | None = None
        #: accepted users ((company id, user id) -> password); None accepts any
        self.users: dict[tuple[str, str], str] | None = None
        self.stats: collections.Counter[str] = collections.Counter()
        self.requests_seen: list[bytes] = []
        self.keep_requests = False
        self._sessions: dict[str, tuple[str, str]] = {}
        self._control_ids: set[tuple[str, str, str]] = set()
        self._cursors: dict[str, Cursor] = {}
        self._recent: dict[str, collections.deque[float]] = {}
        self._in_flight = 0
        self._lock = threading.RLock()

    # ------------------------------------------------------------ life cycle

    def handler(self) -> type[BaseHTTPRequestHandler]:
        """The request handler bound to this server."""
        return type("Handler", (RequestHandler,), {"qbo": self})

    @property
    def endpoint_url(self) -> str:
        """The gateway URL (pass it as ``IntacctConfig.endpoint_url``)."""
        return self.root_url + "/ia/xml/xmlgw.phtml"

    # -------------------------------------------------------- test helpers

    def add(self, company_id: str, obj: str, fields: Mapping[str, Any]) -> str:
        """Seed a record (customer, employee, GL account, ...); its ``RECORDNO``."""
        with self._lock:
            return self.books.add(company_id, obj, dict(fields))

    def records(self, company_id: str, obj: str) -> list[dict[str, Any]]:
        """Copies of every ``obj`` record of ``company_id``."""
        with self._lock:
            return [dict(r) for r in self.books.table(company_id, obj).values()]

    def count(self, company_id: str, obj: str) -> int:
        """How many ``obj`` records ``company_id`` holds."""
        with self._lock:
            return len(self.books.table(company_id, obj))

    def edit(
        self, company_id: str, obj: str, number: str, *, by: str = "jane.ui", **fields: str
    ) -> None:
        """Change a record as user ``by`` in Intacct would (``WHENMODIFIED`` moves)."""
        with self._lock:
            record = self.books.table(company_id, obj)[number]
            record.update(fields, MODIFIEDBY=by)
            record["WHENMODIFIED"] = self.books.now().strftime("%m/%d/%Y %H:%M:%S")

    def remove(self, company_id: str, obj: str, number: str) -> None:
        """Delete a record as a user in Intacct would."""
        with self._lock:
            del self.books.table(company_id, obj)[number]

    def expire_sessions(self) -> None:
        """Every session id stops working (the next request must sign in again)."""
        with self._lock:
            self._sessions.clear()

    def reset_next(self, n: int = 1) -> None:
        """Drop the connection of the next ``n`` requests before processing them."""
        with self._lock:
            self.faults.reset_next += n

    def commit_then_fail(self, n: int = 1, *, mode: str = "500") -> None:
        """The next ``n`` write requests commit, then answer 500 or drop."""
        with self._lock:
            self.faults.commit_then_fail += n
            self.faults.commit_then_fail_mode = mode

    def fail_queries(self, n: int = 1, *, mode: str = "error") -> None:
        """The next ``n`` ``readByQuery`` requests fail (``error``, ``500``, ``drop``)."""
        with self._lock:
            self.faults.fail_queries += n
            self.faults.fail_queries_mode = mode

    # -------------------------------------------------------------- handling

    def _respond(self, root: ET.Element, status: int = 200) -> _Answer:
        body = ET.tostring(root, encoding="utf-8", xml_declaration=True)
        return _Answer(status, body)

    def _control_failure(
        self, control_id: str, errorno: str, text: str, *, status: int = 200
    ) -> _Answer:
        root = _node("response")
        control = _add(root, "control")
        _add(control, "status", "failure")
        _add(control, "controlid", control_id)
        _errormessage(root, errorno, text)
        return self._respond(root, status)

    def handle(
        self, method: str, path: str, query: Mapping[str, str], auth: str, body: bytes
    ) -> _Answer:
        """Answer one request (the HTTP handler calls this)."""
        with self._lock:
            self.stats["requests"] += 1
            if self.keep_requests:
                self.requests_seen.append(body)
            if self.faults.reset_next > 0:
                self.faults.reset_next -= 1
                self.stats["resets"] += 1
                return _Answer(0, b"", drop=True)
        if method != "POST":
            return _Answer(405, b"only POST")
        try:
            request = ET.fromstring(body)
        except ET.ParseError as exc:
            return self._control_failure("", "XL03000003", f"XML Parse schema error: {exc}")
        with self._lock:
            limit = self.faults.concurrency_limit
            if limit is not None and self._in_flight >= limit:
                self.stats["throttled"] += 1
                return self._control_failure(
                    "", "GW-0010", "Too many concurrent requests", status=429
                )
            self._in_flight += 1
        try:
            if self.faults.latency:
                time.sleep(self.faults.latency)
            with self._lock:
                return self._process(request)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _throttled(self, company_id: str) -> _Answer | None:
        limit = self.faults.rate_limit
        if limit is None:
            return None
        now = time.monotonic()
        recent = self._recent.setdefault(company_id, collections.deque())
        while recent and recent[0] <= now - self.faults.rate_window:
            recent.popleft()
        if len(recent) >= limit:
            self.stats["throttled"] += 1
            answer = self._control_failure(
                "", "GW-0010", "Rate limit exceeded: too many requests", status=429
            )
            if self.faults.retry_after is not None:
                answer.headers["Retry-After"] = f"{self.faults.retry_after:g}"
            return answer
        recent.append(now)
        return None

    def _authenticate(self, auth: ET.Element | None) -> tuple[str, str, str] | None:
        """(company id, session id, user) of a valid session or login; None when refused."""
        if auth is None:
            return None
        session_id = _text(auth, "sessionid")
        if session_id:
            known = self._sessions.get(session_id)
            return (known[0], session_id, known[1]) if known else None
        login = auth.find("login")
        company_id, user, password = (_text(login, t) for t in ("companyid", "userid", "password"))
        if not (company_id and user and password):
            return None
        if self.users is not None and self.users.get((company_id, user)) != password:
            return None
        self.stats["logins"] += 1
        session_id = uuid.uuid4().hex
        self._sessions[session_id] = (company_id, user)
        return company_id, session_id, user

    def _process(self, request: ET.Element) -> _Answer:
        control = request.find("control")
        control_id = _text(control, "controlid")
        sender, password = _text(control, "senderid"), _text(control, "password")
        if not (sender and password) or (
            self.senders is not None and self.senders.get(sender) != password
        ):
            return self._control_failure(
                control_id, "XL03000006", "Incorrect Intacct XML Partner ID or password."
            )
        operation = request.find("operation")
        functions = operation.findall("content/function") if operation is not None else []
        authenticated = self._authenticate(
            operation.find("authentication") if operation is not None else None
        )
        throttled = self._throttled(authenticated[0] if authenticated else sender)
        if throttled is not None:
            return throttled
        writes = any(len(f) and f[0].tag in _WRITES for f in functions)
        unique = _text(control, "uniqueid") == "true"
        root = _node("response")
        answer_control = _add(root, "control")
        seen = authenticated is not None and (sender, authenticated[0], control_id)
        if writes and unique and seen in self._control_ids:
            self.stats["duplicate_control_ids"] += 1
            return self._control_failure(
                control_id,
                DUPLICATE_CONTROL_ID,
                f"A request with control id '{control_id}' was already processed "
                "(uniqueid is true); use a new control id for a new request.",
            )
        for tag, text in (
            ("status", "success"),
            ("senderid", sender),
            ("controlid", control_id),
            ("uniqueid", "true" if unique else "false"),
            ("dtdversion", "3.0"),
        ):
            _add(answer_control, tag, text)
        op = _add(root, "operation")
        auth = _add(op, "authentication")
        if authenticated is None:
            _add(auth, "status", "failure")
            _errormessage(op, "XL03000006", "Sign-in information is incorrect")
            self.stats["auth_failures"] += 1
            return self._respond(root)
        company_id, session_id, user = authenticated
        _add(auth, "status", "success")
        _add(auth, "companyid", company_id)
        committed = False
        failed_query = False
        for function in functions:
            result = _add(op, "result")
            name = function[0].tag if len(function) else ""
            try:
                if name == "readByQuery" and self.faults.fail_queries > 0:
                    self.faults.fail_queries -= 1
                    failed_query = True
                    raise FunctionFailure("Query Failed", "The query could not be run.")
                data = self._function(
                    company_id, session_id, function[0] if len(function) else None, user
                )
                _add(result, "status", "success")
                _add(result, "function", name)
                _add(result, "controlid", function.get("controlid", ""))
                result.append(data)
                committed = committed or name in _WRITES
            except FunctionFailure as failure:
                _add(result, "status", "failure")
                _add(result, "function", name)
                _add(result, "controlid", function.get("controlid", ""))
                _errormessage(result, failure.errorno, failure.description2, failure.correction)
        if committed:
            self.stats["writes"] += 1
            if unique:
                self._control_ids.add((sender, company_id, control_id))
            every = self.faults.commit_then_fail_every
            if every and self.stats["writes"] % every == 0:
                self.faults.commit_then_fail += 1
            if self.faults.commit_then_fail > 0:
                self.faults.commit_then_fail -= 1
                self.stats["commit_then_fail"] += 1
                if self.faults.commit_then_fail_mode == "drop":
                    return _Answer(0, b"", drop=True)
                return _Answer(500, b"<html>Internal Server Error</html>", "text/html")
        if failed_query:
            self.stats["failed_queries"] += 1
            if self.faults.fail_queries_mode == "drop":
                return _Answer(0, b"", drop=True)
            if self.faults.fail_queries_mode == "500":
                return _Answer(500, b"<html>Internal Server Error</html>", "text/html")
        return self._respond(root)

    def _function(
        self, company_id: str, session_id: str, body: ET.Element | None, user: str
    ) -> ET.Element:
        if body is None:
            raise FunctionFailure("XL03000003", "The function is empty.")
        books, name = self.books, body.tag
        data = _node("data")
        if name == "getAPISession":
            api = _add(data, "api")
            _add(api, "sessionid", session_id)
            _add(api, "endpoint", self.endpoint_url)
            _add(api, "locationid", "")
            return data
        if name in ("create", "update"):
            if len(body) != 1:
                raise FunctionFailure("BL01001973", f"{name} takes one object")
            obj = body[0]
            number = (
                books.create(company_id, obj) if name == "create" else books.update(company_id, obj)
            )
            written = books.table(company_id, obj.tag)[number]
            written["MODIFIEDBY"] = user
            written.setdefault("CREATEDBY", user)
            data.set("listtype", "objects")
            data.set("count", "1")
            row = _add(data, obj.tag.lower())
            _add(row, "RECORDNO", number)
            return data
        if name == "delete":
            books.delete(company_id, _text(body, "object"), _text(body, "keys"))
            return data
        if name == "read":
            table = _text(body, "object")
            record = books.table(company_id, table).get(_text(body, "keys"))
            rows = [record] if record is not None else []
            return self._rows(data, table, rows, ["*"])
        if name in ("readByQuery", "readMore"):
            self.stats["queries"] += 1
            cursor = self._cursor(company_id, body)
            page = cursor.rows[: cursor.page_size]
            cursor.rows = cursor.rows[cursor.page_size :]
            data = self._rows(data, cursor.obj, page, cursor.fields)
            data.set("numremaining", str(len(cursor.rows)))
            data.set("resultId", cursor.result_id if cursor.rows else "")
            if not cursor.rows:
                self._cursors.pop(cursor.result_id, None)
            return data
        raise FunctionFailure("XL03000003", f"Unknown function {name}")

    def _cursor(self, company_id: str, body: ET.Element) -> Cursor:
        if body.tag == "readMore":
            cursor = self._cursors.get(_text(body, "resultId"))
            if cursor is None or cursor.company_id != company_id:
                raise FunctionFailure("Query Failed", "The result id is not valid or expired.")
            return cursor
        cursor = run_query(self.books, company_id, body)
        self._cursors[cursor.result_id] = cursor
        return cursor

    @staticmethod
    def _rows(
        data: ET.Element, obj: str, rows: list[dict[str, Any]], fields: list[str]
    ) -> ET.Element:
        data.set("listtype", obj)
        data.set("count", str(len(rows)))
        for record in rows:
            row = _add(data, obj)
            names = list(record) if fields == ["*"] else fields
            for name in names:
                _add(row, name, str(record.get(name, "")))
        return data
