"""Result objects in Jupyter and the REPL: short reprs, tables, DataFrames, progress bars.

Every main result object of syncstate (reset plans, sync results, export
reports, repost plans, findings) can give its content as plain rows with
``to_records()``: a list of dicts, one per row, with the same keys in every
row, in a stable order. This module turns such rows into

* an HTML table (:func:`records_html`), which Jupyter shows when the object
  defines ``_repr_html_``, and
* a ``pandas.DataFrame`` with typed columns (:func:`to_dataframe`), when pandas
  is installed (``pip install 'syncstate[notebook]'``); without it a clear
  :class:`~syncstate.errors.ConfigurationError` says what to install.

:class:`Tabular` is a mixin that gives both to any class with
``to_records()``, and a ``repr`` of one short line (:func:`compact_repr`)
instead of every row::

    @attrs.frozen
    class MyReport(Tabular):
        rows: tuple[Row, ...]

        def to_records(self) -> list[dict[str, Any]]:
            return [row.to_dict() for row in self.rows]

:class:`Summary` is the ``dict`` that ``summary()`` methods return: equal to a
plain dict, shown as a two-column table in Jupyter. :class:`TqdmProgress` shows
an export's progress with ``tqdm.auto`` (a widget in Jupyter, a text bar in a
terminal).

Nothing here imports pandas, tqdm or IPython until it is used; the library
never needs them.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import html
import importlib
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

from syncstate.errors import ConfigurationError

__all__ = [
    "MAX_HTML_ROWS",
    "Summary",
    "Tabular",
    "TqdmProgress",
    "cell_text",
    "compact_repr",
    "records_html",
    "to_dataframe",
]

#: rows an HTML table shows before it says how many more there are
MAX_HTML_ROWS = 200

#: longest text a short repr shows of one string field before it cuts it
_REPR_TEXT = 40
#: largest mapping of plain values a short repr shows whole (``states={'failed': 2}``)
_REPR_ITEMS = 6


def cell_text(value: object) -> str:
    """How one value reads in a table cell (unescaped): ``None`` is empty, enums their value."""
    if value is None:
        return ""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _columns(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None) -> list[str]:
    if columns is not None:
        return list(columns)
    seen: dict[str, None] = {}
    for row in rows:
        for name in row:
            seen.setdefault(name, None)
    return list(seen)


def records_html(
    rows: Iterable[Mapping[str, Any]],
    *,
    columns: Sequence[str] | None = None,
    caption: str = "",
    max_rows: int = MAX_HTML_ROWS,
) -> str:
    """An HTML ``<table>`` of ``rows``; every value and heading is escaped.

    ``columns`` picks and orders the columns (default: every key, in the order
    first seen). At most ``max_rows`` rows are shown, followed by a line saying
    how many were left out. An empty selection reads "no rows".
    """
    materialised = list(rows)
    names = _columns(materialised, columns)
    parts = ['<table class="syncstate">']
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    parts.append("<thead><tr>")
    parts.extend(f"<th>{html.escape(name)}</th>" for name in names)
    parts.append("</tr></thead><tbody>")
    for row in materialised[:max_rows]:
        parts.append("<tr>")
        parts.extend(f"<td>{html.escape(cell_text(row.get(name)))}</td>" for name in names)
        parts.append("</tr>")
    parts.append("</tbody></table>")
    hidden = len(materialised) - max_rows
    if not materialised:
        parts.append("<p><i>no rows</i></p>")
    elif hidden > 0:
        parts.append(f"<p><i>{hidden} more rows not shown</i></p>")
    return "".join(parts)


# ------------------------------------------------------------------ short reprs


def _short_value(value: object) -> str:
    """One field of a short repr: counts for collections, text cut to a few words."""
    if isinstance(value, Tabular):
        return repr(value)  # short too
    if isinstance(value, str):
        if len(value) > _REPR_TEXT:
            value = value[: _REPR_TEXT - 1] + "…"
        return repr(value)
    if isinstance(value, enum.Enum):
        return repr(value.value)
    if isinstance(value, bool | int | float) or value is None:
        return repr(value)
    if isinstance(value, decimal.Decimal | dt.date | dt.datetime):
        return cell_text(value)
    if isinstance(value, Mapping) and len(value) <= _REPR_ITEMS:
        plain = all(isinstance(v, str | int | None) for v in value.values())
        return repr(dict(value.items())) if plain else str(len(value))
    if isinstance(value, Mapping | list | tuple | set | frozenset):
        return str(len(value))
    if type(value).__str__ is not object.__str__:
        return repr(str(value))
    return f"<{type(value).__name__}>"


def compact_repr(obj: object, **fields: object) -> str:
    """A one-line ``repr``: ``Name(field=value, ...)``, whatever the object holds.

    With ``fields``, exactly those are shown. Otherwise every field of an
    ``attrs`` class that takes part in its repr is: strings cut to a few words,
    collections as their length (``rows=12``; a small mapping of counts whole),
    dates and decimals as text, nested objects as their own short text.
    """
    cls = type(obj)
    if not fields and attrs.has(cls):
        fields = {a.name: getattr(obj, a.name) for a in attrs.fields(cls) if a.repr}
    shown = ", ".join(f"{name}={_short_value(value)}" for name, value in fields.items())
    return f"{cls.__name__}({shown})"


# ------------------------------------------------------------------- summaries


class Summary(dict[str, Any]):
    """The totals of a report: a plain ``dict`` that Jupyter shows as a two-column table.

    It compares equal to a dict with the same items and serialises to JSON as one.
    """

    __slots__ = ()

    def _repr_html_(self) -> str:
        rows = [{"": name, "value": value} for name, value in self.items()]
        return records_html(rows, columns=["", "value"])


# ----------------------------------------------------------------- DataFrames


def _pandas() -> Any:
    try:
        return importlib.import_module("pandas")
    except ImportError as exc:
        raise ConfigurationError(
            "to_dataframe() needs pandas, which is not installed: "
            "pip install 'syncstate[notebook]' (or pip install pandas)"
        ) from exc


def _all(values: list[object], *types: type, exclude: type | None = None) -> bool:
    return all(isinstance(v, types) and not (exclude and isinstance(v, exclude)) for v in values)


def _column(pandas: Any, values: list[object], money: Literal["decimal", "float"]) -> Any:
    """One typed column: what the non-missing values have in common decides its dtype."""
    values = [v.value if isinstance(v, enum.Enum) else v for v in values]
    present = [v for v in values if v is not None]
    missing = len(present) < len(values)
    if not present:
        return pandas.Series(values, dtype=object)
    if _all(present, bool):
        return pandas.Series(values, dtype="boolean" if missing else bool)
    if _all(present, int, exclude=bool):
        return pandas.Series(values, dtype="Int64" if missing else "int64")
    if _all(present, decimal.Decimal):
        if money == "float":
            floats = [float(v) if isinstance(v, decimal.Decimal) else None for v in values]
            return pandas.Series(floats, dtype=float)
        return pandas.Series(values, dtype=object)
    if _all(present, float):
        return pandas.Series(values, dtype=float)
    if _all(present, dt.datetime):
        return pandas.Series(pandas.to_datetime(values))
    if _all(present, dt.date):
        return pandas.Series(pandas.to_datetime(values))
    if _all(present, str):
        return pandas.Series(values, dtype="string")
    return pandas.Series(values, dtype=object)


def to_dataframe(
    rows: Iterable[Mapping[str, Any]],
    *,
    columns: Sequence[str] | None = None,
    money: Literal["decimal", "float"] = "decimal",
) -> Any:
    """A ``pandas.DataFrame`` of ``rows``, one typed column per key.

    * Amounts (``Decimal``) stay ``Decimal`` (an ``object`` column, exact), or
      become ``float64`` with ``money="float"`` for plotting and statistics.
    * Dates and times become ``datetime64`` columns; booleans ``bool``
      (``boolean`` when some are missing); whole numbers ``int64`` (``Int64``).
    * Text becomes a ``string`` column whose missing values are ``<NA>``, never
      ``NaN`` among strings; enums show their value.
    * A column whose values differ in type stays ``object``, values untouched.

    Raises :class:`~syncstate.errors.ConfigurationError` naming the extra to
    install when pandas is missing.
    """
    if money not in ("decimal", "float"):
        raise ConfigurationError(f"money must be 'decimal' or 'float', got {money!r}")
    pandas = _pandas()
    materialised = [dict(row) for row in rows]
    names = _columns(materialised, columns)
    data = {name: _column(pandas, [row.get(name) for row in materialised], money) for name in names}
    return pandas.DataFrame(data, columns=names)


class Tabular:
    """Mixin: ``_repr_html_``, ``to_dataframe()`` and a short ``repr``, from ``to_records()``.

    Works with slotted ``attrs`` classes (it adds no instance attributes). A
    subclass that does not define ``__repr__`` itself gets :func:`compact_repr`
    (``attrs`` keeps a ``__repr__`` it finds in the class). Override
    :meth:`_html_caption` to put a title or a warning above the table.
    """

    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__repr__" not in cls.__dict__:
            cls.__repr__ = compact_repr  # type: ignore[method-assign]

    def to_records(self) -> list[dict[str, Any]]:
        """The content as plain rows; the class using the mixin defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define to_records()")

    def _html_caption(self) -> str:
        return ""

    def _repr_html_(self) -> str:
        return records_html(self.to_records(), caption=self._html_caption())

    def to_dataframe(self, *, money: Literal["decimal", "float"] = "decimal") -> Any:
        """The rows of :meth:`to_records` as a typed ``pandas.DataFrame`` (needs pandas).

        ``money="float"`` turns amounts into floats; see :func:`to_dataframe`.
        """
        return to_dataframe(self.to_records(), money=money)


