"""What changed in Intacct since a time, as :class:`~syncstate.ports.changes.RemoteChange` s.

Intacct's XML gateway has no change feed; every object carries ``WHENCREATED``,
``WHENMODIFIED`` and ``MODIFIEDBY``, and ``readByQuery`` can ask for the records
modified since a moment (paged with ``readMore``). :func:`change_from_row` turns one
such record into a change for :func:`~syncstate.services.remote_changes.apply_remote_changes`
(which unlinks, overwrites, accepts or re-exports the linked record by policy, so the
Sync Results show what came back):

* a record never modified since it was created is a ``create`` (nothing to do for an
  exported document: syncstate created it);
* otherwise an ``update`` whose ``version`` is ``WHENMODIFIED`` as ``YYYYMMDDHHMMSS``
  digits (later is larger); ``detail`` names the key in its reference field and who
  modified it;
* a linked record that a query no longer finds was deleted in Intacct (``delete``).

Intacct has no version token in the XML API, so syncstate records none at export;
records last modified by the API user syncstate signs in with are its own writes and
are left out by :meth:`~syncstate.adapters.backends.intacct.client.IntacctBackend.changes_since`.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from syncstate.adapters.backends.intacct.envelope import text_of
from syncstate.adapters.backends.intacct.payloads import ObjectSpec
from syncstate.ports.changes import RemoteChange

__all__ = ["CHANGE_FIELDS", "change_from_row", "deleted_change", "parse_timestamp", "version_of"]

#: the audit fields a change query reads besides ``RECORDNO`` and the reference field
CHANGE_FIELDS = ("WHENCREATED", "WHENMODIFIED", "MODIFIEDBY")


def parse_timestamp(text: str) -> dt.datetime | None:
    """A ``WHENMODIFIED`` / ``WHENCREATED`` value (``mm/dd/yyyy[ HH:MM:SS]``), as UTC."""
    for pattern in ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).replace(tzinfo=dt.UTC)
        except ValueError:
            continue
    return None


def version_of(moment: dt.datetime) -> str:
    """``YYYYMMDDHHMMSS``: a version that compares as a number, later is larger."""
    return moment.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")


def change_from_row(company: str, spec: ObjectSpec, row: ET.Element) -> RemoteChange:
    """The change one ``readByQuery`` row of ``spec.object`` describes."""
    created = parse_timestamp(text_of(row, "WHENCREATED"))
    modified = parse_timestamp(text_of(row, "WHENMODIFIED"))
    key = text_of(row, spec.reference_field)
    by = text_of(row, "MODIFIEDBY")
    parts = [f"{spec.reference_field} {key}" if key else "", f"modified by {by}" if by else ""]
    return RemoteChange(
        company=company,
        kind=spec.kind,
        remote_id=text_of(row, "RECORDNO"),
        operation="create" if modified is not None and modified == created else "update",
        version=version_of(modified) if modified is not None else None,
        at=modified,
        detail=", ".join(p for p in parts if p),
        source="intacct-query",
    )


def deleted_change(company: str, spec: ObjectSpec, remote_id: str, at: dt.datetime) -> RemoteChange:
    """A linked record a query no longer finds: deleted in Intacct."""
    return RemoteChange(
        company=company,
        kind=spec.kind,
        remote_id=remote_id,
        operation="delete",
        at=at,
        detail=f"no {spec.object} with RECORDNO {remote_id} any more",
        source="intacct-query",
    )
