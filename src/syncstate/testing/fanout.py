"""A real fan-out rig for tests and benchmarks: Redis, Celery workers, the local server.

* :class:`RedisServer` starts ``redis-server`` (the Debian package) on a free port;
* :class:`CeleryWorkers` starts ``celery worker`` processes on
  :mod:`syncstate.testing.celery_app`, configured through one environment variable
  (:data:`CONFIG_ENV`, a :class:`FanoutConfig` as JSON), and can SIGKILL a worker
  process mid-page;
* :func:`seed` ingests equal loads of time entries for many companies and adds
  their employee to the local QuickBooks-like server;
* :func:`worker_services` builds what a worker process needs from the config.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs
import cattrs

from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend
from syncstate.domain.records import TimeEntry
from syncstate.ports import StateStore
from syncstate.ports.budget import BudgetLimits, BudgetStore
from syncstate.testing.qbo_server import QboServer

__all__ = [
    "CONFIG_ENV",
    "CeleryWorkers",
    "FanoutConfig",
    "RedisServer",
    "open_stores",
    "seed",
    "worker_services",
]

#: the environment variable that carries a :class:`FanoutConfig` to worker processes
CONFIG_ENV = "SYNCSTATE_FANOUT_CONFIG"
EMPLOYEE = "emp"


@attrs.frozen(kw_only=True)
class FanoutConfig:
    """Where a rig's workers find everything (plain data, passed as JSON)."""

    broker: str
    qbo_url: str
    sqlite: str = ""
    pg_dsn: str = ""
    pg_schema: str = "syncstate"
    per_minute: float | None = None
    concurrent: int | None = None
    batch_per_minute: float | None = None
    headroom: float = 0.95
    page_size: int = 50
    max_batch: int = 10
    concurrency: int = 4
    lease_seconds: float = 10.0
    #: how long a budget slot outlives a dead worker (longer than any request takes)
    slot_lease: float = 30.0
    queue: str = "syncstate"
    #: False: each run paces itself alone at the limit (no shared budget), as before
    shared: bool = True

    def to_env(self) -> str:
        """The config as JSON for :data:`CONFIG_ENV`."""
        return json.dumps(cattrs.unstructure(self))

    @classmethod
    def from_env(cls) -> FanoutConfig:
        """The config a worker process was started with."""
        return cattrs.structure(json.loads(os.environ[CONFIG_ENV]), cls)


def open_stores(config: FanoutConfig) -> tuple[StateStore, BudgetStore]:
    """The state store and the budget store the config names (PostgreSQL or SQLite)."""
    if config.pg_dsn:
        from syncstate.adapters.storage.postgres.budgets import PostgresBudgetStore
        from syncstate.adapters.storage.postgres.state import PostgresStore

        return (
            PostgresStore(config.pg_dsn, schema=config.pg_schema, max_size=2),
            PostgresBudgetStore(config.pg_dsn, schema=config.pg_schema, max_size=4),
        )
    from syncstate.adapters.storage.sqlite.budgets import SQLiteBudgetStore
    from syncstate.adapters.storage.sqlite.state import SQLiteStore

    return SQLiteStore(config.sqlite), SQLiteBudgetStore(config.sqlite)


class _Tokens:
    def access_token(self, company: str) -> str:
        return "fanout-token"

    def refresh(self, company: str) -> str:
        return "fanout-token"


class _LocalQuickBooks(QuickBooksBackend):
    """QuickBooks against the local server, whose per-realm limits are scaled down."""

    budget_limits: BudgetLimits | None = None


def worker_services(config: FanoutConfig | None = None) -> Any:
    """A :class:`~syncstate.integrations.celery.WorkerServices` for this process."""
    import httpx

    from syncstate.adapters.backends.quickbooks.client import QuickBooksConfig
    from syncstate.adapters.backends.quickbooks.payloads import QboMapping
    from syncstate.integrations.celery import RedisTickets, WorkerServices
    from syncstate.services.budgets import Budgets
    from syncstate.services.export_report import ExportOptions
    from syncstate.services.retry import RetryPolicy

    config = config or FanoutConfig.from_env()
    store, budget_store = open_stores(config)
    limits = BudgetLimits(
        per_minute=config.per_minute,
        concurrent=config.concurrent,
        batch_per_minute=config.batch_per_minute,
    )
    client = httpx.Client(timeout=30.0)
    backend = _LocalQuickBooks(
        tokens=_Tokens(),
        mapping=QboMapping(employees={EMPLOYEE: "1"}),
        config=QuickBooksConfig(base_url=config.qbo_url, max_batch=config.max_batch),
        client=client,
    )
    # the local server is a back end of its own: it declares its (scaled) limits
    backend.budget_limits = limits
    budgets = Budgets(
        store=budget_store, headroom=config.headroom, lease=config.slot_lease, yield_after=1.0
    )
    options = ExportOptions(
        concurrency=config.concurrency,
        lease=dt.timedelta(seconds=config.lease_seconds),
        retry=RetryPolicy(attempts=8, initial=0.05, maximum=1.0),
        budget=budgets if config.shared else None,
        requests_per_minute=None if config.shared else config.per_minute,
    )
    return WorkerServices(
        store=store,
        backend=backend,
        options=options,
        tickets=RedisTickets(config.broker),
        page_size=config.page_size,
    )


