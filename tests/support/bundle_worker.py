"""A bundle-export worker process for the PostgreSQL bundling workflow test.

Run as a script: ``bundle_worker.py DSN SCHEMA BASE_URL REALM NAME``. Opens the
state store and the bundle store beside it in one PostgreSQL schema, waits for
a line on stdin (so workers start together), exports every bundle of the
company to the local QuickBooks-like server, and prints the outcome counts as
one JSON line.
"""

from __future__ import annotations

import json
import sys

import httpx

from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend, QuickBooksConfig
from syncstate.adapters.backends.quickbooks.payloads import QboMapping
from syncstate.adapters.storage.postgres.bundles import PostgresBundleStore
from syncstate.adapters.storage.postgres.state import PostgresStore
from syncstate.services.bundle_export import export_bundles, mapping_tables
from syncstate.services.bundling import BundleService
from syncstate.services.export import ExportOptions

CO = "acme"


class Tokens:
    """The local server accepts any bearer token."""

    def access_token(self, company: str) -> str:
        return "worker-token"

    def refresh(self, company: str) -> str:
        return "worker-token"


def main(dsn: str, schema: str, base_url: str, realm: str, name: str) -> int:
    """Export the company's bundles as worker ``name``; print the outcome counts."""
    store = PostgresStore(dsn, schema=schema, max_size=2)
    service = BundleService(store, PostgresBundleStore.beside(store), actor=name)
    config = QuickBooksConfig(base_url=base_url, realms={CO: realm})
    options = ExportOptions(worker=name, concurrency=2, sleep=lambda _s: None, claim_size=5)
    with httpx.Client(timeout=10.0) as client:
        backend = QuickBooksBackend(
            tokens=Tokens(),
            mapping=lambda co: QboMapping.from_dict(mapping_tables(service.mappings(co))),
            config=config,
            client=client,
        )
        print("ready", flush=True)
        sys.stdin.readline()
        report = export_bundles(service, backend, CO, options=options)
    print(json.dumps(report.summary()), flush=True)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
