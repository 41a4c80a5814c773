"""Old import paths of the adapters, kept working after the move to one package each.

Until 0.1 the back ends and stores were flat modules with name prefixes
(``syncstate.adapters.backends.sie_parser``, ``syncstate.adapters.storage.bundles_sqlite``,
...). Each now lives in a package per back end or storage engine. Importing an old path
still works: it yields the module at its new home (the same module object, so
``isinstance`` checks and monkeypatching agree) and emits a :class:`DeprecationWarning`
naming the new path. Prefer the top-level names (``from syncstate import SQLiteBundleStore``).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType

_B = "syncstate.adapters.backends."
_S = "syncstate.adapters.storage."

#: old module path -> new module path
MOVED: dict[str, str] = {
    _B + "quickbooks_faults": _B + "quickbooks.faults",
    _B + "quickbooks_payloads": _B + "quickbooks.payloads",
    _B + "sie_check": _B + "sie.check",
    _B + "sie_model": _B + "sie.model",
    _B + "sie_parser": _B + "sie.parser",
    _B + "sie_writer": _B + "sie.writer",
    _B + "beancount_ledger": _B + "beancount.ledger",
    _B + "beancount_postings": _B + "beancount.postings",
    _S + "bundles_sqlite": _S + "sqlite.bundles",
    _S + "mirror_sqlite": _S + "sqlite.mirror",
    _S + "repost_sqlite": _S + "sqlite.ledger",
    _S + "sqlite_files": _S + "sqlite.files",
    _S + "migrations": _S + "sqlite.migrations",
    _S + "postgres_connections": _S + "postgres.connections",
    _S + "postgres_migrations": _S + "postgres.migrations",
    _S + "bundles_memory": _S + "memory.bundles",
}


class _Alias(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        warnings.warn(
            f"{spec.name} moved to {self.target}; import it from there "
            "(or use the top-level name in syncstate)",
            DeprecationWarning,
            stacklevel=2,
        )
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: the module was executed at its new home."""


class _MovedFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        new = MOVED.get(fullname)
        if new is None:
            return None
        return importlib.machinery.ModuleSpec(fullname, _Alias(new))


def install() -> None:
    """Register the finder once (done when :mod:`syncstate.adapters` is imported)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
