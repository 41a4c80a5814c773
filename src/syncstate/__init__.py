"""syncstate: keep a host application's records in step with an accounting back end."""

from __future__ import annotations

__version__ = "0.1.0.dev0"
