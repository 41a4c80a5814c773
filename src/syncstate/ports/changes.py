"""Changes made at the back end, as a back end reports them (change feeds, webhooks).

A :class:`RemoteChange` says that one remote document was created, updated,
voided, deleted or merged at the back end, with its version token when the
back end said it (QuickBooks' change data capture does; its webhooks do not).
:func:`syncstate.services.remote_changes.apply_remote_changes` decides what each
change means for the exported record linked to that document.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import attrs

__all__ = ["RemoteChange", "RemoteOperation"]

#: what happened to the remote document
RemoteOperation = Literal["create", "update", "delete", "void", "merge", "emailed"]


@attrs.frozen(kw_only=True)
class RemoteChange:
    """One change of one remote document of one company.

    ``kind`` is the document kind syncstate sends (``invoice``, ``sales_receipt``,
    ...); ``version`` the remote version token after the change (None when the
    source did not say); ``at`` when the back end changed it; ``detail`` what
    changed, for people (``"SyncToken 3, TotalAmt 0"``); ``source`` where it was
    heard (``cdc`` or ``webhook``).
    """

    company: str
    kind: str
    remote_id: str
    operation: RemoteOperation
    version: str | None = None
    at: dt.datetime | None = None
    detail: str = ""
    source: str = "cdc"

    @property
    def removes(self) -> bool:
        """Whether the change takes the document away (deleted, voided, merged away)."""
        return self.operation in ("delete", "void", "merge")
