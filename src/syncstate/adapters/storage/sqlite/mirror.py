"""The inbound mirror on SQLite (:class:`~syncstate.ports.MirrorStore`).

Every load writes a fiscal year as a new **generation** beside the live one, in
chunks of its own transactions (so other companies' readers and writers are not
held up for minutes). ``mirror_years`` points at the live generation of each
(company, fiscal year); ``swap_in`` moves the pointers in one transaction, so a
reader (who reads inside one transaction, see :meth:`read_year`) sees the old
year or the new one, never half of one. A failed load leaves a staged
generation that is discarded; the live year is untouched.

The schema has its own migration namespace (``mirror``) in ``schema_migrations``
and may share a file with the export-state store. The ``host_*`` tables model
data the host owns beside the mirror (documents, budget versions, report
templates): nothing here deletes from them.

The schema and value codecs are in
:mod:`~syncstate.adapters.storage.sqlite.mirror_schema`, the load path (stage,
swap, drop) in :mod:`~syncstate.adapters.storage.sqlite.mirror_load`, the reads
in :mod:`~syncstate.adapters.storage.sqlite.mirror_read` and the in-place
changes (drift, clearing) in :mod:`~syncstate.adapters.storage.sqlite.mirror_drift`;
this module holds the transactions and the locks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import threading
from collections.abc import Iterable, Mapping, Sequence

from syncstate.adapters.storage.sqlite.files import (
    open_readonly,
    open_sqlite,
    read_transaction,
    write_transaction,
)
from syncstate.adapters.storage.sqlite.mirror_attempts import (
    end_attempt,
    insert_attempt,
    select_attempts,
)
from syncstate.adapters.storage.sqlite.mirror_drift import clear_generation, patch_generation
from syncstate.adapters.storage.sqlite.mirror_load import (
    STAGE_CHUNK,
    drop_generation,
    droppable,
    insert_generation,
    insert_vouchers,
    swap_generations,
    unfinished_generations,
)
from syncstate.adapters.storage.sqlite.mirror_locks import holder_alive
from syncstate.adapters.storage.sqlite.mirror_read import (
    live_generation,
    live_years,
    read_generation,
)
from syncstate.adapters.storage.sqlite.mirror_schema import (
    HOST_TABLES,
    MIRROR_MIGRATIONS,
    checked_company,
)
from syncstate.domain.mirror import LoadedYear, MirrorAccount, MirrorYear, YearDrift
from syncstate.domain.mirror_attempts import MirrorAttempt
from syncstate.errors import InputError, StorageError
from syncstate.periods import FiscalYear
from syncstate.ports import Progress

__all__ = ["HOST_TABLES", "MIRROR_MIGRATIONS", "SQLiteMirrorStore"]


class SQLiteMirrorStore:
    """The mirror in one SQLite file (or ``":memory:"``); safe to share between threads.

    ``readonly=True`` opens an existing database holding a mirror without changing a
    byte of it (no file created, no migration); anything else is refused
    (:func:`~syncstate.adapters.storage.sqlite.files.open_readonly`). A mirror at
    schema step 1 (before the record of runs) is read with no attempts.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = "syncstate.db",
        *,
        timeout: float = 30.0,
        readonly: bool = False,
    ):
        self.path = str(path)
        self.readonly = readonly
        if readonly:
            self._conn = open_readonly(
                path, component="mirror", migrations=MIRROR_MIGRATIONS, timeout=timeout, oldest=1
            )
            row = self._conn.execute(
                "SELECT version FROM schema_migrations WHERE component = 'mirror'"
            ).fetchone()
            self._version = int(row[0])
        else:
            self._conn = open_sqlite(
                path, component="mirror", migrations=MIRROR_MIGRATIONS, timeout=timeout
            )
            self._version = len(MIRROR_MIGRATIONS)
        self._lock = threading.RLock()

    def __repr__(self) -> str:
        return f"SQLiteMirrorStore({self.path!r})"

    def _write(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        if self.readonly:
            raise StorageError(f"{self.path} was opened read-only")
        return write_transaction(self._conn, self._lock, self.path)

    def _read(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return read_transaction(self._conn, self._lock)

    # ------------------------------------------------------------------ loading

    def stage_year(
        self,
        company: str,
        year: MirrorYear,
        *,
        source: str,
        at: dt.datetime,
        progress: Progress | None = None,
    ) -> int:
        """Write ``year`` as a new generation beside the live data; return its id."""
        checked_company(company)
        with self._write() as conn:
            generation = insert_generation(conn, company, year, source=source, at=at)
        if progress is not None:
            progress.start(len(year.vouchers), f"loading {year.year}")
        try:
            for start in range(0, len(year.vouchers), STAGE_CHUNK):
                chunk = year.vouchers[start : start + STAGE_CHUNK]
                with self._write() as conn:
                    insert_vouchers(conn, generation, chunk, first_seq=start)
                if progress is not None:
                    progress.advance(len(chunk), outcome="staged")
        except BaseException:
            self.discard(company, generation)
            raise
        finally:
            if progress is not None:
                progress.finish()
        return generation

    def swap_in(
        self,
        company: str,
        staged: Mapping[FiscalYear, int],
        accounts: Sequence[MirrorAccount],
        *,
        at: dt.datetime,
    ) -> None:
        """Point every staged year at its new generation, in one transaction."""
        checked_company(company)
        with self._write() as conn:
            retired = swap_generations(conn, company, staged, accounts, at=at)
        for generation in retired:
            self._drop_generation(generation)

    def discard(self, company: str, generation: int) -> None:
        """Drop a staged generation (a failed or abandoned load)."""
        with self._write() as conn:
            if not droppable(conn, company, generation):
                return
        self._drop_generation(generation)

    def _drop_generation(self, generation: int) -> None:
        with self._write() as conn:
            drop_generation(conn, generation)

    def discard_abandoned(self, company: str) -> int:
        """Drop staged generations left by crashed loads of ``company``; return how many."""
        with self._read() as conn:
            generations = unfinished_generations(conn, company)
        for generation in generations:
            self._drop_generation(generation)
        return len(generations)

    # ------------------------------------------------------------------ reading

    def read_year(self, company: str, year: FiscalYear) -> MirrorYear | None:
        """The live data of one fiscal year, read in one transaction."""
        checked_company(company)
        with self._read() as conn:
            generation = live_generation(conn, company, year)
            if generation is None:
                return None
            return read_generation(conn, year, generation)

    def loaded_years(self, company: str) -> list[LoadedYear]:
        """The live fiscal years of ``company`` with their counts, oldest first."""
        checked_company(company)
        with self._read() as conn:
            return live_years(conn, company)

    def accounts(self, company: str) -> list[MirrorAccount]:
        """The mirrored chart of accounts, by number."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT number, name, type FROM mirror_accounts WHERE company = ? ORDER BY number",
                (checked_company(company),),
            ).fetchall()
        return [MirrorAccount(number=n, name=name, type=t) for n, name, t in rows]

    def companies(self) -> list[str]:
        """Companies with at least one live fiscal year."""
        with self._read() as conn:
            rows = conn.execute("SELECT DISTINCT company FROM mirror_years ORDER BY 1").fetchall()
        return [str(r[0]) for r in rows]

    # ----------------------------------------------------------------- clearing

    def clear_years(self, company: str, years: Iterable[FiscalYear]) -> dict[str, int]:
        """Remove the live data of ``years`` (one transaction); return what went."""
        checked_company(company)
        counts = {"years": 0, "vouchers": 0, "transactions": 0, "balances": 0}
        gone: list[int] = []
        with self._write() as conn:
            for year in years:
                row = conn.execute(
                    "SELECT generation FROM mirror_years WHERE company = ? AND year_start = ?",
                    (company, year.start.isoformat()),
                ).fetchone()
                if row is None:
                    continue
                generation = int(row[0])
                counts["years"] += 1
                clear_generation(conn, generation, counts)
                conn.execute(
                    "DELETE FROM mirror_years WHERE company = ? AND year_start = ?",
                    (company, year.start.isoformat()),
                )
                gone.append(generation)
            conn.executemany("DELETE FROM mirror_generations WHERE id = ?", [(g,) for g in gone])
        return counts

    def apply_drift(self, company: str, drift: YearDrift, *, at: dt.datetime) -> None:
        """Apply the changes of ``drift`` to the live year in one transaction."""
        checked_company(company)
        if drift.new_year:
            raise StorageError(f"{drift.year} is not in the mirror: load it, do not patch it")
        with self._write() as conn:
            row = conn.execute(
                "SELECT generation FROM mirror_years WHERE company = ? AND year_start = ?",
                (company, drift.year.start.isoformat()),
            ).fetchone()
            if row is None:
                raise StorageError(f"{drift.year} of company {company} is not in the mirror")
            patch_generation(conn, int(row[0]), drift)
            conn.execute(
                "UPDATE mirror_years SET loaded_at = ? WHERE company = ? AND year_start = ?",
                (at.isoformat(), company, drift.year.start.isoformat()),
            )

    # -------------------------------------------------------------------- locks

    def try_lock(
        self, company: str, *, holder: str, at: dt.datetime, stale_after: dt.timedelta
    ) -> bool:
        """Take the company's lock unless another live holder took it less than
        ``stale_after`` ago.

        A lock does not outlive its holder: a holder on this machine whose process is gone
        (killed with SIGKILL mid-reload, say) is taken over at once; a holder on another
        machine is trusted until ``stale_after``.
        """
        checked_company(company)
        with self._write() as conn:
            row = conn.execute(
                "SELECT holder, acquired_at FROM mirror_locks WHERE company = ?", (company,)
            ).fetchone()
            if (
                row is not None
                and row[0] != holder
                and dt.datetime.fromisoformat(row[1]) + stale_after > at
                and holder_alive(str(row[0]))
            ):
                return False
            conn.execute(
                "INSERT INTO mirror_locks VALUES (?, ?, ?) ON CONFLICT (company) DO UPDATE"
                " SET holder = excluded.holder, acquired_at = excluded.acquired_at",
                (company, holder, at.isoformat()),
            )
        return True

    def lock_holder(self, company: str) -> str | None:
        """Who holds the company's lock: None when nobody does, or its holder is a
        process of this host that no longer exists (its row is left until taken over)."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT holder FROM mirror_locks WHERE company = ?", (company,)
            ).fetchone()
        return None if row is None or not holder_alive(str(row[0])) else str(row[0])

    # ----------------------------------------------------------------- attempts

    def record_attempt(
        self,
        company: str,
        years: Sequence[FiscalYear] | None,
        *,
        operation: str,
        holder: str,
        at: dt.datetime,
        outcome: str = "running",
        reason: str = "",
    ) -> int:
        """Record a run on ``years`` (None: all) in one transaction; return its id."""
        checked_company(company)
        with self._write() as conn:
            return insert_attempt(
                conn,
                company,
                years,
                operation=operation,
                holder=holder,
                at=at,
                outcome=outcome,
                reason=reason,
            )

    def end_attempt(
        self, company: str, attempt: int, *, outcome: str, reason: str, at: dt.datetime
    ) -> None:
        """Record how the running attempt ``attempt`` ended."""
        with self._write() as conn:
            end_attempt(conn, company, attempt, outcome=outcome, reason=reason, at=at)

    def attempts(self, company: str, *, limit: int = 20) -> list[MirrorAttempt]:
        """The newest ``limit`` attempt rows of ``company``, newest first (read only)."""
        checked_company(company)
        if self._version < 2:
            return []
        with self._read() as conn:
            return select_attempts(conn, company, limit)

    def unlock(self, company: str, *, holder: str) -> None:
        """Release the company's lock if ``holder`` holds it."""
        with self._write() as conn:
            conn.execute(
                "DELETE FROM mirror_locks WHERE company = ? AND holder = ?", (company, holder)
            )

    # -------------------------------------------------------- host-owned tables

    def add_host_item(self, table: str, company: str, item_id: str, title: str) -> None:
        """Add a host-owned row (document, budget version, report template)."""
        if table not in HOST_TABLES:
            raise InputError(f"{table!r} is not a host-owned table ({', '.join(HOST_TABLES)})")
        with self._write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?)",
                (checked_company(company), item_id, title),
            )

    def host_counts(self, company: str) -> dict[str, int]:
        """How many host-owned rows ``company`` has in each host table."""
        with self._read() as conn:
            return {
                table: int(
                    conn.execute(
                        f"SELECT COUNT(*) FROM {table} WHERE company = ?", (company,)
                    ).fetchone()[0]
                )
                for table in HOST_TABLES
            }

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
