"""Mappings are checked before anything is sent, and every gap is reported at once."""

from __future__ import annotations

import datetime as dt

import pytest

from syncstate.domain.mapping import MappingKind, Mappings, check_mappings
from syncstate.domain.records import RecordKey
from syncstate.domain.transactions import Payment, UsageLog
from syncstate.errors import MappingError

CO = "acme"
DAY = dt.date(2024, 3, 1)


def usage(sid: str, client: str, resource: str) -> UsageLog:
    return UsageLog(
        source_id=sid,
        client=client,
        date=DAY,
        resource=resource,
        quantity="1",
        unit_price="10.00",
        currency="USD",
    )


def test_every_missing_customer_and_item_is_reported_at_once_naming_the_records() -> None:
    txs = [
        usage("u1", "ann", "room-a"),
        usage("u2", "bob", "laser"),
        usage("u3", "bob", "laser"),
        Payment(source_id="p1", client="cyd", date=DAY, amount="5", currency="USD"),
    ]
    mappings = Mappings(customers={"ann": "C1"}, items={"room-a": "I1"})
    missing = check_mappings(CO, txs, mappings)
    assert [(m.kind, m.local) for m in missing] == [
        (MappingKind.CUSTOMER, "bob"),
        (MappingKind.CUSTOMER, "cyd"),
        (MappingKind.ITEM, "laser"),
    ]
    assert missing[0].records == (
        RecordKey(CO, "usage_log", "u2"),
        RecordKey(CO, "usage_log", "u3"),
    )
    error = MappingError(missing=missing)
    text = str(error)
    assert "3 missing mapping(s)" in text
    for name in ("'bob'", "'cyd'", "'laser'", "acme/usage_log/u2", "acme/payment/p1"):
        assert name in text


def test_a_customer_mapped_to_a_remote_customer_that_does_not_exist_is_reported() -> None:
    mappings = Mappings(customers={"ann": "C9"}, items={"room-a": "I1"})
    (gap,) = check_mappings(CO, [usage("u1", "ann", "room-a")], mappings, unknown_customers={"C9"})
    assert gap.kind is MappingKind.CUSTOMER and "does not exist" in str(gap)


def test_deposit_accounts_are_only_required_when_asked() -> None:
    pay = Payment(source_id="p1", client="ann", date=DAY, amount="5", currency="USD", method="card")
    mappings = Mappings(customers={"ann": "C1"})
    assert check_mappings(CO, [pay], mappings) == ()
    (gap,) = check_mappings(CO, [pay], mappings, require_deposit_accounts=True)
    assert gap.kind is MappingKind.DEPOSIT_ACCOUNT and gap.local == "card"


def test_complete_mappings_pass_and_round_trip_through_rows() -> None:
    mappings = Mappings(
        customers={"ann": "C1"}, items={"room-a": "I1"}, deposit_accounts={"card": "A4"}
    )
    assert check_mappings(CO, [usage("u1", "ann", "room-a")], mappings) == ()
    assert Mappings.from_rows(mappings.as_rows()) == mappings
    assert mappings.with_mapping(MappingKind.ITEM, "laser", "I2").item("laser") == "I2"


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_remote_id_counts_as_not_mapped(blank: str) -> None:
    mappings = Mappings(customers={"ann": blank}, items={"room-a": "I1"})
    (gap,) = check_mappings(CO, [usage("u1", "ann", "room-a")], mappings)
    assert gap.kind is MappingKind.CUSTOMER
