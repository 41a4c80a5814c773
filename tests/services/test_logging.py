"""Logging: the standard ``logging`` module, named loggers, and never a secret.

An export runs against the local QuickBooks-like server with an expired
access token (refreshed once by the host), throttling, a dropped connection
and a commit-then-fail, with every logger at DEBUG (httpx and httpcore
included). Neither token may appear in any log record (message, arguments,
extras, exception text), in the repr of the objects a host prints, or in
the text of any error.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from syncstate import (
    AuthenticationError,
    ExportOptions,
    QboMapping,
    QuickBooksBackend,
    QuickBooksConfig,
    SQLiteStore,
    TimeEntry,
    export_records,
    sync_results,
)
from syncstate.testing.qbo_server import QboServer

COMPANY = "acme"
REALM = "4620816365"
EXPIRED = "eyJhbGciOi.EXPIRED-access-token-5f3c9a"
FRESH = "eyJhbGciOi.FRESH-access-token-77d0e1"
SECRETS = (EXPIRED, FRESH, EXPIRED.split(".")[1], FRESH.split(".")[1])
AT = dt.datetime(2026, 3, 9, 8, 0, tzinfo=dt.UTC)
OPTIONS = ExportOptions(concurrency=2, use_batch=False, sleep=lambda _s: None, seed=1)


class RotatingTokens:
    """The host's token store: hands out an expired token until asked to refresh."""

    def __init__(self, current: str, refreshed: str) -> None:
        self.current, self.refreshed = current, refreshed

    def access_token(self, company: str) -> str:
        return self.current

    def refresh(self, company: str) -> str:
        self.current = self.refreshed
        return self.current


def _texts(record: logging.LogRecord) -> Iterator[str]:
    yield record.getMessage()
    yield repr(record.args)
    yield repr(vars(record))  # extras land in the record's attributes
    if record.exc_info:
        yield "".join(traceback.format_exception(*record.exc_info))
    if record.exc_text:
        yield record.exc_text


def _assert_no_secret(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"a token leaked into {where}: {text[:300]}"


@pytest.fixture
def server() -> Iterator[QboServer]:
    with QboServer() as running:
        running.valid_tokens = {FRESH}
        yield running


def _backend(server: QboServer, client: httpx.Client, tokens: RotatingTokens) -> QuickBooksBackend:
    mapping = QboMapping(
        employees={"ann": server.add(REALM, "Employee", {"DisplayName": "Ann"})},
        customers={"J-1": server.add(REALM, "Customer", {"DisplayName": "Harbor"})},
        items={"framing": server.add(REALM, "Item", {"Name": "Framing"})},
    )
    return QuickBooksBackend(
        tokens=tokens,
        mapping=mapping,
        client=client,
        config=QuickBooksConfig(base_url=server.base_url, realms={COMPANY: REALM}),
    )


def _ingest(store: SQLiteStore, employees: tuple[str, ...]) -> None:
    entries = [
        TimeEntry(
            source_id=f"{who}-{day}",
            employee=who,
            date=dt.date(2026, 3, 2) + dt.timedelta(days=day),
            hours="8",
            job="J-1",
            cost_code="framing",
        )
        for who in employees
        for day in range(4)
    ]
    store.ingest(COMPANY, [e.to_record(COMPANY) for e in entries], at=AT, actor="test")


def test_no_token_in_logs_reprs_or_errors_of_an_export_with_faults(
    server: QboServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = SQLiteStore(tmp_path / "s.db")
    _ingest(store, ("ann", "zoe"))  # zoe has no QuickBooks mapping: her records fail
    server.fail_next("ThrottleExceeded", "Too many requests", status=429)
    server.reset_next(1)
    server.commit_then_fail(1)
    with httpx.Client(timeout=5.0) as client:
        tokens = RotatingTokens(EXPIRED, FRESH)
        backend = _backend(server, client, tokens)
        report = export_records(store, backend, COMPANY, options=OPTIONS)
        assert tokens.current == FRESH  # the expired token was refused and refreshed
        assert report.exported == 4 and len(report.failed) == 4 and report.retries >= 2

        texts = {
            "repr(backend)": repr(backend),
            "repr(config)": repr(backend.config),
            "repr(report)": repr(report),
            "report rows": repr(report.to_records()),
            "sync results": repr(sync_results(store, COMPANY).to_records()),
            "journal": repr([store.journal(k) for k, _ in report.failed]),
        }
    for where, text in texts.items():
        _assert_no_secret(text, where)
    assert caplog.records, "the export logged nothing at DEBUG"
    assert {r.name for r in caplog.records} & {"syncstate.adapters.backends.quickbooks"}
    for record in caplog.records:
        for text in _texts(record):
            _assert_no_secret(text, f"log record of {record.name}")
    store.close()


def test_a_revoked_token_fails_with_an_error_that_does_not_show_it(
    server: QboServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.valid_tokens = {"some-other-token"}  # both of ours are refused
    with httpx.Client(timeout=5.0) as client:
        backend = _backend(server, client, RotatingTokens(EXPIRED, FRESH))
        store = SQLiteStore(tmp_path / "s.db")
        _ingest(store, ("ann",))
        try:
            report = export_records(store, backend, COMPANY, options=OPTIONS)
        except AuthenticationError as error:
            texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
        else:  # the engine may keep the failure per record instead of raising
            assert report.failed or report.pending or report.released
            texts = [repr(report), repr(report.to_records())]
            texts.append(repr(sync_results(store, COMPANY).to_records()))
        store.close()
    for text in texts:
        _assert_no_secret(text, "the authentication failure")
    for record in caplog.records:
        for text in _texts(record):
            _assert_no_secret(text, f"log record of {record.name}")


def test_the_library_installs_no_log_handlers() -> None:
    """Hosts configure logging; importing syncstate must not add handlers or levels."""
    import syncstate.adapters.backends.quickbooks.client
    import syncstate.services.export  # noqa: F401

    names = (
        "syncstate",
        "syncstate.services.export",
        "syncstate.adapters.backends.quickbooks",
    )
    for name in names:
        logger = logging.getLogger(name)
        assert logger.handlers == [] and logger.level == logging.NOTSET
