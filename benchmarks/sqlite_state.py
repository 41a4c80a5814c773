"""SQLite state store: ingest, claim, mark exported and reset of N records.

Each step is timed against a plain ``executemany`` of the same rows on the same
schema in the same run (the floor any SQLite-backed store stands on), and
printed as a ratio. Target (issue 2): ingest, mark exported and reset within 3x
of plain executemany. A claim returns the records it takes, so its baseline
reads the claimable rows and then writes them in flight with executemany; its
ratio against the bare UPDATE is printed too.

Each store step is timed up to and including a collection of the young GC
generations, so the cyclic collector's work on what the step allocated is
charged to the step even when the store pauses the collector while it runs;
every step (baseline and store) starts after a full collection, so what the
setup allocated (the events to apply) is not charged to it.
"store SQL" times only the statements the store must issue (read the statuses,
write them, one journal row per record) with parameters prepared beforehand: the
part of each ratio no Python-side work can remove. ``--repeat N`` runs everything
(baseline, SQL floor and store, fresh databases) N times and keeps each side's best
time per step, to damp a noisy shared machine.

    python benchmarks/sqlite_state.py            # 100,000 records
    python benchmarks/sqlite_state.py --quick    # 10,000 records
    python benchmarks/sqlite_state.py --repeat 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import sqlite3
import tempfile
import time
from pathlib import Path

from syncstate.adapters.storage.base import STATUS_COLUMNS
from syncstate.adapters.storage.sqlite.bulk import write_rows
from syncstate.adapters.storage.sqlite.migrations import STATE_MIGRATIONS, migrate_sqlite
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.adapters.storage.sqlite.statements import INSERT_JOURNAL, UPDATE_STATUSES
from syncstate.domain.records import SourceRecord
from syncstate.domain.state import Event, EventKind
from syncstate.periods import DateRange
from syncstate.services.reset import apply_reset, plan_reset
from syncstate.testing.store_contract import make_time_records

T0 = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    gc.collect()  # no collector work left over from the setup is charged to the step
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def timed_store(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """Like :func:`timed`, including the collection of what ``fn`` left to the young
    generations (work a paused collector would otherwise do after the clock stops)."""
    gc.collect()  # as in timed: the setup's garbage is not the step's
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    gc.collect(1)
    return time.perf_counter() - start, result


_INSERT = (
    "INSERT INTO records (company, kind, source_id, on_date, subject, fields, hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def _plain(path: Path, rows: list[tuple[str, ...]] | None = None) -> sqlite3.Connection:
    """A plain connection to a new database of the store's schema, settings as the
    store's (WAL, synchronous=NORMAL), holding ``rows`` if given."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    migrate_sqlite(conn, "state", STATE_MIGRATIONS)
    if rows is not None:
        conn.execute("BEGIN")
        conn.executemany(_INSERT, rows)
        conn.execute("COMMIT")
    return conn


def baseline(path: Path, rows: list[tuple[str, ...]]) -> dict[str, float]:
    """Plain executemany of the same rows on the same schema, one transaction each."""
    conn = _plain(path)
    keys = [(r[0], r[1], r[2]) for r in rows]
    out = {}

    def tx(sql: str, params: list[tuple[object, ...]]) -> None:
        conn.execute("BEGIN")
        conn.executemany(sql, params)
        conn.execute("COMMIT")

    out["ingest"], _ = timed(tx, _INSERT, rows)
    out["claim_update_only"], _ = timed(tx, _CLAIM, keys)
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


_CLAIM = (
    "UPDATE records SET state = 'in_flight', worker = 'w' "
    "WHERE company = ? AND kind = ? AND source_id = ?"
)


def baseline_claim(path: Path, rows: list[tuple[str, ...]]) -> float:
    """A plain claim on a fresh database: read the claimable rows (a claim returns the
    records it takes), then write them in flight with executemany."""
    conn = _plain(path, rows)

    def select_and_claim() -> None:
        conn.execute("BEGIN")
        taken = conn.execute(
            "SELECT company, kind, source_id, on_date, subject, fields, hash FROM records "
            "WHERE company = ? AND state = 'not_exported' ORDER BY kind, source_id LIMIT ?",
            (rows[0][0], len(rows)),
        ).fetchall()
        conn.executemany(_CLAIM, [r[:3] for r in taken])
        conn.execute("COMMIT")

    seconds, _ = timed(select_and_claim)
    conn.close()
    return seconds