# -------------------------------------------------------------------- progress


def _tqdm_class() -> Any:
    try:
        return importlib.import_module("tqdm.auto").tqdm
    except ImportError as exc:
        raise ConfigurationError(
            "TqdmProgress needs tqdm, which is not installed: "
            "pip install 'syncstate[notebook]' (or pip install tqdm)"
        ) from exc


class TqdmProgress:
    """A :class:`~syncstate.ports.Progress` drawn by ``tqdm.auto``.

    In Jupyter (with ``ipywidgets``) the bar is a widget; elsewhere a text bar
    on standard error. Outcomes are counted beside the bar (``exported=38,
    failed=1``), and notes (retries, throttle pauses) are printed above it.
    Pass it to an export: ``export_records(..., progress=TqdmProgress())``.

    ``tqdm_options`` go to ``tqdm`` unchanged (``leave=False``, ``file=...``,
    ``disable=True``, ...). Raises :class:`~syncstate.errors.ConfigurationError`
    when tqdm is not installed (``pip install 'syncstate[notebook]'``).
    """

    def __init__(self, **tqdm_options: Any) -> None:
        self._tqdm = _tqdm_class()
        self._options = {"unit": "record", "dynamic_ncols": True, **tqdm_options}
        self._lock = threading.Lock()
        self._bar: Any = None
        self._outcomes: Counter[str] = Counter()
        self._done = self._total = 0

    def __repr__(self) -> str:
        return f"TqdmProgress(done={self._done}, total={self._total})"

    @property
    def outcomes(self) -> dict[str, int]:
        """Units done so far per outcome (``{"exported": 38, "failed": 1}``)."""
        with self._lock:
            return dict(sorted(self._outcomes.items()))

    def start(self, total: int, label: str) -> None:
        """Open a bar of ``total`` units titled ``label`` (closing any earlier one)."""
        with self._lock:
            if self._bar is not None:
                self._bar.close()
            self._outcomes.clear()
            self._done, self._total = 0, total
            self._bar = self._tqdm(total=total, desc=label, **self._options)

    def advance(self, n: int = 1, *, outcome: str = "") -> None:
        """``n`` more units done; the outcome counts are shown beside the bar."""
        with self._lock:
            self._done += n
            if self._bar is None:
                return
            if outcome:
                self._outcomes[outcome] += n
                self._bar.set_postfix(dict(sorted(self._outcomes.items())), refresh=False)
            self._bar.update(n)

    def note(self, message: str) -> None:
        """Print ``message`` above the bar (where the bar's own output goes)."""
        with self._lock:
            if not self._options.get("disable"):
                self._tqdm.write(message, file=self._options.get("file"))

    def finish(self) -> None:
        """Close the bar (it stays on screen unless ``leave=False``)."""
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
