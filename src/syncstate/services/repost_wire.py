"""The wire form of the repost interchange, read with one strict cattrs converter.

Each ``Wire*`` class below is one object of the shipped input schemas
(``syncstate/schemas/repost-*-input.schema.json``); :func:`structure` turns a
parsed JSON document into them with a :class:`cattrs.Converter` whose hooks
hold the rules of :mod:`syncstate.money` and of ISO dates:

* amounts (:data:`Amount`) are decimal strings or integers with at most 2
  decimals, quantities, hours and rates (:data:`Quantity`) at most 6, both
  with at most 15 digits before the point; floats, booleans, exponent
  notation, ``NaN`` and anything else :func:`~syncstate.money.to_decimal`
  refuses are refused;
* dates (:data:`Day`) are ``YYYY-MM-DD`` strings, at latest :data:`LAST_DAY`;
* strings are strings (nothing is converted with ``str()``), ids and links
  (:data:`Id`) are not empty, flags are JSON ``true`` / ``false``, lists are
  JSON arrays and objects JSON objects;
* a missing required field, or ``null`` where a value is required, is
  "is required"; a missing list is empty, a missing flag false, a missing
  optional field ``None``; unknown fields are ignored.

A refusal is one :class:`~syncstate.errors.InterchangeError` naming the
source, the document (the ``id`` of the entry holding the bad field) and the
JSON path of the field, e.g. ``field 'documents[12].amount'``; when several
fields are bad the first is named and the others counted. The path comes from
cattrs' :func:`cattrs.transform_error` over the converter's detailed
validation errors. Valid documents are read by a second converter without
detailed validation (the fast path); only a refused document is read again
with it to find the path.
"""

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NewType, TypeVar

import attrs
import cattrs
from cattrs.cols import is_sequence, list_structure_factory
from cattrs.gen import make_dict_structure_fn, override

from syncstate.domain.repost.projects import BudgetOption
from syncstate.domain.repost.receivables import DocKind
from syncstate.errors import InterchangeError, MoneyError, PeriodError
from syncstate.money import DEFAULT_PLACES, QUANTITY_PLACES, shown, to_decimal
from syncstate.periods import parse_date
from syncstate.services.json_input import label

__all__ = [
    "LAST_DAY",
    "Amount",
    "Day",
    "Id",
    "Quantity",
    "Text",
    "WireAllocation",
    "WireDocument",
    "WireEntry",
    "WireInvoice",
    "WireProject",
    "WireProjects",
    "WireRate",
    "WireReceivables",
    "WireStaff",
    "WireStaffBudget",
    "WireStaffMember",
    "WireWip",
    "structure",
]

#: the last day a document may carry: every period of a day must end within the calendar
LAST_DAY = dt.date(9998, 12, 31)
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

#: an amount of money: at most :data:`~syncstate.money.DEFAULT_PLACES` decimals
Amount = NewType("Amount", Decimal)
#: hours, a quantity or a rate: at most :data:`~syncstate.money.QUANTITY_PLACES` decimals
Quantity = NewType("Quantity", Decimal)
#: an ISO date (``YYYY-MM-DD``) no later than :data:`LAST_DAY`
Day = NewType("Day", dt.date)
#: a string, taken as given
Text = NewType("Text", str)
#: a non-empty string: an id or a link to one
Id = NewType("Id", str)

_T = TypeVar("_T")


class _Refused(ValueError):
    """A value a hook refuses; its message is what the user reads."""


def _required(value: object) -> None:
    if value is None:
        raise _Refused("is required")


def _text(value: object, _: object = None) -> str:
    _required(value)
    if not isinstance(value, str):
        raise _Refused(f"must be a string, got {shown(value)}")
    return value


def _id(value: object, _: object = None) -> str:
    text = _text(value)
    if not text:
        raise _Refused("must not be empty")
    return text


def _decimal(places: int) -> Callable[[object, object], Decimal]:
    def hook(value: object, _: object = None) -> Decimal:
        _required(value)
        try:
            return to_decimal(value, what="value", places=places)
        except MoneyError as exc:
            raise _Refused(str(exc).removeprefix("value: ")) from None

    return hook


