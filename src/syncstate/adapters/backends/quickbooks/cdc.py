"""QuickBooks change data capture: what changed in a company since a moment.

``GET /v3/company/<realm>/cdc?entities=Invoice,Payment&changedSince=<time>``
answers every entity of those kinds changed since then, in full, and a
``{"status": "Deleted", "Id": ...}`` stub for each deleted one. QuickBooks keeps
**30 days** of changes and answers at most **1,000 objects**; it suggests
polling shorter periods. :meth:`QuickBooksChanges.changes_since` refuses a
moment older than the window (run a full comparison instead) and, for an entity
that filled its 1,000, reads the rest with paged queries on
``MetaData.LastUpdatedTime`` (deletions past the 1,000 cannot be seen that way:
the feed says so in :attr:`ChangeFeed.truncated`).

:meth:`QuickBooksChanges.resolve_versions` fills in the ``SyncToken`` that a
webhook notification leaves out, with one query per entity.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs
import httpx

from syncstate.adapters.backends.quickbooks.directory import IDS_PER_QUERY
from syncstate.adapters.backends.quickbooks.matching import quote
from syncstate.adapters.backends.quickbooks.payloads import ENTITIES, spec_for
from syncstate.adapters.backends.quickbooks.webhooks import _moment
from syncstate.errors import InputError
from syncstate.ports import Clock
from syncstate.ports.changes import RemoteChange, RemoteOperation

__all__ = ["CDC_MAX_OBJECTS", "CDC_WINDOW", "ChangeFeed", "QuickBooksChanges", "change_of"]

#: how far back change data capture reaches
CDC_WINDOW = dt.timedelta(days=30)
#: most objects in one change data capture answer
CDC_MAX_OBJECTS = 1000


@attrs.frozen(kw_only=True)
class ChangeFeed:
    """Changes since ``since``, read at ``checked_at`` (poll again from there)."""

    since: dt.datetime
    checked_at: dt.datetime
    changes: tuple[RemoteChange, ...]
    #: entities that filled a whole answer: their deletions may be incomplete
    truncated: tuple[str, ...] = ()


def _is_void(row: Mapping[str, Any]) -> bool:
    """A voided sales document: zero total and QuickBooks' ``Voided`` note."""
    note = str(row.get("PrivateNote") or "")
    total = row.get("TotalAmt")
    return note.startswith("Voided") and total is not None and Decimal(str(total)) == 0


def change_of(company: str, kind: str, row: Mapping[str, Any], *, source: str) -> RemoteChange:
    """The :class:`RemoteChange` a CDC or query row stands for."""
    meta = row.get("MetaData") or {}
    operation: RemoteOperation = "update"
    if str(row.get("status", "")).lower() == "deleted":
        operation = "delete"
    elif _is_void(row):
        operation = "void"
    elif str(row.get("SyncToken")) == "0":
        operation = "create"
    version = None if row.get("SyncToken") is None else str(row["SyncToken"])
    detail = ", ".join(
        f"{field} {row[field]}"
        for field in ("SyncToken", "TotalAmt", "Balance", "DocNumber")
        if row.get(field) is not None
    )
    return RemoteChange(
        company=company,
        kind=kind,
        remote_id=str(row.get("Id", "")),
        operation=operation,
        version=version,
        at=_moment(meta.get("LastUpdatedTime")),
        detail=detail,
        source=source,
    )


def _stamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


class QuickBooksChanges:
    """Change data capture and version resolution, mixed into the back end."""

    if TYPE_CHECKING:
        _clock: Clock

        def _request(
            self,
            company: str,
            method: str,
            path: str,
            *,
            params: Mapping[str, str] | None = None,
            body: bytes | None = None,
            accept: str = "application/json",
            record: str | None = None,
        ) -> httpx.Response: ...

        def _decode(self, response: httpx.Response, record: str | None) -> Mapping[str, Any]: ...

        def query_rows(
            self, company: str, entity: str, where: str = ""
        ) -> Iterator[dict[str, Any]]: ...

    def changes_since(self, company: str, kinds: Iterable[str], since: dt.datetime) -> ChangeFeed:
        """Every change of documents of ``kinds`` since ``since`` (within 30 days)."""
        if since.tzinfo is None:
            raise InputError("changes_since needs an aware datetime (with a time zone)")
        now = self._clock.now()
        if since < now - CDC_WINDOW:
            raise InputError(
                f"QuickBooks keeps 30 days of changes; {since.isoformat()} is older: "
                "compare the documents in full instead"
            )
        specs = [spec_for(kind) for kind in dict.fromkeys(kinds)]
        if not specs:
            return ChangeFeed(since=since, checked_at=now, changes=())
        params = {
            "entities": ",".join(spec.entity for spec in specs),
            "changedSince": _stamp(since),
        }
        data = self._decode(self._request(company, "GET", "cdc", params=params), None)
        changes: list[RemoteChange] = []
        truncated: list[str] = []
        for answer in data.get("CDCResponse") or []:
            for response in answer.get("QueryResponse") or []:
                for spec in specs:
                    rows = response.get(spec.entity)
                    if not isinstance(rows, list):
                        continue
                    changes += [change_of(company, spec.kind, r, source="cdc") for r in rows]
                    if len(rows) >= CDC_MAX_OBJECTS:
                        truncated.append(spec.entity)
                        changes += self._changed_rows(company, spec.kind, since, rows)
        return ChangeFeed(
            since=since, checked_at=now, changes=tuple(changes), truncated=tuple(truncated)
        )

    def _changed_rows(
        self, company: str, kind: str, since: dt.datetime, seen: Sequence[Mapping[str, Any]]
    ) -> list[RemoteChange]:
        """Changes past a full CDC answer, read with paged queries (no deletions)."""
        known = {str(r.get("Id")) for r in seen}
        entity = spec_for(kind).entity
        where = f"MetaData.LastUpdatedTime >= {quote(_stamp(since))}"
        return [
            change_of(company, kind, row, source="query")
            for row in self.query_rows(company, entity, where)
            if str(row.get("Id")) not in known
        ]

    def resolve_versions(self, company: str, changes: Sequence[RemoteChange]) -> list[RemoteChange]:
        """``changes`` with their documents' current ``SyncToken`` (a query per kind, 500 ids).

        A document that no longer exists becomes a ``delete``; deletions and changes
        of other companies pass through unchanged.
        """
        wanted: dict[str, set[str]] = {}
        for change in changes:
            if change.company == company and not change.removes and change.kind in ENTITIES:
                wanted.setdefault(change.kind, set()).add(change.remote_id)
        current: dict[tuple[str, str], RemoteChange] = {}
        for kind, ids in wanted.items():
            ordered, entity = sorted(ids), spec_for(kind).entity
            for start in range(0, len(ordered), IDS_PER_QUERY):
                listed = ", ".join(quote(i) for i in ordered[start : start + IDS_PER_QUERY])
                for row in self.query_rows(company, entity, f"Id IN ({listed})"):
                    now = change_of(company, kind, row, source="query")
                    current[(kind, now.remote_id)] = now
        out: list[RemoteChange] = []
        for change in changes:
            if change.company != company or change.removes or change.kind not in wanted:
                out.append(change)
                continue
            found = current.get((change.kind, change.remote_id))
            if found is None:
                out.append(attrs.evolve(change, operation="delete"))
            else:
                operation = found.operation if found.operation == "void" else change.operation
                out.append(
                    attrs.evolve(
                        change, version=found.version, operation=operation, detail=found.detail
                    )
                )
        return out
