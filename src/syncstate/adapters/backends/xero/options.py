"""Xero from text options: the command line and configuration files.

:func:`from_options` builds a :class:`~syncstate.adapters.backends.xero.client.XeroBackend`
from the options :data:`OPTIONS` declares (``syncstate export --backend xero
--backend-option tenant=acme:<tenant id> --backend-option mapping=xero.json``). The
access token comes from exactly one of ``token_env`` (default ``XERO_ACCESS_TOKEN``),
``token_file`` (re-read when Xero answers 401) or ``token_command`` (run again on a 401).
The token readers are QuickBooks' (:mod:`syncstate.adapters.backends.quickbooks.options`)
with Xero's name in their errors; they never show a token.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from syncstate.adapters.backends.quickbooks.options import CommandToken, EnvironmentToken, FileToken
from syncstate.adapters.backends.xero.config import MAX_BATCH, XeroConfig
from syncstate.adapters.backends.xero.payloads import XeroMapping
from syncstate.errors import AuthenticationError, ConfigurationError, InputError
from syncstate.plugin_options import PluginOption, company_pairs, http_url, string_tables

__all__ = ["DEFAULT_TOKEN_ENV", "OPTIONS", "from_options", "parse_tenants", "read_mapping"]

#: where the token is read from when no token option is given
DEFAULT_TOKEN_ENV = "XERO_ACCESS_TOKEN"


class _EnvironmentToken(EnvironmentToken):
    def refresh(self, company: str) -> str:
        """A 401: the variable cannot change under a running process, so this is final."""
        raise AuthenticationError(
            f"Xero refused the access token from ${self.variable} (Xero's tokens last 30 "
            "minutes); refresh it and run again, or use token_command to fetch a fresh one"
        )


class _FileToken(FileToken):
    def refresh(self, company: str) -> str:
        """Re-read the file; the same token as before means it was not refreshed."""
        previous = self._last
        token = self.access_token(company)
        if token == previous:
            raise AuthenticationError(
                f"Xero refused the access token in {self.path} and the file was not refreshed"
            )
        return token


def parse_tenants(text: str) -> dict[str, str]:
    """``COMPANY:TENANT_ID[,COMPANY:TENANT_ID...]`` as a mapping."""
    return company_pairs(
        text,
        usage="tenant must be COMPANY:TENANT_ID[,COMPANY:TENANT_ID...]",
        valid=lambda tenant: " " not in tenant,
    )


def read_mapping(text: str) -> XeroMapping:
    """A mapping file: JSON ``{"contacts": {...}, "items": {...}, "accounts": {...}}``."""
    path = Path(text)
    data = string_tables(path, "contacts, items, accounts")
    try:
        return XeroMapping.from_dict(data)
    except InputError:
        raise
    except Exception as exc:  # unknown table names
        raise InputError(f"mapping file {path}: {exc}") from None


def _batch(text: str) -> int:
    value = int(text)
    if not 2 <= value <= MAX_BATCH:
        raise ValueError(text)
    return value


def _status(text: str) -> str:
    if text not in ("DRAFT", "SUBMITTED", "AUTHORISED"):
        raise ValueError(text)
    return text


#: the options ``syncstate export --backend xero`` takes (``--backend-option KEY=VALUE``)
OPTIONS = (
    PluginOption("tenant", parse_tenants, "COMPANY:TENANT_ID[,COMPANY:TENANT_ID...]"),
    PluginOption("mapping", read_mapping, "a JSON mapping file (contacts, items, accounts)"),
    PluginOption("token_env", str, "an environment variable holding the access token"),
    PluginOption("token_file", Path, "a file holding the access token"),
    PluginOption("token_command", str, "a command printing a fresh access token"),
    PluginOption("base_url", http_url, "an http(s) URL of the Accounting API (.../api.xro/2.0)"),
    PluginOption("max_batch", _batch, f"documents per create request, 2..{MAX_BATCH}"),
    PluginOption("sales_account", str, "account code of invoice lines (default 200)"),
    PluginOption("payment_account", str, "bank account code payments go to (default 090)"),
    PluginOption("invoice_status", _status, "DRAFT, SUBMITTED or AUTHORISED (default)"),
)


def from_options(
    *,
    tenant: Mapping[str, str] | None = None,
    mapping: XeroMapping | None = None,
    token_env: str | None = None,
    token_file: Path | None = None,
    token_command: str | None = None,
    base_url: str | None = None,
    max_batch: int = MAX_BATCH,
    sales_account: str = "200",
    payment_account: str = "090",
    invoice_status: str = "AUTHORISED",
) -> Any:
    """The back end the options describe (see the module docstring)."""
    from syncstate.adapters.backends.xero.client import XeroBackend

    given = [n for n, v in (("token_env", token_env), ("token_file", token_file),
                            ("token_command", token_command)) if v is not None]  # fmt: skip
    if len(given) > 1:
        raise InputError(f"give one of token_env, token_file, token_command (got {given})")
    tokens: EnvironmentToken | FileToken | CommandToken
    if token_file is not None:
        tokens = _FileToken(token_file)
    elif token_command is not None:
        tokens = CommandToken(token_command)
    else:
        variable = token_env or DEFAULT_TOKEN_ENV
        if not os.environ.get(variable):
            raise ConfigurationError(
                f"no Xero access token: set ${variable}, or give token_file or token_command"
            )
        tokens = _EnvironmentToken(variable)
    if mapping is None:
        raise ConfigurationError(
            "Xero needs a mapping of host ids to Xero ids: --backend-option mapping=FILE (JSON)"
        )
    config = XeroConfig(
        base_url=base_url,
        tenants=tenant or {},
        max_batch=max_batch,
        sales_account=sales_account,
        payment_account=payment_account,
        invoice_status=invoice_status,
    )
    return XeroBackend(tokens=tokens, mapping=mapping, config=config)
