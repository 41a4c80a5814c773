"""The last stage of reading SIE: what the SIE 4B specification requires of a whole file.

SIE 4B (SIE-gruppen, 2008-09-30) lists, for every label, the file types it is
mandatory in, optional in, or not allowed in. :data:`LABELS` holds every label
of the specification (so none of them is ever reported as unknown) and
:func:`missing_labels` names the mandatory labels a file lacks. The reader
reports those as warnings: the data a file carries stays readable without them,
and real exports often leave one out.
"""

from __future__ import annotations

from collections.abc import Collection

__all__ = ["LABELS", "MANDATORY", "missing_labels"]

#: every label of SIE 4B, in the order the specification lists them
LABELS = (
    "#FLAGGA",
    "#PROGRAM",
    "#FORMAT",
    "#GEN",
    "#SIETYP",
    "#PROSA",
    "#FTYP",
    "#FNR",
    "#ORGNR",
    "#BKOD",
    "#ADRESS",
    "#FNAMN",
    "#RAR",
    "#TAXAR",
    "#OMFATTN",
    "#KPTYP",
    "#VALUTA",
    "#KONTO",
    "#KTYP",
    "#ENHET",
    "#SRU",
    "#DIM",
    "#UNDERDIM",
    "#OBJEKT",
    "#IB",
    "#UB",
    "#OIB",
    "#OUB",
    "#RES",
    "#PSALDO",
    "#PBUDGET",
    "#VER",
    "#TRANS",
    "#RTRANS",
    "#BTRANS",
    "#KSUMMA",
)

_EVERY_FILE = ("#FLAGGA", "#PROGRAM", "#FORMAT", "#GEN", "#FNAMN")
_WITH_BALANCES = (*_EVERY_FILE, "#RAR", "#KONTO")

#: the labels a file of each variant must hold. ``#SIETYP`` is left out: a file
#: without it is type 1 (where it is optional), or, with vouchers, read as
#: type 4 with a warning of its own. ``#OMFATTN`` is required in types 2 and 3
#: only when they carry balances (see :func:`missing_labels`).
MANDATORY: dict[str, tuple[str, ...]] = {
    "1": _WITH_BALANCES,
    "2": _WITH_BALANCES,
    "3": _WITH_BALANCES,
    "4E": _WITH_BALANCES,
    "4I": _EVERY_FILE,
}


def missing_labels(variant: str, seen: Collection[str], *, has_balances: bool) -> list[str]:
    """The mandatory labels of a ``variant`` file that are not in ``seen``, in spec order."""
    required = MANDATORY.get(variant, _EVERY_FILE)
    if variant in ("2", "3") and has_balances:
        required = (*required, "#OMFATTN")
    return [label for label in LABELS if label in required and label not in seen]
