"""The data dictionary of `radpulse export dataset`: every column of every file, described once.

`COLUMNS` is the one table: the dictionary file is generated from it, and the tests check that
every column written is described here and every description names a written column.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

_POST_ID = "post pseudonym (`p_` + 16 hex digits): a keyed hash of platform and post id, stable within the project key"
_AUTHOR_ID = "author pseudonym (`a_` + 16 hex digits): a keyed hash of platform and account id; the same in every file"
_PLATFORM = "platform: x, reddit, mastodon, bluesky (or a feed-only source)"
_COUNTS = {
    "posts": "public posts",
    "engagement": "engagement as defined per platform (X, Bluesky, Mastodon: likes + reposts + replies + quotes; "
                  "Reddit: score + comments)",
    "likes": "sum of likes (favourites) as last read",
    "reposts": "sum of reposts (retweets, boosts) as last read",
    "replies": "sum of replies (comments) as last read",
    "quotes": "sum of quote posts as last read",
    "score": "sum of Reddit scores (net upvotes); 0 on other platforms",
}

COLUMNS: dict[str, dict[str, str]] = {
    "posts": {
        "post": _POST_ID,
        "platform": _PLATFORM,
        "author": _AUTHOR_ID + "; empty when the author is unknown",
        "author_type": "the author's type (radiologist, trainee, radiographer, society, journal, industry, "
                       "patient_public, other, unknown), from the author-type model",
        "created_at": "when the post was published (UTC)",
        "text": "the post's text with @mentions, u/ names, handles and platform links replaced by @user, u/user, [link]",
        "title": "the title (Reddit submissions, feed items), scrubbed like `text`",
        "language": "ISO 639-1 language of the post as the platform or the language detector gave it",
        "community": "subreddit or community (Reddit user communities become u_user)",
        "reply_count": "replies (comments) as last read",
        "like_count": "likes (Reddit: score) as last read",
        "repost_count": "reposts (retweets, boosts) as last read",
        "quote_count": "quote posts as last read",
        "view_count": "views as last read (X only)",
        "score": "Reddit score (net upvotes)",
        "engagement": _COUNTS["engagement"],
        "has_media": "true when the post carries an image or video",
        "in_reply_to": "pseudonym of the post this one replies to",
        "quoted": "pseudonym of the post this one quotes",
        "reposted": "pseudonym of the post this one reposts",
        "hashtags": "hashtags (lower-cased, without #)",
        "links": "links to papers, news and other sites (links to platform posts and profiles removed)",
        "subspecialty": "the predicted radiology subspecialty (or general)",
        "themes": "the predicted themes (ai, education, careers_training, ...)",
        "sentiment": "the predicted sentiment: positive, neutral or negative (radiology-adapted VADER)",
        "is_deleted": "always false here: posts deleted at the source are not exported",
        "synthetic": "true for rows of the synthetic demo dataset",
    },
    "authors": {
        "author": _AUTHOR_ID,
        "platform": _PLATFORM,
        "author_type": "the account's type (see posts.author_type)",
        "followers": "followers when last read",
        "following": "accounts followed when last read",
        "verified": "the platform's verified mark when last read",
        "posts": "public posts by the account in the database",
        "first_post": "the account's first public post (UTC)",
        "last_post": "the account's last public post (UTC)",
    },
    "mentions": {
        "post": _POST_ID,
        "platform": _PLATFORM,
        "article_id": "the cited article (articles.id)",
        "kind": "how the citation was found: doi, pmid, pmcid, doi.org / PubMed / journal link",
        "created_at": "when the citing post was published (UTC)",
    },
    "articles": {
        "id": "article id in this dataset (mentions.article_id)",
        "key": "the article's best identifier (doi:..., pmid:..., url:...)",
        "doi": "DOI",
        "pmid": "PubMed id",
        "pmcid": "PubMed Central id",
        "url": "the article's page",
        "title": "title",
        "journal": "journal",
        "authors": "the paper's authors as published",
        "published_date": "publication date",
        "mesh_terms": "MeSH terms from PubMed",
        "sources": "where radpulse learned of the article (pubmed, feed, crossref, post)",
        "crossref_status": "Crossref enrichment status",
        "synthetic": "true for rows of the synthetic demo dataset",
    },
    "annotations": {
        "post": _POST_ID,
        "platform": _PLATFORM,
        "model_version": "version of the annotation pipeline that produced the labels (see MODELS.md)",
        "sentiment": "positive, neutral or negative",
        "sentiment_score": "compound sentiment score, -1 to 1",
        "subspecialty": "the predicted subspecialty",
        "themes": "the predicted themes",
        "flags": "flags raised (always released by review here: held posts are not exported)",
        "language": "language detected by the pipeline",
    },
    "daily": {
        "day": "the UTC day (midnight UTC)",
        "platform": _PLATFORM,
        **_COUNTS,
    },
    "edges": {
        "platform": _PLATFORM,
        "source": "the account that replied, quoted, reposted or mentioned (author pseudonym)",
        "target": "the account replied to, quoted, reposted or mentioned (author pseudonym)",
        "kind": "reply, quote, repost or mention",
        "weight": "number of such interactions from source to target",
    },
}

DESCRIPTIONS: dict[str, str] = {
    "posts": "one row per public post (held and deleted posts left out)",
    "authors": "one row per account with at least one public post",
    "mentions": "which post cites which article",
    "articles": "papers discussed or collected",
    "annotations": "the annotation pipeline's labels per public post",
    "daily": "public posts and engagement per UTC day and platform",
    "edges": "the conversation network: who replied to, quoted, reposted or mentioned whom",
}


def undescribed(table: str, columns: list[str]) -> list[str]:
    """Columns of a written file that the dictionary does not describe."""
    return [c for c in columns if c not in COLUMNS.get(table, {})]


def render(dtypes: Mapping[str, Mapping[str, str]], rows: Mapping[str, int]) -> str:
    """The data dictionary as Markdown: per file, its columns with type and description."""
    out = ["# Data dictionary", "",
           "Generated by `radpulse export dataset` from `radpulse/exports/dictionary.py`.", ""]
    for table, columns in COLUMNS.items():
        if table not in dtypes:
            continue
        out += [f"## {table}.parquet", "", f"{DESCRIPTIONS[table].capitalize()}; {rows[table]:,} rows.", "",
                "| column | type | description |", "|---|---|---|"]
        out += [f"| `{name}` | {dtypes[table].get(name, '')} | {text} |" for name, text in columns.items()
                if name in dtypes[table]]
        out.append("")
    return "\n".join(out)


def dtype_name(series: pd.Series) -> str:
    """A reader's name for a column's type."""
    kind = str(series.dtype)
    if kind.startswith("list<"):  # Arrow lists (posts' hashtags, links, themes)
        return "list of text"
    if kind == "object":
        sample = series.dropna()
        return "list of text" if len(sample) and isinstance(sample.iloc[0], list | tuple) else "text"
    return {"category": "category (text)", "Int64": "integer", "int64": "integer", "Float64": "number",
            "float64": "number", "boolean": "boolean", "bool": "boolean"}.get(kind, kind)
