"""Plug-ins: back ends, stores, bundling policies and mirror sources found through entry points.

A back end is registered in the ``syncstate.backends`` entry-point group, a
state store in ``syncstate.stores``, a bundle store in
``syncstate.bundle_stores``, a mirror store in ``syncstate.mirror_stores``, a
bundling policy in ``syncstate.bundling_policies`` and a mirror source in
``syncstate.mirror_sources``; the entry point names a factory (a class or a
function) that takes keyword options and returns the object::

    [project.entry-points."syncstate.backends"]
    mybooks = "mybooks_syncstate:open_backend"

syncstate's own back ends and stores are registered the same way in its
``pyproject.toml``, so a third-party plug-in is found exactly like a shipped
one. Nothing is imported until an ``open_*`` helper (:func:`open_backend`,
:func:`open_store`, :func:`open_bundle_store`, ...) asks for that name; each
``available_*`` helper lists the installed names of its group.
"""

from __future__ import annotations

import importlib.metadata
import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

import attrs

from syncstate.errors import ConfigurationError, PluginNotFound
from syncstate.plugin_options import parse_plugin_options
from syncstate.ports import (
    AccountingBackend,
    BundleStore,
    Capability,
    MirrorStore,
    Source,
    StateStore,
)

if TYPE_CHECKING:
    from syncstate.domain.bundling import BundlingPolicy

__all__ = [
    "BACKENDS_GROUP",
    "BUNDLE_STORES_GROUP",
    "BUNDLING_POLICIES_GROUP",
    "MIRROR_SOURCES_GROUP",
    "MIRROR_STORES_GROUP",
    "STORES_GROUP",
    "Plugin",
    "available_backends",
    "available_bundle_stores",
    "available_bundling_policies",
    "available_mirror_sources",
    "available_mirror_stores",
    "available_stores",
    "find_plugin",
    "open_backend",
    "open_backend_from_options",
    "open_bundle_store",
    "open_bundling_policy",
    "open_mirror_source",
    "open_mirror_store",
    "open_store",
    "plugins",
]

#: entry-point group of accounting back ends
BACKENDS_GROUP = "syncstate.backends"
#: entry-point group of state stores
STORES_GROUP = "syncstate.stores"
#: entry-point group of bundle stores (:class:`~syncstate.ports.BundleStore`)
BUNDLE_STORES_GROUP = "syncstate.bundle_stores"
#: entry-point group of mirror stores (:class:`~syncstate.ports.MirrorStore`)
MIRROR_STORES_GROUP = "syncstate.mirror_stores"
#: entry-point group of bundling policies (:class:`~syncstate.domain.bundling.BundlingPolicy`)
BUNDLING_POLICIES_GROUP = "syncstate.bundling_policies"
#: entry-point group of mirror sources (:class:`~syncstate.ports.Source`)
MIRROR_SOURCES_GROUP = "syncstate.mirror_sources"

#: extras that bring a shipped plug-in's third-party dependencies
_EXTRAS = {"beancount": "beancount", "postgres": "postgres"}

_STORE_METHODS = ("ingest", "get", "find", "apply", "claim", "journal", "counts", "close")
_BACKEND_METHODS = ("create", "update", "lookup", "delete", "create_batch", "fetch_pdf")


@attrs.frozen
class Plugin:
    """One registered plug-in: its group, name, target (``module:attr``) and distribution."""

    group: str
    name: str
    target: str
    distribution: str

    def load(self) -> Callable[..., Any]:
        """Import the factory; a missing module or dependency is a ConfigurationError."""
        entry = importlib.metadata.EntryPoint(name=self.name, value=self.target, group=self.group)
        try:
            factory = entry.load()
        except ImportError as exc:
            hint = ""
            extra = _EXTRAS.get(self.name)
            if extra and self.distribution == "syncstate":
                hint = f" (install it with: pip install 'syncstate[{extra}]')"
            raise ConfigurationError(
                f"plug-in {self.name!r} of {self.group!r} ({self.target}, from "
                f"{self.distribution}) cannot be imported: {exc}{hint}"
            ) from exc
        except AttributeError as exc:
            raise ConfigurationError(
                f"plug-in {self.name!r} of {self.group!r}: {self.target} does not exist ({exc})"
            ) from exc
        if not callable(factory):
            raise ConfigurationError(
                f"plug-in {self.name!r} of {self.group!r}: {self.target} is not callable"
            )
        return cast(Callable[..., Any], factory)


