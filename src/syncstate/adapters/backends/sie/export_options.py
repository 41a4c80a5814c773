"""The SIE 4I export from text options: the command line and configuration files.

``syncstate export --backend sie --backend-option folder=exports/
--backend-option mapping=sie-accounts.json``. The mapping file is JSON::

    {"accounts": {"consulting": "3010", "travel": "3540"},
     "receivable": "1510", "bank": "1930",
     "names": {"3010": "Försäljning tjänster"}}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from syncstate.adapters.backends.sie.export_vouchers import SieExportMapping
from syncstate.errors import ConfigurationError, InputError
from syncstate.plugin_options import PluginOption

__all__ = ["OPTIONS", "from_options", "read_mapping"]


def read_mapping(text: str) -> SieExportMapping:
    """A mapping file (see the module docstring); every problem names the file."""
    path = Path(text)
    try:
        data: Any = json.loads(path.read_bytes().decode("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read mapping file {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InputError(f"mapping file {path} is not JSON: {exc}") from None
    if not isinstance(data, Mapping):
        raise InputError(f"mapping file {path}: expected a JSON object")
    unknown = set(data) - {"accounts", "receivable", "bank", "names"}
    tables = [data.get(name, {}) for name in ("accounts", "names")]
    if unknown or not all(
        isinstance(t, Mapping) and all(isinstance(v, str) for v in t.values()) for t in tables
    ):
        extra = f"; unknown {sorted(unknown)}" if unknown else ""
        raise InputError(
            f"mapping file {path}: expected accounts and names (objects of strings), "
            f"receivable and bank (account numbers){extra}"
        )
    try:
        return SieExportMapping(**data)
    except (TypeError, ValueError) as exc:
        raise InputError(f"mapping file {path}: {exc}") from None


def _series(text: str) -> str:
    if not text or not text.isalnum():
        raise ValueError(text)
    return text


#: the options ``syncstate export --backend sie`` takes (``--backend-option KEY=VALUE``)
OPTIONS = (
    PluginOption("folder", Path, "the folder the SIE files are written to", required=True),
    PluginOption("mapping", read_mapping, "a JSON mapping file (accounts, receivable, bank)"),
    PluginOption("series", _series, "the voucher series (letters or digits, default A)"),
)


def from_options(
    *, folder: Path, mapping: SieExportMapping | None = None, series: str = "A"
) -> Any:
    """The back end the options describe."""
    from syncstate.adapters.backends.sie.export_backend import SieExportBackend

    if folder.exists() and not folder.is_dir():
        raise ConfigurationError(f"SIE export folder {folder} is not a folder")
    return SieExportBackend(folder, mapping=mapping, series=series)
