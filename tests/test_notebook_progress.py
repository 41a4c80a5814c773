"""An export shows its progress with tqdm in a notebook (``syncstate.notebook.TqdmProgress``)."""

from __future__ import annotations

import datetime as dt
import io
import sys

import pytest

from syncstate import (
    ConfigurationError,
    ExportOptions,
    MemoryBackend,
    MemoryStore,
    RemoteValidationError,
    ThrottledError,
    TimeEntry,
    export_records,
)
from syncstate.notebook import TqdmProgress

CO = "acme"
AT = dt.datetime(2026, 3, 9, 8, 0, tzinfo=dt.UTC)
FAST = ExportOptions(concurrency=1, use_batch=False, sleep=lambda _s: None, seed=1)


def _store(n: int) -> MemoryStore:
    store = MemoryStore()
    entries = [
        TimeEntry(source_id=f"t{i:02}", employee="ann", date=dt.date(2026, 3, 2), hours="8")
        for i in range(n)
    ]
    store.ingest(CO, [e.to_record(CO) for e in entries], at=AT, actor="test")
    return store


def test_an_export_draws_a_bar_counts_outcomes_and_prints_retries_above_it() -> None:
    pytest.importorskip("tqdm")
    backend = MemoryBackend()
    backend.fail_next("create", ThrottledError("Too many requests", retry_after=0.0))
    backend.fail_next("create", RemoteValidationError("closed period", code="6210"))
    screen = io.StringIO()
    progress = TqdmProgress(file=screen, mininterval=0)

    report = export_records(_store(12), backend, CO, progress=progress, options=FAST)

    assert report.exported == 11 and len(report.failed) == 1 and report.retries == 1
    text = screen.getvalue()
    assert "12/12" in text and "export" in text  # the bar reached the end, under its label
    assert "exported=11" in text and "failed=1" in text
    assert "retry 1 for acme/time_entry/t00" in text  # the note, on a line of its own
    assert progress.outcomes == {"exported": 11, "failed": 1}
    assert repr(progress) == "TqdmProgress(done=12, total=12)"


def test_a_second_run_starts_a_fresh_bar() -> None:
    pytest.importorskip("tqdm")
    store, backend = _store(3), MemoryBackend()
    progress = TqdmProgress(file=io.StringIO(), mininterval=0)
    export_records(store, backend, CO, progress=progress, options=FAST)
    store.ingest(
        CO,
        [
            TimeEntry(
                source_id="t99", employee="bo", date=dt.date(2026, 3, 3), hours="1"
            ).to_record(CO)
        ],
        at=AT,
        actor="test",
    )
    export_records(store, backend, CO, progress=progress, options=FAST)
    assert progress.outcomes == {"exported": 1}
    assert repr(progress) == "TqdmProgress(done=1, total=1)"


def test_a_disabled_bar_prints_nothing() -> None:
    pytest.importorskip("tqdm")
    screen = io.StringIO()
    backend = MemoryBackend()
    backend.fail_next("create", ThrottledError("Too many requests", retry_after=0.0))
    progress = TqdmProgress(file=screen, disable=True)
    export_records(_store(2), backend, CO, progress=progress, options=FAST)
    assert screen.getvalue() == ""


def test_without_tqdm_it_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # what an uninstalled package looks like
    with pytest.raises(ConfigurationError, match=r"syncstate\[notebook\]"):
        TqdmProgress()
