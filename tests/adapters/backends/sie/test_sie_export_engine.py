"""End to end: the export engine writing SIE 4I files, run again, unexported, from options."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from syncstate.adapters.backends.sie.check import check_sie
from syncstate.adapters.backends.sie.export_backend import SieExportBackend
from syncstate.adapters.backends.sie.export_vouchers import key_in_text
from syncstate.adapters.backends.sie.parser import read_sie
from syncstate.adapters.storage.sqlite.state import SQLiteStore
from syncstate.cli import main
from syncstate.domain.records import RecordKey, TimeEntry
from syncstate.domain.state import ExportState
from syncstate.errors import InputError
from syncstate.plugin_options import parse_plugin_options
from syncstate.ports import Document, DocumentLine, StoredRecord
from syncstate.services.export import ExportOptions, export_records, unexport
from syncstate.services.rendering import Renderer

CO = "acme"


def bill_time(stored: StoredRecord) -> Document:
    """A time entry as an invoice voucher: its hours at 950 kr."""
    entry = TimeEntry.from_record(stored.record)
    amount = Decimal(str(entry.hours)) * Decimal(950)
    line = DocumentLine(item="consulting", description=f"Arbete {entry.notes}", amount=amount)
    return Document(
        kind="invoice",
        source=stored.key,
        date=entry.date,
        party="client",
        lines=(line,),
        memo=f"Faktura {entry.source_id}",
    )


def ingest(store: SQLiteStore, n: int) -> None:
    records = [
        TimeEntry(
            source_id=f"t{i:03d}",
            employee="e",
            date=dt.date(2026, 2, 1 + i % 28),
            hours="2",
            notes=f"vecka {i}",
        ).to_record(CO)
        for i in range(n)
    ]
    store.ingest(CO, records, at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC), actor="test")


def backend_from_options(tmp_path: Path) -> SieExportBackend:
    mapping = tmp_path / "sie.json"
    mapping.write_text(
        json.dumps({"accounts": {"consulting": "3010"}, "names": {"3010": "Försäljning"}}),
        encoding="utf-8",
    )
    pairs = [("folder", str(tmp_path / "out")), ("mapping", str(mapping))]
    backend = SieExportBackend.from_options(**parse_plugin_options("sie", SieExportBackend, pairs))
    assert isinstance(backend, SieExportBackend)
    return backend


def all_keys(folder: Path) -> Counter[str | None]:
    return Counter(
        key_in_text(v.text)
        for path in sorted(folder.glob("*.si"))
        for v in read_sie(path).document.vouchers
    )


def test_export_writes_one_file_per_batch_and_a_rerun_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = backend_from_options(tmp_path)
    folder = tmp_path / "out" / CO
    options = ExportOptions(renderers={"time_entry": bill_time})
    with SQLiteStore(tmp_path / "state.db") as store:
        ingest(store, 120)
        report = export_records(store, backend, CO, options=options)
        assert report.exported == 120 and report.ok
        files = sorted(folder.glob("*.si"))
        assert len(files) == 1  # one claimed page of 120 as one batch file
        assert all(check_sie(p).valid for p in files)
        assert main(["sie", "check", "--json", *map(str, files)]) == 0
        (checked,) = json.loads(capsys.readouterr().out)["files"]
        assert (checked["vouchers"], checked["transactions"], checked["ksumma"]) == (
            120,
            240,
            "valid",
        )
        again = export_records(store, backend, CO, options=options)
        assert again.exported == 0 and len(list(folder.glob("*.si"))) == 1
    # a lost state database: the same records, the same keys; the files know them all
    with SQLiteStore(tmp_path / "lost.db") as fresh:
        ingest(fresh, 120)
        relinked = export_records(fresh, backend, CO, options=options)
        assert relinked.exported == 120 and len(list(folder.glob("*.si"))) == 1
    keys = all_keys(folder)
    assert len(keys) == 120 and set(keys.values()) == {1}
    numbers = [v.number for v in read_sie(files[0]).document.vouchers]
    assert numbers == [str(n) for n in range(1, 121)]


def test_unexport_writes_reversals_and_the_books_net_to_zero(tmp_path: Path) -> None:
    backend = backend_from_options(tmp_path)
    folder = tmp_path / "out" / CO
    renderers: dict[str, Renderer] = {"time_entry": bill_time}
    with SQLiteStore(tmp_path / "state.db") as store:
        ingest(store, 3)
        export_records(store, backend, CO, options=ExportOptions(renderers=renderers))
        keys = [RecordKey(CO, "time_entry", f"t{i:03d}") for i in range(3)]
        done = unexport(store, backend, CO, keys, renderers=renderers)
        assert set(done.unexported) == set(keys)
        assert store.counts(CO)[ExportState.NOT_EXPORTED] == 3
    totals: Counter[str] = Counter()
    for path in folder.glob("*.si"):
        for voucher in read_sie(path).document.vouchers:
            for row in voucher.rows:
                totals[row.account] += row.amount  # type: ignore[assignment]
    assert set(totals.values()) == {Decimal(0)} and set(totals) == {"1510", "3010"}


def test_an_unknown_option_or_a_bad_mapping_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="needs the option"):
        parse_plugin_options("sie", SieExportBackend, [])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"accounts": {"a": "3010"}, "receivable": "kund"}))
    with pytest.raises(InputError, match="not valid"):
        parse_plugin_options("sie", SieExportBackend, [("folder", "x"), ("mapping", str(bad))])
