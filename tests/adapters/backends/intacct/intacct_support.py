"""Shared set-up of the Intacct tests: a fresh company on the local gateway, a back end."""

from __future__ import annotations

import uuid

import attrs
import httpx

from syncstate.adapters.backends.intacct import (
    IntacctBackend,
    IntacctConfig,
    IntacctCredentials,
    IntacctMapping,
    StaticCredentials,
)
from syncstate.testing.intacct_server import IntacctServer

SENDER_PASSWORD = "sender-pw-" + "s3cr3t"
USER_PASSWORD = "user-pw-" + "t0ps3cr3t"


@attrs.frozen
class Company:
    """An Intacct company seeded with a customer, an employee, accounts and an invoice."""

    company_id: str
    other_id: str
    invoice: str
    mapping: IntacctMapping


def seed(server: IntacctServer) -> Company:
    """A fresh company (and a second one for tenancy checks) on ``server``."""
    company_id, other_id = f"CO-{uuid.uuid4().hex[:10]}", f"CO-{uuid.uuid4().hex[:10]}"
    server.add(company_id, "CUSTOMER", {"CUSTOMERID": "C1", "NAME": "Client One"})
    server.add(company_id, "EMPLOYEE", {"EMPLOYEEID": "E1", "NAME": "Ann Employee"})
    for number in ("1000", "4000", "2000"):
        server.add(company_id, "GLACCOUNT", {"ACCOUNTNO": number})
    invoice = server.add(
        company_id,
        "ARINVOICE",
        {"CUSTOMERID": "C1", "TOTALENTERED": "100000", "TOTALPAID": "0", "TOTALDUE": "100000"},
    )
    mapping = IntacctMapping(
        customers={"client-1": "C1"},
        employees={"ann": "E1", "emp-1": "E1"},
        accounts={"consulting": "4000", "cash": "1000", "loan": "2000"},
        bank_account="BOA",
    )
    return Company(company_id, other_id, invoice, mapping)


def credentials(companies: dict[str, str]) -> StaticCredentials:
    """The same sender and user for each syncstate company -> Intacct company id."""
    return StaticCredentials(
        {
            name: IntacctCredentials(
                sender_id="syncstate-test",
                sender_password=SENDER_PASSWORD,
                user_id="api-user",
                user_password=USER_PASSWORD,
                company_id=intacct_id,
            )
            for name, intacct_id in companies.items()
        }
    )


def backend(
    server: IntacctServer, client: httpx.Client, companies: dict[str, str], mapping: IntacctMapping,
    **config: object,
) -> IntacctBackend:  # fmt: skip
    """A back end on ``server`` for ``companies``."""
    return IntacctBackend(
        credentials=credentials(companies),
        mapping=mapping,
        config=IntacctConfig(endpoint_url=server.endpoint_url, **config),  # type: ignore[arg-type]
        client=client,
    )
