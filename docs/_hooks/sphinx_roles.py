"""Griffe extension: Sphinx roles in docstrings become links in the API reference.

The code's docstrings cross-reference with Sphinx roles (``:class:`~syncstate.ports.Source```,
``:func:`apply_reset```). This extension rewrites each role into an *optional* autorefs
reference, resolved in the scope of the object the docstring belongs to: a link when the
target is rendered somewhere on the site, plain code when it is not (a private helper, a
module without a reference page). The displayed text follows Sphinx: ``~`` shows the last
name only.
"""

from __future__ import annotations

import html
import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|data|mod|attr|exc|obj|const):`(~?)([^`<>]+)`")


def _resolve(obj: griffe.Object, target: str) -> str | None:
    """The full path of ``target`` as seen from ``obj``, or None."""
    if target.startswith("syncstate"):
        return target
    head, _, rest = target.lstrip(".").partition(".")
    scope: griffe.Object | None = obj
    while scope is not None:
        try:
            found = scope.resolve(head)
        except (griffe.NameResolutionError, AttributeError, KeyError):
            scope = scope.parent
            continue
        return f"{found}.{rest}" if rest else found
    return None


def _rewrite(obj: griffe.Object, text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        short, target = match.group(1), match.group(2).strip()
        shown = target.rsplit(".", 1)[-1] if short else target.lstrip(".")
        label = f"<code>{html.escape(shown)}</code>"
        path = _resolve(obj, target)
        if path is None:
            return f"`{shown}`"
        return f'<autoref identifier="{html.escape(path)}" optional>{label}</autoref>'

    return ROLE.sub(replace, text)


class SphinxRoles(griffe.Extension):
    """Rewrite Sphinx cross-reference roles once the whole package is loaded."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        """Walk every object of the package (aliases excluded) and fix its docstring."""
        stack: list[griffe.Object] = [pkg]
        while stack:
            obj = stack.pop()
            if obj.docstring is not None and ":`" in obj.docstring.value:
                obj.docstring.value = _rewrite(obj, obj.docstring.value)
            stack.extend(m for m in obj.members.values() if isinstance(m, griffe.Object))
