"""Result objects read as tables in Jupyter and convert to DataFrames."""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from typing import Any

import attrs
import pytest

from syncstate.domain.state import ExportState
from syncstate.errors import ConfigurationError
from syncstate.notebook import Tabular, records_html, to_dataframe


@attrs.frozen
class _Report(Tabular):
    rows: tuple[tuple[str, Decimal], ...]

    def to_records(self) -> list[dict[str, Any]]:
        return [{"client": c, "amount": a} for c, a in self.rows]

    def _html_caption(self) -> str:
        return f"{len(self.rows)} clients"


def test_values_are_escaped_so_a_record_cannot_inject_markup() -> None:
    out = records_html([{"message": "<script>alert(1)</script>", "who": "O'Brien & Co"}])
    assert "<script>" not in out
    assert "&lt;script&gt;" in out and "O&#x27;Brien &amp; Co" in out


def test_cells_read_like_the_cli_none_empty_enums_dates_decimals() -> None:
    out = records_html(
        [
            {
                "state": ExportState.EXPORTED,
                "on": dt.date(2026, 3, 2),
                "amount": Decimal("1E+2"),
                "remote_id": None,
            }
        ]
    )
    assert "<td>exported</td>" in out and "<td>2026-03-02</td>" in out
    assert "<td>100</td>" in out and "<td></td>" in out


def test_columns_are_the_union_of_keys_in_first_seen_order() -> None:
    out = records_html([{"a": 1}, {"b": 2, "a": 3}])
    assert out.index("<th>a</th>") < out.index("<th>b</th>")
    assert out.count("<tr>") == 3  # heading + two rows


def test_long_tables_are_cut_and_say_how_many_rows_are_hidden() -> None:
    out = records_html([{"n": i} for i in range(10)], max_rows=4)
    assert out.count("<td>") == 4 and "6 more rows not shown" in out


def test_an_empty_result_says_no_rows() -> None:
    assert "no rows" in records_html([], columns=["employee", "records"])


def test_mixin_gives_repr_html_with_caption_and_dataframe() -> None:
    report = _Report(rows=(("ann", Decimal("80.00")), ("bo", Decimal("12.50"))))
    page = report._repr_html_()
    assert "<caption>2 clients</caption>" in page and "<td>80.00</td>" in page
    frame = report.to_dataframe()
    assert list(frame.columns) == ["client", "amount"]
    assert frame["amount"].tolist() == [Decimal("80.00"), Decimal("12.50")]


def test_mixin_keeps_attrs_classes_slotted() -> None:
    report = _Report(rows=())
    assert not hasattr(report, "__dict__")


def test_missing_pandas_is_a_configuration_error_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # what an uninstalled package looks like
    with pytest.raises(ConfigurationError, match=r"syncstate\[notebook\]"):
        to_dataframe([{"a": 1}])
