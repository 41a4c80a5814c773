"""SIE 4I export: an :class:`~syncstate.ports.AccountingBackend` that writes voucher files.

Swedish bookkeeping programs (Fortnox, Visma, ...) import vouchers as SIE 4I files.
:class:`SieExportBackend` writes each exported document as a voucher (``#VER`` with
balanced ``#TRANS`` rows, see :mod:`~syncstate.adapters.backends.sie.export_vouchers`)
into ``<folder>/<company>/``, **one file per call**: ``create`` writes a file of one
voucher, ``create_batch`` one file of the whole batch, ``delete`` one file with the
reversal voucher. Files are named ``<company>-<NNNNNN>.si`` in the order written and are
never changed after: each is written to a temporary file, fsynced and renamed into place
(then the folder is fsynced), so a crash leaves a whole file or none.

The files are the journal. Each voucher text ends with ``[syncstate:<key>]``; the back
end reads the company's files with the project's SIE reader (an index in memory, brought
up to date under a per-company file lock before every write and lookup, so several
processes can share a folder) and never writes a voucher whose key is already there: a
repeated create answers the voucher written the first time (``REPLAYS_KEY``, with no time
limit) and ``lookup`` finds it by key. Voucher numbers continue the highest number of the
series in the folder. ``delete`` writes a reversal voucher (every row negated, text
``Reversal of A-12 [syncstate-reversal:A-12]``) dated on the clock's day; a second
delete of the same voucher writes nothing. There is no update: an overwrite in SIE is a
reversal and a new voucher.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from syncstate.adapters.backends.sie import export_options
from syncstate.adapters.backends.sie.export_vouchers import (
    SieExportMapping,
    key_in_text,
    reversal_marker,
    reversed_in_text,
    voucher_rows,
    voucher_text,
)
from syncstate.adapters.backends.sie.model import (
    SieAccount,
    SieDimension,
    SieDocument,
    SieObject,
    SieVoucher,
)
from syncstate.adapters.backends.sie.parser import read_sie
from syncstate.adapters.backends.sie.writer import write_sie
from syncstate.errors import (
    BackendError,
    ConfigurationError,
    InputError,
    RemoteNotFound,
    RemoteValidationError,
    UnsupportedCapability,
)
from syncstate.ports import Capability, Clock, Document, RemoteRef, SystemClock

__all__ = ["SieExportBackend"]

_DIMENSIONS = {"1": "Kostnadsställe", "2": "Kostnadsbärare", "6": "Projekt", "7": "Anställd"}


@attrs.define
class _Index:
    """What a company's files hold: vouchers by id, keys, numbers, reversals."""

    files: set[str] = attrs.field(factory=set)
    vouchers: dict[str, SieVoucher] = attrs.field(factory=dict)
    keys: dict[str, str] = attrs.field(factory=dict)
    numbers: dict[str, int] = attrs.field(factory=dict)
    reversed: set[str] = attrs.field(factory=set)
    last_file: int = 0
    #: the lock file's stamp when the files were last read (a writer changes it)
    stamp: bytes | None = None
    #: the open lock file while the company is locked
    lock: Any = None

    def add(self, voucher: SieVoucher) -> None:
        ident = f"{voucher.series}-{voucher.number}"
        self.vouchers[ident] = voucher
        if voucher.number.isdigit():
            self.numbers[voucher.series] = max(
                self.numbers.get(voucher.series, 0), int(voucher.number)
            )
        original = reversed_in_text(voucher.text)
        if original is not None:
            self.reversed.add(original)
            return
        key = key_in_text(voucher.text)
        if key is not None:
            self.keys.setdefault(key, ident)


def _check_key(key: str, record: str | None) -> None:
    if not key or len(key) > 200 or "]" in key or not key.isprintable():
        raise RemoteValidationError(
            f"idempotency key {key!r} must be 1..200 printable characters without ']' "
            "(it is written into the voucher text)",
            record=record,
        )


