"""`radpulse sources list|add|remove`: the watch list, kept in the config file."""

from __future__ import annotations

from pathlib import Path

import click
import tomlkit

from radpulse.cli.output import console, echo_json, short_time, table
from radpulse.collectors.registry import AddRequest, add_kinds, known_hint, platform_for_source
from radpulse.config import default_config_path, default_config_text, settings_from_dict
from radpulse.errors import InputError


class KindType(click.ParamType):
    """KIND of `sources add`: whatever the declared platforms handle (read when used)."""

    name = "kind"

    def get_metavar(self, param, ctx=None) -> str:  # type: ignore[no-untyped-def, override]
        return "[" + "|".join(add_kinds()) + "]"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        kinds = add_kinds()
        if value not in kinds:
            self.fail(f"{value!r} is not a kind of source. {known_hint('kinds', list(kinds), value)}", param, ctx)
        return value


def _config_file(app) -> Path:  # type: ignore[no-untyped-def]
    path = Path(app.config_path or default_config_path()).expanduser()
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(default_config_text(), encoding="utf-8")
        click.echo(f"Created {path} with the default watch list.", err=True)
    return path


def _save(app, path: Path, doc: tomlkit.TOMLDocument) -> None:  # type: ignore[no-untyped-def]
    settings_from_dict(doc.unwrap(), path=path)  # never write a config that would not load
    path.write_text(tomlkit.dumps(doc), encoding="utf-8")
    app.config_path = str(path)
    app.__dict__.pop("settings", None)


@click.group()
def sources() -> None:
    """List, add and remove tracked sources (stored in the config file)."""


@sources.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_obj
def list_sources(app, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    """List tracked sources with their last collection run."""
    from radpulse.status import source_overview

    rows = source_overview(app.db(), app.settings)
    if as_json:
        echo_json(rows)
        return
    wide = console.width >= 120
    columns = ["name", *(["kind", "value"] if wide else []), "posts", "last run", "status"]
    console.print(table("Tracked sources", columns, [
        (r["name"], *([r["kind"], r["value"]] if wide else []), r["posts"], short_time(r["last_run"]), r["last_status"])
        for r in rows]))


@sources.command("add")
@click.argument("kind", type=KindType())
@click.argument("value")
@click.option("--name", help="Name for a feed or PubMed query (default: derived from VALUE).")
@click.option("--instance", help="Mastodon instance for `mastodon TAG` (default: every configured instance); only that (instance, tag) is added.")
@click.option("--keyword", "keywords", multiple=True, help="Subreddit keyword filter (repeatable).")
@click.pass_obj
def add_source(app, kind: str, value: str, name: str | None, instance: str | None, keywords: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    """Track a new source. KIND is one of: hashtag, query (X), subreddit, feed (URL),
    pubmed (query term), mastodon (tag, with --instance), bluesky (tag or query), or a kind a
    collector plugin declares. A feed is named after the journal title in the feed (or --name).

    \b
    Examples:
      radpulse sources add hashtag '#RSNA2026'
      radpulse sources add subreddit Radiology
      radpulse sources add feed https://pubs.rsna.org/action/showFeed?type=etoc&feed=rss&jc=radiology --name Radiology
      radpulse sources add pubmed '"radiology"[MeSH] AND "burnout"[tiab]' --name rad-burnout
      radpulse sources add mastodon radiology --instance med-mastodon.com
    """
    value = value.strip()
    if not value:
        raise InputError("The source value is empty.", hint="Give a hashtag, query, subreddit, URL or term.")
    path = _config_file(app)
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    added = add_kinds()[kind].add(doc, AddRequest(kind, value, name=name, instance=instance, keywords=keywords))
    if not added:
        click.echo(f"Already tracked: {kind} {value}")
        return
    _save(app, path, doc)
    click.echo(f"Tracking {added} (saved in {path}).")


@sources.command("remove")
@click.argument("name")
@click.pass_obj
def remove_source(app, name: str) -> None:  # type: ignore[no-untyped-def]
    """Stop tracking the source NAME (as `sources list` shows it). Collected data is kept."""
    path = _config_file(app)
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    declared = platform_for_source(name)
    removed = declared is not None and declared.remove(doc, name)
    if not removed:
        raise InputError(f"No tracked source named {name!r}.", hint="See `radpulse sources list` for the names.")
    _save(app, path, doc)
    click.echo(f"Stopped tracking {name}; its collected data is kept.")
