"""The bundling workflow on PostgreSQL: bundle, export from two worker processes to the
local QuickBooks-like server, overwrite, un-bundle; state and bundles share one schema."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from postgres_server import pg_dsn, pg_schema, require_postgres_driver  # noqa: F401

require_postgres_driver()

import httpx  # noqa: E402

from bundle_worker import CO, Tokens  # noqa: E402
from syncstate.adapters.backends.quickbooks.client import (  # noqa: E402
    QuickBooksBackend,
    QuickBooksConfig,
)
from syncstate.adapters.backends.quickbooks.payloads import QboMapping  # noqa: E402
from syncstate.adapters.storage.postgres.bundles import PostgresBundleStore  # noqa: E402
from syncstate.adapters.storage.postgres.state import PostgresStore  # noqa: E402
from syncstate.domain.bundling import BundleKind  # noqa: E402
from syncstate.domain.mapping import MappingKind  # noqa: E402
from syncstate.domain.state import ExportState  # noqa: E402
from syncstate.domain.transactions import UsageLog  # noqa: E402
from syncstate.services.bundle_export import (  # noqa: E402
    export_bundles,
    mapping_tables,
    unbundle_and_reverse,
)
from syncstate.services.bundling import BundleService  # noqa: E402
from syncstate.services.export import ExportOptions  # noqa: E402
from syncstate.testing.qbo_server import QboServer  # noqa: E402

pytestmark = pytest.mark.postgres

WORKER = Path(__file__).resolve().parents[3] / "support" / "bundle_worker.py"
AT = dt.datetime(2024, 3, 10, 12, tzinfo=dt.UTC)
DAY = dt.date(2024, 3, 1)
CLIENTS = 12


def _usage(i: int, quantity: str = "1") -> UsageLog:
    return UsageLog(
        source_id=f"u{i:02d}",
        client=f"client{i:02d}",
        date=DAY,
        resource="room",
        quantity=quantity,
        unit_price="40.00",
        currency="USD",
    )


@pytest.fixture
def service(pg_dsn: str, pg_schema: str) -> Iterator[BundleService]:  # noqa: F811
    store = PostgresStore(pg_dsn, schema=pg_schema, max_size=3)
    yield BundleService(store, PostgresBundleStore.beside(store))
    store.close()


def test_bundle_export_from_two_workers_overwrite_and_unbundle_on_postgres(
    service: BundleService,
    pg_dsn: str,  # noqa: F811
    pg_schema: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    service.store.ingest(CO, [_usage(i).to_record(CO) for i in range(CLIENTS)], at=AT, actor="t")
    with QboServer() as server:
        realm = f"pgb-{uuid.uuid4().hex[:8]}"
        for i in range(CLIENTS):
            customer = server.add(realm, "Customer", {"DisplayName": f"Client {i}"})
            service.set_mapping(CO, MappingKind.CUSTOMER, f"client{i:02d}", customer)
        item = server.add(realm, "Item", {"Name": "Room", "Type": "Service"})
        service.set_mapping(CO, MappingKind.ITEM, "room", item)
        bundles = service.bundle(CO).bundles
        assert len(bundles) == CLIENTS and {b.kind for b in bundles} == {BundleKind.INVOICE}

        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        args = [pg_dsn, pg_schema, server.base_url, realm]
        workers = [
            subprocess.Popen(
                [sys.executable, str(WORKER), *args, name],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=(tmp_path / f"{name}.log").open("w"),
                text=True,
                env=env,
            )
            for name in ("w1", "w2")
        ]
        for proc in workers:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        for proc in workers:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in workers:
            out, _ = proc.communicate(timeout=120)
            assert proc.returncode == 0, (tmp_path / "w1.log").read_text()[-2000:]
            json.loads(out.strip().splitlines()[-1])
        # every bundle once at QuickBooks, whichever worker sent it
        assert server.count(realm, "Invoice") == CLIENTS
        views = service.list_bundles(CO)
        assert all(v.state is ExportState.EXPORTED for v in views)
        assert len({v.remote_id for v in views}) == CLIENTS

        config = QuickBooksConfig(base_url=server.base_url, realms={CO: realm})
        options = ExportOptions(concurrency=2, sleep=lambda _s: None)
        with httpx.Client(timeout=10.0) as client:
            backend = QuickBooksBackend(
                tokens=Tokens(),
                mapping=lambda co: QboMapping.from_dict(mapping_tables(service.mappings(co))),
                config=config,
                client=client,
            )
            # a member changed at the source: the reconciled invoice is overwritten
            service.store.ingest(CO, [_usage(0, quantity="3").to_record(CO)], at=AT, actor="t")
            again = export_bundles(service, backend, CO, options=options)
            assert again.summary() == {"updated": 1, "unchanged": CLIENTS - 1}
            assert server.count(realm, "Invoice") == CLIENTS
            # un-bundle with reverse export: voided remotely, open again, one transaction
            target = next(v for v in service.list_bundles(CO) if v.bundle.client == "client00")
            done = unbundle_and_reverse(
                service, CO, [target.bundle.bundle_id], backend=backend, reverse=True
            )
        assert done.reversed == (target.key,)
    assert service.store.get(target.key).state is ExportState.UNLINKED
    assert service.bundles.bundle_of(CO, [_usage(0).to_record(CO).key]) == {}
    assert {s.key.source_id for s in service.open_records(CO)} == {"u00"}
    assert len(service.list_bundles(CO)) == CLIENTS - 1
