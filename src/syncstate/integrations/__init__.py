"""Optional glue to existing engines; each sub-package is behind an extra.

* :mod:`syncstate.integrations.celery`: fan companies out to Celery workers
  (``pip install syncstate[celery]``).

The glue only wires tasks to the engine-agnostic services in
:mod:`syncstate.services.fanout`; ``services/`` never imports it.
"""
