"""A mirror worker process for the PostgreSQL workflow tests.

Run as a script: ``mirror_worker.py DSN SCHEMA COMPANY FILE...`` clears the
fiscal years the SIE files hold for COMPANY and reloads them from the files
(one run of :meth:`~syncstate.services.mirror.MirrorService.clear` with
``reload_from``), retrying while another worker holds the company's lock.
It prints one JSON line: the run's outcome, or ``{"busy": n}`` retries.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from syncstate.adapters.backends.sie.source import SieSource
from syncstate.adapters.storage.postgres.mirror import PostgresMirrorStore
from syncstate.errors import CompanyBusy
from syncstate.services.mirror import MirrorService


def main(argv: list[str]) -> int:
    """Reload COMPANY from FILE... in the mirror at DSN/SCHEMA; print the outcome."""
    dsn, schema, company, *files = argv
    source = SieSource([Path(f) for f in files])
    years = [y.year for y in source.snapshot(company).years]
    store = PostgresMirrorStore(dsn, schema=schema, max_size=3)
    busy = 0
    try:
        while True:
            try:
                run = MirrorService(store).clear(
                    company, years, confirm=company, reload_from=source
                )
                break
            except CompanyBusy:
                busy += 1
                time.sleep(0.02)
    finally:
        store.close()
    print(json.dumps({"ok": run.ok, "reloaded": run.reloaded, "busy": busy}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
