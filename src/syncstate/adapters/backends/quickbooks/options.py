"""QuickBooks Online from text options: the command line and configuration files.

:func:`from_options` builds a
:class:`~syncstate.adapters.backends.quickbooks.client.QuickBooksBackend` from the
options :data:`OPTIONS` declares (``syncstate export --backend quickbooks
--backend-option realm=acme:9130 ...``). The access token comes from exactly one of:

* ``token_env``: an environment variable (default ``QUICKBOOKS_ACCESS_TOKEN``);
* ``token_file``: a file holding the token (re-read when QuickBooks answers 401);
* ``token_command``: a command that prints a fresh token (run again on a 401), for hosts
  that keep OAuth refresh tokens in a vault.

syncstate keeps no token: it never logs, prints or stores one, and an error about a
token never shows it.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from syncstate.adapters.backends.quickbooks.config import MAX_BATCH, QuickBooksConfig
from syncstate.adapters.backends.quickbooks.payloads import QboMapping
from syncstate.errors import AuthenticationError, ConfigurationError, InputError
from syncstate.plugin_options import PluginOption, company_pairs, http_url, string_tables

__all__ = [
    "DEFAULT_TOKEN_ENV",
    "OPTIONS",
    "CommandToken",
    "EnvironmentToken",
    "FileToken",
    "from_options",
    "parse_realms",
    "read_mapping",
]

#: where the token is read from when no token option is given
DEFAULT_TOKEN_ENV = "QUICKBOOKS_ACCESS_TOKEN"


def _token_text(text: str, where: str) -> str:
    token = text.strip()
    if not token or any(c.isspace() for c in token):
        raise AuthenticationError(f"{where} does not hold one access token")
    return token


class EnvironmentToken:
    """The access token in an environment variable (the same for every company)."""

    def __init__(self, variable: str = DEFAULT_TOKEN_ENV) -> None:
        self.variable = variable
        self._last = ""

    def __repr__(self) -> str:
        return f"EnvironmentToken(variable={self.variable!r})"

    def access_token(self, company: str) -> str:
        """The variable's current value."""
        value = os.environ.get(self.variable)
        if value is None:
            raise AuthenticationError(f"environment variable {self.variable} is not set")
        self._last = _token_text(value, f"environment variable {self.variable}")
        return self._last

    def refresh(self, company: str) -> str:
        """A 401: the variable cannot change under a running process, so this is final."""
        raise AuthenticationError(
            f"QuickBooks refused the access token from ${self.variable}; refresh it and run "
            "again (or use token_command to fetch a fresh one)"
        )


class FileToken:
    """The access token in a file, re-read when QuickBooks refuses the current one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._last = ""

    def __repr__(self) -> str:
        return f"FileToken(path={str(self.path)!r})"

    def access_token(self, company: str) -> str:
        """The token in the file."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise AuthenticationError(f"cannot read token file {self.path}: {exc}") from None
        self._last = _token_text(text, f"token file {self.path}")
        return self._last

    def refresh(self, company: str) -> str:
        """Re-read the file; the same token as before means it was not refreshed."""
        previous = self._last
        token = self.access_token(company)
        if token == previous:
            raise AuthenticationError(
                f"QuickBooks refused the access token in {self.path} and the file was not refreshed"
            )
        return token


