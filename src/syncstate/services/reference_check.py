"""Mapped remote ids validated before sending, for any export (bills and their vendors too).

A mapping can name a remote id that no longer exists (a vendor merged away, an item
deleted): the back end would refuse each document that uses it (QuickBooks fault
2500) only when it is sent. :func:`checked_renderers` wraps an export's renderers so
that, **before** a document is sent, every mapped customer, vendor, employee and item
it names is checked: the first time a run needs a list, all the ids mapped in it are
validated in one request (:class:`~syncstate.ports.names.RemoteIdChecker`, one query
per 500 ids), and a document naming an id that does not exist (or is inactive) fails
with a message naming the mapping; the engine never sends it::

    options = ExportOptions(renderers=checked_renderers(backend, "acme", my_renderers))
    export_records(store, backend, "acme", options=options)

Bundle exports check their customers and items the same way before anything is
sent (:func:`~syncstate.services.bundle_export.check_bundle_mappings`).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from syncstate.errors import UnmappedReference
from syncstate.ports import Document, StoredRecord
from syncstate.ports.names import RemoteIdChecker
from syncstate.services.rendering import Renderer, default_renderers

__all__ = ["ReferenceLister", "checked_renderers"]


@runtime_checkable
class ReferenceLister(Protocol):
    """Optional: a back end that says which mapped ids a document would send."""

    def document_references(
        self, company: str, document: Document
    ) -> Sequence[tuple[str, str, str]]:
        """``(kind, host id, remote id)`` of every mapped name ``document`` sends."""
        ...

    def mapped_ids(self, company: str, kind: str) -> Mapping[str, str]:
        """The company's mapping table of ``kind`` (host id → remote id)."""
        ...


class _Checker:
    def __init__(self, backend: RemoteIdChecker, lister: ReferenceLister, company: str) -> None:
        self.backend, self.lister, self.company = backend, lister, company
        self.name = str(getattr(backend, "name", "the back end"))
        self.lock = threading.Lock()
        self.bad: dict[str, dict[str, str]] = {}

    def problems(self, kind: str) -> Mapping[str, str]:
        """The unusable ids of ``kind`` (checked once per run, all mapped ids at once)."""
        with self.lock:
            if kind not in self.bad:
                ids = sorted(set(self.lister.mapped_ids(self.company, kind).values()))
                found = self.backend.check_remote_ids(self.company, kind, ids) if ids else {}
                self.bad[kind] = dict(found)
            return self.bad[kind]

    def wrap(self, renderer: Renderer) -> Renderer:
        def render(stored: StoredRecord) -> Document:
            document = renderer(stored)
            for kind, host_id, remote in self.lister.document_references(self.company, document):
                reason = self.problems(kind).get(remote)
                if reason:
                    raise UnmappedReference(
                        f"{kind} {host_id!r} is mapped to {self.name} id {remote!r}, which "
                        f"{reason}: fix the {kind} mapping (nothing was sent)",
                        what=kind,
                        host_id=host_id,
                        record=str(stored.key),
                    )
            return document

        return render


def checked_renderers(
    backend: object, company: str, renderers: Mapping[str, Renderer] | None = None
) -> dict[str, Renderer]:
    """``renderers`` (with the defaults) that validate mapped ids before sending.

    A back end that cannot list a document's references or check ids
    (:class:`ReferenceLister` and :class:`~syncstate.ports.names.RemoteIdChecker`)
    gets the renderers unchanged.
    """
    base = {**default_renderers(), **(renderers or {})}
    if not (isinstance(backend, RemoteIdChecker) and isinstance(backend, ReferenceLister)):
        return base
    checker = _Checker(backend, backend, company)
    return {kind: checker.wrap(renderer) for kind, renderer in base.items()}
