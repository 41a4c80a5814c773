"""Send claimed records to a back end: one worker's part of an export run.

The engine (:mod:`syncstate.services.export`) claims records, renders them and
hands :class:`Item` s to a :class:`Sender` on a worker thread. The sender talks
to the back end and returns one :class:`RecordOutcome` per item; it never
touches the store (the engine writes outcomes in batches).

For every item, in order:

1. **Ambiguous?** An item may already exist remotely (its lease expired while
   in flight, or an earlier attempt timed out). If the back end declares
   ``LOOKUP_BY_KEY`` the sender asks for the idempotency key and links what it
   finds; if it only declares ``REPLAYS_KEY`` it sends again with the same key;
   with neither it sends nothing and reports that an operator must decide.
   If the lookup itself fails (a query fault, a 5xx, a timeout), the item stays
   in flight with the same key, reported as pending with the reason
   (:class:`~syncstate.errors.UnresolvedOutcome`): only a definite refusal of
   the create itself moves a record to ``failed``.
2. **Send** (``create``, ``update`` for an overwrite, or ``create_batch``),
   after the shared throttle gate and pacer allow it.
3. **Retry** transient errors with the policy of :mod:`syncstate.services.retry`
   (same key every time). A request that never left the machine
   (:class:`~syncstate.errors.NotSent`) is retried with the same key too, and a
   record that was never sent is released, not looked up. Consecutive
   connection failures feed the run's :class:`~syncstate.services.breaker.Breaker`,
   which stops the run when the back end is down. A stale version on an overwrite
   is refetched and retried once. A duplicate that names the existing document
   is linked to it.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Sequence
from typing import TypeVar

import attrs
import tenacity

from syncstate.domain.state import idempotency_key
from syncstate.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    BackendError,
    DuplicateDocumentError,
    NotSent,
    StaleVersionError,
    SyncStateError,
    ThrottledError,
    TransientBackendError,
    UnresolvedOutcome,
)
from syncstate.ports import (
    AccountingBackend,
    Capability,
    RemoteRef,
    can_look_up,
)
from syncstate.services.breaker import Breaker
from syncstate.services.outcomes import (
    Attempt as _Attempt,
)
from syncstate.services.outcomes import (
    Cancelled,
    Item,
    NeedsOperator,
    Outcome,
    RecordOutcome,
)
from syncstate.services.pacing import Pacer, ThrottleGate
from syncstate.services.retry import RetryPolicy, retrying, should_retry

__all__ = ["Item", "Outcome", "RecordOutcome", "Sender"]

log = logging.getLogger(__name__)

_R = TypeVar("_R")

#: appended to the key of the one retry after a stale version (refused definitely)
STALE_RETRY_SUFFIX = "s1"


class Sender:
    """Sends items for one company; safe to share between worker threads."""

    def __init__(
        self,
        backend: AccountingBackend,
        company: str,
        *,
        policy: RetryPolicy,
        gate: ThrottleGate,
        pacer: Pacer,
        sleep: Callable[[float], None],
        cancelled: threading.Event,
        notify: Callable[[str], None],
        seed: int | None = None,
        breaker: Breaker | None = None,
    ) -> None:
        self.backend = backend
        self.company = company
        self.policy = policy
        self.gate = gate
        self.pacer = pacer
        self.sleep = sleep
        self.cancelled = cancelled
        self.notify = notify
        #: stops the run when the back end cannot be reached (never trips when None)
        self.breaker = breaker or Breaker(limit=2**31, budget=float("inf"))
        self._caps = backend.capabilities
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        #: set when the back end refused our credentials: the run stops
        self.fatal: AuthenticationError | None = None
        #: retries made so far by every worker (batch retries included)
        self.retries = 0

    def __repr__(self) -> str:
        return f"Sender(backend={self.backend.name!r}, company={self.company!r})"

    # ------------------------------------------------------------ plumbing

    def _request(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled(self.breaker.reason or "export cancelled")
        self.gate.wait()
        self.pacer.acquire()

    def _call(self, request: Callable[[], _R]) -> _R:
        """Make one back-end request, telling the breaker whether the back end answered."""
        self._request()
        try:
            result = request()
        except NotSent as exc:
            if self.breaker.failed(exc):
                self.cancelled.set()
            raise
        except BaseException:
            self.breaker.answered()
            raise
        self.breaker.answered()
        return result

    def _pause(self, delay: float) -> None:
        """Sleep before a retry, unless the run was cancelled (or the breaker tripped)."""
        if not self.cancelled.is_set():
            self.sleep(delay)

    def _loop(
        self, attempt: _Attempt | None, predicate: Callable[[BaseException], bool] = should_retry
    ) -> tenacity.Retrying:
        with self._rng_lock:
            rng = random.Random(self._rng.random())

        def on_retry(number: int, error: BaseException, delay: float) -> None:
            if attempt is not None:
                attempt.retries += 1
            with self._rng_lock:
                self.retries += 1
            if isinstance(error, ThrottledError):
                self.gate.close_for(delay)
            if isinstance(error, NotSent) and self.breaker.waiting(delay, error):
                self.cancelled.set()
            what = attempt.item.stored.key if attempt is not None else "batch"
            message = f"retry {number} for {what} in {delay:.1f}s: {error}"
            log.info(message)
            self.notify(message)

        return retrying(
            self.policy,
            sleep=self._pause,
            on_retry=on_retry,
            rng=rng,
            give_up=self.cancelled.is_set,
            predicate=predicate,
        )

    def _outcome(self, attempt: _Attempt, outcome: Outcome, **kw: object) -> RecordOutcome:
        return RecordOutcome(
            key=attempt.item.stored.key,
            outcome=outcome,
            idempotency_key=attempt.item.key,
            retries=attempt.retries,
            **kw,  # type: ignore[arg-type]
        )

    def _linked(self, attempt: _Attempt, ref: RemoteRef, message: str = "") -> RecordOutcome:
        outcome = Outcome.UPDATED if attempt.item.ref is not None else Outcome.EXPORTED
        return self._outcome(
            attempt,
            outcome,
            remote_id=ref.remote_id,
            version=ref.version,
            doc_number=ref.doc_number,
            message=message,
        )

    def _unsent(self, attempt: _Attempt, error: BaseException) -> RecordOutcome:
        """Not confirmed: release it if it never left, keep it in flight if it may have."""
        if attempt.ambiguous:
            hint = "it stays in flight; the next run looks it up by its key"
            if isinstance(error, Cancelled):
                hint = "it stays in flight; the next run looks it up by its key before sending"
            if isinstance(error, NeedsOperator):
                hint = "it stays in flight until an operator decides"
            return self._outcome(attempt, Outcome.PENDING, message=f"{error}; {hint}")
        return self._outcome(attempt, Outcome.RELEASED, message=str(error))

    # --------------------------------------------------------- single item

    def _resolve(self, attempt: _Attempt) -> RemoteRef | None:
        """Before re-sending an ambiguous item: find it by key, or decide it is safe."""
        item = attempt.item
        if can_look_up(self.backend, item.document.kind):
            try:
                ref = self._call(
                    lambda: self.backend.lookup(self.company, item.document.kind, item.key)
                )
            except (TransientBackendError, AuthenticationError, Cancelled):
                raise  # retried with the same key, or the run stops
            except Exception as exc:  # the lookup failed: the outcome stays unknown
                raise UnresolvedOutcome(
                    f"looking up idempotency key {item.key} failed ({exc}); "
                    "the document may exist remotely",
                    record=str(item.stored.key),
                ) from exc
            if ref is not None:
                log.info("record %s found remotely by key %s", item.stored.key, item.key)
            return ref
        if Capability.REPLAYS_KEY in self._caps:
            return None
        raise NeedsOperator(
            f"back end {self.backend.name} can neither look up nor replay idempotency key "
            f"{item.key}; the document may or may not exist remotely"
        )

    def _send_one(self, attempt: _Attempt, ref: RemoteRef | None) -> RemoteRef:
        if attempt.ambiguous:
            found = self._resolve(attempt)
            if found is not None:
                attempt.linked = True
                return found
        item = attempt.item
        try:
            if ref is not None:
                update = ref
                return self._call(
                    lambda: self.backend.update(
                        self.company, update, item.document, idempotency_key=item.key
                    )
                )
            return self._call(
                lambda: self.backend.create(self.company, item.document, idempotency_key=item.key)
            )
        except AmbiguousOutcome:
            attempt.ambiguous = True
            raise

    def _with_retries(self, attempt: _Attempt, ref: RemoteRef | None) -> RemoteRef:
        result: RemoteRef | None = None
        for retry in self._loop(attempt):
            with retry:
                result = self._send_one(attempt, ref)
        assert result is not None  # tenacity re-raises the last error otherwise
        return result

    def _refetch(self, attempt: _Attempt) -> tuple[RemoteRef | None, bool]:
        """After a stale version: (current ref, whether it is our own committed update).

        With ``FETCH_BY_ID`` the current version is read by the document's remote id
        (any age, any kind); the update is then sent once more with it (sending our
        own committed update again only writes the same content). Otherwise the
        document is found by the keys it was created or last updated with.
        """
        item = attempt.item
        status = item.stored.status
        fetch = getattr(self.backend, "fetch_ref", None)
        if Capability.FETCH_BY_ID in self._caps and callable(fetch) and status.remote_id:
            remote_id = status.remote_id
            fresh = self._call(lambda: fetch(self.company, item.document.kind, remote_id))
            return (fresh if isinstance(fresh, RemoteRef) else None), False
        if not can_look_up(self.backend, item.document.kind):
            return None, False

        def lookup(key: str) -> RemoteRef | None:
            return self._call(lambda: self.backend.lookup(self.company, item.document.kind, key))

        mine = lookup(item.key)
        if mine is not None:
            return mine, True
        for revision in range(status.revision - 1, -1, -1):
            found = lookup(idempotency_key(item.stored.key, status.generation, revision))
            if found is not None and found.remote_id == status.remote_id:
                return found, False
        return None, False

    def send(self, item: Item) -> RecordOutcome:
        """Send one item (create, or update when it has a remote document)."""
        attempt = _Attempt(item=item, ambiguous=item.ambiguous)
        ref = item.ref
        try:
            try:
                result = self._with_retries(attempt, ref)
            except StaleVersionError as stale:
                fresh, mine = self._refetch(attempt)
                if fresh is None:
                    return self._outcome(
                        attempt,
                        Outcome.FAILED,
                        message=f"{stale}; the current version could not be fetched",
                    )
                if mine:
                    return self._linked(attempt, fresh)
                self.notify(f"stale version for {item.stored.key}: refetched, retrying once")
                # a key of its own: a back end that replays keys would replay the 5010
                attempt.item = attrs.evolve(item, key=f"{item.key}-{STALE_RETRY_SUFFIX}")
                try:
                    result = self._with_retries(attempt, fresh)
                except StaleVersionError as again:
                    return self._outcome(
                        attempt, Outcome.FAILED, message=f"{again} (after refetching once)"
                    )
            message = "found by its idempotency key" if attempt.linked else ""
            return self._linked(attempt, result, message)
        except DuplicateDocumentError as dup:
            if dup.existing_id:
                ref = RemoteRef(remote_id=dup.existing_id, kind=item.document.kind)
                return self._linked(attempt, ref, f"linked to existing {dup.existing_id}")
            return self._outcome(attempt, Outcome.FAILED, message=str(dup))
        except AuthenticationError as exc:
            self.fatal = exc
            self.cancelled.set()
            return self._unsent(attempt, exc)
        except (TransientBackendError, Cancelled, NeedsOperator, UnresolvedOutcome) as exc:
            return self._unsent(attempt, exc)
        except SyncStateError as exc:  # rejected before or by the back end
            return self._outcome(attempt, Outcome.FAILED, message=str(exc))

    # --------------------------------------------------------------- batch

    def _lookup_many(
        self, many: Callable[..., object], kind: str, keys: list[str]
    ) -> dict[str, RemoteRef]:
        answer = self._call(lambda: many(self.company, kind, keys))
        if not isinstance(answer, dict):
            raise UnresolvedOutcome(f"{self.backend.name}.lookup_many answered {answer!r}")
        return {k: v for k, v in answer.items() if k in keys and isinstance(v, RemoteRef)}

    def _resolve_batch(
        self, attempts: Sequence[_Attempt], error: BaseException, *, rebatch: bool
    ) -> list[RecordOutcome] | None:
        """One ``lookup_many`` per kind for an ambiguous batch (None: not possible here).

        Found documents are linked; the rest provably do not exist and are sent
        again as a batch (same keys). If the lookup fails, every item stays in flight
        with its key, pending with the reason.
        """
        many = getattr(self.backend, "lookup_many", None)
        kinds = {a.item.document.kind for a in attempts}
        if (
            Capability.LOOKUP_MANY not in self._caps
            or not callable(many)
            or not all(can_look_up(self.backend, kind) for kind in kinds)
        ):
            return None
        found: dict[str, RemoteRef] = {}
        try:
            for kind in sorted(kinds):
                keys = [a.item.key for a in attempts if a.item.document.kind == kind]
                found.update(self._lookup_many(many, kind, keys))
        except (TransientBackendError, AuthenticationError, Cancelled, SyncStateError) as exc:
            if isinstance(exc, AuthenticationError):
                self.fatal = exc
                self.cancelled.set()
            reason = UnresolvedOutcome(
                f"batch ended ambiguously ({error}) and looking up its keys failed ({exc}); "
                "the documents may exist remotely"
            )
            return [self._unsent(attrs.evolve(a, ambiguous=True), reason) for a in attempts]
        self.notify(
            f"batch of {len(attempts)} ended ambiguously ({error}); one lookup found "
            f"{len(found)}, sending {len(attempts) - len(found)} again"
        )
        out = [
            self._linked(a, found[a.item.key], "found by its idempotency key")
            for a in attempts
            if a.item.key in found
        ]
        rest = [a.item for a in attempts if a.item.key not in found]
        if len(rest) > 1 and rebatch:  # once more as a batch, then one by one
            out += self.send_batch(rest, rebatch=False)
        else:
            out += [self.send(item) for item in rest]
        return out

    def send_batch(self, items: Sequence[Item], *, rebatch: bool = True) -> list[RecordOutcome]:
        """Create fresh items with ``create_batch``; stragglers go one by one.

        After an ambiguous batch, what one lookup did not find is sent again as a
        batch once (``rebatch``), then one by one.
        """
        attempts = [_Attempt(item=i, ambiguous=False) for i in items]
        results: list[RemoteRef | BackendError] = []
        try:
            # only throttling is retried whole: after an ambiguous answer some items
            # may exist, so each is looked up (or replayed) on its own instead
            # (and a batch that never left the machine is retried whole, same keys)
            for retry in self._loop(None, lambda exc: isinstance(exc, ThrottledError | NotSent)):
                with retry:
                    results = self._call(
                        lambda: self.backend.create_batch(
                            self.company, [(i.document, i.key) for i in items]
                        )
                    )
        except AmbiguousOutcome as exc:
            # The batch may have committed: one lookup for all its keys where the back
            # end can, else every item is looked up (or replayed) alone.
            resolved = self._resolve_batch(attempts, exc, rebatch=rebatch)
            if resolved is not None:
                return resolved
            self.notify(f"batch of {len(items)} ended ambiguously ({exc}); checking one by one")
            return [self.send(attrs.evolve(a.item, ambiguous=True)) for a in attempts]
        except AuthenticationError as exc:
            self.fatal = exc
            self.cancelled.set()
            return [self._unsent(a, exc) for a in attempts]
        except (TransientBackendError, Cancelled) as exc:
            return [self._unsent(a, exc) for a in attempts]
        except SyncStateError as exc:
            return [self._outcome(a, Outcome.FAILED, message=str(exc)) for a in attempts]
        out: list[RecordOutcome] = []
        for attempt, result in zip(attempts, results, strict=True):
            if isinstance(result, RemoteRef):
                out.append(self._linked(attempt, result))
            elif isinstance(result, DuplicateDocumentError) and result.existing_id:
                ref = RemoteRef(remote_id=result.existing_id, kind=attempt.item.document.kind)
                out.append(self._linked(attempt, ref, f"linked to existing {result.existing_id}"))
            elif isinstance(result, TransientBackendError):
                ambiguous = isinstance(result, AmbiguousOutcome)
                out.append(self.send(attrs.evolve(attempt.item, ambiguous=ambiguous)))
            elif isinstance(result, AuthenticationError):
                self.fatal = result
                self.cancelled.set()
                out.append(self._unsent(attempt, result))
            else:
                out.append(self._outcome(attempt, Outcome.FAILED, message=str(result)))
        return out
