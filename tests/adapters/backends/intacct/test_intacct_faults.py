"""Intacct gateway errors map to the error a caller acts on; the envelope reads back."""

from __future__ import annotations

import pytest

from syncstate.adapters.backends.intacct.envelope import (
    FunctionResult,
    GatewayError,
    build_request,
    parse_response,
    session_auth,
)
from syncstate.adapters.backends.intacct.faults import (
    DuplicateControlId,
    control_error,
    function_error,
    http_error,
)
from syncstate.adapters.backends.intacct.queries import check_key, in_condition
from syncstate.errors import (
    AmbiguousOutcome,
    AuthenticationError,
    RemoteNotFound,
    RemoteValidationError,
    ThrottledError,
    TransientBackendError,
)


def _error(errorno: str, text: str = "") -> GatewayError:
    return GatewayError(errorno=errorno, description2=text)


@pytest.mark.parametrize(
    ("errorno", "unique", "expected"),
    [
        ("GW-0010", True, ThrottledError),
        ("XL03000006", True, AuthenticationError),
        ("XL03000003", True, RemoteValidationError),
        ("GW-0011", True, RemoteValidationError),
        ("SOMETHING-NEW", True, DuplicateControlId),
        ("SOMETHING-NEW", False, RemoteValidationError),
    ],
)
def test_a_control_failure_is_classified_by_what_the_caller_does(
    errorno: str, unique: bool, expected: type[Exception]
) -> None:
    error = control_error([_error(errorno, "refused")], unique_write=unique)
    assert type(error) is expected
    assert error.code == errorno


def test_a_control_id_refusal_is_recognised_by_its_words_even_with_a_known_code() -> None:
    text = "Control ID 'abc' has already been used with uniqueid true"
    assert isinstance(
        control_error([_error("XL03000003", text)], unique_write=True), DuplicateControlId
    )


def test_function_failures_keep_every_field_and_pick_the_class() -> None:
    failure = FunctionResult(
        status="failure",
        function="create",
        control_id="f0",
        errors=(
            GatewayError("BL01001973", "", "Invalid Customer ID 'X' specified.", "Use a valid one"),
            GatewayError("XL03000009", "", "The entire transaction was rolled back."),
        ),
    )
    error = function_error(failure, record="acme/invoice/1")
    assert type(error) is RemoteValidationError
    assert error.code == "BL01001973" and error.detail == "Use a valid one"
    assert [e["code"] for e in error.errors] == ["BL01001973", "XL03000009"]
    assert "also code XL03000009" in str(error) and "record acme/invoice/1" in str(error)
    missing = FunctionResult(
        "failure", "update", "f0", (GatewayError("BL01001973", "", "Could not find record 7"),)
    )
    assert isinstance(function_error(missing), RemoteNotFound)
    aborted = FunctionResult("aborted", "create", "f1", (_error("XL03000009"),))
    assert isinstance(function_error(aborted), TransientBackendError)


def test_http_statuses_without_xml() -> None:
    throttled = http_error(429, retry_after=2.0)
    assert isinstance(throttled, ThrottledError) and throttled.retry_after == 2.0
    assert isinstance(http_error(502, retry_after=None), AmbiguousOutcome)
    assert isinstance(http_error(401, retry_after=None), AuthenticationError)


def test_a_built_request_holds_the_control_block_and_the_functions_in_order() -> None:
    from syncstate.adapters.backends.intacct.envelope import element

    body = build_request(
        sender_id="s",
        sender_password="p",
        control_id="c-1",
        unique=True,
        authentication=session_auth("sid"),
        functions=[("f0", element("create")), ("f1", element("readByQuery"))],
    )
    text = body.decode()
    assert "<uniqueid>true</uniqueid>" in text and "<dtdversion>3.0</dtdversion>" in text
    assert text.index('controlid="f0"') < text.index('controlid="f1"')


def test_a_response_reads_back_per_function() -> None:
    answer = parse_response(
        b"<response><control><status>success</status></control><operation>"
        b"<authentication><status>success</status></authentication>"
        b"<result><status>success</status><function>create</function><controlid>f1</controlid>"
        b'<data count="1"><arinvoice><RECORDNO>7</RECORDNO></arinvoice></data></result>'
        b"<result><status>failure</status><function>create</function><controlid>f0</controlid>"
        b"<errormessage><error><errorno>BL1</errorno><description2>bad</description2></error>"
        b"</errormessage></result></operation></response>"
    )
    by_id = answer.by_control_id()
    assert by_id["f1"].ok and by_id["f1"].rows()[0].findtext("RECORDNO") == "7"
    assert not by_id["f0"].ok and by_id["f0"].errors[0].errorno == "BL1"
    with pytest.raises(ValueError):
        parse_response(b"<html>502 Bad Gateway</html>")


@pytest.mark.parametrize("key", ["", "x" * 61, "it's", "a b", "k\n"])
def test_a_key_that_could_break_a_query_is_refused_before_sending(key: str) -> None:
    with pytest.raises(RemoteValidationError):
        check_key(key)


def test_conditions_quote_every_key() -> None:
    assert in_condition("DOCNUMBER", ["k-1"]) == "DOCNUMBER = 'k-1'"
    assert in_condition("DOCNUMBER", ["a", "b"]) == "DOCNUMBER IN ('a','b')"
