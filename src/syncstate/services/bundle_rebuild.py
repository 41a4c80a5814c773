"""Re-deriving a bundle from its members' current content.

What :meth:`~syncstate.services.bundling.BundleService.refresh` does to each
bundle whose members changed at the source.
"""

from __future__ import annotations

import attrs

from syncstate.domain.bundling import Application, Bundle, BundleKind, make_bundle
from syncstate.domain.transactions import Payment, UsageLog, read_transaction
from syncstate.errors import InputError
from syncstate.money import ZERO
from syncstate.ports import StateStore

__all__ = ["rebuild_bundle"]


def rebuild_bundle(store: StateStore, company: str, bundle: Bundle) -> Bundle:
    """``bundle`` made again from its members' current content, keeping its id.

    A payment bundle keeps its applications, oldest first, within the (possibly
    new) amount. :class:`~syncstate.errors.InputError` if the members no longer
    make one bundle, or now make one of another client or currency.
    """
    usage: list[UsageLog] = []
    payments: list[Payment] = []
    for key in bundle.members:
        tx = read_transaction(store.get(key).record)
        (usage if isinstance(tx, UsageLog) else payments).append(tx)  # type: ignore[arg-type]
    applied = list(bundle.applied)
    if bundle.kind is BundleKind.PAYMENT:
        # keep the applications, oldest first, within the (possibly new) amount
        left = sum((p.amount for p in payments), ZERO)
        applied = []
        for a in bundle.applied:
            take = min(a.amount, left)
            if take > 0:
                applied.append(Application(a.invoice, take))
            left -= take
    problem = ""
    try:
        rebuilt = make_bundle(company, bundle.kind, usage=usage, payments=payments, applied=applied)
    except InputError as exc:
        problem = str(exc)
    else:
        if (rebuilt.client, rebuilt.currency) != (bundle.client, bundle.currency):
            problem = f"now {rebuilt.client!r} in {rebuilt.currency}"
    if problem:
        raise InputError(
            f"bundle {bundle.bundle_id} no longer holds together ({problem}); "
            "un-bundle it and bundle again"
        )
    return attrs.evolve(rebuilt, bundle_id=bundle.bundle_id)
