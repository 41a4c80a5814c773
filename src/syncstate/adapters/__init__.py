"""Adapters: the shipped back ends (:mod:`.backends`) and storage engines (:mod:`.storage`).

Each back end and each storage engine is a package of its own; old flat module paths
keep working through :mod:`syncstate.adapters._moved`.
"""

from syncstate.adapters import _moved

_moved.install()
