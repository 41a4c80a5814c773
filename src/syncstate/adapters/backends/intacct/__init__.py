"""Sage Intacct back end (XML Web Services gateway): client, envelope, faults, payloads.

- :mod:`.client`: :class:`IntacctBackend`;
- :mod:`.config`: :class:`IntacctConfig`, :class:`IntacctCredentials`, :class:`Secret`;
- :mod:`.envelope`: the ``<request>`` / ``<response>`` XML;
- :mod:`.faults`: gateway errors mapped to syncstate's typed errors;
- :mod:`.payloads`: documents rendered as Intacct objects (:class:`IntacctMapping`);
- :mod:`.queries`: ``read`` / ``readByQuery`` / ``readMore`` and their conditions;
- :mod:`.changes`: records changed in Intacct as remote changes (two-way);
- :mod:`.options`: the CLI's text options.
"""

from syncstate.adapters.backends.intacct.client import IntacctBackend
from syncstate.adapters.backends.intacct.config import (
    IntacctConfig,
    IntacctCredentials,
    Secret,
    StaticCredentials,
)
from syncstate.adapters.backends.intacct.payloads import IntacctMapping

__all__ = [
    "IntacctBackend",
    "IntacctConfig",
    "IntacctCredentials",
    "IntacctMapping",
    "Secret",
    "StaticCredentials",
]
