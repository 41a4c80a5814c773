"""Matching host names to QuickBooks' customers, vendors, employees and items; pure.

QuickBooks compares names the way its duplicate check (fault 6240) does: a
``DisplayName`` is unique across **Customer, Vendor and Employee** together, and
an item's ``Name`` among items. Two names are *the same name* to syncstate when
they are equal after trimming surrounding whitespace and ignoring case
(:func:`name_key`); QuickBooks would refuse to create the second one, so matching
it is the only correct outcome. Names that are merely *similar* (inner
whitespace, punctuation, ``&`` against ``and``, an inactive entity renamed
``"Name (deleted)"``) are never matched silently: they are proposed
(:attr:`NameMatch.candidates`) for a person to confirm.

:func:`match_names` decides, for each wanted name, one of:

``matched``
    exactly one active entity of the wanted type has the same name;
``ambiguous``
    several entities have the same name, or only an inactive one, or only
    similar names exist: the candidates are proposed, nothing is mapped;
``taken``
    the same name belongs to an entity of another type (a vendor holds the
    customer's name): creating it would be refused with fault 6240;
``none``
    no entity has that name or a similar one: it can be created.

Items live in a hierarchy: a sub-item's ``FullyQualifiedName`` is
``Parent:Child`` (up to five levels, each ``Name`` free of colons, tabs and
new lines; Intuit's Item reference). A wanted item name is compared with the
``FullyQualifiedName`` (each level trimmed, any case: :func:`item_key`), so
``"Rooms:Desk"`` matches only the ``Desk`` under ``Rooms``; an item with the
same last level under another parent (or at the top) is only *similar*: it is
proposed, never matched, since QuickBooks would refuse a second ``Desk`` (an
item's ``Name`` must be unique).

:func:`quote` writes a text literal for QuickBooks' query language, which
escapes an apostrophe (and the backslash itself) with a backslash.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from syncstate.errors import InputError
from syncstate.ports.names import MatchStatus, NameCandidate, NameMatch

__all__ = [
    "DELETED_SUFFIX",
    "ITEM_LEVELS",
    "NAME_FIELDS",
    "NameCandidate",
    "NameMatch",
    "item_key",
    "item_path",
    "match_names",
    "name_key",
    "quote",
    "similar_key",
]

#: the name field of each entity that has one
NAME_FIELDS: Mapping[str, str] = {
    "Customer": "DisplayName",
    "Vendor": "DisplayName",
    "Employee": "DisplayName",
    "Item": "Name",
    "Account": "Name",
    "Class": "Name",
    "Department": "Name",
}
#: what QuickBooks appends to the name of a customer, vendor or employee made inactive
DELETED_SUFFIX = " (deleted)"
#: most levels of an item's ``FullyQualifiedName`` (``A:B:C:D:E``)
ITEM_LEVELS = 5

_PUNCTUATION = re.compile(r"[^\w]+", re.UNICODE)


def quote(text: str) -> str:
    """``text`` as a quoted literal of QuickBooks' query language (``'O\\'Brien'``)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def name_key(name: str) -> str:
    """The key under which QuickBooks considers two names the same (trimmed, any case)."""
    return unicodedata.normalize("NFC", name).strip().casefold()


def item_path(name: str) -> tuple[str, ...]:
    """The levels of an item name ``"Parent:Child"``, each trimmed.

    Raises :class:`~syncstate.errors.InputError` for an empty level, a tab or a
    new line in one, or more than :data:`ITEM_LEVELS` levels (QuickBooks
    refuses them all).
    """
    levels = tuple(part.strip() for part in name.split(":"))
    if any(not part for part in levels):
        raise InputError(f"item name {name!r}: every level of Parent:Child needs a name")
    if any(c in part for part in levels for c in "\t\r\n"):
        raise InputError(f"item name {name!r}: QuickBooks refuses tabs and new lines")
    if len(levels) > ITEM_LEVELS:
        raise InputError(f"item name {name!r}: QuickBooks nests items {ITEM_LEVELS} levels deep")
    return levels


def item_key(name: str) -> str:
    """The key of an item's fully qualified name: each level as :func:`name_key`."""
    return ":".join(name_key(part) for part in name.split(":"))


def _full_name(row: Mapping[str, Any]) -> str:
    return str(row.get("FullyQualifiedName") or row.get("Name") or "")


def similar_key(name: str) -> str:
    """A looser key for proposals: no ``(deleted)`` suffix, ``&`` as ``and``, only words."""
    text = name_key(name)
    if text.endswith(DELETED_SUFFIX.strip()):
        text = text[: -len(DELETED_SUFFIX.strip())]
    text = text.replace("&", " and ")
    return " ".join(_PUNCTUATION.sub(" ", text).split())


def _candidate(entity: str, row: Mapping[str, Any], likeness: str) -> NameCandidate:
    field = NAME_FIELDS.get(entity, "Name")
    return NameCandidate(
        entity=entity,
        remote_id=str(row.get("Id", "")),
        name=_full_name(row) if entity == "Item" else str(row.get(field) or ""),
        active=row.get("Active") is not False,
        likeness="same" if likeness == "same" else "similar",
    )


def match_names(
    entity: str,
    names: Iterable[str],
    rows: Mapping[str, Iterable[Mapping[str, Any]]],
) -> dict[str, NameMatch]:
    """Match each of ``names`` against ``rows`` (entity name → its rows, active or not).

    ``entity`` is the wanted type; rows of the other types in ``rows`` (vendors and
    employees beside customers) only make a name ``taken``. Items are compared by
    their fully qualified name (:func:`item_key`); one with the same last level
    elsewhere in the hierarchy is a similar name.
    """
    items = entity == "Item"
    key = item_key if items else name_key
    same: dict[str, list[NameCandidate]] = {}
    similar: dict[str, list[NameCandidate]] = {}
    for kind, kind_rows in rows.items():
        field = NAME_FIELDS.get(kind, "Name")
        for row in kind_rows:
            value = _full_name(row) if kind == "Item" else str(row.get(field) or "")
            if not value.strip():
                continue
            same.setdefault(key(value), []).append(_candidate(kind, row, "same"))
            loose = similar_key(value.rsplit(":", 1)[-1] if kind == "Item" else value)
            similar.setdefault(loose, []).append(_candidate(kind, row, "similar"))
    out: dict[str, NameMatch] = {}
    for name in names:
        exact = same.get(key(name), [])
        own = [c for c in exact if c.entity == entity]
        active = [c for c in own if c.active]
        if len(active) == 1 and len(own) == 1:
            out[name] = NameMatch(
                name=name,
                entity=entity,
                status="matched",
                remote_id=active[0].remote_id,
                candidates=(active[0],),
            )
            continue
        if own:
            out[name] = NameMatch(
                name=name, entity=entity, status="ambiguous", candidates=tuple(own)
            )
            continue
        if exact:
            out[name] = NameMatch(name=name, entity=entity, status="taken", candidates=tuple(exact))
            continue
        seen = {(c.entity, c.remote_id) for c in exact}
        near = tuple(
            c
            for c in similar.get(similar_key(name.rsplit(":", 1)[-1] if items else name), [])
            if (c.entity, c.remote_id) not in seen and c.entity == entity
        )
        status: MatchStatus = "ambiguous" if near else "none"
        out[name] = NameMatch(name=name, entity=entity, status=status, candidates=near)
    return out
