"""The budget store port: request rate and concurrency shared by every worker.

A back end limits each company (realm, tenant) as a whole, not each process:
QuickBooks Online allows 500 requests a minute and 10 concurrent requests per
realm, whoever sends them. A :class:`BudgetStore` keeps, per
:class:`BudgetScope` (back end, company), what every worker process and machine
must agree on:

* the next free request time (a token bucket with a burst of one, i.e. evenly
  spaced slots: the generic cell rate algorithm), for all requests and, apart,
  for batch requests;
* the concurrency slots in use, each with a lease, so that the slots of a
  worker that died come back when their lease runs out (a live holder whose
  request runs long keeps its slot by renewing the lease: :meth:`BudgetStore.renew`);
* a hold (``Retry-After``) that one worker saw and every worker obeys.

:meth:`BudgetStore.take` does all of it in one round trip and hands back a
:class:`Grant`: a slot to use after ``wait`` seconds, or no slot and how long to
wait before asking again. Times are the store's own clock (PostgreSQL's on many
machines), so workers need not agree on the time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

import attrs

from syncstate.errors import InputError

__all__ = ["BudgetLimits", "BudgetScope", "BudgetStore", "BudgetUsage", "Grant"]


def _positive_or_none(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or not value > 0
    ):
        raise InputError(f"budget limits: {attribute.name} must be positive or None, got {value!r}")


@attrs.frozen(kw_only=True)
class BudgetLimits:
    """What a back end allows one company; ``None`` is unlimited.

    * ``per_minute``: requests a minute, batch requests included;
    * ``concurrent``: requests in progress at once;
    * ``batch_per_minute``: batch requests a minute (they count in ``per_minute`` too).
    """

    per_minute: float | None = attrs.field(default=None, validator=_positive_or_none)
    concurrent: int | None = attrs.field(default=None, validator=_positive_or_none)
    batch_per_minute: float | None = attrs.field(default=None, validator=_positive_or_none)

    def lowered(self, other: BudgetLimits | None) -> BudgetLimits:
        """The stricter of ``self`` and ``other`` in every field (a host can only lower)."""
        if other is None:
            return self

        def low(a: float | None, b: float | None) -> float | None:
            return b if a is None else a if b is None else min(a, b)

        concurrent = low(self.concurrent, other.concurrent)
        return BudgetLimits(
            per_minute=low(self.per_minute, other.per_minute),
            concurrent=None if concurrent is None else int(concurrent),
            batch_per_minute=low(self.batch_per_minute, other.batch_per_minute),
        )

    def scaled(self, factor: float) -> BudgetLimits:
        """The rates times ``factor`` (headroom below the documented limit); slots kept."""
        return attrs.evolve(
            self,
            per_minute=None if self.per_minute is None else self.per_minute * factor,
            batch_per_minute=(
                None if self.batch_per_minute is None else self.batch_per_minute * factor
            ),
        )


@attrs.frozen
class BudgetScope:
    """Whose budget: one back end (by name) and one company of it."""

    backend: str
    company: str

    def __str__(self) -> str:
        return f"{self.backend}/{self.company}"


@attrs.frozen(kw_only=True)
class Grant:
    """The answer of :meth:`BudgetStore.take`.

    With ``slot`` set, the caller holds a concurrency slot and may send its
    request after ``wait`` seconds (its place in the request rate); it must
    :meth:`~BudgetStore.release` the slot afterwards. Without ``slot``, nothing
    was taken: ask again after ``wait`` seconds; ``reason`` says why (``held``:
    a ``Retry-After`` holds the company back; ``busy``: every slot is in use).
    """

    slot: str | None
    wait: float
    reason: Literal["granted", "held", "busy"] = "granted"


@attrs.frozen(kw_only=True)
class BudgetUsage:
    """A snapshot of one scope: slots in use and the hold still to run (seconds)."""

    slots: int
    held_for: float
    holders: tuple[str, ...] = ()


class BudgetStore(Protocol):
    """Shared budgets of many companies; safe to use from many threads and processes."""

    def take(
        self,
        scope: BudgetScope,
        limits: BudgetLimits,
        *,
        holder: str,
        batch: bool = False,
        cost: int = 1,
        lease: float = 130.0,
        release: Sequence[str] = (),
    ) -> Grant:
        """Take a concurrency slot and the next request time, atomically, in one round trip.

        ``cost`` is how many requests the slot will make one after the other (the
        request rate moves on by that many); ``lease`` how long the slot may be held
        (seconds past its request time). ``release`` hands back slots of this scope
        first, in the same round trip. Expired leases are dropped before counting.
        """
        ...

    def release(self, scope: BudgetScope, slots: Sequence[str]) -> None:
        """Hand slots back (unknown or expired ones are ignored)."""
        ...

    def renew(
        self, scope: BudgetScope, slots: Sequence[str], *, lease: float = 130.0
    ) -> tuple[str, ...]:
        """Extend the leases of live ``slots`` to ``lease`` seconds from now, in one round trip.

        The heartbeat of a holder whose request is still running: a lease is never
        shortened, and a slot already expired (the others may have counted it free),
        released or unknown is not renewed. Answers the slots renewed, so a holder
        knows which it lost.
        """
        ...

    def hold(self, scope: BudgetScope, seconds: float) -> None:
        """Hold every worker of ``scope`` back for ``seconds`` (never shortens a hold)."""
        ...

    def usage(self, scope: BudgetScope) -> BudgetUsage:
        """Slots in use (live leases) and the hold still to run."""
        ...

    def close(self) -> None:
        """Release connections and files."""
        ...
