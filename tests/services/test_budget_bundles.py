"""Bundle export (overwrite included), PDFs and unexport keep to the company's shared budget.

Counted where it matters: every request the local QuickBooks-like server answers
for the realm was first granted by the shared budget store (one slot per request,
two for an update, which reads before it writes). A ``Retry-After`` is a hold
every worker obeys; the store runs on a hand-moved clock, so the holds are exact.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

from qbo_bundles import (
    bundle_service,
    ingest_ann_and_bob,
    map_customers_and_room,
    mapped_backend,
)
from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend
from syncstate.adapters.storage.memory.budgets import MemoryBudgetStore
from syncstate.domain.bundling import BundleKind
from syncstate.domain.records import RecordKey
from syncstate.domain.state import ExportState
from syncstate.ports.budget import BudgetLimits, BudgetScope, Grant
from syncstate.services.budgets import Budgets
from syncstate.services.bundle_export import (
    bundle_renderers,
    export_bundles,
    fetch_bundle_pdf,
    unbundle_and_reverse,
)
from syncstate.services.bundling import BundleService
from syncstate.services.export import ExportOptions, unexport
from syncstate.services.export_report import UnexportReport
from syncstate.services.retry import RetryPolicy
from syncstate.testing.qbo_faults import QboFaultAnswer
from syncstate.testing.qbo_meter import MeteredQboServer
from syncstate.testing.qbo_rules import FaultRule

CO = "acme"
AT = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC)
THROTTLE = QboFaultAnswer("3001", "ThrottleExceeded", status=429, fault_type="SERVICE")


class LocalQuickBooks(QuickBooksBackend):
    """QuickBooks with a limit fit for a test (its documented rate spaces requests 0.12 s)."""

    budget_limits = BudgetLimits(concurrent=2)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self.on_sleep: Callable[[float], None] = lambda _s: None

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.on_sleep(seconds)
        self.slept.append(seconds)
        self.now += seconds


class Counting(MemoryBudgetStore):
    """The memory store, counting the requests its grants allow (a slot's ``cost``)."""

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__(clock=clock)
        self.granted = 0
        self._count_lock = threading.Lock()

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
        grant = super().take(
            scope, limits, holder=holder, batch=batch, cost=cost, lease=lease, release=release
        )
        if grant.slot is not None:
            with self._count_lock:
                self.granted += cost
        return grant


@pytest.fixture
def server() -> Iterator[MeteredQboServer]:
    with MeteredQboServer() as running:
        yield running


@pytest.fixture
def world(
    server: MeteredQboServer, tmp_path: Path
) -> Iterator[tuple[BundleService, LocalQuickBooks, str]]:
    """A receipt (ann), an invoice and its payment (bob); every mapping at the server."""
    realm = f"bb-{uuid.uuid4().hex[:10]}"
    with bundle_service(tmp_path) as service:
        map_customers_and_room(service, server, realm, CO, {"ann": "Ann Lee", "bob": "Bob Ray"})
        ingest_ann_and_bob(service, CO, at=AT)
        service.bundle(CO)
        with mapped_backend(
            service, server, realm, CO, kind=LocalQuickBooks, timeout=10.0
        ) as backend:
            yield service, backend, realm


def options(budgets: Budgets) -> ExportOptions:
    return ExportOptions(
        concurrency=4, sleep=lambda _s: None, seed=3, retry=RetryPolicy(attempts=4), budget=budgets
    )


def exported_under_budget(
    world: tuple[BundleService, LocalQuickBooks, str], **settings: float
) -> tuple[Clock, MemoryBudgetStore, Budgets]:
    """The world exported through fresh budgets (``settings``) on a hand-moved clock."""
    service, backend, _realm = world
    clock = Clock()
    store = MemoryBudgetStore(clock=clock)
    budgets = Budgets(store=store, headroom=1.0, sleep=clock.sleep, **settings)
    export_bundles(service, backend, CO, options=options(budgets))
    return clock, store, budgets


def unexport_under_budget(
    world: tuple[BundleService, LocalQuickBooks, str],
    keys: list[RecordKey],
    budgets: Budgets,
    sleep: Callable[[float], None],
) -> UnexportReport:
    """Unexport ``keys`` through ``budgets`` (``sleep`` is the run's own retry wait)."""
    service, backend, _realm = world
    return unexport(
        service.store, backend, CO, keys, renderers=bundle_renderers(service.store),
        budget=budgets, sleep=sleep,
    )  # fmt: skip


def test_every_request_of_bundle_export_overwrite_pdf_and_reverse_goes_through_the_budget(
    world: tuple[BundleService, LocalQuickBooks, str], server: MeteredQboServer
) -> None:
    service, backend, realm = world
    clock = Clock()
    store = Counting(clock)
    budgets = Budgets(store=store, headroom=1.0, sleep=clock.sleep)

    def sent() -> int:
        return server.report(realm, window=60).requests

    report = export_bundles(service, backend, CO, options=options(budgets))
    assert report.summary() == {"exported": 3}
    assert sent() >= 4  # the mapping check's look-ups, the documents, the payment
    assert store.granted == sent()

    receipt = next(v for v in service.reconciled(CO) if v.bundle.kind is BundleKind.SALES_RECEIPT)
    invoice = next(v for v in service.reconciled(CO) if v.bundle.kind is BundleKind.INVOICE)
    before = sent()
    again = export_bundles(
        service, backend, CO, bundle_ids=[receipt.bundle.bundle_id], overwrite=True,
        options=options(budgets),
    )  # fmt: skip
    assert [o.outcome for o in again.outcomes] == ["updated"]
    assert sent() > before + 1  # the update read the document, then wrote it
    assert store.granted == sent()

    pdf = fetch_bundle_pdf(service, backend, CO, invoice.bundle.bundle_id, budget=budgets)
    assert pdf.startswith(b"%PDF")
    assert store.granted == sent()

    done = unbundle_and_reverse(
        service, CO, [invoice.bundle.bundle_id], backend=backend, reverse=True, cascade=True,
        budget=budgets,
    )  # fmt: skip
    assert len(done.reversed) == 2  # the payment applied to the invoice, then the invoice
    assert store.granted == sent()
    scope = BudgetScope("quickbooks", CO)
    assert store.usage(scope).slots == 0  # every slot went back at the end of each run
    assert server.report(realm, window=60).throttled == 0


def test_a_hold_seen_by_another_worker_is_obeyed_before_the_first_void(
    world: tuple[BundleService, LocalQuickBooks, str], server: MeteredQboServer
) -> None:
    service, _backend, realm = world
    clock, store, budgets = exported_under_budget(world)
    keys = [v.key for v in service.reconciled(CO) if v.bundle.kind is BundleKind.SALES_RECEIPT]
    store.hold(BudgetScope("quickbooks", CO), 30)  # a 429 another worker saw
    at_sleep: list[int] = []
    clock.on_sleep = lambda _s: at_sleep.append(server.report(realm, window=60).requests)
    sent_before = server.report(realm, window=60).requests

    report = unexport_under_budget(world, keys, budgets, sleep=lambda _s: None)
    assert report.unexported == tuple(keys) and report.failed == ()
    assert clock.slept == [pytest.approx(30)]
    assert at_sleep == [sent_before]  # nothing was sent while the company was held back
    assert server.report(realm, window=60).requests > sent_before


def test_a_429_during_unexport_holds_every_worker_then_the_void_is_sent_again(
    world: tuple[BundleService, LocalQuickBooks, str], server: MeteredQboServer
) -> None:
    service, _backend, realm = world
    clock, store, budgets = exported_under_budget(world, default_hold=7.0)
    keys = [v.key for v in service.reconciled(CO) if v.bundle.kind is BundleKind.SALES_RECEIPT]
    server.faults.rules.append(FaultRule(operation="write", answer=THROTTLE, times=1))
    held: list[float] = []

    def retry_sleep(_seconds: float) -> None:  # the run's own retry: the hold is shared now
        held.append(store.usage(BudgetScope("quickbooks", CO)).held_for)

    report = unexport_under_budget(world, keys, budgets, sleep=retry_sleep)
    assert report.unexported == tuple(keys)
    assert held == [pytest.approx(7.0)]  # no Retry-After: the default hold, for everyone
    assert clock.slept == [pytest.approx(7.0)]  # the next try waited for the hold
    assert server.report(realm, window=60).throttled == 1
    assert service.store.get(keys[0]).status.state is ExportState.NOT_EXPORTED


def test_a_hold_longer_than_the_run_may_wait_stops_the_unexport_before_sending(
    world: tuple[BundleService, LocalQuickBooks, str], server: MeteredQboServer
) -> None:
    service, _backend, realm = world
    _clock, store, budgets = exported_under_budget(world, yield_after=60)
    keys = [v.key for v in service.reconciled(CO)]
    store.hold(BudgetScope("quickbooks", CO), 600)
    sent_before = server.report(realm, window=60).requests

    report = unexport_under_budget(world, keys, budgets, sleep=lambda _s: None)
    assert report.unexported == ()
    assert [k for k, _ in report.failed] == keys
    assert all("not sent" in m and "held back" in m for _, m in report.failed)
    assert server.report(realm, window=60).requests == sent_before
    assert all(service.store.get(k).status.state is ExportState.EXPORTED for k in keys)


def test_bundle_export_and_a_reverse_unbundle_at_once_never_exceed_the_companys_slots(
    world: tuple[BundleService, LocalQuickBooks, str], server: MeteredQboServer
) -> None:
    service, backend, realm = world
    store = MemoryBudgetStore()
    budgets = Budgets(store=store, headroom=1.0, limits={"quickbooks": BudgetLimits(concurrent=1)})
    export_bundles(service, backend, CO, clients=["bob"], options=options(budgets))
    bob = [v.bundle.bundle_id for v in service.reconciled(CO)]
    server.faults.latency = 0.03
    errors: list[BaseException] = []

    def run(work: Callable[[], object]) -> None:
        try:
            work()
        except BaseException as exc:  # reported below
            errors.append(exc)

    exporting = threading.Thread(
        target=run,
        args=(lambda: export_bundles(service, backend, CO, clients=["ann"],
                                     options=options(budgets)),),
    )  # fmt: skip
    reversing = threading.Thread(
        target=run,
        args=(lambda: unbundle_and_reverse(service, CO, bob, backend=backend, reverse=True,
                                           budget=budgets),),
    )  # fmt: skip
    for thread in (exporting, reversing):
        thread.start()
    for thread in (exporting, reversing):
        thread.join(60)
    assert errors == []
    figures = server.report(realm, window=60)
    assert figures.peak_concurrent == 1 and figures.throttled == 0
    assert {v.bundle.client for v in service.reconciled(CO)} == {"ann"}