def seed(server: QboServer, store: StateStore, companies: Iterable[str], records: int) -> None:
    """Give every company ``records`` time entries, and its realm the employee (Id 1)."""
    at = dt.datetime.now(dt.UTC)
    for company in companies:
        ident = server.add(company, "Employee", {"DisplayName": "Fan Out"})
        assert ident == "1", "each realm's first entity has Id 1"
        store.ingest(
            company,
            [
                TimeEntry(
                    source_id=f"t{i:05d}",
                    employee=EMPLOYEE,
                    date=dt.date(2024, 1, 1) + dt.timedelta(days=i % 300),
                    hours="1.5",
                ).to_record(company)
                for i in range(records)
            ],
            at=at,
            actor="seed",
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """``redis-server`` on 127.0.0.1 and a free port, without persistence."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server") or (
            "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
        )
        self.port = 0
        self._proc: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"RedisServer(port={self.port})"

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        """Start the server and wait until it answers."""
        if self.binary is None:
            raise FileNotFoundError("redis-server is not installed (apt-get install redis-server)")
        self.port = _free_port()
        self._proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server."""
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(10)
            self._proc = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class CeleryWorkers:
    """``celery worker`` nodes (prefork, ``concurrency`` processes each) for a config."""

    def __init__(
        self, config: FanoutConfig, *, nodes: int = 1, concurrency: int = 4, log: Path | None = None
    ) -> None:
        self.config = config
        self.nodes, self.concurrency = nodes, concurrency
        self._log = log or Path(tempfile.mkdtemp(prefix="syncstate-celery-")) / "worker.log"
        self._procs: list[subprocess.Popen[bytes]] = []

    def __repr__(self) -> str:
        return f"CeleryWorkers(nodes={self.nodes}, concurrency={self.concurrency})"

    def start(self) -> CeleryWorkers:
        """Start the nodes (they connect to the broker in the background)."""
        env = {**os.environ, CONFIG_ENV: self.config.to_env()}
        with self._log.open("ab") as out:
            for n in range(self.nodes):
                self._procs.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "celery", "-A", "syncstate.testing.celery_app",
                         "worker", "-P", "prefork", "-c", str(self.concurrency), "-Q",
                         self.config.queue, "-n", f"w{n}@%h", "--without-gossip",
                         "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
                        env=env, stdout=out, stderr=subprocess.STDOUT,
                    )
                )  # fmt: skip
        return self

    def children(self) -> list[int]:
        """Pids of the pool processes (the ones that run tasks)."""
        pids: list[int] = []
        for proc in self._procs:
            path = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
            if path.exists():
                pids += [int(p) for p in path.read_text().split()]
        return pids

    def kill_one(self, pid: int) -> None:
        """SIGKILL one pool process (its node starts another and requeues the message)."""
        os.kill(pid, signal.SIGKILL)

    def log_text(self) -> str:
        """What the workers logged."""
        return self._log.read_text(errors="replace") if self._log.exists() else ""

    def stop(self) -> None:
        """Stop every node (a warm shutdown, then SIGKILL after 20 s)."""
        for proc in self._procs:
            proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self._procs.clear()

    def __enter__(self) -> CeleryWorkers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def exactly_once(server: QboServer, companies: Iterable[str], records: int) -> Mapping[str, int]:
    """Per company, documents at the server minus records (0 when exactly once)."""
    from syncstate.adapters.backends.quickbooks.payloads import find_tag

    off: dict[str, int] = {}
    for company in companies:
        docs = server.documents(company, "TimeActivity")
        tags = {find_tag(str(d.get("Description", ""))) for d in docs}
        if len(docs) != records or len(tags) != records:
            off[company] = len(docs) - records if len(docs) != records else len(tags) - records
    return off
