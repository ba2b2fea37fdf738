"""The read layer: every output (dashboard, digest, report, exports, pandas API, attention,
discovery) reads posts through here, so "public", "engagement", "authors" and a date window
mean the same thing everywhere.

Modules:

- `privacy`: the one *held* rule (a flagged post stays out of every public output).
- `filters`: `PostFilters` and the SQL they become (`public_where`).
- `metrics`: engagement per platform and the author key (platform + id).
- `posts`: pages and streams of public posts (keyset pagination / server-side cursors).
- `mentions`: the public citations the attention score reads (from the posts or their rollup).
"""

from radpulse.db.queries.filters import PostFilters, public_where
from radpulse.db.queries.metrics import author_key, engagement
from radpulse.db.queries.privacy import held_clause, held_post_ids

__all__ = ["PostFilters", "author_key", "engagement", "held_clause", "held_post_ids", "public_where"]
