"""A Redis broker for the Celery tests: ``SYNCSTATE_TEST_REDIS_URL`` or a local server.

With ``SYNCSTATE_TEST_REDIS_URL`` set (``.ci/redis.sh start`` prints it) that
server is used; otherwise ``redis-server`` (Debian package ``redis-server``) is
started on a free port for the session. Without either, or without Celery, the
tests skip with the reason on a developer's machine and fail in CI.

Use from a test module::

    from redis_server import redis_url, require_celery  # noqa: F401
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

ENV = "SYNCSTATE_TEST_REDIS_URL"
HOW = "apt-get install redis-server, or set SYNCSTATE_TEST_REDIS_URL; see docs/celery.md"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"Celery tests cannot run in CI: {reason}", pytrace=False)
    pytest.skip(f"Celery tests skipped: {reason}; {HOW}", allow_module_level=True)


def require_celery() -> None:
    """Skip (or fail in CI) the calling module when Celery or redis-py is missing."""
    try:
        import celery  # noqa: F401
        import redis  # noqa: F401
    except ImportError as exc:
        _unavailable(f"the celery extra is not installed ({exc}); pip install syncstate[celery]")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a reachable Redis server (database 0)."""
    url = os.environ.get(ENV, "").strip()
    if url:
        parsed = urlparse(url)
        try:
            socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), 5)
        except OSError as exc:
            _unavailable(f"cannot reach the Redis server in {ENV}: {exc}")
        yield url
        return
    from syncstate.testing.fanout import RedisServer

    server = RedisServer()
    if server.binary is None:
        _unavailable("redis-server is not installed")
    with server:
        yield server.url
