"""Read SIE files (types 1-4, 4E and 4I) into a :class:`SieDocument`: the entry points.

A read runs in stages, each in a module of its own:

1. :mod:`.encoding`: the whole file is decoded once (:func:`decode_sie` detects
   the real encoding: CP437 as ``#FORMAT PC8`` says, or UTF-8 / ISO-8859-15
   that some programs write while still declaring PC8, with a warning);
2. :mod:`.fields`: the tokenizer (quoted strings with ``\\"`` escapes, ``{ }``
   object lists) and the field parsers;
3. :mod:`.labels`: what each label means (the reader state);
4. :mod:`.packed` and :mod:`.lines`: a voucher whose rows are all plain
   ``#TRANS`` rows is matched whole by one strict regex and its rows kept packed
   (unpacked together on first use); every other line is read one by one;
5. :mod:`.spec`: what SIE 4B requires of the whole file (mandatory labels a
   file lacks are reported as warnings).

Problems are collected as data (:class:`SieProblem`): :func:`read_sie` returns
them beside the document; :func:`parse_sie` raises :class:`SieParseError`
(file, line number and offending line) at the first error. Every label of
SIE 4B is known; other labels are kept and reported as warnings. A closing
``#KSUMMA`` is verified (CRC-32 over the CP437 bytes of each record's label and
field values, as the real files do).
"""

from __future__ import annotations

import gc
import os
from pathlib import Path

import attrs

from syncstate.adapters.backends.sie.encoding import decode_sie
from syncstate.adapters.backends.sie.fields import Token as Token  # re-exported (the writer)
from syncstate.adapters.backends.sie.fields import ksumma_record
from syncstate.adapters.backends.sie.fields import tokenize as tokenize  # re-exported
from syncstate.adapters.backends.sie.labels import Reader
from syncstate.adapters.backends.sie.model import (
    SieAccount,
    SieDocument,
    SieProblem,
)
from syncstate.adapters.backends.sie.packed import read_text
from syncstate.adapters.backends.sie.spec import missing_labels
from syncstate.errors import SieParseError

__all__ = ["SieReadResult", "decode_sie", "ksumma_record", "parse_sie", "read_sie"]

#: line breaks other than ``\n`` that ``str.splitlines`` honours
_ODD_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


@attrs.frozen
class SieReadResult:
    """A document and every problem found while reading it."""

    document: SieDocument
    problems: tuple[SieProblem, ...]
    encoding: str

    @property
    def errors(self) -> tuple[SieProblem, ...]:
        """The problems of severity ``error``."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[SieProblem, ...]:
        """The problems of severity ``warning``."""
        return tuple(p for p in self.problems if p.severity == "warning")


def read_sie(
    source: bytes | str | os.PathLike[str],
    *,
    file: str | None = None,
    allow_unbalanced: bool = False,
) -> SieReadResult:
    """Read SIE ``source`` (bytes, or a path) and collect every problem as data.

    Never raises for malformed content (only :class:`OSError` for a missing file).
    """
    if isinstance(source, bytes):
        data, name = source, file or "<bytes>"
    else:
        data, name = Path(source).read_bytes(), file or str(source)
    text, encoding, problems = decode_sie(data)
    reader = Reader(name, allow_unbalanced=allow_unbalanced)
    reader.problems.extend(problems)
    if any(c in text for c in _ODD_BREAKS):  # read line breaks as str.splitlines does
        text = "\n".join(text.splitlines()) + "\n"
    elif not text.endswith("\n"):
        text += "\n"
    # The reader allocates millions of acyclic tuples; CPython's cyclic collector
    # would traverse them again and again (a third of the time on large files).
    # Pause it for the read and restore it afterwards, whatever happens.
    collecting = gc.isenabled()
    gc.disable()
    try:
        read_text(reader, text)
        document = _document(reader)
    finally:
        if collecting:
            gc.enable()
    return SieReadResult(document, tuple(reader.problems), encoding)


def parse_sie(
    source: bytes | str | os.PathLike[str],
    *,
    file: str | None = None,
    allow_unbalanced: bool = False,
) -> SieDocument:
    """Parse SIE ``source``; raise :class:`SieParseError` at the first error.

    ``allow_unbalanced`` turns unbalanced vouchers into warnings.
    """
    if isinstance(source, bytes):
        data, name = source, file or "<bytes>"
    else:
        name = file or str(source)
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise SieParseError(f"cannot read file: {exc.strerror}", file=name, line=0) from exc
    result = read_sie(data, file=name, allow_unbalanced=allow_unbalanced)
    errors = result.errors
    if errors:
        first = errors[0]
        text = ""
        if first.line:
            lines = decode_sie(data)[0].splitlines()
            text = lines[first.line - 1] if first.line <= len(lines) else ""
        raise SieParseError(first.message, file=name, line=first.line, text=text, problems=errors)
    return result.document


def _document(reader: Reader) -> SieDocument:
    head = reader.head
    if "sie_type" not in head and reader.vouchers and reader.is_sie:
        reader.warn(0, "no #SIETYP: read as type 4")
    accounts = tuple(
        SieAccount(
            number=str(a["number"]),
            name=str(a.get("name", "")),
            type=str(a.get("type", "")),
            unit=str(a.get("unit", "")),
            sru=a.get("sru", ()),  # type: ignore[arg-type]
        )
        for a in reader.accounts.values()
    )
    document = SieDocument(
        sie_type=int(head.get("sie_type", 4 if reader.vouchers else 1)),  # type: ignore[call-overload]
        flag=str(head.get("flag", "0")),
        program=head.get("program", ()),  # type: ignore[arg-type]
        format=str(head.get("format", "PC8")),
        generated=head.get("generated"),  # type: ignore[arg-type]
        generated_by=str(head.get("generated_by", "")),
        company_id=str(head.get("company_id", "")),
        org_number=str(head.get("org_number", "")),
        company_name=str(head.get("company_name", "")),
        address=head.get("address", ()),  # type: ignore[arg-type]
        fiscal_years=tuple(reader.years),
        tax_year=str(head.get("tax_year", "")),
        chart_type=str(head.get("chart_type", "")),
        currency=str(head.get("currency", "")),
        balance_date=head.get("balance_date"),  # type: ignore[arg-type]
        company_type=str(head.get("company_type", "")),
        industry_code=str(head.get("industry_code", "")),
        comments=tuple(reader.comments),
        accounts=accounts,
        dimensions=tuple(reader.dimensions),
        objects=tuple(reader.objects),
        balances=tuple(reader.balances),
        period_balances=tuple(reader.period_balances),
        vouchers=tuple(reader.vouchers),
        unknown=tuple(reader.unknown),
        ksumma=head.get("ksumma"),  # type: ignore[arg-type]
    )
    if reader.is_sie:
        has_balances = bool(document.balances or document.period_balances)
        for label in missing_labels(document.variant, reader.seen, has_balances=has_balances):
            reader.warn(0, f"no {label}: SIE requires it in a type {document.variant} file")
    return document
