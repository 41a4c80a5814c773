"""Celery fan-out with a real broker, real worker processes and the local server.

One fleet for the module: Redis (``redis-server``), one ``celery worker`` node
with 4 pool processes, a PostgreSQL store, and the local QuickBooks-like server
enforcing per-realm limits (20 requests per 2 s, 2 at once) and answering 429
beyond them. Every test uses companies of its own.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from postgres_server import pg_dsn, require_postgres_driver  # noqa: F401
from redis_server import redis_url, require_celery  # noqa: F401

require_celery()
require_postgres_driver()

from celery import Celery  # noqa: E402

from syncstate.domain.state import ExportState  # noqa: E402
from syncstate.integrations.celery import RedisTickets  # noqa: E402
from syncstate.ports.budget import BudgetScope  # noqa: E402
from syncstate.services.fanout import companies_with_work  # noqa: E402
from syncstate.testing.fanout import (  # noqa: E402
    CeleryWorkers,
    FanoutConfig,
    exactly_once,
    open_stores,
    seed,
)
from syncstate.testing.qbo_meter import MeteredQboServer  # noqa: E402

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

RATE, WINDOW, CONCURRENT = 20, 2.0, 2


class Fleet:
    def __init__(self, server: MeteredQboServer, config: FanoutConfig, workers: CeleryWorkers):
        self.server, self.config, self.workers = server, config, workers
        self.store, self.budgets = open_stores(config)
        self.client = Celery(broker=config.broker)

    def send(self, task: str, *args: Any) -> None:
        self.client.send_task(f"syncstate.{task}", args=args, queue=self.config.queue)

    def companies(self, n: int, records: int) -> list[str]:
        names = [f"c-{uuid.uuid4().hex[:8]}" for _ in range(n)]
        seed(self.server, self.store, names, records)
        return names

    def wait_exported(self, names: list[str], records: int, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            done = [self.store.counts(n).get(ExportState.EXPORTED, 0) for n in names]
            if all(d == records for d in done):
                return
            if time.monotonic() > deadline:
                log = self.workers.log_text()[-3000:]
                raise AssertionError(f"exported {done} of {records} each; worker log:\n{log}")
            time.sleep(0.2)


@pytest.fixture(scope="module")
def fleet(redis_url: str, pg_dsn: str) -> Iterator[Fleet]:  # noqa: F811
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with MeteredQboServer() as server:
        server.faults.latency = 0.02
        server.faults.rate_limit = server.faults.batch_rate_limit = RATE
        server.faults.rate_window = WINDOW
        server.faults.concurrency_limit = CONCURRENT
        config = FanoutConfig(
            broker=redis_url,
            qbo_url=server.base_url,
            pg_dsn=pg_dsn,
            pg_schema=schema,
            per_minute=RATE * 60 / WINDOW,
            batch_per_minute=RATE * 60 / WINDOW,
            concurrent=CONCURRENT,
            headroom=0.9,
            page_size=20,
            max_batch=10,
            concurrency=CONCURRENT,
            lease_seconds=4.0,
            slot_lease=3.0,
            queue=f"q-{uuid.uuid4().hex[:8]}",
        )
        with CeleryWorkers(config, concurrency=4) as workers:
            fleet = Fleet(server, config, workers)
            deadline = time.monotonic() + 20
            while len(workers.children()) < 4:
                assert time.monotonic() < deadline, workers.log_text()[-2000:]
                time.sleep(0.1)
            yield fleet
            fleet.store.close()
            fleet.budgets.close()
    with psycopg.connect(pg_dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_four_workers_on_one_company_never_exceed_its_limits(fleet: Fleet) -> None:
    (company,) = fleet.companies(1, 200)
    for _ in range(4):  # four chains: every pool process works on this company at once
        fleet.send("export_page", company)
    fleet.wait_exported([company], 200)
    figures = fleet.server.report(company, window=WINDOW)
    assert figures.throttled == 0
    assert figures.peak_concurrent <= CONCURRENT
    assert figures.most_in_window <= RATE
    assert exactly_once(fleet.server, [company], 200) == {}
    # the four chains did share the work: more than one process held its slots
    assert figures.requests >= 20


def test_the_scheduler_fans_companies_out_once_each_and_finishes_them(fleet: Fleet) -> None:
    names = fleet.companies(6, 40)
    fleet.send("schedule")
    fleet.send("schedule")  # a second schedule finds every chain running: no duplicates
    fleet.wait_exported(names, 40)
    assert exactly_once(fleet.server, names, 40) == {}
    assert not set(names) & set(companies_with_work(fleet.store))
    assert all(fleet.server.report(n, window=WINDOW).throttled == 0 for n in names)


def _mid_page(fleet: Fleet, names: list[str]) -> int | None:
    children = fleet.workers.children()
    for name in random.sample(names, len(names)):
        for holder in fleet.budgets.usage(BudgetScope("quickbooks", name)).holders:
            pid = int(holder.split(":")[1])
            if pid in children:
                return pid
    return None


def test_a_worker_killed_mid_page_loses_nothing_and_duplicates_nothing(fleet: Fleet) -> None:
    names = fleet.companies(4, 60)
    fleet.send("schedule")
    deadline = time.monotonic() + 20
    while (victim := _mid_page(fleet, names)) is None:
        assert time.monotonic() < deadline, "no worker was ever mid-page"
        time.sleep(0.02)
    fleet.workers.kill_one(victim)
    fleet.wait_exported(names, 60, timeout=90)
    assert exactly_once(fleet.server, names, 60) == {}
    assert "SIGKILL" in fleet.workers.log_text()


def test_redis_tickets_keep_one_chain_per_company(redis_url: str) -> None:  # noqa: F811
    tickets = RedisTickets(redis_url, prefix=f"t-{uuid.uuid4().hex[:6]}")
    assert tickets.take("acme", 30) and not tickets.take("acme", 30)
    tickets.renew("acme", 0.05)
    time.sleep(0.1)
    assert tickets.take("acme", 30)  # expired: the scheduler may start a chain again
    tickets.drop("acme")
    assert tickets.take("acme", 30)
