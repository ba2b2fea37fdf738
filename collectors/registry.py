"""Where collectors are found, and what each platform declares about itself.

A platform is one folder under `collectors/`: its `collector.py` holds the collector class
(decorated with `@register`, imported on first use through `Platform.collector_module`) and its
`source.py` a `Platform` declaration (registered with
`register_platform`): the config section (a pydantic model), how sources are named and expanded
from it, how `radpulse sources add/remove` edits it, display metadata and rate limits. The CLI,
the config loader, the scheduler and `radpulse status` iterate over `declared_platforms()`;
adding a platform is one folder plus one line in `BUILTIN_MODULES` (or a `radpulse.collectors`
entry point naming a module that registers itself).
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, ClassVar

from radpulse.collectors.base import Collector
from radpulse.errors import ConfigError, InputError
from radpulse.records import SourceSpec

if TYPE_CHECKING:  # pragma: no cover
    import tomlkit

    from radpulse.config import Settings

#: built-in platform declarations (light: each names the module of its collector, imported on use)
BUILTIN_MODULES = (
    "radpulse.collectors.x.source",
    "radpulse.collectors.reddit.source",
    "radpulse.collectors.mastodon.source",
    "radpulse.collectors.bluesky.source",
    "radpulse.collectors.feeds.source",
    "radpulse.collectors.pubmed.source",
    "radpulse.collectors.crossref.source",
)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A service's published request limit (shown by `radpulse status`)."""

    requests: int
    per_seconds: int
    note: str = ""

    def __str__(self) -> str:
        per = f"{self.per_seconds // 60} min" if self.per_seconds % 60 == 0 and self.per_seconds >= 60 else f"{self.per_seconds} s"
        return f"{self.requests} requests / {per}" + (f" ({self.note})" if self.note else "")


@dataclass(slots=True)
class AddRequest:
    """What `radpulse sources add KIND VALUE [--name] [--instance] [--keyword ...]` asks for."""

    kind: str
    value: str
    name: str | None = None
    instance: str | None = None
    keywords: tuple[str, ...] = ()


class Platform:
    """What a platform declares. Subclass it in `collectors/<name>/source.py` and register one."""

    #: the platform name stored on posts and sources ("x", "feeds", ...)
    name: ClassVar[str]
    #: the config key of its section ([x], [[feeds]], ...)
    section: ClassVar[str]
    #: how people write it ("X", "Journal feeds")
    label: ClassVar[str]
    #: a social platform (posts by people, engagement to refresh) rather than literature
    social: ClassVar[bool] = False
    #: `radpulse sources add KIND` values this platform handles
    add_kinds: ClassVar[tuple[str, ...]] = ()
    #: the module whose import registers the collector (imported on first use, so that declaring a
    #: platform never loads its client library); None when it registers itself or has no collector
    collector_module: ClassVar[str | None] = None
    #: its collector stores posts (False for literature-only platforms: feeds, PubMed, Crossref)
    stores_posts: ClassVar[bool] = True
    rate_limit: ClassVar[RateLimit | None] = None
    #: minutes between collections of each source unless `[schedule] source_intervals` says
    #: otherwise (None: `[schedule] collect_every_minutes`)
    default_interval_minutes: ClassVar[int | None] = None
    #: a colour for charts
    colour: ClassVar[str] = "#6b7280"

    def settings_type(self) -> Any:
        """The type of its config section (a pydantic model, or a list of them)."""
        raise NotImplementedError

    def default_settings(self) -> Any:
        """The section's value when the file does not have it."""
        return self.settings_type()()

    def expand(self, section: Any) -> list[SourceSpec]:
        """Every source the section tracks, each with a stable unique name '<prefix>:<...>'."""
        raise NotImplementedError

    def add(self, doc: tomlkit.TOMLDocument, request: AddRequest) -> str | None:
        """Edit the config document to track `request`; the new source's name, or None when
        that source is already tracked. Raise InputError for a value it cannot track."""
        raise NotImplementedError

    def remove(self, doc: tomlkit.TOMLDocument, name: str) -> bool:
        """Edit the config document to stop tracking source `name`; False when not tracked."""
        return False

    def monthly_budget(self, settings: Settings) -> int | None:
        """Billable reads allowed per calendar month (None: the service does not bill reads)."""
        return None


