"""Result objects as tables in Jupyter, and as pandas DataFrames.

Every main result object of syncstate (reset plans, sync results, export
reports, repost plans, findings) can give its content as plain rows with
``to_records()``: a list of dicts, one per row, with the same keys in every
row. This module turns such rows into

* an HTML table (:func:`records_html`), which Jupyter shows when the object
  defines ``_repr_html_``, and
* a ``pandas.DataFrame`` (:func:`to_dataframe`), when pandas is installed
  (``pip install 'syncstate[notebook]'``); without it a clear
  :class:`~syncstate.errors.ConfigurationError` says what to install.

:class:`Tabular` is a mixin that gives both to any class with
``to_records()``::

    @attrs.frozen
    class MyReport(Tabular):
        rows: tuple[Row, ...]

        def to_records(self) -> list[dict[str, Any]]:
            return [row.to_dict() for row in self.rows]

Nothing here imports pandas or IPython until it is used; the library never
needs either.
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import html
import importlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from syncstate.errors import ConfigurationError

__all__ = ["MAX_HTML_ROWS", "Tabular", "cell_text", "records_html", "to_dataframe"]

#: rows an HTML table shows before it says how many more there are
MAX_HTML_ROWS = 200


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


def _pandas() -> Any:
    try:
        return importlib.import_module("pandas")
    except ImportError as exc:
        raise ConfigurationError(
            "to_dataframe() needs pandas, which is not installed: "
            "pip install 'syncstate[notebook]' (or pip install pandas)"
        ) from exc


def to_dataframe(rows: Iterable[Mapping[str, Any]], *, columns: Sequence[str] | None = None) -> Any:
    """A ``pandas.DataFrame`` of ``rows`` (values kept as they are: Decimal stays Decimal).

    Raises :class:`~syncstate.errors.ConfigurationError` naming the extra to
    install when pandas is missing.
    """
    pandas = _pandas()
    materialised = [dict(row) for row in rows]
    return pandas.DataFrame.from_records(materialised, columns=_columns(materialised, columns))


class Tabular:
    """Mixin: ``_repr_html_`` and ``to_dataframe()`` for a class with ``to_records()``.

    Works with slotted ``attrs`` classes (it adds no instance attributes).
    Override :meth:`_html_caption` to put a title or a warning above the table.
    """

    __slots__ = ()

    def to_records(self) -> list[dict[str, Any]]:
        """The content as plain rows; the class using the mixin defines it."""
        raise NotImplementedError(f"{type(self).__name__} does not define to_records()")

    def _html_caption(self) -> str:
        return ""

    def _repr_html_(self) -> str:
        return records_html(self.to_records(), caption=self._html_caption())

    def to_dataframe(self) -> Any:
        """The rows of :meth:`to_records` as a ``pandas.DataFrame`` (needs pandas)."""
        return to_dataframe(self.to_records())
