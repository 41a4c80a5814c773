"""JSON for accounting APIs: amounts as exact decimal numbers, never floats.

:func:`dumps` writes ``Decimal`` values as plain JSON numbers (``0.10`` stays ``0.10``,
never ``0.1000000000000000055``) and refuses ``float``; :func:`loads` reads every
number with a fraction back as ``Decimal``. The QuickBooks and Xero payload modules
re-export both.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "loads"]


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, Mapping):
        out.append("{")
        for i, (k, v) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(json.dumps(str(k), ensure_ascii=False))
            out.append(":")
            _encode(v, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, v in enumerate(value):
            if i:
                out.append(",")
            _encode(v, out)
        out.append("]")
    elif isinstance(value, Decimal):
        out.append(format(value, "f"))
    elif isinstance(value, float):
        raise TypeError("floats are not written to an accounting API; use Decimal")
    else:
        out.append(json.dumps(value, ensure_ascii=False))


def dumps(value: Any) -> bytes:
    """JSON bytes with ``Decimal`` written as exact JSON numbers (floats refused)."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode("utf-8")


def loads(body: bytes | str) -> Any:
    """Decode a JSON body; numbers with a fraction become ``Decimal``."""
    return json.loads(body, parse_float=Decimal)
