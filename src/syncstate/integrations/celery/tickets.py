"""One queued chain per company, kept in Redis (the broker's server, or another one)."""

from __future__ import annotations

from typing import Any

__all__ = ["RedisTickets"]


class RedisTickets:
    """:class:`~syncstate.services.fanout.Tickets` as Redis keys with a time to live.

    ``SET key NX EX ttl`` takes a company's ticket; the chain renews it with every
    page and deletes it when the company has nothing left. If a worker dies with
    the ticket, the key expires and the next schedule enqueues the company again.
    """

    def __init__(self, url: str, *, prefix: str = "syncstate:fanout", client: Any = None) -> None:
        if client is None:
            # redis-py comes with the celery extra; mypy may run without it
            import redis  # type: ignore[import-not-found,unused-ignore]

            client = redis.Redis.from_url(url)
        self._redis: Any = client
        self._prefix = prefix
        self.url = url

    def __repr__(self) -> str:
        return f"RedisTickets(prefix={self._prefix!r})"

    def _key(self, company: str) -> str:
        return f"{self._prefix}:{company}"

    def take(self, company: str, ttl: float) -> bool:
        """Take the ticket unless another chain holds it."""
        return bool(self._redis.set(self._key(company), "1", nx=True, px=max(int(ttl * 1000), 1)))

    def renew(self, company: str, ttl: float) -> None:
        """Keep the ticket for ``ttl`` more seconds."""
        self._redis.set(self._key(company), "1", px=max(int(ttl * 1000), 1))

    def drop(self, company: str) -> None:
        """Give the ticket back."""
        self._redis.delete(self._key(company))
