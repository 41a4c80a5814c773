"""The XML envelope of Sage Intacct's Web Services gateway: building and reading it.

A request (``developer.intacct.com/web-services/requests``) is one ``<request>``:

* ``<control>``: the Web Services sender (``senderid``, ``password``), the request's
  ``controlid`` (1..256 characters), ``uniqueid`` (``true``: the gateway refuses a
  repeated control id instead of running the request again), ``dtdversion`` 3.0;
* ``<operation>``: ``<authentication>`` (a ``<sessionid>`` or a ``<login>``) and
  ``<content>`` with one or more ``<function controlid="...">``.

The response mirrors it: ``<control><status>``, ``<operation><authentication><status>``
and one ``<result>`` per function (``status``, ``function``, ``controlid``, ``data``),
each level with an ``<errormessage>`` of ``<error>`` s (``errorno``, ``description``,
``description2``, ``correction``) when it failed. A failure at the control level ran
nothing; at the authentication level no function ran; at the content level only that
function failed (unless the operation was a transaction: the others are ``aborted``).

Nothing here logs: the built body holds the sender password and the session id.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence

import attrs

__all__ = [
    "FunctionResult",
    "GatewayError",
    "GatewayResponse",
    "build_request",
    "element",
    "login_auth",
    "parse_response",
    "session_auth",
    "text_of",
]


def element(tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    """A new element with optional text and attributes."""
    node = ET.Element(tag, attrib)
    if text is not None:
        node.text = text
    return node


def _child(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    node = ET.SubElement(parent, tag)
    if text is not None:
        node.text = text
    return node


def build_request(
    *,
    sender_id: str,
    sender_password: str,
    control_id: str,
    unique: bool,
    authentication: ET.Element,
    functions: Sequence[tuple[str, ET.Element]],
    transaction: bool = False,
) -> bytes:
    """The request body: ``functions`` are ``(function control id, operation element)``."""
    request = ET.Element("request")
    control = _child(request, "control")
    _child(control, "senderid", sender_id)
    _child(control, "password", sender_password)
    _child(control, "controlid", control_id)
    _child(control, "uniqueid", "true" if unique else "false")
    _child(control, "dtdversion", "3.0")
    _child(control, "includewhitespace", "false")
    operation = _child(request, "operation")
    if transaction:
        operation.set("transaction", "true")
    operation.append(authentication)
    content = _child(operation, "content")
    for function_id, operation_body in functions:
        function = _child(content, "function")
        function.set("controlid", function_id)
        function.append(operation_body)
    body: bytes = ET.tostring(request, encoding="utf-8", xml_declaration=True)
    return body


def session_auth(session_id: str) -> ET.Element:
    """``<authentication><sessionid>``."""
    auth = element("authentication")
    _child(auth, "sessionid", session_id)
    return auth


def login_auth(user_id: str, company_id: str, password: str, entity_id: str = "") -> ET.Element:
    """``<authentication><login>`` with ``userid``, ``companyid``, ``password``."""
    auth = element("authentication")
    login = _child(auth, "login")
    _child(login, "userid", user_id)
    _child(login, "companyid", company_id)
    _child(login, "password", password)
    if entity_id:
        _child(login, "locationid", entity_id)
    return auth


@attrs.frozen
class GatewayError:
    """One ``<error>``: ``errorno``, ``description``, ``description2``, ``correction``."""

    errorno: str = ""
    description: str = ""
    description2: str = ""
    correction: str = ""

    def as_dict(self) -> dict[str, str]:
        """As :attr:`~syncstate.errors.BackendError.errors` holds it."""
        return {
            "code": self.errorno,
            "message": self.description or self.description2,
            "detail": " ".join(t for t in (self.description2, self.correction) if t),
            "element": "",
        }


@attrs.frozen
class FunctionResult:
    """One ``<result>``: the function's status, name, control id, data and errors."""

    status: str
    function: str
    control_id: str
    errors: tuple[GatewayError, ...] = ()
    data: ET.Element | None = None

    @property
    def ok(self) -> bool:
        """``status`` is ``success``."""
        return self.status == "success"

    def rows(self) -> list[ET.Element]:
        """The records under ``<data>`` (none when there is no data)."""
        return list(self.data) if self.data is not None else []

    def data_attribute(self, name: str) -> str:
        """An attribute of ``<data>`` (``count``, ``numremaining``, ``resultId``)."""
        return self.data.get(name, "") if self.data is not None else ""


@attrs.frozen
class GatewayResponse:
    """A parsed ``<response>``."""

    control_status: str
    control_errors: tuple[GatewayError, ...] = ()
    auth_status: str = ""
    auth_errors: tuple[GatewayError, ...] = ()
    results: tuple[FunctionResult, ...] = ()

    def by_control_id(self) -> Mapping[str, FunctionResult]:
        """The results keyed by their function's control id."""
        return {r.control_id: r for r in self.results}


def text_of(node: ET.Element | None, tag: str) -> str:
    """The stripped text of ``node``'s child ``tag`` ('' when absent)."""
    if node is None:
        return ""
    child = node.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _errors(node: ET.Element | None) -> tuple[GatewayError, ...]:
    if node is None:
        return ()
    message = node.find("errormessage")
    if message is None:
        return ()
    return tuple(
        GatewayError(
            errorno=text_of(error, "errorno"),
            description=text_of(error, "description"),
            description2=text_of(error, "description2"),
            correction=text_of(error, "correction"),
        )
        for error in message.findall("error")
    )


def _results(operation: ET.Element) -> Iterable[FunctionResult]:
    for result in operation.findall("result"):
        yield FunctionResult(
            status=text_of(result, "status"),
            function=text_of(result, "function"),
            control_id=text_of(result, "controlid"),
            errors=_errors(result),
            data=result.find("data"),
        )


def parse_response(body: bytes) -> GatewayResponse:
    """The response; ``ValueError`` when it is not an Intacct ``<response>``."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ValueError(f"not XML: {exc}") from None
    if root.tag != "response":
        raise ValueError(f"expected <response>, got <{root.tag}>")
    control = root.find("control")
    control_status = text_of(control, "status")
    if not control_status:
        raise ValueError("the response has no control status")
    operation = root.find("operation")
    if operation is None:
        return GatewayResponse(control_status, _errors(root))
    auth = operation.find("authentication")
    return GatewayResponse(
        control_status=control_status,
        control_errors=_errors(root),
        auth_status=text_of(auth, "status"),
        auth_errors=_errors(auth) or _errors(operation),
        results=tuple(_results(operation)),
    )
