"""The mirror's balances per account: one page per company and fiscal year.

Every account of the fiscal year with its opening balance, the year's movement and its
closing balance, with totals and a filter by account number prefix or name. Read
through the mirror store's public read API: :meth:`~syncstate.ports.MirrorStore.read_year`
(one consistent snapshot of the live year) and :meth:`~syncstate.ports.MirrorStore.accounts`
(the names). The port has no balances-per-account read of its own, so the page adds
the year up here:

* **opening**: the year's ``opening`` balance of the account (SIE ``#IB``);
* **movement**: the sum of the account's transactions in the year's vouchers;
* **closing**: the source's ``closing`` balance (``#UB``), else its ``result``
  (``#RES``), else opening plus movement. A stated closing balance that is not
  opening plus movement is flagged (the vouchers do not explain it).

Balances per dimension object (cost centre, project) are left out: the page shows the
account as a whole. Amounts are :class:`~decimal.Decimal` throughout and shown as plain
decimal strings (no rounding, no thousands separator).
"""

from __future__ import annotations

import decimal
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import attrs
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from syncstate.domain.mirror import MirrorAccount, MirrorYear
from syncstate.periods import FiscalYear
from syncstate.ports import MirrorStore
from syncstate.web.app import Panel, company_route
from syncstate.web.pages_mirror import parse_year
from syncstate.web.security import Refused, Viewer

__all__ = ["AccountBalance", "account_balances", "matches", "money", "routes", "totals"]

ZERO = Decimal(0)
#: what the filter field accepts at most (longer text is refused, not searched)
LONGEST_FILTER = 200


@attrs.frozen(kw_only=True)
class AccountBalance:
    """One account of a fiscal year: opening balance, movement, closing balance."""

    number: str
    name: str
    opening: Decimal
    movement: Decimal
    closing: Decimal
    #: the closing balance the source states, when it is not opening plus movement
    stated_differs: bool = False


def money(value: Decimal) -> str:
    """``value`` as a plain decimal string: at least two decimals, never rounded.

    ``Decimal("100.1")`` is ``100.10``, ``Decimal("-0.005")`` stays ``-0.005``, a zero
    is never negative, and no exponent or thousands separator is ever shown.
    """
    if value == 0:
        value = abs(value)
    shape = value.as_tuple()
    if isinstance(shape.exponent, int) and shape.exponent > -2:
        with decimal.localcontext() as exact:
            exact.prec = len(shape.digits) + max(shape.exponent, 0) + 4
            value = value.quantize(Decimal("0.01"))  # only adds zeros: exact
    return format(value, "f")


def account_balances(year: MirrorYear, accounts: Iterable[MirrorAccount]) -> list[AccountBalance]:
    """The accounts with a balance or a transaction in ``year``, by number."""
    names = {a.number: a.name for a in accounts}
    opening: dict[str, Decimal] = defaultdict(Decimal)
    stated: dict[str, dict[str, Decimal]] = defaultdict(dict)
    movement: dict[str, Decimal] = defaultdict(Decimal)
    for balance in year.balances:
        if balance.objects:  # per dimension object: not the account as a whole
            continue
        if balance.kind == "opening":
            opening[balance.account] += balance.amount
        elif balance.kind in ("closing", "result"):
            kinds = stated[balance.account]
            kinds[balance.kind] = kinds.get(balance.kind, ZERO) + balance.amount
    for voucher in year.vouchers:
        for line in voucher.transactions:
            movement[line.account] += line.amount
    rows = []
    for number in sorted(set(opening) | set(stated) | set(movement)):
        start, moved = opening.get(number, ZERO), movement.get(number, ZERO)
        kinds = stated.get(number, {})
        given = kinds.get("closing", kinds.get("result"))
        closing = start + moved if given is None else given
        rows.append(
            AccountBalance(
                number=number,
                name=names.get(number, ""),
                opening=start,
                movement=moved,
                closing=closing,
                stated_differs=given is not None and given != start + moved,
            )
        )
    return rows


def matches(row: AccountBalance, text: str) -> bool:
    """Whether the filter ``text`` picks ``row``: its number starts with it, or its name
    contains it (ignoring case)."""
    wanted = text.strip()
    return not wanted or row.number.startswith(wanted) or wanted.casefold() in row.name.casefold()


def totals(rows: Iterable[AccountBalance]) -> dict[str, Decimal]:
    """The sums of opening balance, movement and closing balance over ``rows``."""
    out = {"opening": ZERO, "movement": ZERO, "closing": ZERO}
    for row in rows:
        out["opening"] += row.opening
        out["movement"] += row.movement
        out["closing"] += row.closing
    return out


def _read(store: MirrorStore, company: str, year: FiscalYear) -> dict[str, Any] | None:
    """The live year's balances, its load and the other loaded years (None: not loaded)."""
    loaded = store.loaded_years(company)
    this = next((y for y in loaded if y.year == year), None)
    data = store.read_year(company, year) if this is not None else None
    if this is None or data is None:
        return None
    return {
        "loaded": this,
        "years": [str(y.year) for y in loaded],
        "rows": account_balances(data, store.accounts(company)),
    }


def _store(panel: Panel) -> MirrorStore:
    if panel.mirror is None:
        raise Refused(404, "This panel has no mirror store (create_app(..., mirror=...)).")
    return panel.mirror


async def balances(request: Request, panel: Panel, viewer: Viewer, company: str) -> Response:
    """The accounts of one mirrored fiscal year of ``company``, filtered by ``q``."""
    store = _store(panel)
    year = parse_year(str(request.path_params["year"]))
    text = request.query_params.get("q", "").strip()[:LONGEST_FILTER]
    found: Mapping[str, Any] | None = await panel.call(_read, store, company, year)
    if found is None:
        raise Refused(404, f"The fiscal year {year} is not in the mirror of {company}.")
    everything: list[AccountBalance] = found["rows"]
    shown = [row for row in everything if matches(row, text)]
    return panel.render(
        request,
        "mirror_balances.html",
        {
            "company": company,
            "year": str(year),
            "loaded": found["loaded"],
            "years": found["years"],
            "rows": shown,
            "accounts": len(everything),
            "totals": totals(shown),
            "search": text,
            "money": money,
        },
        viewer=viewer,
    )


def routes() -> list[BaseRoute]:
    """The routes of this page."""
    return [company_route("/mirror/{year}/balances", balances)]
