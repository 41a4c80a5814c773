"""Typed options of plug-ins, as a command line or a configuration file gives them.

A plug-in declares the options it takes from text (``--backend-option KEY=VALUE`` on
the command line) as a tuple of :class:`PluginOption` on its factory, in an attribute
named ``OPTIONS``; each option says how its text is parsed and whether it is a secret.
If the factory also has ``from_options``, that is called with the parsed values
(a class can keep its Python constructor for objects such as token providers);
otherwise the factory itself is::

    class ShoeboxBackend:
        OPTIONS = (
            PluginOption("path", Path, "folder of the shoebox", required=True),
            PluginOption("max_batch", int, "documents per batch"),
        )

Values are never passed on as raw strings: a plug-in that declares no options takes
none from text, and an unknown option, a missing required one or a value its parser
refuses is an :class:`~syncstate.errors.InputError` that names the option and never
echoes the value (it may be a token).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from syncstate.errors import ConfigurationError, InputError

__all__ = [
    "PluginOption",
    "bounded_int",
    "company_pairs",
    "declared_options",
    "http_url",
    "json_file",
    "parse_option_text",
    "parse_plugin_options",
    "string_tables",
]


@attrs.frozen
class PluginOption:
    """One option a plug-in takes from text."""

    #: the option's name (``KEY`` of ``KEY=VALUE``)
    name: str
    #: turns the text into the value (``str``, ``int``, ``Path``, a function); raising
    #: ``ValueError`` / ``TypeError`` / an ``InputError`` refuses the value
    parse: Callable[[str], Any] = str
    #: one line for ``--help`` and errors
    help: str = ""
    #: an option that must be given
    required: bool = False
    #: a secret (a token): never shown, and better given from a file or the environment
    secret: bool = False


def parse_option_text(text: str) -> tuple[str, str]:
    """``KEY=VALUE`` as a pair; an error never repeats the text (it may hold a secret)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise InputError("a back-end option must look like KEY=VALUE with a non-empty KEY")
    return name.strip(), value


def declared_options(factory: object) -> tuple[PluginOption, ...]:
    """The options ``factory`` declares (``OPTIONS``), or none."""
    declared = getattr(factory, "OPTIONS", ())
    if not isinstance(declared, tuple) or not all(isinstance(o, PluginOption) for o in declared):
        raise ConfigurationError(
            f"{getattr(factory, '__qualname__', factory)!r}: OPTIONS must be a tuple of "
            "PluginOption"
        )
    return declared


def parse_plugin_options(
    plugin: str, factory: object, pairs: Iterable[tuple[str, str]]
) -> dict[str, Any]:
    """Parse ``pairs`` with the options ``factory`` declares; typed values by name."""
    declared = {o.name: o for o in declared_options(factory)}
    raw: dict[str, str] = {}
    for name, value in pairs:
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            raise InputError(f"back end {plugin!r} has no option {name!r} (its options: {known})")
        if name in raw:
            raise InputError(f"back-end option {name!r} is given twice")
        raw[name] = value
    missing = [o.name for o in declared.values() if o.required and o.name not in raw]
    if missing:
        raise InputError(f"back end {plugin!r} needs the option(s) {', '.join(missing)}")
    parsed: dict[str, Any] = {}
    for name, text in raw.items():
        option = declared[name]
        try:
            parsed[name] = option.parse(text)
        except (ValueError, TypeError, InputError):
            # the parser's message may quote the value (a token): say what was expected
            expected = f" (expected: {option.help})" if option.help else ""
            raise InputError(
                f"back-end option {name!r} of {plugin!r} is not valid{expected}"
            ) from None
    return parsed


# ------------------------------------------------------------ shared text parsers
# (the parsers the shipped back ends' OPTIONS use; plug-ins may use them too)


def company_pairs(text: str, *, usage: str, valid: Callable[[str], bool] = bool) -> dict[str, str]:
    """``COMPANY:ID[,COMPANY:ID...]`` as a mapping; ``valid`` checks each id.

    ``usage`` is the form shown when the text does not parse (``realm must be ...``).
    """
    pairs: dict[str, str] = {}
    for part in text.split(","):
        company, sep, ident = part.strip().partition(":")
        if not sep or not company.strip() or not ident.strip() or not valid(ident.strip()):
            raise InputError(usage)
        pairs[company.strip()] = ident.strip()
    return pairs


def json_file(path: Path, what: str) -> Any:
    """The JSON in ``path``; an error names the file but never echoes its content."""
    try:
        return json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        # the parser's message may quote a secret from the file
        raise InputError(f"{what} {path} is not valid JSON") from None


def string_tables(path: Path, expected: str) -> Mapping[str, Mapping[str, str]]:
    """A mapping file: a JSON object of tables mapping host ids to back-end ids (strings)."""
    data = json_file(path, "mapping file")
    if not isinstance(data, Mapping) or not all(
        isinstance(table, Mapping)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in table.items())
        for table in data.values()
    ):
        raise InputError(
            f"mapping file {path}: expected an object of tables ({expected}), each mapping "
            "host ids (strings) to the back end's ids (strings)"
        )
    return data


def http_url(text: str) -> str:
    """An ``http://`` or ``https://`` URL (the parser of a ``base_url`` option)."""
    if not text.startswith(("https://", "http://")):
        raise ValueError(text)
    return text


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """A parser of integers from ``low`` to ``high``."""

    def parse(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(text)
        return value

    return parse
