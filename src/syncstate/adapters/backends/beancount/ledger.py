"""A Beancount ledger file as syncstate writes it: units, index, crash-safe writes.

Everything syncstate appends is a *unit* between two comment lines::

    ; syncstate-begin 000007
    2026-03-02 * "client-1" "invoice INV-7"
      syncstate-id: "000007"
      syncstate-version: "1"
      ...
      Assets:Receivable:Client1   120.00 USD
      Income:Consulting          -120.00 USD
    ; syncstate-end 000007

Comments are ignored by Beancount, so the file stays an ordinary ledger. The
markers make writes checkable:

* an append is written with one ``write`` followed by ``fsync``; when the file is
  opened again, a ``syncstate-begin`` without its ``syncstate-end`` (a torn tail
  left by a crash) is cut off before anything else happens, so the ledger never
  holds half a transaction;
* an update or a delete rewrites the whole file into a temporary file, fsyncs it
  and renames it over the ledger (atomic on POSIX), then fsyncs the directory.

Writers take an exclusive ``flock`` on ``<ledger>.lock`` so two processes never
interleave appends. This module knows nothing about documents; see
:mod:`syncstate.adapters.backends.beancount.backend`.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import attrs

from syncstate.errors import StorageError

try:  # POSIX only; elsewhere writers are serialised by the in-process lock alone
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["BEGIN", "END", "LedgerFile", "Unit", "escape"]

BEGIN = "; syncstate-begin "
END = "; syncstate-end "
_META = re.compile(r'^  (syncstate-[a-z-]+): "((?:[^"\\]|\\.)*)"\s*$')
_OPEN = re.compile(r"^\d{4}-\d{2}-\d{2}\s+open\s+(\S+)")


def escape(text: str) -> str:
    """``text`` as the inside of a Beancount string (one line, quotes escaped)."""
    flat = " ".join(text.split())
    return flat.replace("\\", "\\\\").replace('"', '\\"')


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


@attrs.frozen(kw_only=True)
class Unit:
    """One complete syncstate unit of the file: its label, byte span and metadata."""

    label: str
    start: int
    end: int
    meta: tuple[tuple[str, str], ...]

    def get(self, name: str, default: str = "") -> str:
        """The value of metadata ``syncstate-<name>``."""
        return dict(self.meta).get(f"syncstate-{name}", default)


@attrs.frozen
class _Snapshot:
    stamp: tuple[int, int, int]
    units: tuple[Unit, ...]
    accounts: frozenset[str]


class LedgerFile:
    """One ledger file: reads its units, appends and rewrites them safely.

    Methods that write must be called inside :meth:`locked`.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._snapshot: _Snapshot | None = None

    # -- locking ---------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the inter-process write lock of this ledger."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a+b") as handle:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                if fcntl is not None:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    # -- reading ---------------------------------------------------------------

    def exists(self) -> bool:
        """Whether the ledger file exists yet."""
        return self.path.exists()

    def _stamp(self) -> tuple[int, int, int]:
        st = self.path.stat()
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def units(self) -> tuple[Unit, ...]:
        """The complete units of the file, in file order (recovering a torn tail first)."""
        return self._read().units

    def accounts(self) -> frozenset[str]:
        """Accounts that have an ``open`` directive anywhere in the file."""
        return self._read().accounts

    def _read(self) -> _Snapshot:
        stamp = self._stamp()
        if self._snapshot is not None and self._snapshot.stamp == stamp:
            return self._snapshot
        data = self.path.read_bytes()
        torn = _torn_tail(data)
        if torn is not None:
            self._truncate(torn)
            data = data[:torn]
            stamp = self._stamp()
        self._snapshot = _Snapshot(stamp, _parse_units(data), _parse_accounts(data))
        return self._snapshot

    def text(self) -> str:
        """The whole file as text."""
        return self.path.read_text(encoding="utf-8")

    # -- writing ---------------------------------------------------------------

    def create(self, header: str) -> None:
        """Write a new ledger holding ``header`` (atomically); no-op if it exists."""
        if not self.path.exists():
            self._replace(header.encode("utf-8"))

    def append(self, text: str) -> None:
        """Append complete units with one write and an fsync."""
        self._read()  # recovers a torn tail before anything is added after it
        payload = text.encode("utf-8")
        try:
            with open(self.path, "r+b") as handle:
                handle.seek(0, os.SEEK_END)
                if handle.tell() > 0:
                    handle.seek(-1, os.SEEK_END)
                    if handle.read(1) != b"\n":
                        payload = b"\n" + payload
                handle.seek(0, os.SEEK_END)
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise StorageError(f"cannot append to ledger {self.path}: {exc}") from exc
        self._snapshot = None

    def replace_unit(self, unit: Unit, text: str) -> None:
        """Replace ``unit`` by ``text`` (empty: remove it) with an atomic rewrite."""
        data = self.path.read_bytes()
        if data[unit.start : unit.end].decode("utf-8").split("\n", 1)[0] != BEGIN + unit.label:
            raise StorageError(f"ledger {self.path} changed under us; unit {unit.label} moved")
        self._replace(data[: unit.start] + text.encode("utf-8") + data[unit.end :])

    def _replace(self, data: bytes) -> None:
        directory = self.path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, self.path)
            _fsync_dir(directory)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise StorageError(f"cannot rewrite ledger {self.path}: {exc}") from exc
        self._snapshot = None

    def _truncate(self, size: int) -> None:
        try:
            with open(self.path, "r+b") as handle:
                handle.truncate(size)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise StorageError(f"cannot repair torn tail of ledger {self.path}: {exc}") from exc


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _torn_tail(data: bytes) -> int | None:
    """Offset where an unfinished unit begins, or None when every unit is closed."""
    size = len(data)
    if data and not data.endswith(b"\n"):  # a partial last line: is it a torn marker?
        line_start = data.rfind(b"\n") + 1
        last = data[line_start:]
        if any(m.encode().startswith(last) or last.startswith(m.encode()) for m in (BEGIN, END)):
            size = line_start
    begin = data.rfind(b"\n" + BEGIN.encode(), 0, size)
    if begin < 0:
        if not data.startswith(BEGIN.encode()):
            return None if size == len(data) else size
        begin = 0
    else:
        begin += 1
    label = data[begin + len(BEGIN) : size].split(b"\n", 1)[0]
    closing = END.encode() + label + b"\n"
    if b"\n" in data[begin:size] and data.find(closing, begin, size) >= 0:
        return None if size == len(data) else size
    return begin


def _parse_units(data: bytes) -> tuple[Unit, ...]:
    units: list[Unit] = []
    offset = 0
    label: str | None = None
    start = 0
    meta: list[tuple[str, str]] = []
    for raw in data.splitlines(keepends=True):
        line = raw.decode("utf-8").rstrip("\r\n")
        if line.startswith(BEGIN):
            label, start, meta = line[len(BEGIN) :].strip(), offset, []
        elif label is not None and line.startswith(END) and line[len(END) :].strip() == label:
            units.append(Unit(label=label, start=start, end=offset + len(raw), meta=tuple(meta)))
            label = None
        elif label is not None:
            match = _META.match(line)
            if match:
                meta.append((match.group(1), _unescape(match.group(2))))
        offset += len(raw)
    return tuple(units)


def _parse_accounts(data: bytes) -> frozenset[str]:
    found = set()
    for line in data.decode("utf-8").splitlines():
        match = _OPEN.match(line)
        if match:
            found.add(match.group(1))
    return frozenset(found)
