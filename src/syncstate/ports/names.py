"""Optional back-end ports for existing names: matching them and validating mapped ids.

A back end whose company already holds customers, vendors or items (most
QuickBooks companies do) offers :class:`NameMatcher`, so customer sync matches
the existing ones instead of failing on a duplicate name, and
:class:`RemoteIdChecker`, so mapped remote ids are validated in one request
before any document is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, Protocol, runtime_checkable

import attrs

__all__ = ["MatchStatus", "NameCandidate", "NameMatch", "NameMatcher", "RemoteIdChecker"]

MatchStatus = Literal["matched", "ambiguous", "taken", "none"]


@attrs.frozen(kw_only=True)
class NameCandidate:
    """An entity of the back end that has (or resembles) a wanted name."""

    entity: str
    remote_id: str
    name: str
    active: bool = True
    #: ``same`` (the back end's own equality) or ``similar`` (only a proposal)
    likeness: Literal["same", "similar"] = "same"


@attrs.frozen(kw_only=True)
class NameMatch:
    """The outcome for one wanted name; ``remote_id`` is set when ``matched``.

    ``matched``: exactly one active entity of the wanted type has the name;
    ``ambiguous``: candidates are proposed, nothing is chosen; ``taken``: the
    name belongs to an entity of another type (creating it would be refused);
    ``none``: nothing has the name, it can be created.
    """

    name: str
    entity: str
    status: MatchStatus
    remote_id: str | None = None
    candidates: tuple[NameCandidate, ...] = ()

    @property
    def reason(self) -> str:
        """One line for results views: why it was (not) matched."""
        shown = ", ".join(
            f"{c.entity} {c.remote_id} {c.name!r}{'' if c.active else ' (inactive)'}"
            for c in self.candidates
        )
        if self.status == "matched":
            return f"matched {self.entity} {self.remote_id}"
        if self.status == "taken":
            return f"the name is used by {shown}; a second one would be refused"
        if self.status == "ambiguous":
            return f"not matched automatically; candidates: {shown}"
        return "no entity has this name"


@runtime_checkable
class NameMatcher(Protocol):
    """Optional: a back end that matches host names to its existing entities."""

    def match_names(self, company: str, kind: str, names: Iterable[str]) -> Mapping[str, NameMatch]:
        """Each name matched to an existing ``kind`` (``customer``, ``vendor``, ``item``)."""
        ...


@runtime_checkable
class RemoteIdChecker(Protocol):
    """Optional: a back end that validates many remote ids in one request."""

    def check_remote_ids(
        self, company: str, kind: str, remote_ids: Iterable[str]
    ) -> Mapping[str, str]:
        """The ids that cannot be used, each with the reason (``does not exist``, ...)."""
        ...
