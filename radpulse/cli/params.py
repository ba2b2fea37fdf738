"""Click parameter types for the values users mistype: platforms, topics, sources, flags, dates.

Each checks the value against what radpulse knows (the collector registry, the analysis
lexicon, the tracked sources) and fails with exit code 2, the known values and a
"did you mean ...?" (difflib), instead of silently matching nothing:

    @click.option("--platform", "platforms", multiple=True, type=POST_PLATFORM)
    @click.option("--since", type=WHEN)
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Sequence

import click

from radpulse.errors import InputError, RadpulseError

#: what people call a platform, for the suggestion only (a typo is never silently accepted)
ALIASES = {"twitter": "x", "tweets": "x", "bsky": "bluesky", "toots": "mastodon", "fediverse": "mastodon",
           "rss": "feeds", "journals": "feeds", "medline": "pubmed"}


def did_you_mean(value: str, known: Sequence[str]) -> str:
    """' Did you mean x?' for the closest known value, or ''."""
    alias = ALIASES.get(value.lower())
    if alias in known:
        return f" Did you mean {alias!r}?"
    close = difflib.get_close_matches(value.lower(), [k.lower() for k in known], n=1, cutoff=0.5)
    if not close:
        return ""
    original = next(k for k in known if k.lower() == close[0])
    return f" Did you mean {original!r}?"


def unknown_value(what: str, value: str, known: Sequence[str], plural: str | None = None) -> str:
    """One sentence naming the unknown value, the closest known one and every known value."""
    listing = ", ".join(known) if known else "none yet"
    return f"{value!r} is not a known {what}.{did_you_mean(value, known)} Known {plural or what + 's'}: {listing}."


class KnownName(click.ParamType):
    """A value from a set known at run time; case-insensitive, returned as the known spelling."""

    def __init__(self, what: str, known: Callable[[click.Context | None], Sequence[str]], *,
                 plural: str | None = None, metavar: str | None = None) -> None:
        self.name = what
        self.what = what
        self.plural = plural
        self.known = known
        self.metavar = metavar or what.split()[0].upper()

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:  # click 8.1 and 8.2
        return self.metavar

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        text = str(value).strip()
        try:
            known = list(self.known(ctx))
        except RadpulseError:
            raise  # e.g. the database cannot be opened: that message, not "unknown value"
        if text in known:
            return text
        folded = [k for k in known if k.lower() == text.lower()]
        if len(folded) == 1:
            return folded[0]
        self.fail(unknown_value(self.what, text, known, self.plural), param, ctx)

    def shell_complete(self, ctx, param, incomplete):  # type: ignore[no-untyped-def]
        from click.shell_completion import CompletionItem

        try:
            known = self.known(ctx)
        except RadpulseError:
            return []
        return [CompletionItem(k) for k in known if k.lower().startswith(incomplete.lower())]


def collector_platforms(_ctx: click.Context | None = None) -> list[str]:
    """Every platform with a registered collector (what `collect --platform` selects)."""
    from radpulse.collectors.registry import platforms

    return platforms()


def post_platforms(_ctx: click.Context | None = None) -> list[str]:
    """The registered platforms whose collectors store posts (what post filters select)."""
    from radpulse.collectors.registry import post_platforms as registered

    return registered()


def topic_labels(_ctx: click.Context | None = None) -> list[str]:
    """Subspecialties, `general` and themes of the analysis lexicon."""
    from radpulse.analysis.lexicon import GENERAL, SUBSPECIALTIES, THEMES

    return [*SUBSPECIALTIES, GENERAL, *THEMES]


def review_flags(_ctx: click.Context | None = None) -> list[str]:
    from radpulse.analysis.flags import FLAGS

    return list(FLAGS)


def source_names(ctx: click.Context | None) -> list[str]:
    """Sources tracked in the config, and those in the database (tracked earlier; posts kept)."""
    from sqlalchemy import select

    from radpulse.db.models import Source
    from radpulse.sources import expand_sources

    app = ctx.find_root().obj if ctx is not None else None
    if app is None or not hasattr(app, "db"):
        return []
    names = {spec.name for spec in expand_sources(app.settings)}
    with app.db().engine.connect() as conn:
        names.update(conn.execute(select(Source.name)).scalars())
    return sorted(names)


POST_PLATFORM = KnownName("platform", post_platforms)
COLLECTOR_PLATFORM = KnownName("platform", collector_platforms)
TOPIC = KnownName("subspecialty or theme", topic_labels, plural="subspecialties and themes", metavar="TOPIC")
SOURCE_NAME = KnownName("source", source_names, metavar="NAME")
REVIEW_FLAG = KnownName("flag", review_flags)


class When(click.ParamType):
    """A point in time as `--since` / `--until` take it (radpulse.timewindow.parse_when)."""

    name = "when"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "WHEN"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        from radpulse.timewindow import parse_when

        if value is None or isinstance(value, dt.datetime):
            return value
        try:
            return parse_when(value, name="")
        except InputError as exc:
            self.fail(str(exc), param, ctx)


WHEN = When()