def _day(value: object, _: object = None) -> dt.date:
    _required(value)
    if not isinstance(value, str):
        raise _Refused(f"must be an ISO date string, got {shown(value)}")
    try:
        if not _ISO_DAY.fullmatch(value.strip()):
            raise PeriodError(value)
        day = parse_date(value, what="date")
    except PeriodError:
        raise _Refused(f"{shown(value)} is not an ISO date (YYYY-MM-DD)") from None
    if day > LAST_DAY:
        raise _Refused(f"{shown(value)} is after {LAST_DAY} (its period has no end)")
    return day


def _flag(value: object, _: object = None) -> bool:
    if not isinstance(value, bool):
        raise _Refused(f"must be true or false, got {shown(value)}")
    return value


def _choice(names: dict[str, _T], blank: _T | None = None) -> Callable[[object, object], _T]:
    """A hook for one of ``names``; ``blank`` (if given) stands for ``null`` and ``""``."""

    def hook(value: object, _: object = None) -> _T:
        if blank is not None and value in (None, ""):
            return blank
        text = _text(value)
        if text not in names:
            raise _Refused(f"{shown(text)} is not one of {', '.join(names)}")
        return names[text]

    return hook


# ------------------------------------------------------------------ wire classes


@attrs.frozen
class WireAllocation:
    """An allocation of a receivable document: ``{"to", "amount", "date"}``."""

    to: Id
    amount: Amount
    date: Day


@attrs.frozen
class WireDocument:
    """A receivable document of ``repost-receivables-input``."""

    id: Id
    kind: DocKind
    date: Day
    amount: Amount
    client: Text | None = None
    allocations: list[WireAllocation] = attrs.Factory(list)
    reverses: Text | None = None
    refunds: Text | None = None
    deposit: Text | None = None


@attrs.frozen
class WireReceivables:
    """A whole ``repost-receivables-input`` document."""

    period_start: Day
    documents: list[WireDocument] = attrs.Factory(list)


@attrs.frozen
class WireEntry:
    """A WIP entry of ``repost-wip-input`` (and of ``repost-staff-input``)."""

    id: Id
    date: Day
    type: Text | None = None
    client: Text | None = None
    work_code: Text | None = None
    staff: Text | None = None
    project: Text | None = None
    subproject: Text | None = None
    quantity: Quantity | None = None
    amount: Amount | None = None
    billed_amount: Amount | None = None
    invoice: Text | None = None
    billing_status: Text | None = None
    hide: bool = False
    write_updown: Amount | None = None
    write_date: Day | None = None
    clear_flag: bool = False
    clear_date: Day | None = None


@attrs.frozen
class WireInvoice:
    """An invoice date of ``repost-wip-input``."""

    id: Id
    date: Day


@attrs.frozen
class WireWip:
    """A whole ``repost-wip-input`` document."""

    period_start: Day
    invoices: list[WireInvoice] = attrs.Factory(list)
    entries: list[WireEntry] = attrs.Factory(list)


@attrs.frozen
class WireRate:
    """A staff rate from a date (``"from"`` on the wire)."""

    start: Day
    standard_hours: Quantity
    overtime_rate: Quantity
    cost_rate: Quantity


@attrs.frozen
class WireStaffMember:
    """A staff member and their rates."""

    id: Id
    rates: list[WireRate] = attrs.Factory(list)


@attrs.frozen
class WireStaff:
    """A whole ``repost-staff-input`` document."""

    staff: list[WireStaffMember] = attrs.Factory(list)
    entries: list[WireEntry] = attrs.Factory(list)


@attrs.frozen
class WireStaffBudget:
    """A staff member's budget on a project."""

    staff: Id
    hours: Quantity
    amount: Amount


@attrs.frozen
class WireProject:
    """A project or subproject of ``repost-projects-input``."""

    id: Id
    parent: Text | None = None
    option: BudgetOption = BudgetOption.NONE
    budget_hours: Quantity | None = None
    budget_amount: Amount | None = None
    staff_budgets: list[WireStaffBudget] = attrs.Factory(list)


@attrs.frozen
class WireProjects:
    """A whole ``repost-projects-input`` document."""

    projects: list[WireProject] = attrs.Factory(list)


#: a staff rate's ``start`` is ``from`` on the wire
_FROM = re.compile(r"(rates\[\d+\])\.start\b")
#: the list field of each top-level document whose items carry the ``id`` named in errors
_TOP_LISTS = ("documents", "entries", "invoices", "staff", "projects")


