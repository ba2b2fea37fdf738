"""What the X collector asks for: endpoints, fields, expansions, and the search query of a source."""

from __future__ import annotations

from typing import Any

from radpulse.records import SourceSpec

SEARCH_ENDPOINT = "GET /2/tweets/search/recent"
LOOKUP_ENDPOINT = "GET /2/tweets"
#: ids per tweet lookup (the API maximum)
LOOKUP_BATCH = 100

EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id", "attachments.media_keys"]
TWEET_FIELDS = [
    "attachments", "author_id", "conversation_id", "created_at", "entities", "in_reply_to_user_id",
    "lang", "note_tweet", "possibly_sensitive", "public_metrics", "referenced_tweets",
]
USER_FIELDS = [
    "created_at", "description", "entities", "location", "name", "profile_image_url",
    "public_metrics", "url", "username", "verified",
]
MEDIA_FIELDS = ["media_key", "type", "url", "preview_image_url"]


def build_query(source: SourceSpec, x_settings: Any) -> str:
    """The recent-search query of a source: the hashtag or query plus its options.

    Options come from the source's settings (as `expand_sources` stores them), falling back to
    the [x] section: `exclude_retweets` adds `-is:retweet`, `languages` adds `lang:` operators.
    """
    value = source.value.strip()
    if source.kind == "hashtag":
        query = value if value.startswith("#") else f"#{value}"
    else:
        query = f"({value})" if " OR " in value else value
    opts = source.settings or {}
    exclude = opts.get("exclude_retweets", x_settings.exclude_retweets)
    languages = list(opts.get("languages", x_settings.languages) or [])
    if exclude:
        query += " -is:retweet"
    if len(languages) == 1:
        query += f" lang:{languages[0]}"
    elif languages:
        query += " (" + " OR ".join(f"lang:{lang}" for lang in languages) + ")"
    return query
