"""Xero's answers read back: element lists, single results, batch matching, void rules.

Pure functions over decoded bodies, used by
:class:`~syncstate.adapters.backends.xero.client.XeroBackend`: :func:`elements` reads the
list an answer holds (``{"Invoices": [...]}``), :func:`one_ref` the one element of a
single create or update, :func:`match_batch` each element of a batch answer to the
document it came from, :func:`where_filter` the ``where`` expression finding documents by
their keys, and :func:`reversal_status` what Xero lets a document become when it is
taken out of the books.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from syncstate.adapters.backends.xero.faults import element_error
from syncstate.adapters.backends.xero.payloads import (
    EntitySpec,
    key_of,
    loads,
    ref_from_element,
    tag_for,
)
from syncstate.errors import AmbiguousOutcome, BackendError, RemoteValidationError
from syncstate.ports import RemoteRef

__all__ = ["elements", "match_batch", "one_ref", "reversal_status", "where_filter"]


def elements(status: int, content: bytes, spec: EntitySpec, record: str | None) -> list[Any]:
    """The elements of an answer (``{spec.collection: [...]}``); anything else is ambiguous."""
    try:
        data = loads(content)
    except ValueError:
        data = None
    rows = data.get(spec.collection) if isinstance(data, Mapping) else None
    if not isinstance(rows, list):
        raise AmbiguousOutcome(
            f"Xero answered HTTP {status} without {spec.collection}", status=status, record=record
        )
    return rows


def one_ref(rows: list[Any], spec: EntitySpec, status: int, record: str | None) -> RemoteRef:
    """The reference of the one element of a create or update (or its validation error)."""
    first = rows[0] if len(rows) == 1 and isinstance(rows[0], Mapping) else None
    if first is not None:
        error = element_error(first, record=record)
        if error is not None:
            raise error
        if spec.id_field in first:
            return ref_from_element(spec, first)
    raise AmbiguousOutcome(
        f"Xero answered without one {spec.collection[:-1]}", status=status, record=record
    )


def match_batch(
    rows: list[Any],
    spec: EntitySpec,
    keys: Sequence[str],
    records: Sequence[str],
) -> dict[int, RemoteRef | BackendError]:
    """Position in ``keys`` → result, for the elements of one batch answer.

    Elements are matched by the key they carry; an item (no key field) by position.
    """
    by_key = {key: i for i, key in enumerate(keys)}
    out: dict[int, RemoteRef | BackendError] = {}
    for position, row in enumerate(rows):
        if not isinstance(row, Mapping):
            continue
        key = key_of(spec, row, set(by_key))
        if key is None and spec.tag_field is None and position < len(keys):
            key = keys[position]
        if key is None or by_key[key] in out:
            continue
        index = by_key[key]
        error = element_error(row, record=records[index])
        out[index] = error if error is not None else ref_from_element(spec, row)
    return out


def where_filter(spec: EntitySpec, keys: Sequence[str]) -> str:
    """The ``where`` expression that finds the documents tagged with ``keys``."""
    if spec.tag_field == "Narration":
        return " OR ".join(f'Narration.Contains("{tag_for(spec, k)}")' for k in keys)
    return " OR ".join(f'{spec.tag_field}=="{tag_for(spec, k)}"' for k in keys)


def reversal_status(spec: EntitySpec, current: Mapping[str, Any], remote_id: str) -> str:
    """``DELETED`` (draft, submitted), ``VOIDED`` (authorised, posted) or ``""`` (already).

    A paid, part-paid or credited invoice or credit note cannot be voided in Xero:
    :class:`~syncstate.errors.RemoteValidationError` says so and what to do.
    """
    status = str(current.get("Status", ""))
    if status in ("DELETED", "VOIDED"):
        return ""
    paid = Decimal(str(current.get("AmountPaid") or 0))
    credited = Decimal(str(current.get("AmountCredited") or 0))
    if status == "PAID" or paid or credited:
        name = current.get(spec.number_field or "") or remote_id
        raise RemoteValidationError(
            f"Xero cannot void {spec.collection[:-1]} {name}: it has payments or credits "
            f"applied (paid {paid}, credited {credited}); remove them in Xero first",
            code="PaidDocument",
        )
    return "DELETED" if status in ("DRAFT", "SUBMITTED") else "VOIDED"