_REGISTRY: dict[str, type[Collector]] = {}
_PLATFORMS: dict[str, Platform] = {}
_loaded = False


def register(cls: type[Collector]) -> type[Collector]:
    """Class decorator: make `cls` the collector for `cls.platform`."""
    _REGISTRY[cls.platform] = cls
    return cls


def register_platform(platform: Platform) -> Platform:
    """Make `platform`'s declaration known to the CLI, the config loader and the scheduler."""
    _PLATFORMS[platform.name] = platform
    _changed()
    return platform


def unregister(name: str) -> None:
    """Forget platform `name` (its collector and declaration); for tests and plugins."""
    _REGISTRY.pop(name, None)
    _PLATFORMS.pop(name, None)
    _changed()


#: called whenever the set of declarations changes (the config loader rebuilds its model)
on_change: list[Callable[[], None]] = []


def _changed() -> None:
    for hook in on_change:
        hook()


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for module in BUILTIN_MODULES:
        importlib.import_module(module)
    for ep in entry_points(group="radpulse.collectors"):
        loaded = ep.load()
        if isinstance(loaded, type) and issubclass(loaded, Collector):
            register(loaded)


def declared_platforms() -> list[Platform]:
    """Every declared platform, in registration order (built-ins first)."""
    _load()
    return list(_PLATFORMS.values())


def platform(name: str) -> Platform:
    """The declaration of platform `name`."""
    _load()
    try:
        return _PLATFORMS[name]
    except KeyError:
        raise InputError(f"Unknown platform {name!r}.", hint=_known("platforms", list(_PLATFORMS), name)) from None


def _has_collector(name: str) -> bool:
    declared = _PLATFORMS.get(name)
    return name in _REGISTRY or (declared is not None and declared.collector_module is not None)


def platforms() -> list[str]:
    """Names of every platform with a collector (registered, or declared to be imported on use)."""
    _load()
    return sorted(name for name in {*_REGISTRY, *_PLATFORMS} if _has_collector(name))


def social_platforms() -> list[str]:
    """Names of the social platforms (whose posts have engagement to refresh)."""
    return [p.name for p in declared_platforms() if p.social]


def add_kinds() -> dict[str, Platform]:
    """`radpulse sources add KIND` -> the platform that handles KIND."""
    return {kind: p for p in declared_platforms() for kind in p.add_kinds}


def platform_for_source(name: str) -> Platform | None:
    """The platform whose sources are named like `name` ('x:#Radiology', 'feed:JACR')."""
    prefix = name.partition(":")[0]
    for p in declared_platforms():
        if prefix in (p.name, getattr(p, "prefix", p.name)):
            return p
    return None


def post_platforms() -> list[str]:
    """Names of the platforms whose collectors store posts (not literature-only ones)."""
    _load()
    declared = {name for name, p in _PLATFORMS.items() if p.stores_posts and _has_collector(name)}
    registered = {name for name, cls in _REGISTRY.items() if cls.stores_posts and name not in _PLATFORMS}
    return sorted(declared | registered)


def collector_attributes(package: str) -> Callable[[str], Any]:
    """A module `__getattr__` for a platform package: names are looked up in its `collector`
    module, imported on first use (so declaring the platform never loads its client library)."""

    def __getattr__(name: str) -> Any:
        collector = importlib.import_module(f"{package}.collector")
        try:
            return getattr(collector, name)
        except AttributeError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None

    return __getattr__


def get_collector(name: str) -> type[Collector]:
    """The collector class for platform `name` (its module is imported now if it was not yet)."""
    _load()
    declared = _PLATFORMS.get(name)
    if name not in _REGISTRY and declared is not None and declared.collector_module:
        importlib.import_module(declared.collector_module)
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"No collector for platform {name!r}.",
            hint=f"Known platforms: {', '.join(platforms()) or 'none'}.",
        ) from None


def _known(what: str, names: list[str], given: str) -> str:
    close = difflib.get_close_matches(given, names, n=1)
    guess = f"Did you mean {close[0]!r}? " if close else ""
    return f"{guess}Known {what}: {', '.join(sorted(names))}."


def known_hint(what: str, names: list[str], given: str) -> str:
    """'Did you mean x? Known <what>: a, b, c.' for an unknown value."""
    return _known(what, names, given)
