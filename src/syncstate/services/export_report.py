"""What an export run is told (:class:`ExportOptions`) and what it reports.

:class:`ExportReport` holds one :class:`~syncstate.services.sending.RecordOutcome`
per selected record plus the totals a caller shows; :meth:`ExportReport.to_records`
gives plain rows for JSON output and sync result views, sorted by record key.
In the REPL a report reads as one line of totals; in Jupyter as its summary
above a table of records (:class:`~syncstate.notebook.Tabular`).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from syncstate.domain.records import RecordKey
from syncstate.errors import InputError
from syncstate.notebook import Summary, Tabular, compact_repr
from syncstate.services.budgets import Budgets
from syncstate.services.rendering import Renderer
from syncstate.services.retry import RetryPolicy
from syncstate.services.sending import Outcome, RecordOutcome

__all__ = ["ExportOptions", "ExportReport", "UnexportReport"]


def _at_least_one(_instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise InputError(f"export options: {attribute.name} must be at least 1, got {value}")


def _freeze_renderers(value: Mapping[str, Renderer]) -> Mapping[str, Renderer]:
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class ExportOptions:
    """How an export run behaves. Every field has a sensible default.

    * ``concurrency``: requests in flight at once for the company (QuickBooks
      allows 10 per app and company).
    * ``lease``: how long claimed records stay reserved for this run; a record
      whose lease ran out is *ambiguous* and is looked up before it is resent.
    * ``retry``: back-off and attempt limits (:class:`RetryPolicy`).
    * ``use_batch``: use ``create_batch`` when the back end declares ``BATCH``.
    * ``requests_per_minute``: pace requests to the back end's documented
      limit (``None``: no pacing; rely on 429 and ``Retry-After``).
    * ``renderers``: renderers by record kind, merged over the defaults.
    * ``worker``: the name claims are made under (default: host, pid, random).
    * ``claim_size`` / ``flush_size`` / ``flush_interval``: records claimed per
      store transaction, and outcomes written per transaction / at least every
      ``flush_interval`` seconds.
    * ``max_connection_failures`` / ``unavailable_after``: the circuit breaker. After
      that many consecutive requests that never reached the back end (connection
      refused, DNS, TLS, connect timeouts), or after failing to reach it for that many
      seconds (back-off waits included), the run stops, releases what it holds and
      raises :class:`~syncstate.errors.BackendUnavailable` with the report.
    * ``cancel``: an event another thread sets to stop the run cleanly.
    * ``budget``: the company's rate and concurrency budget shared with every other
      worker (:class:`~syncstate.services.budgets.Budgets`); ``None`` paces this run alone.
    * ``sleep`` / ``seed``: injected for tests (no real pauses, fixed jitter).
    """

    concurrency: int = attrs.field(default=10, validator=_at_least_one)
    lease: dt.timedelta = dt.timedelta(minutes=10)
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    use_batch: bool = True
    requests_per_minute: float | None = None
    renderers: Mapping[str, Renderer] = attrs.field(factory=dict, converter=_freeze_renderers)
    worker: str = ""
    claim_size: int = attrs.field(default=100, validator=_at_least_one)
    flush_size: int = attrs.field(default=200, validator=_at_least_one)
    flush_interval: float = 0.5
    max_connection_failures: int = attrs.field(default=5, validator=_at_least_one)
    unavailable_after: float = 30.0
    cancel: threading.Event | None = attrs.field(default=None, eq=False)
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, eq=False)
    seed: int | None = None
    budget: Budgets | None = attrs.field(default=None, eq=False)

    def __attrs_post_init__(self) -> None:
        if self.lease <= dt.timedelta(0):
            raise InputError(f"export options: lease must be positive, got {self.lease}")
        if not self.unavailable_after > 0:
            raise InputError(
                f"export options: unavailable_after must be positive, got {self.unavailable_after}"
            )


def _keys(outcomes: tuple[RecordOutcome, ...], *wanted: Outcome) -> tuple[RecordKey, ...]:
    return tuple(o.key for o in outcomes if o.outcome in wanted)


def _by_key(outcome: RecordOutcome) -> tuple[str, str, str]:
    return (outcome.key.company, outcome.key.kind, outcome.key.source_id)


@attrs.frozen(kw_only=True)
class ExportReport(Tabular):
    """The result of :func:`~syncstate.services.export.export_records`.

    ``repr(report)`` is one line of totals; :meth:`summary` gives them as a
    :class:`~syncstate.notebook.Summary`, :meth:`to_records` one row per record.
    """

    company: str
    backend: str
    outcomes: tuple[RecordOutcome, ...]
    retries: int = 0
    duration: float = 0.0
    cancelled: bool = False
    #: why the run stopped early because the back end could not be reached ("" if it did not)
    unavailable: str = ""

    def _count(self, outcome: Outcome) -> int:
        return sum(1 for o in self.outcomes if o.outcome is outcome)

    @property
    def exported(self) -> int:
        """Records created remotely (or found by their key) and linked."""
        return self._count(Outcome.EXPORTED)

    @property
    def updated(self) -> int:
        """Existing remote documents overwritten."""
        return self._count(Outcome.UPDATED)

    @property
    def failed(self) -> tuple[tuple[RecordKey, str], ...]:
        """Rejected records with the back end's (or renderer's) message."""
        return tuple((o.key, o.message) for o in self.outcomes if o.outcome is Outcome.FAILED)

    @property
    def pending(self) -> tuple[tuple[RecordKey, str], ...]:
        """Records left in flight because they may exist remotely, with the reason."""
        return tuple((o.key, o.message) for o in self.outcomes if o.outcome is Outcome.PENDING)

    @property
    def released(self) -> int:
        """Records claimed but never sent (cancelled, throttled out): exportable again."""
        return self._count(Outcome.RELEASED)

    @property
    def skipped(self) -> int:
        """Selected records another worker holds (its lease has not run out)."""
        return self._count(Outcome.SKIPPED)

    @property
    def exported_keys(self) -> tuple[RecordKey, ...]:
        """Keys of records exported or updated in this run."""
        return _keys(self.outcomes, Outcome.EXPORTED, Outcome.UPDATED)

    @property
    def total(self) -> int:
        """Records the run selected."""
        return len(self.outcomes)

    @property
    def ok(self) -> bool:
        """True when nothing failed, nothing is pending and the run was not cancelled."""
        return not (
            self.failed or self.pending or self.cancelled or self.released or self.unavailable
        )

    def __repr__(self) -> str:
        return compact_repr(
            self,
            company=self.company,
            backend=self.backend,
            selected=self.total,
            exported=self.exported,
            updated=self.updated,
            failed=len(self.failed),
            pending=len(self.pending),
            ok=self.ok,
        )

    def summary(self) -> Summary:
        """Totals as plain data: a ``dict`` that shows as a table in Jupyter."""
        return Summary(
            {
                "company": self.company,
                "backend": self.backend,
                "selected": self.total,
                "exported": self.exported,
                "updated": self.updated,
                "failed": len(self.failed),
                "pending": len(self.pending),
                "released": self.released,
                "skipped": self.skipped,
                "retries": self.retries,
                "duration": round(self.duration, 3),
                "cancelled": self.cancelled,
                "unavailable": self.unavailable,
            }
        )

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per record, in record-key order: outcome, remote id and number, message."""
        return [
            {
                "company": o.key.company,
                "kind": o.key.kind,
                "source_id": o.key.source_id,
                "outcome": o.outcome.value,
                "remote_id": o.remote_id,
                "version": o.version,
                "doc_number": o.doc_number,
                "idempotency_key": o.idempotency_key,
                "retries": o.retries,
                "message": o.message,
            }
            for o in sorted(self.outcomes, key=_by_key)
        ]

    def _html_caption(self) -> str:
        counts = (
            f"{self.total} selected, {self.exported} exported, {self.updated} updated, "
            f"{len(self.failed)} failed, {len(self.pending)} pending"
        )
        verdict = "ok" if self.ok else "NOT ok"
        return f"Export of {self.company} to {self.backend}: {counts} ({verdict})"


@attrs.frozen(kw_only=True)
class UnexportReport(Tabular):
    """The result of :func:`~syncstate.services.export.unexport`."""

    company: str
    backend: str
    unexported: tuple[RecordKey, ...]
    failed: tuple[tuple[RecordKey, str], ...] = ()

    def __repr__(self) -> str:
        return compact_repr(
            self,
            company=self.company,
            backend=self.backend,
            unexported=len(self.unexported),
            failed=len(self.failed),
        )

    def _html_caption(self) -> str:
        return (
            f"Reverse export of {self.company} from {self.backend}: "
            f"{len(self.unexported)} removed, {len(self.failed)} failed"
        )

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per record."""
        rows: list[dict[str, Any]] = [
            {"record": str(key), "outcome": "unexported", "message": ""} for key in self.unexported
        ]
        rows += [
            {"record": str(key), "outcome": "failed", "message": msg} for key, msg in self.failed
        ]
        return rows
