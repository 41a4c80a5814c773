"""Changes made "in QuickBooks" for the local server: CDC answers and signed webhooks.

* :func:`cdc_answer` answers ``GET .../cdc?entities=...&changedSince=...`` as
  QuickBooks does: every entity of those kinds changed since then, in full,
  a ``{"status": "Deleted"}`` stub per deleted one, at most 1,000 objects per
  entity, and a ``changedSince`` older than 30 days refused (fault 4000 here:
  QuickBooks' exact answer to it is not documented).
* :class:`WebhookOutbox` turns the books' change log into notifications signed
  with a verifier token (``intuit-signature``), one per realm, as QuickBooks
  POSTs them; :meth:`WebhookOutbox.drain` hands them to the test, and
  :meth:`WebhookOutbox.deliver` POSTs them to a URL.
* :func:`edit_in_quickbooks` and :func:`void_in_quickbooks` change a document
  the way a person in QuickBooks would (with its current ``SyncToken``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import httpx

from syncstate.adapters.backends.quickbooks.webhooks import SIGNATURE_HEADER, sign
from syncstate.testing.qbo_books import QboBooks
from syncstate.testing.qbo_faults import QboFaultAnswer

__all__ = [
    "CDC_LIMIT",
    "Notification",
    "WebhookOutbox",
    "cdc_answer",
    "edit_in_quickbooks",
    "void_in_quickbooks",
]

CDC_LIMIT = 1000
_WINDOW = dt.timedelta(days=30)


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def cdc_answer(books: QboBooks, realm: str, entities: str, since_text: str) -> dict[str, Any]:
    """The ``CDCResponse`` for ``entities`` (comma separated) changed since ``since_text``."""
    try:
        since = _moment(since_text)
    except ValueError:
        raise QboFaultAnswer(
            "4000", "Error parsing query", f"changedSince {since_text!r} is not a date-time"
        ) from None
    if since < books.now() - _WINDOW:
        raise QboFaultAnswer(
            "4000", "Error parsing query", "changedSince must be within the last 30 days"
        )
    responses: list[dict[str, Any]] = []
    state = books.realm(realm)
    for name in [n.strip() for n in entities.split(",") if n.strip()]:
        entity = books.entity_name(name)
        if entity is None:
            raise QboFaultAnswer("4000", "Error parsing query", f"unknown entity {name!r}")
        rows = [r for r in books.all(realm, entity) if _changed(r, since)]
        rows += [dict(r) for r in state.deleted.get(entity, {}).values() if _changed(r, since)]
        rows.sort(key=lambda r: _moment(r["MetaData"]["LastUpdatedTime"]))
        page = rows[:CDC_LIMIT]
        responses.append(
            {entity: page, "startPosition": 1, "maxResults": len(page), "totalCount": len(page)}
        )
    return {"CDCResponse": [{"QueryResponse": responses}]}


def _changed(row: Mapping[str, Any], since: dt.datetime) -> bool:
    return _moment(str(row["MetaData"]["LastUpdatedTime"])) >= since


@attrs.frozen
class Notification:
    """One webhook POST: the raw body and its headers (with ``intuit-signature``)."""

    body: bytes
    headers: Mapping[str, str]


class WebhookOutbox:
    """Signed webhook notifications of the books' changes since the last drain."""

    def __init__(self, books: QboBooks, verifier_token: str) -> None:
        self._books = books
        self._token = verifier_token
        self._sent: dict[str, int] = {}

    def __repr__(self) -> str:
        return "WebhookOutbox(verifier_token=***)"

    def drain(self, realm: str | None = None) -> list[Notification]:
        """One notification per realm with changes not sent yet (all realms by default)."""
        realms = [realm] if realm is not None else sorted(self._books.realms())
        out = []
        for name in realms:
            events = self._books.realm(name).events
            start = self._sent.get(name, 0)
            fresh, self._sent[name] = events[start:], len(events)
            if not fresh:
                continue
            payload = {
                "eventNotifications": [
                    {"realmId": name, "dataChangeEvent": {"entities": [dict(e) for e in fresh]}}
                ]
            }
            body = json.dumps(payload).encode("utf-8")
            headers = {
                SIGNATURE_HEADER: sign(body, self._token),
                "Content-Type": "application/json",
            }
            out.append(Notification(body=body, headers=headers))
        return out

    def deliver(
        self, url: str, *, client: httpx.Client | None = None, realm: str | None = None
    ) -> list[int]:
        """POST each pending notification to ``url``; the statuses it answered."""
        own = client is None
        http = client or httpx.Client(timeout=5.0)
        try:
            return [
                http.post(url, content=n.body, headers=dict(n.headers)).status_code
                for n in self.drain(realm)
            ]
        finally:
            if own:
                http.close()


def edit_in_quickbooks(
    books: QboBooks, realm: str, entity: str, ident: str, change: Callable[[dict[str, Any]], None]
) -> dict[str, Any]:
    """Change a document as a person in QuickBooks would; returns it as stored."""
    current = books.get(realm, entity, ident)
    change(current)
    return books.update(realm, entity, current)


def void_in_quickbooks(books: QboBooks, realm: str, entity: str, ident: str) -> dict[str, Any]:
    """Void a document in QuickBooks (amounts to zero, ``PrivateNote`` "Voided")."""
    current = books.get(realm, entity, ident)
    return books.void(realm, entity, {"Id": ident, "SyncToken": current["SyncToken"]})
