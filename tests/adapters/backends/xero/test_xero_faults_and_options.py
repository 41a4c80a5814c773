"""Xero error bodies mapped to typed errors, and the back end built from text options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncstate.adapters.backends.xero.client import XeroBackend
from syncstate.adapters.backends.xero.faults import element_error, error_from_response
from syncstate.adapters.backends.xero.options import from_options, parse_tenants, read_mapping
from syncstate.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    ConfigurationError,
    InputError,
    RemoteNotFound,
    RemoteValidationError,
    ThrottledError,
)
from syncstate.plugin_options import parse_plugin_options

VALIDATION = {
    "ErrorNumber": 10,
    "Type": "ValidationException",
    "Message": "A validation exception occurred",
    "Elements": [
        {
            "ValidationErrors": [
                {"Message": "Email address must be valid"},
                {"Message": "Contact name must be unique"},
            ]
        }
    ],
}


def body(data: object) -> bytes:
    return json.dumps(data).encode()


def test_a_validation_exception_keeps_every_message_in_order() -> None:
    error = error_from_response(400, body(VALIDATION), record="acme/invoice/1")
    assert type(error) is RemoteValidationError and error.code == "ValidationException"
    assert [e["message"] for e in error.errors] == [
        "Email address must be valid",
        "Contact name must be unique",
    ]
    assert str(error).startswith("Email address must be valid") and "\n" not in str(error)


@pytest.mark.parametrize(
    ("status", "payload", "expected"),
    [
        (
            401,
            {"Title": "Unauthorized", "Detail": "AuthenticationUnsuccessful"},
            AuthenticationError,
        ),
        (403, {"Title": "Forbidden"}, AuthenticationError),
        (404, {}, RemoteNotFound),
        (500, {}, AmbiguousOutcome),
        (503, "not json", AmbiguousOutcome),
        (429, {}, ThrottledError),
    ],
)
def test_status_codes_map_to_what_a_caller_does_about_them(
    status: int, payload: object, expected: type[Exception]
) -> None:
    error = error_from_response(status, body(payload), retry_after=3.0, limit_problem="day")
    assert type(error) is expected and error.status == status
    if expected is ThrottledError:
        assert isinstance(error, ThrottledError) and error.retry_after == 3.0
        assert error.code == "day" and "day limit" in str(error)


def test_a_reused_key_is_ambiguous_so_the_engine_looks_the_document_up() -> None:
    reused = {
        **VALIDATION,
        "Elements": [
            {
                "ValidationErrors": [
                    {"Message": "Idempotency Key abc is used with a different request."}
                ]
            }
        ],
    }
    error = error_from_response(400, body(reused))
    assert isinstance(error, AmbiguousOutcome) and error.code == "IdempotencyKeyReused"


def test_an_element_of_a_batch_is_ok_or_carries_its_errors() -> None:
    assert element_error({"InvoiceID": "1", "StatusAttributeString": "OK"}) is None
    failed = element_error(
        {"StatusAttributeString": "ERROR", "ValidationErrors": [{"Message": "Bad date"}]},
        record="r",
    )
    assert isinstance(failed, RemoteValidationError) and failed.message == "Bad date"
    assert failed.record == "r"


def test_options_build_a_back_end_and_never_echo_a_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapping = tmp_path / "xero.json"
    mapping.write_text(json.dumps({"contacts": {"c1": "guid-1"}, "items": {"i": "CODE"}}))
    monkeypatch.setenv("XERO_ACCESS_TOKEN", "tok")
    options = parse_plugin_options(
        "xero",
        XeroBackend,
        [("tenant", "acme:tenant-guid"), ("mapping", str(mapping)), ("max_batch", "25")],
    )
    backend = XeroBackend.from_options(**options)
    assert isinstance(backend, XeroBackend) and backend.max_batch == 25
    assert backend.config.tenant_for("acme") == "tenant-guid"
    with pytest.raises(InputError) as caught:
        parse_plugin_options("xero", XeroBackend, [("max_batch", "secret-value-9999")])
    assert "secret-value-9999" not in str(caught.value)
    with pytest.raises(InputError):
        parse_tenants("no-colon")
    monkeypatch.delenv("XERO_ACCESS_TOKEN")
    with pytest.raises(ConfigurationError, match="XERO_ACCESS_TOKEN"):
        from_options(mapping=read_mapping(str(mapping)))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"customers": {"a": "b"}}))
    with pytest.raises(InputError, match="unknown Xero mapping table"):
        read_mapping(str(bad))


def test_a_refused_environment_token_says_xero_and_never_shows_the_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mapping = tmp_path / "xero.json"
    mapping.write_text(json.dumps({"contacts": {}}))
    monkeypatch.setenv("XERO_ACCESS_TOKEN", "tok-secret-1234")
    backend = from_options(mapping=read_mapping(str(mapping)))
    with pytest.raises(AuthenticationError) as caught:
        backend._tokens.refresh("acme")
    assert "Xero refused" in str(caught.value) and "tok-secret-1234" not in str(caught.value)
    assert "tok-secret-1234" not in repr(backend._tokens)