def sql_floor(path: Path, rows: list[tuple[str, ...]]) -> dict[str, float]:
    """Only the SQL the store itself issues per step (statuses read, statuses written,
    one journal row per record), with every parameter prepared before the clock starts:
    what no Python-side speed-up can remove. Shown for information, not a target."""
    conn = _plain(path, rows)
    ids = [r[0] for r in conn.execute("SELECT id FROM records ORDER BY kind, source_id")]
    keys = [(r[0], r[1], r[2]) for r in rows]
    columns = ", ".join(STATUS_COLUMNS)
    set_all = "UPDATE records SET " + ", ".join(f"{c} = ?" for c in STATUS_COLUMNS)
    lease = T0.isoformat()

    def journal(event: str, before: str, after: str) -> list[tuple[object, ...]]:
        batch = conn.execute(
            "INSERT INTO journal_batches (at, actor, event) VALUES (?, 'bench', ?)", (lease, event)
        ).lastrowid
        if after != "exported":
            return [(i, batch, None, None, None, before, after, 0, 0, 0, None) for i in ids]
        return [
            (i, batch, f"R{k[2]}", "0", None, before, after, 0, 0, 0, f"D{k[2]}")
            for i, k in zip(ids, keys, strict=True)
        ]

    def read_statuses() -> None:
        for start in range(0, len(keys), 500):
            chunk = [k[2] for k in keys[start : start + 500]]
            conn.execute(
                f"SELECT id, source_id, {columns} FROM records WHERE company = ? "
                f"AND kind = ? AND source_id IN ({', '.join('?' * len(chunk))})",
                (keys[0][0], keys[0][1], *chunk),
            ).fetchall()

    def same_status(status: tuple[object, ...]) -> None:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            conn.execute(
                f"{set_all} WHERE id IN ({', '.join('?' * len(chunk))})", (*status, *chunk)
            )

    def step(*work: tuple[object, ...]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        for fn, *args in work:
            fn(*args)  # type: ignore[operator]
        conn.execute("COMMIT")

    def insert(rows: list[tuple[object, ...]]) -> None:
        write_rows(conn, INSERT_JOURNAL, rows)

    claimed = ("in_flight", 0, 0, None, None, None, "not_exported", "w", lease, 0, None)
    exported = [
        ("exported", 0, 1, f"R{k[2]}", "0", None, None, "", None, 0, f"D{k[2]}", i)
        for k, i in zip(keys, ids, strict=True)
    ]
    out = {}
    select_claim = (
        "SELECT id, kind, source_id, on_date, subject, fields, hash, "
        f"{columns} FROM records WHERE company = ? AND state = 'not_exported' "
        "ORDER BY kind, source_id"
    )
    fetch = conn.execute
    out["claim"], _ = timed(
        step,
        (lambda: fetch(select_claim, (keys[0][0],)).fetchall(),),
        (same_status, claimed),
        (insert, journal('{"kind":"claim"}', "not_exported", "in_flight")),
    )
    out["mark_exported"], _ = timed(
        step,
        (read_statuses,),
        (write_rows, conn, UPDATE_STATUSES, exported),
        (insert, journal('{"kind":"succeed"}', "in_flight", "exported")),
    )
    out["reset"], _ = timed(
        step,
        (read_statuses,),
        (same_status, ("not_exported", 1, 1, None, None, None, None, "", None, 0, None)),
        (insert, journal('{"kind":"reset"}', "exported", "not_exported")),
    )
    conn.close()
    return out


def run(
    rows: list[tuple[str, ...]], records: list[SourceRecord], size: int, employees: int
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """One baseline, SQL-floor and store run each, on fresh databases."""
    with tempfile.TemporaryDirectory() as tmp:
        base = baseline(Path(tmp) / "baseline.db", rows)
        base["claim"] = baseline_claim(Path(tmp) / "claim.db", rows)
        floor = sql_floor(Path(tmp) / "floor.db", rows)
        store = SQLiteStore(Path(tmp) / "store.db")
        ours: dict[str, float] = {}
        ours["ingest"], report = timed_store(store.ingest, "acme", records, at=T0, actor="bench")
        assert report.added == size
        ours["claim"], claimed = timed_store(
            store.claim, "acme", worker="w", lease_until=T0, at=T0, actor="bench", limit=size
        )
        assert len(claimed) == size
        events = [
            (s.key, Event.succeed(f"R{s.key.source_id}", "0", f"D{s.key.source_id}"))
            for s in claimed
        ]
        ours["mark_exported"], _ = timed_store(store.apply, "acme", events, at=T0, actor="bench")
        span = DateRange(records[0].on, records[-1].on)
        plan = plan_reset(store, "acme", span, [f"emp{i}" for i in range(employees)])
        assert plan.total == size
        ours["reset"], _ = timed_store(apply_reset, store, plan, acknowledge=True)
        store.apply(
            "acme", [(records[0].key, Event.of(EventKind.UNLINK, "check"))], at=T0, actor="b"
        )
        store.close()
    return base, floor, ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="10,000 records")
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=1, help="runs; best time per side")
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
    base: dict[str, float] = {}
    floor: dict[str, float] = {}
    ours: dict[str, float] = {}
    for _ in range(args.repeat):
        for best, found in zip(
            (base, floor, ours), run(rows, records, size, employees), strict=True
        ):
            for step, seconds in found.items():
                best[step] = min(seconds, best.get(step, seconds))

    targets = {}
    print(
        f"{'step':<15}{'syncstate s':>12}{'executemany s':>15}{'ratio':>8}"
        f"{'store SQL s':>13}{'SQL ratio':>11}"
    )
    names = {"claim": "claim_vs_select_and_executemany"}
    for step in ("ingest", "claim", "mark_exported", "reset"):
        ratio = ours[step] / base[step]
        line = f"{step:<15}{ours[step]:>12.3f}{base[step]:>15.3f}{ratio:>8.2f}"
        if step in floor:
            line += f"{floor[step]:>13.3f}{floor[step] / base[step]:>11.2f}"
        print(line)
        targets[names.get(step, f"{step}_vs_executemany")] = {
            "value": round(ratio, 2),
            "target": 3.0,
            "better": "lower",
        }
    bare = base["claim_update_only"]
    print(
        f"(claim against the UPDATE alone, reading nothing back: {bare:.3f} s, "
        f"ratio {ours['claim'] / bare:.2f})"
    )
    print(json.dumps({"benchmark": "sqlite_state", "size": size, "targets": targets}))


if __name__ == "__main__":
    main()
