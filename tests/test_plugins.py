"""Plug-in discovery: a fake distribution on sys.path is found like a real one."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncstate.adapters.backends.beancount.backend import BeancountBackend
from syncstate.errors import ConfigurationError, InputError, PluginNotFound
from syncstate.plugins import (
    BACKENDS_GROUP,
    available_backends,
    available_stores,
    open_backend,
    open_store,
    plugins,
)

PLUGIN_MODULE = """
from syncstate.ports import Capability


class TinyBackend:
    name = "tiny"
    capabilities = frozenset({Capability.CREATE})
    max_batch = 0

    def __init__(self, *, label="tiny"):
        self.label = label

    def create(self, company, document, *, idempotency_key): ...
    def update(self, company, ref, document, *, idempotency_key): ...
    def lookup(self, company, kind, idempotency_key): ...
    def delete(self, company, ref): ...
    def create_batch(self, company, items): ...
    def fetch_pdf(self, company, ref): ...


def not_a_backend(**options):
    return object()
"""


def _distribution(root: Path, name: str, entry_points: str) -> None:
    info = root / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(textwrap.dedent(entry_points))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("site")
    (root / "tiny_syncstate_plugin.py").write_text(PLUGIN_MODULE)
    _distribution(
        root,
        "tiny_syncstate_plugin",
        """
        [syncstate.backends]
        tiny = tiny_syncstate_plugin:TinyBackend
        hollow = tiny_syncstate_plugin:not_a_backend
        ghost = tiny_syncstate_plugin_missing:Backend
        """,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(root))
        yield root
    sys.modules.pop("tiny_syncstate_plugin", None)


def test_a_third_party_back_end_is_listed_beside_the_shipped_ones(site: Path) -> None:
    names = available_backends()
    assert {"tiny", "beancount", "quickbooks"} <= set(names)
    assert names == sorted(names)
    assert plugins(BACKENDS_GROUP)["tiny"].distribution == "tiny_syncstate_plugin"


def test_open_backend_passes_options_to_the_plugin_factory(site: Path) -> None:
    backend = open_backend("tiny", label="from-options")
    assert backend.name == "tiny"
    assert backend.label == "from-options"  # type: ignore[attr-defined]


def test_an_unknown_name_is_a_user_error_listing_what_is_installed(site: Path) -> None:
    with pytest.raises(PluginNotFound) as caught:
        open_backend("quickbook")
    error = caught.value
    assert isinstance(error, InputError)
    assert "tiny" in error.available and "quickbooks" in error.available
    assert "quickbook" in str(error) and "beancount" in str(error)


def test_an_option_the_factory_does_not_take_names_the_accepted_ones(site: Path) -> None:
    with pytest.raises(ConfigurationError, match="it accepts: label"):
        open_backend("tiny", lable="typo")


def test_a_plugin_that_cannot_be_imported_is_a_configuration_error(site: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"ghost.*cannot be imported"):
        open_backend("ghost")


def test_a_factory_returning_something_else_is_refused(site: Path) -> None:
    with pytest.raises(ConfigurationError, match="not an AccountingBackend"):
        open_backend("hollow")


def test_one_name_registered_by_two_distributions_is_refused(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _distribution(tmp_path, "rival_plugin", "[syncstate.backends]\ntiny = rival:Backend\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigurationError, match="registered twice"):
        open_backend("tiny")


def test_shipped_stores_open_by_name(tmp_path: Path) -> None:
    assert {"memory", "sqlite", "postgres"} <= set(available_stores())
    store = open_store("sqlite", path=tmp_path / "state.db")
    try:
        assert store.companies() == []
    finally:
        store.close()
    assert (tmp_path / "state.db").exists()
    assert open_store("memory").companies() == []


def test_the_beancount_back_end_opens_by_name_with_plain_mappings(tmp_path: Path) -> None:
    backend = open_backend(
        "beancount",
        path=tmp_path,
        mappings={"customers": {"c1": "Assets:Receivable:C1"}, "items": {"x": "Income:X"}},
    )
    assert isinstance(backend, BeancountBackend)
    assert dict(backend.accounts.customers) == {"c1": "Assets:Receivable:C1"}


def test_bad_beancount_mappings_are_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not a Beancount account"):
        open_backend("beancount", path=tmp_path, mappings={"items": {"x": "income:x"}})
    with pytest.raises(ConfigurationError, match="unknown Beancount mapping keys: customer"):
        open_backend("beancount", path=tmp_path, mappings={"customer": {}})


def test_beancount_mappings_can_come_from_a_toml_file(tmp_path: Path) -> None:
    mappings = tmp_path / "books.toml"
    mappings.write_text('[customers]\nclient-1 = "Assets:Receivable:Client1"\n')
    backend = open_backend("beancount", path=tmp_path, mappings=str(mappings))
    assert isinstance(backend, BeancountBackend)
    assert dict(backend.accounts.customers) == {"client-1": "Assets:Receivable:Client1"}
    mappings.write_text("[customers\n")
    with pytest.raises(ConfigurationError, match=r"books\.toml are not valid"):
        open_backend("beancount", path=tmp_path, mappings=str(mappings))
