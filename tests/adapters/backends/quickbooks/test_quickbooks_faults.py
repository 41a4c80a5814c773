"""QuickBooks Fault answers become typed errors carrying code, message and detail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncstate.adapters.backends.quickbooks.faults import (
    error_from_response,
    parse_fault,
    parse_retry_after,
)
from syncstate.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    BackendError,
    DuplicateDocumentError,
    RemoteNotFound,
    RemoteValidationError,
    StaleVersionError,
    ThrottledError,
    TransientBackendError,
)


def fault(code: str, message: str = "msg", detail: str = "detail") -> bytes:
    body = {
        "Fault": {
            "Error": [{"Message": message, "Detail": detail, "code": code, "element": ""}],
            "type": "ValidationFault",
        },
        "time": "2026-03-01T10:00:00.000-08:00",
    }
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("120", AuthenticationError),
        ("610", RemoteNotFound),
        ("620", RemoteValidationError),
        ("2020", RemoteValidationError),
        ("2500", RemoteValidationError),
        ("5010", StaleVersionError),
        ("6000", RemoteValidationError),
        ("6140", DuplicateDocumentError),
        ("6190", AuthenticationError),
        ("6210", RemoteValidationError),
        ("6240", DuplicateDocumentError),
        ("6540", RemoteValidationError),
    ],
)
def test_each_documented_fault_code_maps_to_its_error_class(
    code: str, expected: type[BackendError]
) -> None:
    error = error_from_response(400, fault(code, "Some message", "Some detail"), record="a/b/c")
    assert type(error) is expected
    assert error.code == code
    assert error.message == "Some message"
    assert error.detail == "Some detail"
    assert error.status == 400
    assert "a/b/c" in str(error)
    assert not isinstance(error, TransientBackendError)


def test_duplicate_document_number_names_the_existing_transaction() -> None:
    detail = (
        "Duplicate Document Number Error : You must specify a different number. This number "
        "has already been used. DocNumber=1234 is assigned to TxnType=Invoice with TxnId=111"
    )
    error = error_from_response(400, fault("6140", "Duplicate Document Number Error", detail))
    assert isinstance(error, DuplicateDocumentError)
    assert error.existing_id == "111"


def test_duplicate_name_names_the_existing_entity_when_quickbooks_says() -> None:
    error = error_from_response(
        400,
        fault("6240", "Duplicate Name Exists Error", "The name supplied already exists. : Id=58"),
    )
    assert isinstance(error, DuplicateDocumentError) and error.existing_id == "58"


def test_401_with_lower_case_authentication_fault_is_an_authentication_error() -> None:
    body = {
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": "Token expired",
                    "code": "3200",
                }
            ],
            "type": "AUTHENTICATION",
        },
        "requestId": None,
    }
    error = error_from_response(401, json.dumps(body).encode())
    assert isinstance(error, AuthenticationError)
    assert error.code == "3200" and error.detail == "Token expired"


def test_401_without_a_body_is_an_authentication_error() -> None:
    assert isinstance(error_from_response(401, b""), AuthenticationError)


def test_429_json_throttle_is_retryable_and_carries_retry_after() -> None:
    body = fault("3001", "message=ThrottleExceeded; errorCode=003001; statusCode=429")
    error = error_from_response(429, body, retry_after=parse_retry_after("7"))
    assert isinstance(error, ThrottledError) and isinstance(error, TransientBackendError)
    assert error.retry_after == 7.0 and error.code == "3001"


XML_THROTTLE = b"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<IntuitResponse time="2017-07-30T22:45:22.933-07:00" xmlns="http://schema.intuit.com/finance/v3">
    <Fault type="SERVICE">
        <Error code="3001">
            <Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>
            <Detail>The request limit was reached.  Try again later</Detail>
        </Error>
    </Fault>
</IntuitResponse>"""


def test_429_xml_throttle_is_read_even_when_json_was_asked_for() -> None:
    error = error_from_response(429, XML_THROTTLE)
    assert isinstance(error, ThrottledError)
    assert error.code == "3001"
    assert error.detail == "The request limit was reached.  Try again later"


def test_older_403_throttle_answer_is_throttling_not_a_refusal() -> None:
    body = XML_THROTTLE.replace(b"statusCode=429", b"statusCode=403")
    assert isinstance(error_from_response(403, body), ThrottledError)


def test_429_without_a_body_is_still_throttling() -> None:
    assert isinstance(error_from_response(429, b"Too Many Requests"), ThrottledError)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_an_ambiguous_outcome_with_or_without_a_fault(status: int) -> None:
    assert isinstance(error_from_response(status, b"<html>bad gateway</html>"), AmbiguousOutcome)
    with_fault = error_from_response(status, fault("3100", "InternalServerError"))
    assert isinstance(with_fault, AmbiguousOutcome) and with_fault.code == "3100"


def test_retry_after_reads_seconds_and_http_dates() -> None:
    import datetime as dt

    now = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("Sun, 01 Mar 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


# -------------------------------------------------------------- real payloads


def qbo(shared_dir: Path, name: str) -> bytes:
    return (shared_dir / "fixtures" / "qbo" / name).read_bytes()


def test_real_stale_object_fault_with_non_ascii_detail(shared_dir: Path) -> None:
    error = error_from_response(400, qbo(shared_dir, "exquickbooks__item_update_item_error.json"))
    assert isinstance(error, StaleVersionError)
    assert error.code == "5010" and error.message == "Stale Object Error"
    assert error.detail is not None and "Nikkil\u00e4" in error.detail


def test_real_required_parameter_fault_names_the_element(shared_dir: Path) -> None:
    error = error_from_response(400, qbo(shared_dir, "exquickbooks__item_create_item_error.json"))
    assert isinstance(error, RemoteValidationError)
    assert error.code == "2020"
    assert error.detail is not None and "Name" in error.detail


def test_real_query_parser_fault_without_element(shared_dir: Path) -> None:
    parsed = parse_fault(qbo(shared_dir, "exquickbooks__api_query_error.json"))
    assert parsed is not None and parsed.first.code == "4000" and parsed.first.element == ""
    error = error_from_response(400, qbo(shared_dir, "exquickbooks__api_query_error.json"))
    assert type(error) is RemoteValidationError
    assert "\n" in (error.detail or "")  # the multi-line detail is kept whole


def test_a_success_body_is_not_a_fault(shared_dir: Path) -> None:
    assert parse_fault(qbo(shared_dir, "exquickbooks__item_read_item.json")) is None


def test_a_fault_with_several_errors_keeps_all_and_prints_one_line() -> None:
    body = {
        "Fault": {
            "Error": [
                {
                    "Message": "Required param missing",
                    "Detail": "Required parameter Line.Amount is missing\nin the request",
                    "code": "2020",
                    "element": "Line.Amount",
                },
                {"Message": "Invalid Reference Id", "Detail": "Item 99", "code": "2500"},
            ],
            "type": "ValidationFault",
        }
    }
    error = error_from_response(400, json.dumps(body).encode(), record="acme/invoice/i1")
    assert isinstance(error, RemoteValidationError)
    assert [e["code"] for e in error.errors] == ["2020", "2500"]
    assert error.errors[1]["detail"] == "Item 99"
    text = str(error)
    assert "\n" not in text
    assert "code 2020" in text and "also code 2500" in text and "Item 99" in text
    assert error.to_dict()["errors"][0]["element"] == "Line.Amount"
