"""SQLite state store: ingest, claim, mark exported and reset of N records.

Each step is timed against a plain ``executemany`` of the same rows on the same
schema in the same run (the floor any SQLite-backed store stands on), and
printed as a ratio. Target (issue 2): every step within 3x of plain executemany.

    python benchmarks/sqlite_state.py            # 100,000 records
    python benchmarks/sqlite_state.py --quick    # 10,000 records
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from syncstate.adapters.storage.migrations import STATE_MIGRATIONS, migrate_sqlite
from syncstate.adapters.storage.sqlite import SQLiteStore
from syncstate.domain.state import Event, EventKind
from syncstate.periods import DateRange
from syncstate.services.reset import apply_reset, plan_reset
from syncstate.testing.store_contract import make_time_records

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def baseline(path: Path, rows: list[tuple[str, ...]]) -> dict[str, float]:
    """Plain executemany of the same rows on the same schema, one transaction each."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    migrate_sqlite(conn, "state", STATE_MIGRATIONS)
    keys = [(r[0], r[1], r[2]) for r in rows]
    out = {}

    def tx(sql: str, params: list[tuple[object, ...]]) -> None:
        conn.execute("BEGIN")
        conn.executemany(sql, params)
        conn.execute("COMMIT")

    out["ingest"], _ = timed(
        tx,
        "INSERT INTO records (company, kind, source_id, on_date, subject, fields, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    out["claim"], _ = timed(
        tx,
        "UPDATE records SET state = 'in_flight', worker = 'w' "
        "WHERE company = ? AND kind = ? AND source_id = ?",
        keys,
    )
    out["mark_exported"], _ = timed(
        tx,
        "UPDATE records SET state = 'exported', remote_id = ?, remote_version = '0' "
        "WHERE company = ? AND kind = ? AND source_id = ?",
        [(f"R{k[2]}", *k) for k in keys],
    )
    out["reset"], _ = timed(
        tx,
        "UPDATE records SET state = 'not_exported', generation = generation + 1, "
        "remote_id = NULL WHERE company = ? AND kind = ? AND source_id = ?",
        keys,
    )
    conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 records")
    parser.add_argument("--size", type=int, default=None)
    args = parser.parse_args()
    size = args.size or (10_000 if args.quick else 100_000)
    employees = 50
    records = make_time_records("acme", size, employees=employees)
    rows = [
        (
            r.key.company,
            r.key.kind,
            r.key.source_id,
            r.on.isoformat(),
            r.subject,
            json.dumps(r.data, separators=(",", ":")),
            r.hash,
        )
        for r in records
    ]
    with tempfile.TemporaryDirectory() as tmp:
        base = baseline(Path(tmp) / "baseline.db", rows)
        store = SQLiteStore(Path(tmp) / "store.db")
        ours: dict[str, float] = {}
        ours["ingest"], report = timed(store.ingest, "acme", records, at=T0, actor="bench")
        assert report.added == size
        ours["claim"], claimed = timed(
            store.claim, "acme", worker="w", lease_until=T0, at=T0, actor="bench", limit=size
        )
        assert len(claimed) == size
        events = [(s.key, Event.succeed(f"R{s.key.source_id}", "0")) for s in claimed]
        ours["mark_exported"], _ = timed(store.apply, "acme", events, at=T0, actor="bench")
        span = DateRange(records[0].on, records[-1].on)
        plan = plan_reset(store, "acme", span, [f"emp{i}" for i in range(employees)])
        assert plan.total == size
        ours["reset"], _ = timed(apply_reset, store, plan, acknowledge=True)
        store.apply(
            "acme", [(records[0].key, Event.of(EventKind.UNLINK, "check"))], at=T0, actor="b"
        )
        store.close()

    targets = {}
    print(f"{'step':<15}{'syncstate s':>12}{'executemany s':>15}{'ratio':>8}")
    for step in ("ingest", "claim", "mark_exported", "reset"):
        ratio = ours[step] / base[step]
        print(f"{step:<15}{ours[step]:>12.3f}{base[step]:>15.3f}{ratio:>8.2f}")
        targets[f"{step}_vs_executemany"] = {
            "value": round(ratio, 2),
            "target": 3.0,
            "better": "lower",
        }
    print(json.dumps({"benchmark": "sqlite_state", "size": size, "targets": targets}))


if __name__ == "__main__":
    main()
