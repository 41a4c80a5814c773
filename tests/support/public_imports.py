"""Which syncstate imports the documentation and the examples may use.

Users import public names from the top-level package (``from syncstate import
...``), from ``syncstate.notebook`` and from the kits in ``syncstate.testing``.
A name a guide or an example needs that is not exported yet is listed in
:data:`PENDING_EXPORTS` with the module it lives in, until it is.
"""

from __future__ import annotations

import ast
import importlib

import syncstate

#: modules whose names a page or an example may import besides the top-level package
PUBLIC_MODULES = (
    "syncstate",
    "syncstate.notebook",
    "syncstate.testing",
    "syncstate.web",
    "syncstate.integrations.celery",
)

#: names the guides and examples need that ``syncstate`` does not export yet: name -> module.
#: Once one is exported, import it from ``syncstate`` everywhere and drop it here.
PENDING_EXPORTS = {}


def syncstate_imports(code: str) -> list[tuple[str, str]]:
    """(module, name) of every import of syncstate in ``code`` (name "" for ``import m``)."""
    found: list[tuple[str, str]] = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("syncstate"):
            found.extend((node.module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((a.name, "") for a in node.names if a.name.startswith("syncstate"))
    return found


def import_problems(code: str, where: str) -> list[str]:
    """What is wrong with the syncstate imports of ``code``: non-public modules, missing names."""
    problems: list[str] = []
    for module, name in syncstate_imports(code):
        public = module in PUBLIC_MODULES or module.startswith("syncstate.testing.")
        if not (public or PENDING_EXPORTS.get(name) == module):
            problems.append(f"{where}: import {name or module} from syncstate, not from {module}")
        elif module == "syncstate" and name and name not in syncstate.__all__:
            problems.append(f"{where}: syncstate has no public name {name}")
        elif name and not hasattr(importlib.import_module(module), name):
            problems.append(f"{where}: {module} has no {name}")
    return problems


def exported_pending() -> list[str]:
    """Names in :data:`PENDING_EXPORTS` that ``syncstate`` exports by now."""
    return sorted(set(PENDING_EXPORTS) & set(syncstate.__all__))
