"""Where collectors are found: built-in modules, then the `radpulse.collectors` entry points."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

from radpulse.collectors.base import Collector
from radpulse.errors import ConfigError

#: built-in collector modules; each registers its classes with @register on import
BUILTIN_MODULES = (
    "radpulse.collectors.x",
    "radpulse.collectors.reddit",
    "radpulse.collectors.mastodon",
    "radpulse.collectors.bluesky",
    "radpulse.collectors.feeds",
    "radpulse.collectors.pubmed",
    "radpulse.collectors.crossref",
)

_REGISTRY: dict[str, type[Collector]] = {}
_loaded = False


def register(cls: type[Collector]) -> type[Collector]:
    """Class decorator: make `cls` the collector for `cls.platform`."""
    _REGISTRY[cls.platform] = cls
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    for ep in entry_points(group="radpulse.collectors"):
        register(ep.load())


def platforms() -> list[str]:
    """Names of every platform with a registered collector."""
    _load()
    return sorted(_REGISTRY)


def post_platforms() -> list[str]:
    """Names of the platforms whose collectors store posts (not literature-only ones)."""
    _load()
    return sorted(name for name, cls in _REGISTRY.items() if cls.stores_posts)


def get_collector(platform: str) -> type[Collector]:
    """The collector class for `platform`."""
    _load()
    try:
        return _REGISTRY[platform]
    except KeyError:
        raise ConfigError(
            f"No collector for platform {platform!r}.",
            hint=f"Known platforms: {', '.join(platforms()) or 'none'}.",
        ) from None
