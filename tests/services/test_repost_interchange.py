"""The repost interchange read through cattrs: every refusal names the path of its field.

Covers :mod:`syncstate.services.repost_io` and :mod:`syncstate.services.repost_wire`.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from typing import Any

import jsonschema
import pytest

from syncstate.domain.repost.projects import BudgetOption
from syncstate.errors import InterchangeError
from syncstate.services.repost_io import (
    projects_from_json,
    receivables_from_json,
    schema,
    staff_from_json,
    wip_from_json,
)
from syncstate.testing.fuzz import REPOST_SAMPLES, WIP_ENTRY

READERS = {
    "receivables": receivables_from_json,
    "wip": wip_from_json,
    "staff": staff_from_json,
    "projects": projects_from_json,
}


def _refusal(calculator: str, data: object) -> str:
    with pytest.raises(InterchangeError) as caught:
        READERS[calculator](data, source="in.json")
    text = str(caught.value)
    assert text.startswith("in.json: ") and "\n" not in text
    return text


def _receivables(n: int) -> dict[str, Any]:
    documents = [
        {"id": f"INV-{k}", "kind": "invoice", "client": "A", "date": "2024-01-10",
         "amount": "10.00"}
        for k in range(n)
    ]  # fmt: skip
    return {"period_start": "2024-03-01", "documents": documents}


def test_a_bad_amount_names_its_path_and_document() -> None:
    data = _receivables(20)
    data["documents"][12]["amount"] = "12.345"
    text = _refusal("receivables", data)
    assert text == (
        "in.json: document INV-12: field 'documents[12].amount': "
        "'12.345' has more than 2 decimal places"
    )


def test_a_bad_wip_date_names_its_path() -> None:
    data = copy.deepcopy(REPOST_SAMPLES["wip"])
    data["entries"].append({**WIP_ENTRY, "id": "W9", "date": "2024-13-01"})
    text = _refusal("wip", data)
    assert "document W9: field 'entries[3].date': '2024-13-01' is not an ISO date" in text


@pytest.mark.parametrize(
    ("calculator", "path", "value", "expected"),
    [
        ("receivables", ("documents", 1, "allocations", 0, "amount"), "1e3",
         "document CR-1: field 'documents[1].allocations[0].amount': '1e3' is in exponent"),
        ("receivables", ("documents", 0, "kind"), "bill",
         "field 'documents[0].kind': 'bill' is not one of invoice,"),
        ("receivables", ("documents", 0, "client"), 7,
         "field 'documents[0].client': must be a string, got 7"),
        ("receivables", ("documents", 0, "id"), "", "field 'documents[0].id': must not be empty"),
        ("receivables", ("documents",), "abc", "field 'documents': must be a list, got str"),
        ("receivables", ("documents", 2), [], "field 'documents[2]': expected an object, got list"),
        ("receivables", ("period_start",), None, "field 'period_start': is required"),
        ("wip", ("invoices", 0, "date"), "9999-12-31",
         "document B1: field 'invoices[0].date': '9999-12-31' is after 9998-12-31"),
        ("wip", ("entries", 0, "hide"), None, "field 'entries[0].hide': must be true or false"),
        ("wip", ("entries", 0, "quantity"), "0.0000001", "has more than 6 decimal places"),
        ("wip", ("entries", 1, "amount"), 10.5, "field 'entries[1].amount': 10.5 is a float"),
        ("staff", ("staff", 0, "rates", 1, "from"), "2024-02-30",
         "document S1: field 'staff[0].rates[1].from': '2024-02-30' is not an ISO date"),
        ("staff", ("staff", 0, "rates", 0, "cost_rate"), True, "True is a bool"),
        ("staff", ("entries", 1, "billed_amount"), "9" * 16,
         "field 'entries[1].billed_amount': '9999999999999999' is out of range"),
        ("projects", ("projects", 0, "staff_budgets", 1, "hours"), "NaN",
         "document P1: field 'projects[0].staff_budgets[1].hours': 'NaN' is not a decimal"),
        ("projects", ("projects", 1, "option"), "all",
         "document P2: field 'projects[1].option': 'all' is not one of none,"),
    ],
)  # fmt: skip
def test_every_calculator_names_the_path_of_a_bad_field(
    calculator: str, path: tuple[Any, ...], value: object, expected: str
) -> None:
    data = copy.deepcopy(REPOST_SAMPLES[calculator])
    target = data
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert expected in _refusal(calculator, data)


def test_a_missing_required_field_is_named_with_its_path() -> None:
    data = copy.deepcopy(REPOST_SAMPLES["staff"])
    del data["staff"][0]["rates"][0]["from"]
    assert "document S1: field 'staff[0].rates[0].from': is required" in _refusal("staff", data)


def test_several_problems_name_the_first_and_count_the_rest() -> None:
    data = _receivables(5)
    data["documents"][1]["amount"] = 1.5
    data["documents"][3]["date"] = "yesterday"
    data["documents"][4]["kind"] = None
    text = _refusal("receivables", data)
    assert "field 'documents[1].amount': 1.5 is a float" in text
    assert text.endswith("(and 2 more problems)")


def test_a_document_that_is_not_an_object_is_refused() -> None:
    for calculator in READERS:
        assert _refusal(calculator, [1, 2]) == "in.json: expected an object, got list"


def test_optional_fields_lists_and_flags_take_their_defaults() -> None:
    start, docs = receivables_from_json({"period_start": "2024-03-01"})
    assert (start.isoformat(), docs) == ("2024-03-01", [])
    _, entries, invoices = wip_from_json(
        {"period_start": "2024-03-01", "entries": [{"id": "W", "date": "2024-01-02",
                                                   "billing_status": None}]}
    )  # fmt: skip
    (entry,) = entries
    assert (entry.type, entry.hide, entry.clear_flag, entry.billing_status) == (
        None, False, False, "unbilled"
    )  # fmt: skip
    assert invoices == {}
    (project,) = projects_from_json({"projects": [{"id": "P", "option": None}]})
    assert project.option is BudgetOption.NONE and project.budget_amount == Decimal("0.00")
    (project,) = projects_from_json({"projects": [{"id": "P", "option": ""}]})
    assert project.option is BudgetOption.NONE


def test_integers_and_trailing_zeros_read_as_before() -> None:
    data = _receivables(1)
    data["documents"][0]["amount"] = 12
    assert receivables_from_json(data)[1][0].amount == Decimal(12)
    data["documents"][0]["amount"] = " 12.500 "  # zeros past two decimals are fine
    assert str(receivables_from_json(data)[1][0].amount) == "12.50"


@pytest.mark.parametrize("calculator", sorted(READERS))
def test_the_samples_are_schema_valid_and_read(calculator: str) -> None:
    jsonschema.validate(REPOST_SAMPLES[calculator], schema(calculator, "input"))
    assert READERS[calculator](json.loads(json.dumps(REPOST_SAMPLES[calculator])))
