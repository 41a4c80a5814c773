"""Run syncstate's conformance kit against the shoebox back end."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest
from syncstate_example_backend import ShoeboxBackend

from syncstate.testing.backend_contract import BackendContract


class TestShoeboxBackend(BackendContract):
    @pytest.fixture
    def backend(self) -> ShoeboxBackend:
        return ShoeboxBackend()

    def throttling(self, backend: Any) -> contextlib.AbstractContextManager[Any]:
        @contextlib.contextmanager
        def busy() -> Iterator[None]:
            backend.throttled = True
            try:
                yield
            finally:
                backend.throttled = False

        return busy()