class SieExportBackend:
    """Writes exported documents as SIE 4I voucher files, one folder per company."""

    name = "sie"

    #: options it takes from text (``syncstate export --backend-option``); see
    #: :mod:`syncstate.adapters.backends.sie.export_options`
    OPTIONS = export_options.OPTIONS
    #: the back end those options describe
    from_options = staticmethod(export_options.from_options)

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        mapping: SieExportMapping | None = None,
        series: str = "A",
        company_names: Mapping[str, str] | None = None,
        max_batch: int = 500,
        clock: Clock | None = None,
    ) -> None:
        if not series or not series.isalnum():
            raise ConfigurationError(f"SIE voucher series must be letters or digits: {series!r}")
        self.folder = Path(folder)
        self.mapping = mapping or SieExportMapping()
        self.series = series
        self.company_names = dict(company_names or {})
        self._max_batch = max_batch
        self._clock: Clock = clock or SystemClock()
        self._indexes: dict[str, _Index] = {}
        self._threads = threading.Lock()

    def __repr__(self) -> str:
        return f"SieExportBackend(folder={str(self.folder)!r}, series={self.series!r})"

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Create, batch, void (by reversal), lookup by key (one and many), replay."""
        return frozenset(
            {
                Capability.CREATE,
                Capability.VOID,
                Capability.BATCH,
                Capability.LOOKUP_BY_KEY,
                Capability.LOOKUP_MANY,
                Capability.REPLAYS_KEY,
            }
        )

    @property
    def max_batch(self) -> int:
        """Most vouchers in one file written by :meth:`create_batch`."""
        return self._max_batch

    # ------------------------------------------------------------ the folder

    def company_folder(self, company: str) -> Path:
        """Where the files of ``company`` are written (a company name is one path part)."""
        if not company or company in (".", "..") or any(c in company for c in "/\\\x00"):
            raise InputError(f"company {company!r} cannot name a folder of SIE files")
        return self.folder / company

    @contextlib.contextmanager
    def _locked(self, company: str) -> Iterator[_Index]:
        """The company's index, up to date, while holding its lock (threads and processes).

        The files are read again only when the lock file's stamp changed: every writer
        stamps it before it renames a new file into place.
        """
        folder = self.company_folder(company)
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        with self._threads, os.fdopen(fd, "r+b") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                index = self._indexes.setdefault(company, _Index())
                stamp = handle.read()
                if index.stamp is None or stamp != index.stamp:
                    self._refresh(folder, index)
                    index.stamp = stamp
                index.lock = handle
                yield index
            finally:
                index.lock = None
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    @staticmethod
    def _refresh(folder: Path, index: _Index) -> None:
        """Read the files another process (or an earlier run) wrote since the last look."""
        for path in sorted(folder.glob("*.si")):
            if path.name in index.files:
                continue
            result = read_sie(path)
            if result.errors:
                first = result.errors[0]
                raise ConfigurationError(
                    f"{path}:{first.line}: {first.message} (an SIE file the export cannot read)"
                )
            for voucher in result.document.vouchers:
                index.add(voucher)
            index.files.add(path.name)
            number = path.stem.rsplit("-", 1)[-1]
            if number.isdigit():
                index.last_file = max(index.last_file, int(number))

    def _write(self, company: str, index: _Index, vouchers: list[SieVoucher]) -> None:
        """Write ``vouchers`` as the next file of ``company``: temporary, fsync, rename."""
        accounts = sorted({row.account for v in vouchers for row in v.rows})
        objects = sorted({obj for v in vouchers for row in v.rows for obj in row.objects})
        document = SieDocument(
            program=("syncstate", "SIE 4I export"),
            generated=self._clock.now().date(),
            company_name=self.company_names.get(company, company),
            accounts=tuple(
                SieAccount(number=a, name=self.mapping.names.get(a, f"Konto {a}")) for a in accounts
            ),
            dimensions=tuple(
                SieDimension(number=d, name=_DIMENSIONS.get(d, f"Dimension {d}"))
                for d in sorted({dim for dim, _code in objects})
            ),
            objects=tuple(SieObject(dimension=d, code=c, name=c) for d, c in objects),
            vouchers=tuple(vouchers),
        )
        data = write_sie(document, variant="4I", ksumma=True)
        folder = self.company_folder(company)
        name = f"{company}-{index.last_file + 1:06d}.si"
        fd, temporary = tempfile.mkstemp(dir=folder, prefix=".writing-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            stamp = self._stamp(index)  # before the rename: others then read the folder again
            os.replace(temporary, folder / name)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        index.last_file += 1
        index.stamp = stamp
        index.files.add(name)
        for voucher in vouchers:
            index.add(voucher)

    @staticmethod
    def _stamp(index: _Index) -> bytes:
        """Write a new stamp into the lock file (fsynced); return it."""
        stamp = uuid.uuid4().hex.encode()
        handle = index.lock
        handle.seek(0)
        handle.truncate()
        handle.write(stamp)
        handle.flush()
        os.fsync(handle.fileno())
        return stamp

    def _voucher(self, index: _Index, date: dt.date, text: str, rows: Any) -> SieVoucher:
        number = index.numbers.get(self.series, 0) + 1
        index.numbers[self.series] = number
        return SieVoucher(series=self.series, number=str(number), date=date, text=text, rows=rows)

    @staticmethod
    def _ref(ident: str, kind: str) -> RemoteRef:
        return RemoteRef(remote_id=ident, kind=kind, doc_number=ident)

    # --------------------------------------------------------------- the port

    def create(self, company: str, document: Document, *, idempotency_key: str) -> RemoteRef:
        """Write the document as a voucher in a file of its own (or answer the one written)."""
        (answer,) = self._create_many(company, [(document, idempotency_key)])
        if not isinstance(answer, RemoteRef):  # not reached: errors raise when not in place
            raise answer
        return answer

    def create_batch(
        self, company: str, items: Sequence[tuple[Document, str]]
    ) -> list[RemoteRef | BackendError]:
        """Write every new document of ``items`` as vouchers of one file; one result each."""
        if len(items) > self.max_batch:
            raise UnsupportedCapability(
                f"an SIE batch holds at most {self.max_batch} vouchers, got {len(items)}"
            )
        results: list[RemoteRef | BackendError] = []
        try:
            results = list(self._create_many(company, items, in_place=True))
        except BackendError as exc:  # the whole batch: the company name, the folder
            return [exc] * len(items)
        return results

    def _create_many(
        self, company: str, items: Sequence[tuple[Document, str]], *, in_place: bool = False
    ) -> list[Any]:
        rendered: list[Any] = []
        for document, key in items:
            try:
                _check_key(key, str(document.source))
                rows = voucher_rows(document, self.mapping)
                rendered.append((document, key, rows))
            except BackendError as exc:
                if not in_place:
                    raise
                rendered.append(exc)
        with self._locked(company) as index:
            new: list[SieVoucher] = []
            answers: list[Any] = []
            for entry in rendered:
                if isinstance(entry, BackendError):
                    answers.append(entry)
                    continue
                document, key, rows = entry
                if key not in index.keys:
                    text = voucher_text(document, key)
                    voucher = self._voucher(index, document.date, text, rows)
                    index.keys[key] = f"{voucher.series}-{voucher.number}"
                    new.append(voucher)
                answers.append(self._ref(index.keys[key], document.kind))
            if new:
                try:
                    self._write(company, index, new)
                except BaseException:
                    self._indexes.pop(company, None)  # rebuilt from the files next time
                    raise
        return answers

    def lookup(self, company: str, kind: str, idempotency_key: str) -> RemoteRef | None:
        """The voucher written for ``idempotency_key``, if any."""
        return self.lookup_many(company, kind, [idempotency_key]).get(idempotency_key)

    def lookup_many(self, company: str, kind: str, keys: Sequence[str]) -> dict[str, RemoteRef]:
        """Every voucher written for one of ``keys`` (one look at the folder)."""
        with self._locked(company) as index:
            return {k: self._ref(index.keys[k], kind) for k in keys if k in index.keys}

    def delete(self, company: str, ref: RemoteRef) -> None:
        """Write the reversal voucher of ``ref`` (once; a second call writes nothing)."""
        with self._locked(company) as index:
            original = index.vouchers.get(ref.remote_id)
            if original is None:
                raise RemoteNotFound(
                    f"no voucher {ref.remote_id} in {self.company_folder(company)}"
                )
            if ref.remote_id in index.reversed:
                return
            rows = tuple(row._replace(amount=-row.amount) for row in original.rows)
            text = f"Reversal of {ref.remote_id} {reversal_marker(ref.remote_id)}"
            voucher = self._voucher(index, self._clock.now().date(), text, rows)
            try:
                self._write(company, index, [voucher])
            except BaseException:
                self._indexes.pop(company, None)
                raise

    def update(
        self, company: str, ref: RemoteRef, document: Document, *, idempotency_key: str
    ) -> RemoteRef:
        """Not possible: SIE vouchers are never changed (unexport, then export again)."""
        raise UnsupportedCapability(
            "an exported SIE voucher cannot be changed; unexport it (a reversal voucher) and "
            "export the record again"
        )

    def fetch_pdf(self, company: str, ref: RemoteRef) -> bytes:
        """Not possible: SIE files hold no documents."""
        raise UnsupportedCapability("SIE vouchers have no PDF")
