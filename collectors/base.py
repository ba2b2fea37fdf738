"""The collector contract every source in radpulse follows.

A collector is given one tracked source and its cursor and yields `Batch`es (see
`radpulse.records`): normalised posts, authors and articles (each keeping its raw payload and
provenance), items it could not normalise (quarantined with the error), and the cursor to store
*with* that batch. The runner (`radpulse.collectors.runner`) writes each batch in one
transaction together with its cursor, so a crash after N batches resumes from batch N with no
gap and no duplicate.

Adding a platform is one module that subclasses `Collector` and decorates it with
`@register` (see `radpulse.collectors.registry`); nothing else changes.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from radpulse.errors import NotConfigured
from radpulse.records import JSON, Batch, MergeRule, PostRef, SourceSpec

if TYPE_CHECKING:  # pragma: no cover
    from radpulse.config import Settings


class Collector(abc.ABC):
    """Base class of every collector. Subclass, set the class attributes, implement `collect`."""

    platform: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]]
    #: False for collectors of literature only (feeds, PubMed, Crossref): their platform names
    #: no posts, so post filters (`export posts --platform`, `trends --platform`) do not offer it
    stores_posts: ClassVar[bool] = True
    #: environment variables that must be set, in the order they are reported as missing
    required_env: ClassVar[tuple[str, ...]] = ()
    #: how new readings of a stored post merge into it (the store applies it to this collector's
    #: posts); the default: the newest reading's counts win
    merge_rule: ClassVar[MergeRule] = MergeRule()

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        #: billable units already spent this calendar month (set by the runner before collect)
        self.spent_this_period = 0

    def check_configured(self, source: SourceSpec) -> None:
        """Raise NotConfigured naming the variable to set when credentials are missing."""
        missing = [name for name in self.required_env if not self.settings.secret(name)]
        if missing:
            raise NotConfigured(
                f"{source.name}: not configured, set {' and '.join(missing)}.",
                hint="Export the variable(s) in the environment radpulse runs in.",
            )

    @abc.abstractmethod
    def collect(self, source: SourceSpec, cursor: JSON | None) -> Iterator[Batch]:
        """Yield batches of new items for `source` after `cursor`, each with its new cursor."""

    def refresh(self, posts: Sequence[PostRef]) -> Iterator[Batch]:
        """Yield batches with current metrics for `posts`; deleted ones with is_deleted=True."""
        return iter(())

    def close(self) -> None:
        """Release network resources."""


def chunked(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """Split `items` into lists of at most `size`."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
