"""QuickBooks webhooks: verify the ``intuit-signature``, parse ``eventNotifications``.

QuickBooks POSTs a JSON body such as::

    {"eventNotifications": [{"realmId": "1185883450", "dataChangeEvent": {"entities": [
        {"name": "Invoice", "id": "12", "operation": "Update",
         "lastUpdated": "2015-10-05T14:42:19-0700"}]}}]}

with the header ``intuit-signature``: the base64 HMAC-SHA256 of the **raw**
body keyed with the app's verifier token. The endpoint must answer quickly
(QuickBooks retries a notification that is not acknowledged in time), so
:class:`WebhookReceiver` only verifies, parses and hands the changes to the
host's ``enqueue`` callable; reading versions and applying them
(:func:`~syncstate.services.remote_changes.apply_remote_changes`) happens later,
off the request. A notification carries no version token: its changes are
``unverified`` until the back end's ``resolve_versions``
(:mod:`syncstate.adapters.backends.quickbooks.cdc`) reads the documents' ``SyncToken`` s.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

import attrs

from syncstate.adapters.backends.quickbooks.payloads import ENTITIES
from syncstate.errors import AuthenticationError, InputError
from syncstate.ports.changes import RemoteChange, RemoteOperation

__all__ = [
    "SIGNATURE_HEADER",
    "WebhookReceiver",
    "parse_notifications",
    "sign",
    "verify",
]

log = logging.getLogger("syncstate.adapters.backends.quickbooks.webhooks")

SIGNATURE_HEADER = "intuit-signature"
_OPERATIONS: Mapping[str, RemoteOperation] = {
    "create": "create",
    "update": "update",
    "delete": "delete",
    "void": "void",
    "merge": "merge",
    "emailed": "emailed",
}
#: QuickBooks entity name → syncstate document kind
KIND_OF: Mapping[str, str] = {spec.entity: kind for kind, spec in ENTITIES.items()}


def sign(body: bytes, verifier_token: str) -> str:
    """The ``intuit-signature`` of ``body``: base64 of its HMAC-SHA256 under the token."""
    digest = hmac.new(verifier_token.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(body: bytes, signature: str | None, verifier_token: str) -> bool:
    """Whether ``signature`` is the body's signature (constant-time comparison)."""
    if not signature or not verifier_token:
        return False
    return hmac.compare_digest(sign(body, verifier_token), signature.strip())


def _moment(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    value = text.strip()
    if len(value) > 5 and value[-5] in "+-" and value[-3] != ":":
        value = f"{value[:-2]}:{value[-2:]}"  # -0700 → -07:00
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def parse_notifications(
    body: bytes | str, *, companies: Mapping[str, str] | None = None
) -> list[RemoteChange]:
    """The changes a webhook body names, for the entities syncstate sends.

    ``companies`` maps realm ids to syncstate company names (a realm not listed
    is its own company name). Entities syncstate does not send are skipped.
    Raises :class:`~syncstate.errors.InputError` naming what is malformed.
    """
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise InputError(f"webhook body is not JSON: {exc}") from None
    notifications = data.get("eventNotifications") if isinstance(data, Mapping) else None
    if not isinstance(notifications, list):
        raise InputError("webhook body has no eventNotifications list")
    out: list[RemoteChange] = []
    for n, notification in enumerate(notifications):
        if not isinstance(notification, Mapping) or not notification.get("realmId"):
            raise InputError(f"webhook eventNotifications[{n}] has no realmId")
        realm = str(notification["realmId"])
        company = (companies or {}).get(realm, realm)
        event = notification.get("dataChangeEvent") or {}
        entities = event.get("entities") if isinstance(event, Mapping) else None
        for e, entity in enumerate(entities if isinstance(entities, list) else []):
            where = f"webhook eventNotifications[{n}].dataChangeEvent.entities[{e}]"
            if not isinstance(entity, Mapping) or not entity.get("id"):
                raise InputError(f"{where} has no id")
            operation = _OPERATIONS.get(str(entity.get("operation", "")).lower())
            if operation is None:
                raise InputError(f"{where}: unknown operation {entity.get('operation')!r}")
            kind = KIND_OF.get(str(entity.get("name", "")))
            if kind is None:
                continue
            out.append(
                RemoteChange(
                    company=company,
                    kind=kind,
                    remote_id=str(entity["id"]),
                    operation=operation,
                    at=_moment(entity.get("lastUpdated")),
                    source="webhook",
                )
            )
    return out


@attrs.frozen(kw_only=True)
class WebhookReceiver:
    """The fast part of a webhook endpoint: verify, parse, enqueue, answer.

    ``enqueue`` gets the parsed changes (a host's queue, a Celery task, a
    table); :meth:`receive` returns the HTTP status to answer with. The verifier
    token never appears in a repr, a log or an error.
    """

    verifier_token: str = attrs.field(repr=False)
    enqueue: Callable[[Sequence[RemoteChange]], None]
    companies: Mapping[str, str] = attrs.field(factory=dict)

    def changes(self, body: bytes, headers: Mapping[str, str]) -> list[RemoteChange]:
        """The verified changes; :class:`~syncstate.errors.AuthenticationError` if unsigned."""
        signature = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), None)
        if not verify(body, signature, self.verifier_token):
            raise AuthenticationError("webhook signature does not match; notification refused")
        return parse_notifications(body, companies=self.companies)

    def receive(self, body: bytes, headers: Mapping[str, str]) -> int:
        """401 for a bad signature, 400 for a malformed body, else enqueue and 200."""
        try:
            found = self.changes(body, headers)
        except AuthenticationError:
            log.warning("QuickBooks webhook refused: bad or missing signature")
            return 401
        except InputError as exc:
            log.warning("QuickBooks webhook refused: %s", exc)
            return 400
        if found:
            self.enqueue(cast(Sequence[RemoteChange], found))
        return 200
