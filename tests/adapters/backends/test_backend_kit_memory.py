"""The back-end conformance kit against the in-memory back end, in its main shapes."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from syncstate.adapters.backends.memory import MemoryBackend
from syncstate.errors import ThrottledError
from syncstate.ports import Capability, Document
from syncstate.testing.backend_contract import BackendContract


class TestMemoryBackend(BackendContract):
    @pytest.fixture
    def backend(self) -> Iterator[MemoryBackend]:
        yield MemoryBackend()

    def invalid_document(self, company: str) -> Document | None:
        return None  # the memory back end takes any document

    def throttling(self, backend: Any) -> contextlib.AbstractContextManager[Any] | None:
        backend.fail_next("create", ThrottledError("slow down", retry_after=1.0))
        return contextlib.nullcontext()


class TestMemoryBackendWithoutReplay(BackendContract):
    """Shaped like Sage Intacct: a resubmitted key is refused, documents are voided."""

    @pytest.fixture
    def backend(self) -> Iterator[MemoryBackend]:
        yield MemoryBackend(
            name="memory-intacct-like",
            capabilities={
                Capability.CREATE,
                Capability.UPDATE,
                Capability.VOID,
                Capability.LOOKUP_BY_KEY,
            },
        )

    def invalid_document(self, company: str) -> Document | None:
        return None
