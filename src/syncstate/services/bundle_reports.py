"""What bundling shows and reports: bundle views, traces, and the reports of its use cases.

:class:`~syncstate.services.bundling.BundleService` answers with these (and
:mod:`syncstate.services.bundling` re-exports them): :class:`BundleView` for a
live bundle with its export status, :class:`Trace` for a transaction traced to
its document, and one report per use case (:class:`BundleReport`,
:class:`HistoricalReport`, :class:`UnbundleReport`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs

from syncstate.domain.bundling import Bundle, BundleKind
from syncstate.domain.records import RecordKey
from syncstate.domain.state import ExportState
from syncstate.notebook import Tabular, compact_repr

__all__ = [
    "RECONCILED",
    "BundleReport",
    "BundleView",
    "HistoricalReport",
    "Trace",
    "UnbundleReport",
]

#: the export states of a reconciled bundle: its document exists at the back end
RECONCILED = frozenset({ExportState.EXPORTED, ExportState.OUTDATED})


def _listing_order(bundle: Bundle) -> tuple[str, dt.date, str, str]:
    return (bundle.client, bundle.date, bundle.kind.value, bundle.bundle_id)


@attrs.frozen(kw_only=True)
class BundleView:
    """A live bundle with its export status: what the reconciled documents list shows."""

    bundle: Bundle
    state: ExportState
    remote_id: str | None = None
    remote_version: str | None = None
    message: str | None = None

    @property
    def key(self) -> RecordKey:
        """The bundle's record key."""
        return self.bundle.key

    @property
    def reconciled(self) -> bool:
        """True once the document exists at the back end (exported or outdated)."""
        return self.state in RECONCILED

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        b = self.bundle
        return {
            "bundle_id": b.bundle_id,
            "kind": b.kind.value,
            "client": b.client,
            "date": b.date.isoformat(),
            "currency": b.currency,
            "total": str(b.total),
            "paid": str(b.paid),
            "unapplied": str(b.unapplied),
            "state": self.state.value,
            "remote_id": self.remote_id,
            "remote_version": self.remote_version,
            "message": self.message,
            "members": [f"{k.kind}:{k.source_id}" for k in b.members],
            "lines": [
                {
                    "resource": ln.resource,
                    "quantity": str(ln.quantity),
                    "unit_price": str(ln.unit_price),
                    "amount": str(ln.amount),
                    "tax_code": ln.tax_code,
                }
                for ln in b.lines
            ],
            "applied": [{"invoice": a.invoice, "amount": str(a.amount)} for a in b.applied],
        }


@attrs.frozen(kw_only=True)
class BundleReport(Tabular):
    """What :meth:`~syncstate.services.bundling.BundleService.bundle` made (or, in a dry
    run, would make)."""

    company: str
    bundles: tuple[Bundle, ...]
    applied: bool

    def counts(self) -> dict[str, int]:
        """Bundles per kind."""
        return {kind.value: sum(b.kind is kind for b in self.bundles) for kind in BundleKind}

    def __repr__(self) -> str:
        return compact_repr(
            self,
            company=self.company,
            bundles=len(self.bundles),
            **self.counts(),
            applied=self.applied,
        )

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per bundle, in the order bundles are listed (client, date, kind, id).

        Amounts stay ``Decimal``, the date a ``date``.
        """
        return [
            {
                "bundle_id": b.bundle_id,
                "kind": b.kind.value,
                "client": b.client,
                "date": b.date,
                "currency": b.currency,
                "total": b.total,
                "paid": b.paid,
                "unapplied": b.unapplied,
                "members": len(b.members),
            }
            for b in sorted(self.bundles, key=_listing_order)
        ]

    def _html_caption(self) -> str:
        verb = "made" if self.applied else "would be made (dry run)"
        return f"{len(self.bundles)} bundles of {self.company} {verb}"


@attrs.frozen(kw_only=True)
class HistoricalReport:
    """Open transactions marked as already accounted for, per client."""

    company: str
    cutoff: dt.date
    per_client: tuple[tuple[str, int], ...]

    @property
    def total(self) -> int:
        """Transactions marked."""
        return sum(n for _, n in self.per_client)

    def __repr__(self) -> str:
        return compact_repr(
            self,
            company=self.company,
            cutoff=self.cutoff,
            clients=len(self.per_client),
            transactions=self.total,
        )


@attrs.frozen(kw_only=True)
class UnbundleReport(Tabular):
    """Bundles removed, transactions open again, and remote documents left alone."""

    company: str
    removed: tuple[RecordKey, ...]
    reopened: tuple[RecordKey, ...]
    #: (bundle, remote id) of documents still at the back end (not reversed)
    left_remote: tuple[tuple[RecordKey, str], ...] = ()
    #: bundles whose remote document was deleted or voided (reverse export)
    reversed: tuple[RecordKey, ...] = ()

    def __repr__(self) -> str:
        return compact_repr(
            self,
            company=self.company,
            removed=len(self.removed),
            reopened=len(self.reopened),
            left_remote=len(self.left_remote),
            reversed=len(self.reversed),
        )

    @property
    def warning(self) -> str:
        """What the caller must know about remote documents, or empty."""
        if not self.left_remote:
            return ""
        ids = ", ".join(remote for _, remote in self.left_remote)
        return (
            f"{len(self.left_remote)} document(s) already in the accounting system were NOT "
            f"removed there ({ids}); exporting the transactions again creates new documents"
        )

    def to_records(self) -> list[dict[str, Any]]:
        """One plain row per bundle removed, with what became of its remote document."""
        left = dict(self.left_remote)
        gone = set(self.reversed)
        return [
            {
                "bundle_id": key.source_id,
                "kind": key.kind,
                "remote_document": "reversed" if key in gone else "left" if key in left else "",
                "remote_id": left.get(key),
            }
            for key in self.removed
        ]

    def _html_caption(self) -> str:
        head = (
            f"{len(self.removed)} bundles of {self.company} removed, "
            f"{len(self.reopened)} transactions open again"
        )
        return f"{head}. {self.warning}" if self.warning else head


@attrs.frozen(kw_only=True)
class Trace:
    """A transaction traced to its bundle and remote document (or a bundle to members)."""

    record: RecordKey
    state: ExportState
    bundle: BundleView | None
    members: tuple[RecordKey, ...] = ()
