"""Reading untrusted JSON documents: bounded, strict, one clear error per problem.

:func:`parse_json` (bytes) and :func:`load_json` (a file) are what the repost
interchange (:mod:`syncstate.services.repost_io`) reads with. Every refusal is
an :class:`~syncstate.errors.InterchangeError` naming the file and the line,
column or field: bytes that are not UTF-8, JSON syntax errors, nesting deeper
than :data:`MAX_DEPTH`, number literals longer than :data:`MAX_NUMBER_DIGITS`
(Python's own 4,300-digit limit is never reached), ``NaN`` / ``Infinity`` and
unpaired surrogate escapes (which no file, database or terminal can hold).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from syncstate.errors import InterchangeError

__all__ = ["MAX_DEPTH", "MAX_NUMBER_DIGITS", "label", "load_json", "parse_json"]

#: how deeply a document may nest arrays and objects (the formats need four levels)
MAX_DEPTH = 32
#: the longest JSON number literal read (no amount in range comes near it)
MAX_NUMBER_DIGITS = 40
_NEWLINE = "\n"


def label(text: str, limit: int = 80) -> str:
    """``text`` safe for a one-line message: control characters escaped, cut at ``limit``."""
    if not text.isprintable():
        text = text.encode("unicode_escape", "backslashreplace").decode("ascii")
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _BadLiteral(ValueError):
    """A number literal or constant that :func:`parse_json` refuses."""

    def __init__(self, literal: str, message: str) -> None:
        super().__init__(message)
        self.literal = literal


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_NUMBER_DIGITS:
        raise _BadLiteral(text, f"a number of {len(text)} digits (at most {MAX_NUMBER_DIGITS})")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS:
        raise _BadLiteral(text, f"a number of {len(text)} characters (at most {MAX_NUMBER_DIGITS})")
    return float(text)


def _parse_constant(text: str) -> object:
    raise _BadLiteral(text, f"{text} is not a JSON value")


def _where(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    return f"line {line} column {offset - text.rfind(_NEWLINE, 0, offset)}"


def _check_tree(data: object, source: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` and strings that are not Unicode text."""
    stack: list[tuple[object, str, int]] = [(data, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise InterchangeError(
                    "an unpaired surrogate escape (\\ud800-\\udfff) is not text",
                    source=source,
                    field=path or None,
                ) from None
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise InterchangeError(
                f"nested more than {MAX_DEPTH} levels deep", source=source, field=path or None
            )
        if isinstance(value, dict):
            for key, item in value.items():
                name = label(key, 40)
                stack.append((key, path, depth))
                stack.append((item, f"{path}.{name}" if path else name, depth + 1))
        else:
            stack.extend((item, f"{path}[{n}]", depth + 1) for n, item in enumerate(value))


def parse_json(raw: bytes, *, source: str = "input") -> Any:
    """Parse the bytes of a repost document; every refusal names ``source`` and where.

    Raises :class:`InterchangeError` for bytes that are not UTF-8 (a leading BOM is
    skipped), JSON syntax errors, nesting deeper than :data:`MAX_DEPTH`, number
    literals longer than :data:`MAX_NUMBER_DIGITS`, ``NaN`` / ``Infinity`` and
    unpaired surrogate escapes.
    """
    source = label(source, 200)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        head = raw[: exc.start]
        line = head.count(b"\n") + 1
        column = exc.start - (head.rfind(b"\n") + 1) + 1
        raise InterchangeError(
            f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at line {line} column {column}",
            source=source,
        ) from None
    try:
        data = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except _BadLiteral as exc:
        at = text.find(exc.literal)
        where = f" at {_where(text, at)}" if at >= 0 else ""
        raise InterchangeError(f"not accepted: {exc}{where}", source=source) from None
    except json.JSONDecodeError as exc:
        raise InterchangeError(
            f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}", source=source
        ) from None
    except RecursionError:
        raise InterchangeError(f"nested more than {MAX_DEPTH} levels deep", source=source) from None
    _check_tree(data, source)
    return data


def load_json(path: str | os.PathLike[str]) -> Any:
    """Read a repost JSON file with :func:`parse_json`; errors name the file and line.

    ``path`` is a :class:`~pathlib.Path` or a plain string (as notebook users pass it).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InterchangeError(
            f"cannot read: {exc.strerror or type(exc).__name__}", source=label(str(path), 200)
        ) from None
    return parse_json(raw, source=str(path))
