"""The Markdown files of an exported dataset: README (for a data repository), MODELS, COLLECTION."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from radpulse.exports.dictionary import DESCRIPTIONS


def _md_table(frame: pd.DataFrame) -> list[str]:
    if frame.empty:
        return ["(none)"]
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join("" if pd.isna(v) else str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return lines


def models_markdown(versions: pd.DataFrame, accuracy: dict[str, dict[str, float]]) -> str:
    out = ["# Models", "", "The labels in `annotations.parquet` and the label columns of `posts.parquet` were "
           "produced by these model versions (every stored annotation records its model and version):", ""]
    out += _md_table(versions)
    out += ["", "## Measured accuracy", "",
            "On held-out sets written by the radpulse project (synthetic but realistic radiology posts and "
            "profiles; see EVALUATION.md, copied beside this file, for the protocol and every figure):", ""]
    rows = [{"task": task, **{k: (f"{v:.3f}" if isinstance(v, float) else v) for k, v in figures.items()}}
            for task, figures in accuracy.items()]
    out += _md_table(pd.DataFrame(rows)) if rows else ["(EVALUATION.md was not found or its layout changed.)"]
    out += ["", "Accuracy on your posts may differ: check a sample by hand before relying on a label.", ""]
    return "\n".join(out)


def collection_markdown(windows: pd.DataFrame, gaps: pd.DataFrame, daily: pd.DataFrame) -> str:
    out = ["# Collection windows and gaps", "",
           "When each tracked source was collected (`collection_windows.csv`) and where the record has holes "
           "(`collection_gaps.csv`: failed runs, and stretches of more than 48 hours without a successful run). "
           "Posts published during a gap may be missing, or collected later with engagement read later.", ""]
    out += _md_table(windows)
    out += ["", "## Gaps", ""]
    out += _md_table(gaps)
    out += ["", "## Posts per platform", ""]
    if not daily.empty:
        per = daily.groupby("platform", observed=True).agg(first_day=("day", "min"), last_day=("day", "max"),
                                                           days_with_posts=("day", "nunique"), posts=("posts", "sum"))
        per["first_day"] = per["first_day"].dt.date
        per["last_day"] = per["last_day"].dt.date
        out += _md_table(per.reset_index())
    else:
        out.append("(no posts)")
    out.append("")
    return "\n".join(out)


def readme_markdown(rows: dict[str, int], filters: dict[str, Any], created: dt.datetime, version: str,
                    daily: pd.DataFrame) -> str:
    span = (f"{daily['day'].min().date()} to {daily['day'].max().date()}" if not daily.empty else "no posts")
    chosen = ", ".join(f"{k}={v}" for k, v in filters.items() if v) or "none (every public post)"
    files = [f"| `{name}.parquet` | {n:,} | {DESCRIPTIONS[name]} |" for name, n in rows.items()]
    return "\n".join([
        "# radpulse dataset: radiology's professional conversation on social media", "",
        f"Exported {created.isoformat()} by radpulse {version}. Posts from {span}. Filters: {chosen}.", "",
        "## Contents", "", "| file | rows | what |", "|---|---|---|", *files,
        "| `DATA_DICTIONARY.md` | | every column of every file, its type and meaning |",
        "| `MODELS.md`, `EVALUATION.md` | | the model versions that labelled the posts and their measured accuracy |",
        "| `COLLECTION.md`, `collection_windows.csv`, `collection_gaps.csv` | | when each source was collected, "
        "and the gaps |",
        "| `manifest.json` | | rows per file, SHA-256 of every file, filters, versions |", "",
        "Read with pandas (`pd.read_parquet(\"posts.parquet\")`), R (`arrow::read_parquet`) or DuckDB.", "",
        "## How the data were made", "",
        "radpulse collected public posts from the hashtags, queries, subreddits and instances its configuration "
        "tracked (see COLLECTION.md), and annotated each post with its radiology subspecialty, themes, sentiment "
        "and flags (MODELS.md). Posts deleted at their source were purged; posts flagged as possibly exposing "
        "patient information, requesting medical advice or spam were held out unless a reviewer released them. "
        "Engagement counts are as last read, not at a fixed age of the post.", "",
        "## De-identification", "",
        "- Posts and accounts are keyed pseudonyms (`p_…`, `a_…`; HMAC-SHA256 under the project's key): threads "
        "and networks can be followed inside the dataset, not back to the platform without the key.",
        "- No handles, display names, bios, platform ids or post URLs. In the text, @mentions, `u/` names, the "
        "handles of authors and mentioned accounts and links to platform posts or profiles are replaced by "
        "`@user`, `u/user` and `[link]`. Raw payloads are never exported.", "",
        "**What this does not guarantee.** The text of a post can still be searched on the platform to find the "
        "original and its author; people can be recognised from what they write about themselves (their hospital, "
        "a case, a talk); rare combinations of platform, time, follower count and author type can single an "
        "account out; the network (`edges.parquet`) can reveal an account by its position. Treat this dataset as "
        "personal data: deposit it with restricted access unless your ethics approval and the platforms' terms "
        "allow open sharing, and never try to re-identify anyone.", "",
        "## Licence", "",
        "LICENCE PLACEHOLDER: state the licence your approval and the platforms' terms allow (for example "
        "CC BY-NC 4.0 for the derived tables, access on request for the post text).", "",
        "## Citation", "",
        "CITATION PLACEHOLDER: Authors (Year). *Title of the dataset* [Data set]. Repository. DOI.", "",
        f"Software: radpulse {version} (MIT licence); cite the version that made the export.", "",
    ])
