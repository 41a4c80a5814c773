"""SIE files (the Swedish standard import/export format): read, check, write, mirror.

- :mod:`.parser`: :func:`read_sie` / :func:`parse_sie` (encoding, lines, labels, packed
  vouchers in modules of their own);
- :mod:`.model`: the parsed document (:class:`SieDocument` and its parts);
- :mod:`.check`: :func:`check_sie`, a validation report per file;
- :mod:`.writer`: :func:`write_sie`;
- :mod:`.source`: :class:`SieSource`, SIE files as a source for the inbound mirror.
"""

from syncstate.adapters.backends.sie.check import SieCheck, check_sie
from syncstate.adapters.backends.sie.model import SieDocument, SieProblem
from syncstate.adapters.backends.sie.parser import SieReadResult, parse_sie, read_sie
from syncstate.adapters.backends.sie.source import (
    SieSource,
    document_to_snapshot,
    snapshot_to_sie,
)
from syncstate.adapters.backends.sie.writer import write_sie

__all__ = [
    "SieCheck",
    "SieDocument",
    "SieProblem",
    "SieReadResult",
    "SieSource",
    "check_sie",
    "document_to_snapshot",
    "parse_sie",
    "read_sie",
    "snapshot_to_sie",
    "write_sie",
]
