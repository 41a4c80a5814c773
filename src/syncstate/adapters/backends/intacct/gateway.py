"""One Intacct company's conversation with the XML gateway: sessions and requests.

:class:`Gateway` signs each company in with ``getAPISession`` (sender plus API user),
keeps the session id (a :class:`~syncstate.adapters.backends.intacct.config.Secret`)
and the endpoint it answers with, sends requests under that session and reads the
answers. When the gateway refuses a session (it expired), it signs in again once and
resends under a fresh control id: an authentication failure runs no function.

HTTP failures are classified by :mod:`syncstate.adapters.backends.transport` (never
sent vs maybe sent); a 429 is a :class:`~syncstate.errors.ThrottledError`; a 5xx
without an XML answer an :class:`~syncstate.errors.AmbiguousOutcome`. Logs carry the
function names, the record, the HTTP status and the time taken: never a body.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence

import attrs
import httpx

from syncstate.adapters.backends.intacct.config import (
    CredentialsProvider,
    IntacctConfig,
    IntacctCredentials,
    Secret,
)
from syncstate.adapters.backends.intacct.envelope import (
    FunctionResult,
    GatewayResponse,
    build_request,
    element,
    login_auth,
    parse_response,
    session_auth,
    text_of,
)
from syncstate.adapters.backends.intacct.faults import (
    auth_error,
    control_error,
    function_error,
    http_error,
)
from syncstate.adapters.backends.intacct.queries import control_id
from syncstate.adapters.backends.transport import transport_error
from syncstate.errors import AmbiguousOutcome, AuthenticationError, SyncStateError

__all__ = ["Gateway"]

log = logging.getLogger("syncstate.adapters.backends.intacct")


@attrs.frozen
class _Session:
    session_id: Secret
    endpoint: str


class Gateway:
    """Sessions per company and requests over an ``httpx.Client``; thread-safe."""

    def __init__(
        self, *, credentials: CredentialsProvider, config: IntacctConfig, client: httpx.Client
    ) -> None:
        self.config = config
        self._credentials = credentials
        self._client = client
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Gateway(endpoint_url={self.config.endpoint_url!r})"

    def credentials(self, company: str) -> IntacctCredentials:
        """The credentials of ``company`` (an :class:`AuthenticationError` if none)."""
        try:
            return self._credentials.credentials(company)
        except SyncStateError:
            raise
        except Exception as exc:
            raise AuthenticationError(
                f"the credentials provider has no Intacct credentials for company "
                f"{company!r} ({type(exc).__name__})"
            ) from None

    def _send(self, url: str, body: bytes, *, what: str, record: str | None) -> GatewayResponse:
        started = time.monotonic()
        try:
            response = self._client.post(
                url, content=body, headers={"Content-Type": "application/xml"}
            )
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise transport_error(
                exc, service="Intacct", operation=f"POST {what}", record=record
            ) from exc
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        log.debug(
            "Intacct %s -> HTTP %s in %.1f ms",
            what,
            response.status_code,
            duration_ms,
            extra={"record": record, "status": response.status_code, "duration_ms": duration_ms},
        )
        retry = response.headers.get("Retry-After", "")
        retry_after = float(retry) if retry.replace(".", "", 1).isdigit() else None
        if response.status_code == 429:  # GW-0010 in the body, if any: the same advice
            raise http_error(429, retry_after=retry_after, record=record)
        try:
            return parse_response(response.content)
        except ValueError:
            if response.status_code != 200:
                raise http_error(
                    response.status_code, retry_after=retry_after, record=record
                ) from None
            raise AmbiguousOutcome(
                f"Intacct answered {what} with an unreadable body", status=200, record=record
            ) from None

    def _login(self, company: str) -> _Session:
        creds = self.credentials(company)
        body = build_request(
            sender_id=creds.sender_id,
            sender_password=creds.sender_password.reveal(),
            control_id=str(uuid.uuid4()),
            unique=False,
            authentication=login_auth(
                creds.user_id, creds.company_id, creds.user_password.reveal(), creds.entity_id
            ),
            functions=[("login", element("getAPISession"))],
        )
        answer = self._send(self.config.endpoint_url, body, what="getAPISession", record=None)
        if answer.control_status != "success":
            raise control_error(answer.control_errors, unique_write=False)
        if answer.auth_status != "success":
            raise auth_error(answer.auth_errors)
        result = answer.by_control_id().get("login")
        api = result.data.find("api") if result is not None and result.data is not None else None
        if result is None or not result.ok or api is None or not text_of(api, "sessionid"):
            raise AuthenticationError(
                f"Intacct answered getAPISession for {company!r} without a session"
            )
        endpoint = text_of(api, "endpoint") if self.config.follow_session_endpoint else ""
        log.info("Intacct session opened for company %s", company, extra={"company": company})
        return _Session(Secret(text_of(api, "sessionid")), endpoint or self.config.endpoint_url)

    def _session(self, company: str, *, renew: bool = False) -> _Session:
        with self._lock:
            current = self._sessions.get(company)
            if current is not None and not renew:
                return current
        session = self._login(company)
        with self._lock:
            self._sessions[company] = session
        return session

    def post(
        self,
        company: str,
        functions: Sequence[tuple[str, ET.Element]],
        *,
        control: str,
        unique: bool,
        record: str | None = None,
    ) -> GatewayResponse:
        """Send ``functions`` in one request under the company's session."""
        creds = self.credentials(company)
        what = ",".join(sorted({f.tag for _fid, f in functions}))
        session = self._session(company)
        for attempt in (0, 1):
            body = build_request(
                sender_id=creds.sender_id,
                sender_password=creds.sender_password.reveal(),
                # a fresh session is a fresh request: the first one ran no function
                control_id=control if attempt == 0 else control_id(control, "renewed"),
                unique=unique,
                authentication=session_auth(session.session_id.reveal()),
                functions=functions,
            )
            answer = self._send(session.endpoint, body, what=what, record=record)
            if answer.control_status != "success":
                raise control_error(answer.control_errors, unique_write=unique, record=record)
            if answer.auth_status == "success":
                return answer
            if attempt == 0:
                log.info("Intacct refused the session of %s; signing in again", company)
                session = self._session(company, renew=True)
        raise auth_error(answer.auth_errors)

    @staticmethod
    def result(answer: GatewayResponse, function_id: str, record: str | None) -> FunctionResult:
        result = answer.by_control_id().get(function_id)
        if result is None:
            raise AmbiguousOutcome(
                f"Intacct answered without a result for function {function_id}", record=record
            )
        if not result.ok:
            raise function_error(result, record=record)
        return result
