"""Valid repost documents and a seeded mutator for the bad-input tests of the CLI.

Not a test module: ``test_repost_bad_input.py`` and ``test_bundle_import_bad_input.py``
import it. The generators live in :mod:`syncstate.testing.fuzz`, shared with the full
form of the fuzz suite (``benchmarks/fuzz.py``); these are the names the tests use.
"""

from __future__ import annotations

from syncstate.testing.fuzz import MUTATIONS, REPOST_SAMPLES, mutate_json, table_rows

__all__ = ["MUTATIONS", "SAMPLES", "mutate", "table_rows"]

#: a valid input document per repost calculator
SAMPLES = REPOST_SAMPLES
#: one mutation of a repost document: its class and the bytes of the file
mutate = mutate_json
