"""Source records: what the host application hands to syncstate.

A record is identified by ``(company, kind, source_id)`` (:class:`RecordKey`).
Its content is a flat mapping of strings (decimals and dates written as ISO
strings) with a stable content hash, so a change at the source is seen the next
time the host ingests it. Every record also carries the two fields selections
filter on: the day it belongs to (``on``) and its ``subject`` (the employee of a
time entry, the client of a usage log or payment).

Typed views such as :class:`TimeEntry` turn into records with ``to_record`` and
back with ``from_record``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import ClassVar

import attrs

from syncstate.errors import InputError
from syncstate.money import to_decimal

__all__ = ["RecordKey", "SourceRecord", "TimeEntry", "content_hash"]


def _nonblank(name: str) -> Callable[[object, object, str], None]:
    def check(_instance: object, _attribute: object, value: str) -> None:
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{name} must be a non-empty string, got {value!r}")

    return check


@attrs.frozen(order=True)
class RecordKey:
    """The identity of a source record: company, kind and the host's own id."""

    company: str = attrs.field(validator=_nonblank("company"))
    kind: str = attrs.field(validator=_nonblank("kind"))
    source_id: str = attrs.field(validator=_nonblank("source_id"))

    def __str__(self) -> str:
        return f"{self.company}/{self.kind}/{self.source_id}"


def content_hash(data: Mapping[str, str], on: dt.date, subject: str) -> str:
    """A stable SHA-256 (hex, 32 chars) of a record's content."""
    canonical = json.dumps(
        [on.isoformat(), subject, sorted(data.items())], separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def _freeze(
    data: Mapping[str, object] | tuple[tuple[str, str], ...],
) -> tuple[tuple[str, str], ...]:
    if isinstance(data, tuple):
        return data  # already frozen (read back from a store, or copied from a record)
    items = data.items()
    out = []
    for name, value in items:
        if isinstance(value, float):
            raise InputError(f"field {name!r}: floats are not accepted, use a decimal string")
        if isinstance(value, dt.date):
            value = value.isoformat()
        out.append((str(name), "" if value is None else str(value)))
    return tuple(sorted(out))


@attrs.frozen
class SourceRecord:
    """One record of the host application, as syncstate stores it."""

    key: RecordKey
    on: dt.date
    subject: str
    fields: tuple[tuple[str, str], ...] = attrs.field(converter=_freeze, factory=tuple)
    hash: str = attrs.field(default="")

    def __attrs_post_init__(self) -> None:
        if not self.hash:
            object.__setattr__(self, "hash", content_hash(self.data, self.on, self.subject))

    @property
    def data(self) -> dict[str, str]:
        """The record's fields as a plain dict."""
        return dict(self.fields)

    @property
    def company(self) -> str:
        """The company (tenant) the record belongs to."""
        return self.key.company


def _hours(value: object) -> Decimal:
    return to_decimal(value, what="hours")


@attrs.frozen(kw_only=True)
class TimeEntry:
    """A time record: who worked how long on which job, on which day."""

    KIND: ClassVar[str] = "time_entry"

    source_id: str
    employee: str
    date: dt.date
    hours: Decimal = attrs.field(converter=_hours)
    job: str = ""
    cost_code: str = ""
    pay_type: str = "regular"
    notes: str = ""

    def __attrs_post_init__(self) -> None:
        if self.hours < 0:
            raise InputError(f"time entry {self.source_id}: hours {self.hours} is negative")

    def to_record(self, company: str) -> SourceRecord:
        """The time entry as a :class:`SourceRecord` of ``company``."""
        return SourceRecord(
            key=RecordKey(company, self.KIND, self.source_id),
            on=self.date,
            subject=self.employee,
            fields={
                "hours": str(self.hours),
                "job": self.job,
                "cost_code": self.cost_code,
                "pay_type": self.pay_type,
                "notes": self.notes,
            },
        )

    @classmethod
    def from_record(cls, record: SourceRecord) -> TimeEntry:
        """Read a time entry back from a stored record."""
        if record.key.kind != cls.KIND:
            raise InputError(f"record {record.key} is a {record.key.kind}, not a time entry")
        data = record.data
        return cls(
            source_id=record.key.source_id,
            employee=record.subject,
            date=record.on,
            hours=data.get("hours", "0"),
            job=data.get("job", ""),
            cost_code=data.get("cost_code", ""),
            pay_type=data.get("pay_type", "regular"),
            notes=data.get("notes", ""),
        )