def plugins(group: str) -> dict[str, Plugin]:
    """Every plug-in registered in ``group``, by name.

    Two distributions registering the same name make that name ambiguous; asking
    for it raises :class:`~syncstate.errors.ConfigurationError`.
    """
    found: dict[str, Plugin] = {}
    for entry in importlib.metadata.entry_points(group=group):
        dist = entry.dist.name if entry.dist is not None else "?"
        plugin = Plugin(group=group, name=entry.name, target=entry.value, distribution=dist)
        seen = found.get(entry.name)
        if seen is not None and seen != plugin:
            raise ConfigurationError(
                f"plug-in name {entry.name!r} of {group!r} is registered twice: "
                f"{seen.target} ({seen.distribution}) and {plugin.target} ({dist})"
            )
        found[entry.name] = plugin
    return found


def find_plugin(group: str, name: str) -> Plugin:
    """The plug-in ``name`` of ``group``, or :class:`~syncstate.errors.PluginNotFound`."""
    registered = plugins(group)
    try:
        return registered[name]
    except KeyError:
        raise PluginNotFound(group=group, name=name, available=tuple(sorted(registered))) from None


def available_backends() -> list[str]:
    """Names of the installed back ends, sorted."""
    return sorted(plugins(BACKENDS_GROUP))


def available_stores() -> list[str]:
    """Names of the installed state stores, sorted."""
    return sorted(plugins(STORES_GROUP))


def _call(plugin: Plugin, options: dict[str, Any]) -> Any:
    factory = plugin.load()
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without a signature: just call
        signature = None
    if signature is not None:
        try:
            signature.bind(**options)
        except TypeError as exc:
            accepted = [
                p.name
                for p in signature.parameters.values()
                if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
            ]
            raise ConfigurationError(
                f"{plugin.group} plug-in {plugin.name!r}: {exc}; "
                f"it accepts: {', '.join(accepted) or 'no options'}"
            ) from exc
    return factory(**options)


def open_backend(name: str, **options: Any) -> AccountingBackend:
    """Open the back end registered as ``name``, passing ``options`` to its factory.

    >>> backend = open_backend("memory")  # doctest: +SKIP
    >>> ledger = open_backend("beancount", path="books/", mappings={...})  # doctest: +SKIP

    Raises :class:`~syncstate.errors.PluginNotFound` (listing the available
    names) for an unknown name and :class:`~syncstate.errors.ConfigurationError`
    when the plug-in cannot be imported, rejects the options or returns
    something that is not a back end.
    """
    plugin = find_plugin(BACKENDS_GROUP, name)
    return _checked_backend(plugin, _call(plugin, options))


def open_backend_from_options(name: str, pairs: Iterable[tuple[str, str]]) -> AccountingBackend:
    """Open the back end ``name`` from text options (``KEY=VALUE`` pairs, as the CLI has them).

    The plug-in's declared :class:`~syncstate.plugin_options.PluginOption` s parse the
    text; its ``from_options`` (when it has one) or its factory gets the typed values.
    Unknown, missing or malformed options are an :class:`~syncstate.errors.InputError`
    that never echoes a value.
    """
    plugin = find_plugin(BACKENDS_GROUP, name)
    factory = plugin.load()
    options = parse_plugin_options(name, factory, pairs)
    build = getattr(factory, "from_options", factory)
    try:
        backend = build(**options)
    except TypeError as exc:
        raise ConfigurationError(f"back end plug-in {name!r} rejected its options: {exc}") from exc
    return _checked_backend(plugin, backend)


def _checked_backend(plugin: Plugin, backend: Any) -> AccountingBackend:
    name = plugin.name
    missing = [m for m in _BACKEND_METHODS if not callable(getattr(backend, m, None))]
    capabilities = getattr(backend, "capabilities", None)
    if (
        missing
        or not isinstance(getattr(backend, "name", None), str)
        or not isinstance(capabilities, frozenset)
        or not all(isinstance(c, Capability) for c in capabilities)
        or not isinstance(getattr(backend, "max_batch", None), int)
    ):
        raise ConfigurationError(
            f"back end plug-in {name!r} ({plugin.target}) returned {type(backend).__name__}, "
            "which is not an AccountingBackend (needs name, capabilities: frozenset[Capability], "
            f"max_batch and {', '.join(_BACKEND_METHODS)})"
        )
    return cast(AccountingBackend, backend)


