"""The Celery app that :class:`~syncstate.testing.fanout.CeleryWorkers` runs.

Configured from :data:`~syncstate.testing.fanout.CONFIG_ENV` (broker, store, the
local server, limits); it is also the shortest complete example of a host's
Celery module: an app, :data:`~syncstate.integrations.celery.CELERY_SETTINGS`,
and :func:`~syncstate.integrations.celery.install` with a services factory.
"""

from __future__ import annotations

# Celery ships no type information (and is absent without the celery extra)
from celery import Celery  # type: ignore[import-untyped,import-not-found,unused-ignore]

from syncstate.integrations.celery import CELERY_SETTINGS, install
from syncstate.testing.fanout import FanoutConfig, worker_services

__all__ = ["app", "tasks"]

config = FanoutConfig.from_env()
app = Celery("syncstate-fanout", broker=config.broker)
app.conf.update(
    dict(CELERY_SETTINGS),
    task_default_queue=config.queue,
    # a page here lasts seconds: a vanished machine's message comes back after 30 s
    broker_transport_options={"visibility_timeout": 30},
    task_ignore_result=True,
    broker_connection_retry_on_startup=True,
)
tasks = install(app, lambda: worker_services(config), ticket_ttl=120.0, max_countdown=20.0)