# --------------------------------------------------------------------- converter


def _object_hook(cl: type, converter: cattrs.Converter) -> Callable[[object, object], Any]:
    inner: Callable[[Any, Any], Any]
    if cl is WireRate:  # ``from`` is a Python keyword
        inner = make_dict_structure_fn(cl, converter, start=override(rename="from"))
    else:
        inner = make_dict_structure_fn(cl, converter)

    def hook(value: object, _: object = None) -> Any:
        if not isinstance(value, dict):
            raise _Refused(f"expected an object, got {type(value).__name__}")
        return inner(value, cl)

    return hook


def _list_hook(cl: type, converter: cattrs.BaseConverter) -> Callable[[object, object], Any]:
    inner = list_structure_factory(cl, converter)

    def hook(value: object, _: object = None) -> Any:
        if not isinstance(value, list):
            raise _Refused(f"must be a list, got {type(value).__name__}")
        return inner(value, cl)

    return hook


def _is(kind: object) -> Callable[[object], bool]:
    return lambda other: other == kind


def _optional(hook: Callable[[object, object], _T]) -> Callable[[object, object], _T | None]:
    def optional(value: object, _: object = None) -> _T | None:
        return None if value is None else hook(value, None)

    return optional


def _converter(detailed: bool) -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=detailed)
    hooks: dict[Any, Callable[[object, object], Any]] = {
        Amount: _decimal(DEFAULT_PLACES),
        Quantity: _decimal(QUANTITY_PLACES),
        Day: _day,
        Text: _text,
        Id: _id,
        bool: _flag,
        DocKind: _choice({kind.value: kind for kind in DocKind}),
        BudgetOption: _choice(
            {option.value: option for option in BudgetOption}, blank=BudgetOption.NONE
        ),
    }
    for kind, hook in hooks.items():
        converter.register_structure_hook(kind, hook)
        # ``X | None`` directly (faster than cattrs' generic optional hook)
        converter.register_structure_hook_func(_is(kind | None), _optional(hook))
    converter.register_structure_hook_factory(is_sequence, _list_hook)
    converter.register_structure_hook_factory(attrs.has, _object_hook)
    return converter


_FAST = _converter(detailed=False)
_DETAILED = _converter(detailed=True)


def _describe(exc: BaseException, kind: type | None) -> str:
    if isinstance(exc, _Refused):
        return str(exc)
    if isinstance(exc, KeyError):
        return "is required"
    return cattrs.v.format_exception(exc, kind)


def _document_of(data: object, path: str) -> str | None:
    """The ``id`` of the top-level list item ``path`` points into, if it has one."""
    match = re.match(r"(\w+)\[(\d+)\]", path)
    if not match or match[1] not in _TOP_LISTS or not isinstance(data, dict):
        return None
    items = data.get(match[1])
    if not isinstance(items, list) or int(match[2]) >= len(items):
        return None
    item = items[int(match[2])]
    ident = item.get("id") if isinstance(item, dict) else None
    return ident if isinstance(ident, str) and ident else None


def _refusal(data: object, kind: type, source: str) -> InterchangeError:
    try:
        _DETAILED.structure(data, kind)
    except Exception as exc:  # every refusal becomes one InterchangeError
        messages = cattrs.transform_error(exc, path="$", format_exception=_describe)
    else:  # pragma: no cover - both converters hold the same rules
        messages = ["is not a valid document"]
    message, _, path = messages[0].rpartition(" @ ")
    field = _FROM.sub(r"\1.from", path.removeprefix("$").removeprefix("."))
    more = len(messages) - 1
    if more:
        message += f" (and {more} more {'problem' if more == 1 else 'problems'})"
    document = _document_of(data, field)
    return InterchangeError(
        message,
        source=source,
        document=None if document is None else label(document),
        field=field or None,
    )


def structure(data: object, kind: type[_T], *, source: str) -> _T:
    """``data`` (parsed JSON) as the wire class ``kind``; :class:`InterchangeError` if not."""
    source = label(source, 200)
    try:
        return _FAST.structure(data, kind)
    except Exception:  # read again, detailed, to name the path
        raise _refusal(data, kind, source) from None
