"""The retry rule, the back-off, and request pacing."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from syncstate.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    DuplicateDocumentError,
    InputError,
    RemoteNotFound,
    RemoteValidationError,
    StaleVersionError,
    ThrottledError,
    TransientBackendError,
)
from syncstate.services.pacing import Pacer, ThrottleGate
from syncstate.services.retry import RetryPolicy, retry_delay, retrying, should_retry


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (ThrottledError("429", status=429), True),
        (AmbiguousOutcome("timeout"), True),
        (AmbiguousOutcome("503", status=503), True),
        (TransientBackendError("blip"), True),
        (RemoteValidationError("bad", status=400), False),
        (StaleVersionError("stale", code="5010"), False),
        (DuplicateDocumentError("dup", existing_id="9"), False),
        (RemoteNotFound("gone", status=404), False),
        (AuthenticationError("401", status=401), False),
        (ValueError("a bug"), False),
    ],
)
def test_only_throttling_and_ambiguous_outcomes_are_retried(
    error: BaseException, retried: bool
) -> None:
    assert should_retry(error) is retried


def test_back_off_doubles_and_is_capped() -> None:
    policy = RetryPolicy(initial=1, multiplier=2, maximum=5, jitter=0)
    blip = AmbiguousOutcome("x")
    assert [retry_delay(policy, n, blip, 0.9) for n in (1, 2, 3, 4)] == [1, 2, 4, 5]


def test_retry_after_wins_and_is_capped() -> None:
    policy = RetryPolicy(max_retry_after=10)
    assert retry_delay(policy, 1, ThrottledError("x", retry_after=3), 0.5) == 3
    assert retry_delay(policy, 1, ThrottledError("x", retry_after=600), 0.5) == 10


@settings(max_examples=200)
@given(attempt=st.integers(1, 30), draw=st.floats(0, 1, exclude_max=True))
def test_jitter_only_ever_shortens_the_wait(attempt: int, draw: float) -> None:
    policy = RetryPolicy(initial=0.5, multiplier=2, maximum=30, jitter=0.5)
    full = retry_delay(policy, attempt, AmbiguousOutcome("x"), 0.0)
    delay = retry_delay(policy, attempt, AmbiguousOutcome("x"), draw)
    assert full / 2 <= delay <= full <= 30


def test_policy_refuses_nonsense() -> None:
    with pytest.raises(InputError):
        RetryPolicy(attempts=0)
    with pytest.raises(InputError):
        RetryPolicy(initial=-1)


def test_the_loop_stops_after_the_configured_attempts_and_reraises() -> None:
    calls: list[int] = []
    seen: list[tuple[int, float]] = []
    loop = retrying(
        RetryPolicy(attempts=3, initial=1, jitter=0),
        sleep=lambda _s: None,
        on_retry=lambda n, _e, d: seen.append((n, d)),
    )
    with pytest.raises(AmbiguousOutcome):
        for attempt in loop:
            with attempt:
                calls.append(1)
                raise AmbiguousOutcome("timeout")
    assert len(calls) == 3 and seen == [(1, 1.0), (2, 2.0)]


def test_the_loop_never_retries_a_validation_error() -> None:
    calls: list[int] = []
    with pytest.raises(RemoteValidationError):
        for attempt in retrying(RetryPolicy(), sleep=lambda _s: None):
            with attempt:
                calls.append(1)
                raise RemoteValidationError("bad")
    assert calls == [1]


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_pacer_spaces_requests_to_the_rate_limit() -> None:
    clock = FakeTime()
    pacer = Pacer(120, monotonic=clock.monotonic, sleep=clock.sleep)
    for _ in range(5):
        pacer.acquire()
    assert clock.now == pytest.approx(102.0)  # 4 gaps of half a second


def test_pacer_without_a_limit_never_waits() -> None:
    clock = FakeTime()
    pacer = Pacer(None, monotonic=clock.monotonic, sleep=clock.sleep)
    assert sum(pacer.acquire() for _ in range(100)) == 0 and not clock.slept


def test_throttle_gate_holds_everyone_until_retry_after() -> None:
    clock = FakeTime()
    gate = ThrottleGate(monotonic=clock.monotonic, sleep=clock.sleep)
    gate.close_for(3)
    gate.close_for(1)  # never shortens
    assert gate.wait() == 3 and gate.wait() == 0
