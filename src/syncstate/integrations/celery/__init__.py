"""Fan thousands of companies out to Celery workers (``pip install syncstate[celery]``).

- :mod:`.tasks`: :func:`install` registers ``export_page`` (one page of one
  company) and ``schedule`` (a chain per company with work) on the host's app;
  :data:`CELERY_SETTINGS` are the settings they rely on;
- :mod:`.tickets`: :class:`RedisTickets`, one chain per company.

Nothing here imports Celery: the host brings its own app.
"""

from syncstate.integrations.celery.tasks import (
    CELERY_SETTINGS,
    FanoutTasks,
    WorkerServices,
    install,
)
from syncstate.integrations.celery.tickets import RedisTickets

__all__ = ["CELERY_SETTINGS", "FanoutTasks", "RedisTickets", "WorkerServices", "install"]
