"""The source layout the project promises: small modules, a pure domain, one package each.

A newcomer finds each back end and storage engine in a package of its own, no module is
longer than 500 lines, and ``domain/`` never depends on an adapter, a service, the CLI,
the network or a database driver.
"""

from __future__ import annotations

import ast
import importlib
import sys
import warnings
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "syncstate"
LIMIT = 500
#: what the pure domain may not import (syncstate layers and I/O libraries)
FORBIDDEN = (
    "syncstate.adapters",
    "syncstate.services",
    "syncstate.cli",
    "syncstate.testing",
    "syncstate.plugins",
    "httpx",
    "sqlite3",
    "psycopg",
    "psycopg_pool",
    "socket",
    "requests",
)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            pytest.fail(f"{path}: relative import; the project uses absolute imports")
    return names


def test_no_module_is_over_the_size_limit() -> None:
    lengths = {
        str(p.relative_to(SRC)): len(p.read_text(encoding="utf-8").splitlines())
        for p in SRC.rglob("*.py")
    }
    assert {m: n for m, n in lengths.items() if n > LIMIT} == {}


def test_the_domain_imports_no_adapter_service_or_io_library() -> None:
    found = {
        str(p.relative_to(SRC)): sorted(
            name
            for name in _imports(p)
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
        )
        for p in (SRC / "domain").rglob("*.py")
    }
    assert {m: names for m, names in found.items() if names} == {}


@pytest.mark.parametrize(
    "package",
    [
        "syncstate.adapters.backends.quickbooks",
        "syncstate.adapters.backends.sie",
        "syncstate.adapters.backends.beancount",
        "syncstate.adapters.storage.sqlite",
        "syncstate.adapters.storage.memory",
    ],
)
def test_each_back_end_and_storage_engine_is_a_package(package: str) -> None:
    module = importlib.import_module(package)
    assert hasattr(module, "__path__"), f"{package} is not a package"
    assert module.__all__, f"{package} names no public API"
    for name in module.__all__:
        assert getattr(module, name) is not None


@pytest.mark.parametrize(
    ("old", "name"),
    [
        ("syncstate.adapters.backends.sie_parser", "parse_sie"),
        ("syncstate.adapters.backends.sie_writer", "write_sie"),
        ("syncstate.adapters.backends.quickbooks_payloads", "QboMapping"),
        ("syncstate.adapters.storage.bundles_sqlite", "SQLiteBundleStore"),
        ("syncstate.adapters.storage.mirror_sqlite", "SQLiteMirrorStore"),
        ("syncstate.adapters.storage.repost_sqlite", "SQLiteLedgerStore"),
    ],
)
def test_old_import_paths_still_work_and_say_where_the_module_moved(old: str, name: str) -> None:
    sys.modules.pop(old, None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        module = importlib.import_module(old)
    import syncstate

    assert getattr(module, name) is getattr(syncstate, name)
    assert [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)] == [
        f"{old} moved to {module.__name__}; import it from there "
        "(or use the top-level name in syncstate)"
    ]