def open_store(name: str, **options: Any) -> StateStore:
    """Open the state store registered as ``name``, passing ``options`` to its factory.

    >>> store = open_store("sqlite", path="state.db")  # doctest: +SKIP

    Errors as for :func:`open_backend`.
    """
    plugin = find_plugin(STORES_GROUP, name)
    store = _call(plugin, options)
    missing = [m for m in _STORE_METHODS if not callable(getattr(store, m, None))]
    if missing:
        raise ConfigurationError(
            f"store plug-in {name!r} ({plugin.target}) returned {type(store).__name__}, "
            f"which is not a StateStore (missing {', '.join(missing)})"
        )
    return cast(StateStore, store)


#: what each of the other groups must offer: its port, and the methods checked on open
_PORTS: dict[str, tuple[str, tuple[str, ...]]] = {
    BUNDLE_STORES_GROUP: (
        "BundleStore",
        ("add", "remove", "entries", "bundle_of", "mappings", "set_mappings", "close"),
    ),
    MIRROR_STORES_GROUP: (
        "MirrorStore",
        (
            "stage_year",
            "swap_in",
            "discard",
            "read_year",
            "loaded_years",
            "accounts",
            "clear_years",
            "apply_drift",
            "try_lock",
            "unlock",
            "close",
        ),
    ),
    BUNDLING_POLICIES_GROUP: ("BundlingPolicy", ("bundle",)),
    MIRROR_SOURCES_GROUP: ("Source", ("snapshot",)),
}


def _open_checked(group: str, name: str, options: dict[str, Any]) -> Any:
    plugin = find_plugin(group, name)
    made = _call(plugin, options)
    port, methods = _PORTS[group]
    missing = [m for m in methods if not callable(getattr(made, m, None))]
    if group in (BUNDLING_POLICIES_GROUP, MIRROR_SOURCES_GROUP) and not isinstance(
        getattr(made, "name", None), str
    ):
        missing.append("name")
    if missing:
        raise ConfigurationError(
            f"{group} plug-in {name!r} ({plugin.target}) returned {type(made).__name__}, "
            f"which is not a {port} (missing {', '.join(missing)})"
        )
    return made


def available_bundle_stores() -> list[str]:
    """Names of the installed bundle stores, sorted."""
    return sorted(plugins(BUNDLE_STORES_GROUP))


def available_mirror_stores() -> list[str]:
    """Names of the installed mirror stores, sorted."""
    return sorted(plugins(MIRROR_STORES_GROUP))


def available_bundling_policies() -> list[str]:
    """Names of the installed bundling policies, sorted."""
    return sorted(plugins(BUNDLING_POLICIES_GROUP))


def available_mirror_sources() -> list[str]:
    """Names of the installed mirror sources, sorted."""
    return sorted(plugins(MIRROR_SOURCES_GROUP))


def open_bundle_store(name: str, **options: Any) -> BundleStore:
    """Open the bundle store registered as ``name`` (errors as for :func:`open_backend`).

    >>> bundles = open_bundle_store("sqlite", path="syncstate.db")  # doctest: +SKIP
    """
    return cast(BundleStore, _open_checked(BUNDLE_STORES_GROUP, name, options))


def open_mirror_store(name: str, **options: Any) -> MirrorStore:
    """Open the mirror store registered as ``name`` (errors as for :func:`open_backend`).

    >>> mirror = open_mirror_store("postgres", dsn="postgresql://...")  # doctest: +SKIP
    """
    return cast(MirrorStore, _open_checked(MIRROR_STORES_GROUP, name, options))


def open_bundling_policy(name: str, **options: Any) -> BundlingPolicy:
    """Make the bundling policy registered as ``name`` (errors as for :func:`open_backend`)."""
    return cast("BundlingPolicy", _open_checked(BUNDLING_POLICIES_GROUP, name, options))


def open_mirror_source(name: str, **options: Any) -> Source:
    """Open the mirror source registered as ``name`` (errors as for :func:`open_backend`).

    >>> source = open_mirror_source("sie", files=["books.se"])  # doctest: +SKIP
    """
    return cast(Source, _open_checked(MIRROR_SOURCES_GROUP, name, options))
