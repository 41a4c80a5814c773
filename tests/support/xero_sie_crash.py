"""Crash trials for the Xero and SIE export back ends: kill -9 the exporter, restart, check.

Used by ``tests/adapters/backends/xero/test_xero_crash.py`` and
``tests/adapters/backends/sie/test_sie_export_crash.py`` (6 trials each, 20 with
``SYNCSTATE_CRASH_TRIALS=20``); like
``export_crash.py`` (QuickBooks), one trial seeds a fresh SQLite file with ``records`` time
entries, starts the exporter (this file run as a script) in a subprocess, kills it with
SIGKILL at a random moment once or twice, lets the last run finish, then checks that every
record is exported, that the back end holds exactly one document per record (counted by
the key each document carries: the invoice's ``Reference``, the voucher's marker) and that
each record links the document carrying its key. Xero trials also make the local server
commit then fail and drop connections; half the trials use batches.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

CO = "crashco"


@attrs.frozen(kw_only=True)
class Trial:
    """What one trial saw."""

    seed: int
    kills: int
    starts: int
    batch: bool
    duplicates: int
    missing: int
    not_exported: int
    mislinked: int

    @property
    def ok(self) -> bool:
        return not (self.duplicates or self.missing or self.not_exported or self.mislinked)


def _seed_store(path: Path, records: int) -> None:
    from syncstate.adapters.storage.sqlite.state import SQLiteStore
    from syncstate.domain.records import TimeEntry

    entries = [
        TimeEntry(
            source_id=f"t{i:04d}",
            employee="emp-1",
            date=dt.date(2026, 1, 1 + i % 28),
            hours="1.25",
            notes=f"crash trial {i}",
        ).to_record(CO)
        for i in range(records)
    ]
    with SQLiteStore(path) as store:
        store.ingest(CO, entries, at=dt.datetime.now(dt.UTC), actor="crash-test")


def _remote_keys(backend: str, target: Any, where: str) -> dict[str, str | None]:
    """Remote id -> the idempotency key the document carries."""
    if backend == "xero":
        out = {}
        for doc in target.documents(where, "Invoices"):
            ref = str(doc.get("Reference", ""))
            out[str(doc["InvoiceID"])] = ref[len("[syncstate:") : -1] if ref else None
        return out
    from syncstate.adapters.backends.sie.export_vouchers import key_in_text
    from syncstate.adapters.backends.sie.parser import read_sie

    return {
        f"{v.series}-{v.number}": key_in_text(v.text)
        for path in sorted((Path(where) / CO).glob("*.si"))
        for v in read_sie(path).document.vouchers
    }


def run_trial(
    backend: str, workdir: Path, *, seed: int, records: int = 30, server: Any = None
) -> Trial:
    """One trial against ``backend`` (``xero``: a started ``XeroServer``; ``sie``: a folder)."""
    from syncstate.adapters.storage.sqlite.state import SQLiteStore
    from syncstate.domain.state import ExportState, idempotency_key

    rng = random.Random(seed)
    db = workdir / f"trial-{seed}.db"
    _seed_store(db, records)
    batch = rng.random() < 0.5
    command = [sys.executable, __file__, "--db", str(db), "--backend", backend]
    if backend == "xero":
        where = f"crash-{seed}-{uuid.uuid4().hex[:6]}"
        server.forget_keys()  # a fresh app: every trial's company sends the same keys
        contact = server.add(where, "Contacts", {"Name": "Crash Client"})
        server.add(where, "Items", {"Code": "WORK", "Name": "Work"})
        command += ["--url", server.base_url, "--tenant", where, "--contact", contact]
        if rng.random() < 0.5:
            server.commit_then_fail(rng.randint(1, 3), mode=rng.choice(["500", "drop"]))
        if rng.random() < 0.3:
            server.reset_next(rng.randint(1, 2))
    else:
        where = str(workdir / f"sie-{seed}")
        command += ["--folder", where]
    if batch:
        command.append("--batch")
    kills_planned, kills, starts = rng.randint(1, 2), 0, 0
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    while True:
        starts += 1
        child = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
        )
        assert child.stdout is not None and child.stderr is not None
        if kills < kills_planned and child.stdout.readline().strip() == "ready":
            time.sleep(rng.uniform(0.0, 0.3))
            if child.poll() is None:
                os.kill(child.pid, signal.SIGKILL)
                kills += 1
        _out, err = child.communicate(timeout=120)
        if child.returncode == 0:
            break
        if child.returncode != -signal.SIGKILL:
            raise RuntimeError(f"exporter failed ({backend}, seed {seed}): {err[-2000:]}")
    if server is not None:
        server.faults.commit_then_fail = server.faults.reset_next = 0
    remote = _remote_keys(backend, server, where)
    keys = Counter(remote.values())
    with SQLiteStore(db) as store:
        stored = store.find(CO)
    sent_with = {
        s.key: idempotency_key(s.key, s.status.generation, s.status.revision - 1)
        for s in stored
        if s.status.revision > 0
    }
    return Trial(
        seed=seed,
        kills=kills,
        starts=starts,
        batch=batch,
        duplicates=sum(n - 1 for n in keys.values() if n > 1),
        missing=len(set(sent_with.values()) - set(keys)) + records - len(sent_with),
        not_exported=sum(1 for s in stored if s.state is not ExportState.EXPORTED),
        mislinked=sum(
            1 for s in stored if remote.get(s.status.remote_id or "") != sent_with.get(s.key)
        ),
    )


def _child(argv: list[str]) -> int:
    """The exporter: export until every record is exported (waiting out dead leases)."""
    parser = argparse.ArgumentParser()
    for name in ("--db", "--backend", "--url", "--tenant", "--contact", "--folder"):
        parser.add_argument(name)
    parser.add_argument("--batch", action="store_true")
    args = parser.parse_args(argv)

    import httpx

    from syncstate.adapters.storage.sqlite.state import SQLiteStore
    from syncstate.domain.records import TimeEntry
    from syncstate.domain.state import ExportState
    from syncstate.errors import BackendUnavailable
    from syncstate.ports import AccountingBackend, Document, DocumentLine, StoredRecord
    from syncstate.services.export import ExportOptions, export_records
    from syncstate.services.retry import RetryPolicy

    def bill(stored: StoredRecord) -> Document:
        entry = TimeEntry.from_record(stored.record)
        amount = Decimal(str(entry.hours)) * 100
        line = DocumentLine(
            item="work", quantity=Decimal(str(entry.hours)), unit_price=Decimal(100), amount=amount
        )
        # no document number: a duplicate would be created, not refused as one
        return Document(
            kind="invoice",
            source=stored.key,
            date=entry.date,
            party="client",
            lines=(line,),
            memo=entry.notes,
        )

    backend: AccountingBackend
    client = httpx.Client(timeout=5.0)
    if args.backend == "xero":
        from syncstate.adapters.backends.xero import XeroBackend, XeroConfig, XeroMapping

        class Tokens:
            def access_token(self, company: str) -> str:
                return "crash-token"

            def refresh(self, company: str) -> str:
                return "crash-token"

        mapping = XeroMapping(contacts={"client": args.contact}, items={"work": "WORK"})
        config = XeroConfig(base_url=args.url, tenants={CO: args.tenant})
        backend = XeroBackend(tokens=Tokens(), mapping=mapping, config=config, client=client)
    else:
        from syncstate.adapters.backends.sie.export_backend import SieExportBackend
        from syncstate.adapters.backends.sie.export_vouchers import SieExportMapping

        backend = SieExportBackend(args.folder, mapping=SieExportMapping(accounts={"work": "3010"}))
    options = ExportOptions(
        concurrency=4,
        use_batch=args.batch,
        lease=dt.timedelta(seconds=0.25),
        claim_size=8,
        flush_size=5,
        flush_interval=0.02,
        retry=RetryPolicy(attempts=8, initial=0.01, maximum=0.1),
        renderers={"time_entry": bill},
    )
    with client, SQLiteStore(args.db) as store:
        print("ready", flush=True)
        for _ in range(100):
            with contextlib.suppress(BackendUnavailable):  # the breaker: try again
                export_records(store, backend, CO, actor="crash-child", options=options)
            counts = store.counts(CO)
            if counts[ExportState.EXPORTED] == sum(counts.values()):
                return 0
            time.sleep(0.05)  # records a killed run left in flight wait out their lease
        print(f"not done: {counts}", file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(_child(sys.argv[1:]))
