"""A crash never leaves half a transaction in a Beancount ledger."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("beancount", reason="needs the beancount extra")

from beancount_helpers import backend, invoice, transactions
from syncstate.errors import StorageError


def test_a_torn_append_is_cut_off_when_the_ledger_is_opened_again(tmp_path: Path) -> None:
    books = backend(tmp_path / "template")
    books.create("acme", invoice("acme", 1, "10.00"), idempotency_key="k-1")
    path = books.ledger_path("acme")
    before = path.read_bytes()
    books.create_batch(
        "acme", [(invoice("acme", n, "20.00"), f"k-{n}") for n in (2, 3)]
    )  # one append holding two transactions
    appended = path.read_bytes()[len(before) :]
    assert len(appended) > 200
    whole = before + appended
    boundaries = {len(before)} | {
        len(before) + i + len("; syncstate-end 00000X\n")
        for i in range(len(appended))
        if appended.startswith(b"; syncstate-end ", i)
    }
    for cut in range(1, len(appended), 7):  # every 7th byte: each line, mid-word, mid-number
        directory = tmp_path / f"cut{cut}"
        directory.mkdir()
        torn = directory / path.name
        torn.write_bytes(whole[: len(before) + cut])
        reopened = backend(directory)
        assert reopened.lookup("acme", "invoice", "k-1") is not None
        repaired = torn.read_bytes()
        assert whole.startswith(repaired), f"cut at byte {cut}: repair changed the file"
        assert len(repaired.rstrip(b"\n")) + 1 in boundaries, (
            f"cut at byte {cut}: half a transaction is left"
        )
        kept = len(transactions(torn))
        assert (reopened.lookup("acme", "invoice", "k-2") is not None) == (kept >= 2)
        assert (reopened.lookup("acme", "invoice", "k-3") is not None) == (kept == 3)
        reopened.create("acme", invoice("acme", 3, "20.00"), idempotency_key="k-3")
        reopened.create("acme", invoice("acme", 2, "20.00"), idempotency_key="k-2")
        assert len(transactions(torn)) == 3


def test_a_failed_rewrite_leaves_the_previous_ledger_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    books = backend(tmp_path)
    ref = books.create("acme", invoice("acme", 1, "10.00"), idempotency_key="k-1")
    before = books.ledger_path("acme").read_bytes()

    def disk_full(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(StorageError, match="cannot rewrite ledger"):
        books.update("acme", ref, invoice("acme", 1, "99.00"), idempotency_key="k-1b")
    monkeypatch.undo()
    assert books.ledger_path("acme").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[2])
    from beancount_helpers import backend, invoice, payment
    books = backend(sys.argv[1])
    print("ready", flush=True)
    n = 0
    while True:
        n += 1
        if n % 5 == 0:
            books.create_batch("acme", [(invoice("acme", n * 10 + i, "1.00"), f"b{n}-{i}")
                                        for i in range(20)])
        else:
            books.create("acme", invoice("acme", n, "12.34"), idempotency_key=f"k-{n}")
            books.create("acme", payment("acme", n, "2.00"), idempotency_key=f"p-{n}")
    """
)


@pytest.mark.parametrize("delay", [0.15, 0.3, 0.45])
def test_a_process_killed_mid_export_leaves_only_whole_transactions(
    tmp_path: Path, delay: float
) -> None:
    here = Path(__file__).resolve().parents[3] / "support"
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path), str(here)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    books = backend(tmp_path)
    path = books.ledger_path("acme")
    written = transactions(path)  # recovery ran on open; Beancount reports no errors
    assert written, "the writer should have exported something before it was killed"
    keys = {t.meta["syncstate-key"] for t in written}
    assert len(keys) == len(written)
    for t in written:
        assert books.lookup("acme", t.meta["syncstate-kind"], t.meta["syncstate-key"])
    text = path.read_text()
    assert text.count("; syncstate-begin ") == text.count("; syncstate-end ")