class CommandToken:
    """A command that prints a fresh access token on stdout (run once, again on a 401)."""

    def __init__(self, command: str, *, timeout: float = 30.0) -> None:
        self.argv = shlex.split(command)
        if not self.argv:
            raise InputError("token_command is empty")
        self.timeout = timeout
        self._token = ""

    def __repr__(self) -> str:
        return f"CommandToken(command={self.argv[0]!r})"

    def _run(self) -> str:
        try:
            done = subprocess.run(
                self.argv, capture_output=True, text=True, timeout=self.timeout, check=False
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise AuthenticationError(f"token command {self.argv[0]!r} failed: {exc}") from None
        if done.returncode != 0:
            raise AuthenticationError(
                f"token command {self.argv[0]!r} exited with status {done.returncode}"
            )
        return _token_text(done.stdout, f"the output of token command {self.argv[0]!r}")

    def access_token(self, company: str) -> str:
        """The token the command printed (the command runs once per process)."""
        if not self._token:
            self._token = self._run()
        return self._token

    def refresh(self, company: str) -> str:
        """Run the command again for a fresh token."""
        self._token = self._run()
        return self._token


def parse_realms(text: str) -> dict[str, str]:
    """``COMPANY:REALM[,COMPANY:REALM...]`` as a mapping (realm ids are digits)."""
    return company_pairs(
        text, usage="realm must be COMPANY:REALM_ID[,COMPANY:REALM_ID...]", valid=str.isdigit
    )


def read_mapping(text: str) -> QboMapping:
    """A mapping file: JSON ``{"customers": {...}, "employees": {...}, "items": {...}}``."""
    path = Path(text)
    data = string_tables(path, "customers, employees, items, ...")
    try:
        return QboMapping.from_dict(data)
    except Exception as exc:  # unknown table names
        raise InputError(f"mapping file {path}: {exc}") from None


def _positive_int(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_BATCH:
        raise ValueError(text)
    return value


def _choice(*allowed: str) -> Any:
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(text)
        return text

    return parse


#: the options ``syncstate export --backend quickbooks`` takes (``--backend-option KEY=VALUE``)
OPTIONS = (
    PluginOption("realm", parse_realms, "COMPANY:REALM_ID[,COMPANY:REALM_ID...]"),
    PluginOption("mapping", read_mapping, "a JSON mapping file (customers, employees, items)"),
    PluginOption("token_env", str, "an environment variable holding the access token"),
    PluginOption("token_file", Path, "a file holding the access token"),
    PluginOption("token_command", str, "a command printing a fresh access token"),
    PluginOption("environment", _choice("sandbox", "production"), "sandbox or production"),
    PluginOption("base_url", http_url, "an http(s) URL of the API (overrides environment)"),
    PluginOption("minorversion", int, "the API minor version (an integer)"),
    PluginOption("max_batch", _positive_int, f"documents per batch request, 1..{MAX_BATCH}"),
    PluginOption("reverse", _choice("void", "delete"), "void or delete"),
)


def from_options(
    *,
    realm: Mapping[str, str] | None = None,
    mapping: QboMapping | None = None,
    token_env: str | None = None,
    token_file: Path | None = None,
    token_command: str | None = None,
    environment: str = "sandbox",
    base_url: str | None = None,
    minorversion: int = 75,
    max_batch: int = MAX_BATCH,
    reverse: str = "void",
) -> Any:
    """The back end the options describe (see the module docstring)."""
    from syncstate.adapters.backends.quickbooks.client import QuickBooksBackend

    given = [n for n, v in (("token_env", token_env), ("token_file", token_file),
                            ("token_command", token_command)) if v is not None]  # fmt: skip
    if len(given) > 1:
        raise InputError(f"give one of token_env, token_file, token_command (got {given})")
    tokens: EnvironmentToken | FileToken | CommandToken
    if token_file is not None:
        tokens = FileToken(token_file)
    elif token_command is not None:
        tokens = CommandToken(token_command)
    else:
        variable = token_env or DEFAULT_TOKEN_ENV
        if not os.environ.get(variable):
            raise ConfigurationError(
                f"no QuickBooks access token: set ${variable}, or give token_file or token_command"
            )
        tokens = EnvironmentToken(variable)
    if mapping is None:
        raise ConfigurationError(
            "QuickBooks needs a mapping of host ids to QuickBooks ids: "
            "--backend-option mapping=FILE (JSON)"
        )
    config = QuickBooksConfig(
        environment=environment,
        base_url=base_url,
        minorversion=minorversion,
        max_batch=max_batch,
        reverse=reverse,
        realms=realm or {},
    )
    return QuickBooksBackend(tokens=tokens, mapping=mapping, config=config)
