"""Sage Intacct from text options: the command line and configuration files.

:func:`from_options` builds an
:class:`~syncstate.adapters.backends.intacct.client.IntacctBackend` from the options
:data:`OPTIONS` declares (``syncstate export --backend intacct --backend-option
mapping=map.json --backend-option company=acme:ACME-PROD ...``). Credentials come from
exactly one of:

* the environment (default): ``INTACCT_SENDER_ID``, ``INTACCT_SENDER_PASSWORD``,
  ``INTACCT_USER_ID``, ``INTACCT_USER_PASSWORD`` and ``INTACCT_COMPANY_ID`` (the prefix
  is ``env_prefix``); ``company`` maps syncstate companies to other Intacct company ids;
* ``credentials_file``: a JSON file ``{"COMPANY": {"sender_id": ..., "sender_password":
  ..., "user_id": ..., "user_password": ..., "company_id": ..., "entity_id": ...}}``.

syncstate keeps no credentials: it never logs, prints or stores one, and an error about
credentials names the variable or file, never the value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from syncstate.adapters.backends.intacct.config import (
    IntacctConfig,
    IntacctCredentials,
    StaticCredentials,
)
from syncstate.adapters.backends.intacct.payloads import IntacctMapping
from syncstate.errors import ConfigurationError, InputError
from syncstate.plugin_options import (
    PluginOption,
    bounded_int,
    company_pairs,
    http_url,
    json_file,
)

__all__ = [
    "DEFAULT_ENV_PREFIX",
    "OPTIONS",
    "EnvironmentCredentials",
    "from_options",
    "parse_companies",
    "read_credentials",
    "read_mapping",
]

DEFAULT_ENV_PREFIX = "INTACCT_"
_FIELDS = ("sender_id", "sender_password", "user_id", "user_password", "company_id")


class EnvironmentCredentials:
    """Credentials from environment variables, read when a company first signs in."""

    def __init__(
        self, prefix: str = DEFAULT_ENV_PREFIX, companies: Mapping[str, str] | None = None
    ) -> None:
        self.prefix = prefix
        self.companies = dict(companies or {})

    def __repr__(self) -> str:
        return f"EnvironmentCredentials(prefix={self.prefix!r})"

    def credentials(self, company: str) -> IntacctCredentials:
        """The sender and user from the environment; the company id per ``companies``."""
        values = {name: os.environ.get(self.prefix + name.upper(), "") for name in _FIELDS}
        if company in self.companies:
            values["company_id"] = self.companies[company]
        missing = [self.prefix + n.upper() for n, v in values.items() if not v]
        if missing:
            raise ConfigurationError(f"Intacct credentials missing: set {', '.join(missing)}")
        entity = os.environ.get(self.prefix + "ENTITY_ID", "")
        return IntacctCredentials(**values, entity_id=entity)


def parse_companies(text: str) -> dict[str, str]:
    """``COMPANY:INTACCT_COMPANY_ID[,...]`` as a mapping."""
    return company_pairs(text, usage="company must be COMPANY:INTACCT_COMPANY_ID[,...]")


def read_credentials(text: str) -> StaticCredentials:
    """A credentials file (see the module docstring); errors never show a value."""
    path = Path(text)
    data = json_file(path, "credentials file")
    if not isinstance(data, Mapping) or not data:
        raise InputError(f"credentials file {path}: expected an object of companies")
    by_company: dict[str, IntacctCredentials] = {}
    for company, entry in data.items():
        if not isinstance(entry, Mapping) or not all(
            isinstance(entry.get(n), str) and entry.get(n) for n in _FIELDS
        ):
            raise InputError(
                f"credentials file {path}: company {company!r} needs string values for "
                f"{', '.join(_FIELDS)}"
            )
        entity = entry.get("entity_id", "")
        by_company[str(company)] = IntacctCredentials(
            **{n: str(entry[n]) for n in _FIELDS}, entity_id=str(entity or "")
        )
    return StaticCredentials(by_company)


def read_mapping(text: str) -> IntacctMapping:
    """A mapping file: JSON with ``customers``, ``employees``, ``items``, ``accounts``
    tables and the settings ``revenue_account``, ``journal``, ``bank_account``,
    ``payment_method``."""
    path = Path(text)
    data = json_file(path, "mapping file")
    if not isinstance(data, Mapping):
        raise InputError(f"mapping file {path}: expected a JSON object")
    for name, value in data.items():
        table = isinstance(value, Mapping) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        )
        if not (table or isinstance(value, str)):
            raise InputError(
                f"mapping file {path}: {name!r} must be a table of strings or a string"
            )
    try:
        return IntacctMapping.from_dict(data)
    except (ValueError, TypeError) as exc:
        raise InputError(f"mapping file {path}: {exc}") from None


#: the options ``syncstate export --backend intacct`` takes (``--backend-option KEY=VALUE``)
OPTIONS = (
    PluginOption("mapping", read_mapping, "a JSON mapping file (customers, employees, ...)"),
    PluginOption("company", parse_companies, "COMPANY:INTACCT_COMPANY_ID[,...]"),
    PluginOption("credentials_file", read_credentials, "a JSON file of credentials per company"),
    PluginOption("env_prefix", str, "prefix of the credential variables (default INTACCT_)"),
    PluginOption("endpoint_url", http_url, "the gateway URL (default Intacct's XML gateway)"),
    PluginOption("max_batch", bounded_int(1, 100), "create functions per request, 1..100"),
    PluginOption("page_size", bounded_int(1, 1000), "rows per readByQuery page, 1..1000"),
)


def from_options(
    *,
    mapping: IntacctMapping | None = None,
    company: Mapping[str, str] | None = None,
    credentials_file: StaticCredentials | None = None,
    env_prefix: str | None = None,
    endpoint_url: str | None = None,
    max_batch: int | None = None,
    page_size: int | None = None,
) -> Any:
    """The back end the options describe (see the module docstring)."""
    from syncstate.adapters.backends.intacct.client import IntacctBackend

    if mapping is None:
        raise ConfigurationError(
            "Intacct needs a mapping of host ids to Intacct ids: "
            "--backend-option mapping=FILE (JSON)"
        )
    if credentials_file is not None and (company or env_prefix):
        raise InputError("give credentials_file, or company / env_prefix, not both")
    credentials: StaticCredentials | EnvironmentCredentials = (
        credentials_file
        if credentials_file is not None
        else EnvironmentCredentials(env_prefix or DEFAULT_ENV_PREFIX, company)
    )
    settings: dict[str, Any] = {}
    if endpoint_url:
        settings["endpoint_url"] = endpoint_url
    if max_batch is not None:
        settings["max_batch"] = max_batch
    if page_size is not None:
        settings["page_size"] = page_size
    return IntacctBackend(
        credentials=credentials, mapping=mapping, config=IntacctConfig(**settings)
    )
