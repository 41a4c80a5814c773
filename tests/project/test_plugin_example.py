"""The example plug-in package is found through its entry point and passes the kit.

CI installs it (``pip install --no-deps -e examples/plugin_backend``). Where it
is not installed, the test puts an equivalent distribution (its metadata and
entry point) on ``sys.path``, so discovery is still exercised end to end.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from syncstate.plugins import BACKENDS_GROUP, available_backends, open_backend, plugins
from syncstate.testing.backend_contract import BackendContract

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "plugin_backend"
DIST = "syncstate-example-backend"


def _installed() -> bool:
    try:
        importlib.metadata.distribution(DIST)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.fixture(scope="module", autouse=True)
def example_on_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    if _installed():
        yield
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must install the example: pip install --no-deps -e {EXAMPLE}")
    site = tmp_path_factory.mktemp("site")
    info = site / "syncstate_example_backend-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {DIST}\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text(
        "[syncstate.backends]\nshoebox = syncstate_example_backend:ShoeboxBackend\n"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(EXAMPLE / "src"))
        patch.syspath_prepend(str(site))
        yield


def test_the_example_back_end_is_discovered_through_its_entry_point() -> None:
    assert "shoebox" in available_backends()
    plugin = plugins(BACKENDS_GROUP)["shoebox"]
    assert plugin.distribution == DIST
    assert plugin.target == "syncstate_example_backend:ShoeboxBackend"
    backend = open_backend("shoebox", retry_after=2.5)
    assert backend.name == "shoebox"


class TestExamplePluginPassesTheKit(BackendContract):
    @pytest.fixture
    def backend(self) -> Any:
        return open_backend("shoebox")

    def throttling(self, backend: Any) -> contextlib.AbstractContextManager[Any]:
        @contextlib.contextmanager
        def busy() -> Iterator[None]:
            backend.throttled = True
            try:
                yield
            finally:
                backend.throttled = False

        return busy()
