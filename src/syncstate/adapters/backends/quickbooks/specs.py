"""How QuickBooks entities are described, and the lookup tag syncstate writes into them.

:class:`EntitySpec` says how one document kind lives in QuickBooks (entity name,
the free-text field that carries the lookup tag, how it is reversed). The tag
``[syncstate:<idempotency key>]`` (:func:`tag_for`, :func:`find_tag`,
:func:`with_tag`) lets a document be found again after an ambiguous failure.
Pure; shared by :mod:`.payloads` and :mod:`.entities`.
"""

from __future__ import annotations

import attrs

__all__ = ["TAG_PREFIX", "EntitySpec", "find_tag", "ref", "tag_for", "with_tag"]

TAG_PREFIX = "[syncstate:"


@attrs.frozen(kw_only=True)
class EntitySpec:
    """How one document kind lives in QuickBooks."""

    kind: str
    entity: str
    #: free-text field the lookup tag is written into (None: no tag, no lookup)
    tag_field: str | None
    #: how ``delete`` reverses it: ``void`` (operation=void), ``void_update``
    #: (update with include=void), ``delete`` or ``deactivate`` (Active=false)
    reverse: str
    pdf: bool = False
    transaction: bool = True

    @property
    def resource(self) -> str:
        """The lower-case resource name in URLs (``salesreceipt``)."""
        return self.entity.lower()


def tag_for(idempotency_key: str) -> str:
    """The lookup tag written into the document: ``[syncstate:<key>]``."""
    return f"{TAG_PREFIX}{idempotency_key}]"


def find_tag(text: str | None) -> str | None:
    """The idempotency key of the last tag in ``text``, if any."""
    if not text:
        return None
    start = text.rfind(TAG_PREFIX)
    if start < 0:
        return None
    end = text.find("]", start)
    return text[start + len(TAG_PREFIX) : end] if end > start else None


def with_tag(text: str, key: str) -> str:
    """``text`` with its lookup tag replaced by the one of ``key``."""
    base = text.strip()
    start = base.rfind(TAG_PREFIX)
    if start >= 0:
        base = base[:start].rstrip()
    return f"{base} {tag_for(key)}".strip()


def ref(value: str) -> dict[str, str]:
    """A QuickBooks reference (``{"value": id}``)."""
    return {"value": value}
