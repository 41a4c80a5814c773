"""The Intacct back end from text options (the CLI): typed, and secrets never echoed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncstate.adapters.backends.intacct import IntacctBackend
from syncstate.adapters.backends.intacct.options import (
    EnvironmentCredentials,
    from_options,
    read_credentials,
    read_mapping,
)
from syncstate.errors import ConfigurationError, InputError
from syncstate.plugin_options import parse_plugin_options


def _mapping(tmp_path: Path) -> Path:
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"customers": {"client-1": "C1"}, "revenue_account": "4000"}))
    return path


def test_options_build_a_back_end_with_environment_credentials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {"SENDER_ID": "s", "SENDER_PASSWORD": "sp", "USER_ID": "u",
                        "USER_PASSWORD": "up", "COMPANY_ID": "DEFAULT"}.items():  # fmt: skip
        monkeypatch.setenv(f"INTACCT_{name}", value)
    pairs = [("mapping", str(_mapping(tmp_path))), ("company", "acme:ACME-PROD"),
             ("max_batch", "20")]  # fmt: skip
    values = parse_plugin_options("intacct", IntacctBackend, pairs)
    backend = from_options(**values)
    assert isinstance(backend, IntacctBackend) and backend.max_batch == 20
    creds = EnvironmentCredentials(companies={"acme": "ACME-PROD"}).credentials("acme")
    assert creds.company_id == "ACME-PROD" and "sp" not in repr(creds)


def test_missing_environment_credentials_name_the_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("INTACCT_USER_PASSWORD", raising=False)
    with pytest.raises(ConfigurationError, match="INTACCT_USER_PASSWORD"):
        EnvironmentCredentials().credentials("acme")


def test_a_broken_credentials_file_never_echoes_its_contents(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    path.write_text('{"acme": {"sender_password": "hunter2-secret",')
    with pytest.raises(InputError) as caught:
        read_credentials(str(path))
    assert "hunter2" not in str(caught.value)
    path.write_text(json.dumps({"acme": {"sender_password": "hunter2-secret"}}))
    with pytest.raises(InputError) as caught:
        read_credentials(str(path))
    assert "hunter2" not in str(caught.value) and "acme" in str(caught.value)


def test_a_mapping_file_with_an_unknown_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"vendors": {"a": "b"}}))
    with pytest.raises(InputError, match="vendors"):
        read_mapping(str(path))


def test_no_mapping_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="mapping"):
        from_options()
