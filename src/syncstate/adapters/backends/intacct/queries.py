"""The read functions the Intacct back end sends: ``read``, ``readByQuery``, ``readMore``.

``readByQuery`` takes an SQL-like condition (``developer.intacct.com/web-services/
queries``: operators ``< > >= <= = like not like in not in``, ``AND`` / ``OR``, string
operands in single quotes, case-sensitive) and a page size; the answer's ``<data>``
carries ``numremaining`` and a ``resultId`` that ``readMore`` pages on, so every page
comes from the same originating query even while data changes.

Keys and values put into a condition are checked here (:func:`check_key`): a key with
a quote or a control character is refused before anything is sent, so a condition can
never be broken out of.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence

from syncstate.adapters.backends.intacct.envelope import element
from syncstate.adapters.backends.intacct.payloads import ObjectSpec
from syncstate.errors import RemoteValidationError

__all__ = [
    "MAX_KEY",
    "check_key",
    "control_id",
    "in_condition",
    "modified_since",
    "read",
    "read_by_query",
    "read_more",
    "timestamp",
]

#: the longest idempotency key syncstate writes into a reference field
MAX_KEY = 60
_SAFE_KEY = re.compile(r"[A-Za-z0-9._:@/+=~-]+")
_KEY_NAMESPACE = uuid.UUID("0c3c9d64-42b5-4b8b-9c3e-2f9d0e7f1a11")


def check_key(key: str, record: str | None = None) -> str:
    """``key`` if it fits a reference field and a query condition, else an error."""
    if not key or len(key) > MAX_KEY or not _SAFE_KEY.fullmatch(key):
        raise RemoteValidationError(
            f"idempotency key {key!r} must be 1..{MAX_KEY} characters of letters, digits "
            "and ._:@/+=~- for Intacct",
            record=record,
        )
    return key


def control_id(*parts: str) -> str:
    """A deterministic request control id (a UUID 5 of ``parts``, 36 characters)."""
    return str(uuid.uuid5(_KEY_NAMESPACE, "\x1f".join(parts)))


def timestamp(moment: dt.datetime) -> str:
    """``mm/dd/yyyy HH:MM:SS`` in UTC, as ``WHENMODIFIED`` is compared in a condition."""
    return moment.astimezone(dt.UTC).strftime("%m/%d/%Y %H:%M:%S")


def in_condition(field: str, keys: Sequence[str]) -> str:
    """``FIELD IN ('k1','k2')`` (``FIELD = 'k'`` for one key); keys are checked."""
    checked = [check_key(k) for k in keys]
    if len(checked) == 1:
        return f"{field} = '{checked[0]}'"
    return f"{field} IN ({','.join(repr(k) for k in checked)})"


def modified_since(since: dt.datetime) -> str:
    """``WHENMODIFIED >= 'mm/dd/yyyy HH:MM:SS'``."""
    return f"WHENMODIFIED >= '{timestamp(since)}'"


def read(spec: ObjectSpec, remote_id: str) -> ET.Element:
    """``<read>`` one record by ``RECORDNO`` with every field."""
    node = element("read")
    node.append(element("object", spec.object))
    node.append(element("keys", remote_id))
    node.append(element("fields", "*"))
    return node


def read_by_query(
    spec: ObjectSpec, condition: str, *, fields: Iterable[str], page_size: int
) -> ET.Element:
    """``<readByQuery>`` of ``spec.object`` where ``condition`` holds."""
    node = element("readByQuery")
    node.append(element("object", spec.object))
    node.append(element("fields", ",".join(fields)))
    node.append(element("query", condition))
    node.append(element("pagesize", str(page_size)))
    return node


def read_more(result_id: str) -> ET.Element:
    """``<readMore>`` the next page of the query that answered ``result_id``."""
    node = element("readMore")
    node.append(element("resultId", result_id))
    return node
