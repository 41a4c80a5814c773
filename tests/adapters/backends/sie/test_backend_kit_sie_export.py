"""The back-end conformance kit against the SIE 4I export back end, on real files."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from syncstate.adapters.backends.sie.check import check_sie
from syncstate.adapters.backends.sie.export_backend import SieExportBackend
from syncstate.adapters.backends.sie.export_vouchers import SieExportMapping
from syncstate.adapters.backends.sie.model import SieVoucher
from syncstate.adapters.backends.sie.parser import read_sie
from syncstate.errors import ConfigurationError, InputError
from syncstate.ports import Document, DocumentLine
from syncstate.testing.backend_contract import COMPANY, BackendContract, sample_document

MAPPING = SieExportMapping(
    accounts={"consulting": "3010", "bank": "1930", "sales": "3010"},
    names={"3010": "Försäljning tjänster", "1510": "Kundfordringar", "1930": "Företagskonto"},
)


class TestSieExportBackend(BackendContract):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> Iterator[SieExportBackend]:
        self.folder = tmp_path
        yield SieExportBackend(tmp_path, mapping=MAPPING)
        # whatever a check wrote, every file is a valid SIE 4I file that balances
        for path in sorted((tmp_path / COMPANY).glob("*.si")):
            checked = check_sie(path)
            assert checked.valid and checked.sie_type == "4I", checked.problems
            assert checked.ksumma == "valid" and not checked.unbalanced_vouchers

    def documents_of_every_kind(self, company: str, n: int) -> list[Document]:
        journal = (
            DocumentLine(item="bank", amount=Decimal("100.00")),
            DocumentLine(item="sales", amount=Decimal("-100.00")),
        )
        return [
            sample_document(company, n),
            sample_document(company, n + 1, kind="credit_note"),
            sample_document(company, n + 2, kind="sales_receipt"),
            attrs.evolve(sample_document(company, n + 3, kind="payment"), fields={"amount": "40"}),
            attrs.evolve(sample_document(company, n + 4, kind="manual_journal"), lines=journal),
        ]


def test_written_vouchers_read_back_balanced_with_their_markers(tmp_path: Path) -> None:
    backend = SieExportBackend(tmp_path, mapping=MAPPING)
    doc = attrs.evolve(sample_document("acme", 1), fields={"objects": "6:P100,1:Ö1"})
    ref = backend.create("acme", doc, idempotency_key="k-1")
    (path,) = (tmp_path / "acme").glob("*.si")
    assert path.read_bytes().decode("cp437").count("#VER") == 1
    checked = check_sie(path)
    assert checked.valid and checked.vouchers == 1 and checked.transactions == 2
    (voucher,) = _vouchers(path)
    assert f"{voucher.series}-{voucher.number}" == ref.remote_id == "A-1"
    assert voucher.text.endswith("[syncstate:k-1]") and voucher.date == doc.date
    rows = [(r.account, r.amount, r.objects) for r in voucher.rows]
    objects = (("6", "P100"), ("1", "Ö1"))
    assert rows == [("1510", Decimal("100.00"), objects), ("3010", Decimal("-100.00"), objects)]


def test_a_new_process_on_the_same_folder_replays_keys_and_continues_numbers(
    tmp_path: Path,
) -> None:
    first = SieExportBackend(tmp_path, mapping=MAPPING)
    refs = first.create_batch("acme", [(sample_document("acme", n), f"k-{n}") for n in (1, 2)])
    second = SieExportBackend(tmp_path, mapping=MAPPING)  # another process, a later run
    assert second.create("acme", sample_document("acme", 1), idempotency_key="k-1") == refs[0]
    third = second.create("acme", sample_document("acme", 3), idempotency_key="k-3")
    assert third.remote_id == "A-3"
    assert second.lookup_many("acme", "invoice", ["k-1", "k-2", "k-9"]) == {
        "k-1": refs[0],
        "k-2": refs[1],
    }
    # the first process sees what the second wrote (the lock file's stamp changed)
    fourth = first.create("acme", sample_document("acme", 4), idempotency_key="k-4")
    assert fourth.remote_id == "A-4" and first.lookup("acme", "invoice", "k-3") == third
    assert sum(len(_vouchers(p)) for p in (tmp_path / "acme").glob("*.si")) == 4


def test_a_crash_while_writing_leaves_no_file_and_the_retry_writes_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = SieExportBackend(tmp_path, mapping=MAPPING)

    def crash(*_args: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patched:
        patched.setattr("os.replace", crash)
        with pytest.raises(OSError):
            backend.create("acme", sample_document("acme", 1), idempotency_key="k-1")
    assert list((tmp_path / "acme").glob("*.si")) == []
    assert not [p for p in (tmp_path / "acme").iterdir() if p.name.endswith(".tmp")]
    assert backend.lookup("acme", "invoice", "k-1") is None
    ref = backend.create("acme", sample_document("acme", 1), idempotency_key="k-1")
    assert ref.remote_id == "A-1" and len(list((tmp_path / "acme").glob("*.si"))) == 1


def test_unexport_writes_one_reversal_that_nets_every_account_to_zero(tmp_path: Path) -> None:
    clock = _Clock(dt.datetime(2026, 4, 2, 9, tzinfo=dt.UTC))
    backend = SieExportBackend(tmp_path, mapping=MAPPING, clock=clock)
    ref = backend.create("acme", sample_document("acme", 1), idempotency_key="k-1")
    backend.delete("acme", ref)
    backend.delete("acme", ref)  # already reversed: nothing more is written
    vouchers = [v for p in sorted((tmp_path / "acme").glob("*.si")) for v in _vouchers(p)]
    assert [v.text for v in vouchers][1] == "Reversal of A-1 [syncstate-reversal:A-1]"
    assert vouchers[1].date == dt.date(2026, 4, 2)
    totals: dict[str, Decimal] = {}
    for voucher in vouchers:
        for row in voucher.rows:
            totals[row.account] = totals.get(row.account, Decimal(0)) + row.amount
    assert set(totals.values()) == {Decimal(0)} and len(vouchers) == 2


def test_bad_folders_and_files_are_named_in_one_clear_error(tmp_path: Path) -> None:
    backend = SieExportBackend(tmp_path, mapping=MAPPING)
    with pytest.raises(InputError, match="cannot name a folder"):
        backend.create("../evil", sample_document("acme", 1), idempotency_key="k-1")
    (tmp_path / "acme").mkdir()
    (tmp_path / "acme" / "foreign.si").write_bytes(b'#FLAGGA 0\n#VER A 1 notadate "x"\n')
    with pytest.raises(ConfigurationError, match=r"foreign\.si"):
        backend.lookup("acme", "invoice", "k-1")


@attrs.define
class _Clock:
    at: dt.datetime

    def now(self) -> dt.datetime:
        return self.at


def _vouchers(path: Path) -> list[SieVoucher]:
    result = read_sie(path)
    assert not result.errors
    return list(result.document.vouchers)
