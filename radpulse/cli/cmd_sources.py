"""`radpulse sources list|add|remove`: the watch list, kept in the config file."""

from __future__ import annotations

from pathlib import Path

import click
import tomlkit

from radpulse.cli.output import console, echo_json, table
from radpulse.config import default_config_path, default_config_text, settings_from_dict
from radpulse.errors import ConfigError, InputError

KINDS = ("hashtag", "query", "subreddit", "feed", "pubmed", "mastodon", "bluesky")


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


def _table(doc, name: str):  # type: ignore[no-untyped-def]
    if name not in doc:
        doc[name] = tomlkit.table()
    return doc[name]


def _append_unique(container, key: str, value) -> bool:  # type: ignore[no-untyped-def]
    if key not in container:
        container[key] = tomlkit.array()
    arr = container[key]
    if value in list(arr):
        return False
    arr.append(value)
    return True


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
    console.print(table("Tracked sources", ["name", "platform", "kind", "value", "posts", "last run", "status"],
                        [(r["name"], r["platform"], r["kind"], r["value"], r["posts"], r["last_run"], r["last_status"])
                         for r in rows]))


@sources.command("add")
@click.argument("kind", type=click.Choice(KINDS))
@click.argument("value")
@click.option("--name", help="Name for a feed or PubMed query (default: derived from VALUE).")
@click.option("--instance", help="Mastodon instance for `mastodon TAG` (default: every configured instance).")
@click.option("--keyword", "keywords", multiple=True, help="Subreddit keyword filter (repeatable).")
@click.pass_obj
def add_source(app, kind: str, value: str, name: str | None, instance: str | None, keywords: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    """Track a new source. KIND is one of: hashtag, query (X), subreddit, feed (URL),
    pubmed (query term), mastodon (tag, with --instance), bluesky (tag or query).

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
    added = True
    if kind == "hashtag":
        tag = value if value.startswith("#") else f"#{value}"
        added = _append_unique(_table(doc, "x"), "hashtags", tag)
    elif kind == "query":
        added = _append_unique(_table(doc, "x"), "queries", value)
    elif kind == "subreddit":
        sub = value.removeprefix("/").removeprefix("r/")
        reddit = _table(doc, "reddit")
        if "subreddits" not in reddit:
            reddit["subreddits"] = tomlkit.aot()
        if any(str(s.get("name", "")).lower() == sub.lower() for s in reddit["subreddits"]):
            added = False
        else:
            entry = tomlkit.table()
            entry["name"] = sub
            if keywords:
                entry["keywords"] = list(keywords)
            reddit["subreddits"].append(entry)
    elif kind == "feed":
        if not value.startswith(("http://", "https://")):
            raise InputError(f"{value!r} is not a feed URL.", hint="Give the full http(s):// address of the RSS or Atom feed.")
        if "feeds" not in doc:
            doc["feeds"] = tomlkit.aot()
        feed_name = name or value.split("//", 1)[1].split("/", 1)[0]
        if any(f.get("url") == value or f.get("name") == feed_name for f in doc["feeds"]):
            added = False
        else:
            entry = tomlkit.table()
            entry["name"], entry["url"] = feed_name, value
            doc["feeds"].append(entry)
    elif kind == "pubmed":
        pubmed = _table(doc, "pubmed")
        if "queries" not in pubmed:
            pubmed["queries"] = tomlkit.aot()
        qname = name or "query-" + str(len(pubmed["queries"]) + 1)
        if any(q.get("term") == value or q.get("name") == qname for q in pubmed["queries"]):
            added = False
        else:
            entry = tomlkit.table()
            entry["name"], entry["term"] = qname, value
            pubmed["queries"].append(entry)
    elif kind == "mastodon":
        mastodon = _table(doc, "mastodon")
        added = _append_unique(mastodon, "hashtags", value.lstrip("#"))
        if instance:
            added = _append_unique(mastodon, "instances", instance) or added
    elif kind == "bluesky":
        added = _append_unique(_table(doc, "bluesky"), "queries", value)
    if not added:
        click.echo(f"Already tracked: {kind} {value}")
        return
    _save(app, path, doc)
    click.echo(f"Tracking {kind} {value} (saved in {path}).")


@sources.command("remove")
@click.argument("name")
@click.pass_obj
def remove_source(app, name: str) -> None:  # type: ignore[no-untyped-def]
    """Stop tracking the source NAME (as `sources list` shows it). Collected data is kept."""
    path = _config_file(app)
    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    platform, _, value = name.partition(":")
    removed = False

    def drop(container, key: str, match) -> bool:  # type: ignore[no-untyped-def]
        if container is None or key not in container:
            return False
        items = container[key]
        for i, item in enumerate(list(items)):
            if match(item):
                del items[i]
                return True
        return False

    if platform == "x":
        removed = drop(doc.get("x"), "hashtags", lambda v: v == value) or drop(doc.get("x"), "queries", lambda v: v == value)
    elif platform == "reddit":
        sub = value.removeprefix("r/")
        removed = drop(doc.get("reddit"), "subreddits", lambda s: str(s.get("name", "")).lower() == sub.lower())
    elif platform == "feed":
        removed = drop(doc, "feeds", lambda f: f.get("name") == value)
    elif platform == "pubmed":
        removed = drop(doc.get("pubmed"), "queries", lambda q: q.get("name") == value)
    elif platform == "bluesky":
        removed = drop(doc.get("bluesky"), "queries", lambda v: v == value)
    elif platform == "mastodon":
        tag = value.split("#", 1)[-1]
        removed = drop(doc.get("mastodon"), "hashtags", lambda v: v.lstrip("#") == tag)
    if not removed:
        raise InputError(f"No tracked source named {name!r}.", hint="See `radpulse sources list` for the names.")
    try:
        _save(app, path, doc)
    except ConfigError:
        raise
    click.echo(f"Stopped tracking {name}; its collected data is kept.")
