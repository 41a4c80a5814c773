"""Changing a live year of the SQLite mirror in place: patching drift, clearing years.

A drift patch (:func:`patch_generation`) replaces the deleted and changed
vouchers of a live generation and adds the new ones, without a full reload;
:func:`clear_generation` deletes a live year. Every function runs inside the
caller's one write transaction.
"""

from __future__ import annotations

import sqlite3

from syncstate.adapters.storage.sqlite.mirror_load import (
    insert_balances,
    insert_period_balances,
    insert_vouchers,
)
from syncstate.domain.mirror import YearDrift
from syncstate.errors import StorageError

__all__ = ["clear_generation", "patch_generation", "voucher_seqs"]

#: what :func:`clear_generation` counts, and the table it counts in
_CLEARED = (
    ("vouchers", "mirror_vouchers"),
    ("transactions", "mirror_transactions"),
    ("balances", "mirror_balances"),
    ("balances", "mirror_period_balances"),
)


def clear_generation(conn: sqlite3.Connection, generation: int, counts: dict[str, int]) -> None:
    """Delete the rows of ``generation``, adding how many went to ``counts`` (by
    ``vouchers``, ``transactions`` and ``balances``); the generation's pointers are the
    caller's."""
    for key, table in _CLEARED:
        cursor = conn.execute(f"DELETE FROM {table} WHERE generation = ?", (generation,))
        counts[key] += cursor.rowcount


def voucher_seqs(conn: sqlite3.Connection, generation: int) -> dict[tuple[str, str, int], int]:
    """The place of each voucher of ``generation`` by (series, number, ordinal): the
    ordinal tells apart vouchers that share a series and number, in order."""
    seen: dict[tuple[str, str], int] = {}
    out: dict[tuple[str, str, int], int] = {}
    for seq, series, number in conn.execute(
        "SELECT seq, series, number FROM mirror_vouchers WHERE generation = ? ORDER BY seq",
        (generation,),
    ):
        ordinal = seen.get((series, number), 0)
        out[(series, number, ordinal)] = int(seq)
        seen[(series, number)] = ordinal + 1
    return out


def patch_generation(conn: sqlite3.Connection, generation: int, drift: YearDrift) -> None:
    """Apply the changes of ``drift`` to the rows of the live ``generation``: deleted
    vouchers go, changed ones are replaced in their place, added ones go last, and
    balances are replaced where the drift carries them."""
    by_key = voucher_seqs(conn, generation)
    missing = [
        k
        for k in (*(k for k, _ in drift.deleted), *(k for k, _, _ in drift.changed))
        if k not in by_key
    ]
    if missing:
        raise StorageError(f"{drift.year}: voucher {' '.join(missing[0][:2])} is not in the mirror")
    remove = [by_key[k] for k, _ in drift.deleted] + [by_key[k] for k, _, _ in drift.changed]
    # added vouchers go after every place taken before the patch: a changed voucher may
    # take back the last place, which a deleted one had freed
    next_seq = max(by_key.values(), default=-1) + 1
    for seq in remove:
        conn.execute(
            "DELETE FROM mirror_transactions WHERE generation = ? AND voucher_seq = ?",
            (generation, seq),
        )
        conn.execute(
            "DELETE FROM mirror_vouchers WHERE generation = ? AND seq = ?",
            (generation, seq),
        )
    # a changed voucher keeps its place in the order; added ones go last
    for (_, _, new), seq in zip(drift.changed, remove[len(drift.deleted) :], strict=True):
        insert_vouchers(conn, generation, [new], first_seq=seq)
    insert_vouchers(conn, generation, [v for _, v in drift.added], first_seq=next_seq)
    if drift.balances is not None:
        conn.execute("DELETE FROM mirror_balances WHERE generation = ?", (generation,))
        insert_balances(conn, generation, drift.balances)
    if drift.period_balances is not None:
        conn.execute("DELETE FROM mirror_period_balances WHERE generation = ?", (generation,))
        insert_period_balances(conn, generation, drift.period_balances)
