"""Bundle stores, mirror stores, bundling policies and mirror sources found by entry point.

A fake distribution on ``sys.path`` registers plug-ins in each group, as a
third party would; they open through the ``open_*`` helpers and are listed by
the ``available_*`` ones.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from syncstate.adapters.storage.memory.bundles import MemoryBundleStore
from syncstate.adapters.storage.memory.mirror import MemoryMirrorStore
from syncstate.adapters.storage.sqlite.bundles import SQLiteBundleStore
from syncstate.domain.smart_accounting import SmartAccounting
from syncstate.errors import ConfigurationError, PluginNotFound
from syncstate.plugins import (
    available_bundle_stores,
    available_bundling_policies,
    available_mirror_sources,
    available_mirror_stores,
    open_bundle_store,
    open_bundling_policy,
    open_mirror_source,
    open_mirror_store,
)

PLUGIN_MODULE = """
class LoudPolicy:
    name = "loud"

    def __init__(self, *, volume=1):
        self.volume = volume

    def bundle(self, company, client, usage, payments, invoices):
        return []


class FileSource:
    name = "files"

    def __init__(self, *, folder):
        self.folder = folder

    def snapshot(self, company, years=None): ...


def hollow(**options):
    return object()
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("site")
    (root / "groups_syncstate_plugin.py").write_text(PLUGIN_MODULE)
    info = root / "groups_syncstate_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: groups_syncstate_plugin\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            """
            [syncstate.bundle_stores]
            kit-memory = syncstate.adapters.storage.memory.bundles:MemoryBundleStore
            kit-sqlite = syncstate.adapters.storage.sqlite.bundles:SQLiteBundleStore
            hollow = groups_syncstate_plugin:hollow

            [syncstate.mirror_stores]
            kit-memory = syncstate.adapters.storage.memory.mirror:MemoryMirrorStore
            hollow = groups_syncstate_plugin:hollow

            [syncstate.bundling_policies]
            loud = groups_syncstate_plugin:LoudPolicy
            kit-smart = syncstate.domain.smart_accounting:SmartAccounting
            hollow = groups_syncstate_plugin:hollow

            [syncstate.mirror_sources]
            files = groups_syncstate_plugin:FileSource
            hollow = groups_syncstate_plugin:hollow
            """
        )
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(root))
        yield root
    sys.modules.pop("groups_syncstate_plugin", None)


def test_each_group_lists_its_plugins(site: Path) -> None:
    assert {"kit-memory", "kit-sqlite", "hollow"} <= set(available_bundle_stores())
    assert {"kit-memory", "hollow"} <= set(available_mirror_stores())
    assert {"loud", "kit-smart"} <= set(available_bundling_policies())
    assert {"files"} <= set(available_mirror_sources())
    assert available_bundle_stores() == sorted(available_bundle_stores())


def test_stores_open_by_name_with_their_options(site: Path, tmp_path: Path) -> None:
    assert isinstance(open_bundle_store("kit-memory"), MemoryBundleStore)
    sqlite = open_bundle_store("kit-sqlite", path=tmp_path / "b.db")
    assert isinstance(sqlite, SQLiteBundleStore) and sqlite.path == str(tmp_path / "b.db")
    sqlite.close()
    assert isinstance(open_mirror_store("kit-memory"), MemoryMirrorStore)


def test_policies_and_sources_open_by_name(site: Path) -> None:
    policy = open_bundling_policy("loud", volume=3)
    assert policy.name == "loud" and getattr(policy, "volume", None) == 3
    assert isinstance(open_bundling_policy("kit-smart"), SmartAccounting)
    source = open_mirror_source("files", folder="uploads")
    assert source.name == "files" and getattr(source, "folder", None) == "uploads"


def test_a_plugin_that_is_not_what_its_group_promises_is_refused(site: Path) -> None:
    with pytest.raises(ConfigurationError, match="not a BundleStore"):
        open_bundle_store("hollow")
    with pytest.raises(ConfigurationError, match="not a MirrorStore"):
        open_mirror_store("hollow")
    with pytest.raises(ConfigurationError, match="not a BundlingPolicy"):
        open_bundling_policy("hollow")
    with pytest.raises(ConfigurationError, match=r"not a Source \(missing snapshot, name\)"):
        open_mirror_source("hollow")


def test_unknown_names_and_options_are_clear_errors(site: Path) -> None:
    with pytest.raises(PluginNotFound, match="kit-memory"):
        open_mirror_store("nope")
    with pytest.raises(ConfigurationError, match="accepts: folder"):
        open_mirror_source("files", path="x")
