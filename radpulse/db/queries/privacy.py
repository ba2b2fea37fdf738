"""The one *held* rule.

A post is **held** (kept out of every public output: dashboard panels, digest, report,
attention, discovery, de-identified exports, `public_posts`) while its annotation carries at
least one flag whose *latest* review decision is not "dismissed": a flag nobody has decided on
yet, or one whose latest decision is "confirmed". A post is released only when every flag it
carries has been dismissed; a later "confirmed" holds it again. Every decision is kept as the
audit trail; the latest one (by `decided_at`, then `id`) counts.

`held_clause` is the rule as SQL, for use inside any query (lists of any size never load
flagged ids into Python); `held_post_ids` evaluates the same clause for given ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from sqlalchemy import Boolean, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement

from radpulse.db.engine import Database
from radpulse.db.models import Post

#: the annotator whose flags count (the analysis pipeline's name, repeated here so that the
#: bottom layer imports nothing from the analysis package; a test checks they agree)
ANNOTATOR_NAME = "radpulse-annotator"

_LATEST_NOT_DISMISSED = (
    "COALESCE((SELECT hr.decision FROM review_decisions AS hr"
    " WHERE hr.post_id = ha.post_id AND hr.flag = hf.value"
    " ORDER BY hr.decided_at DESC, hr.id DESC LIMIT 1), '') <> 'dismissed'"
)


class HeldClause(ColumnElement[bool]):
    """EXISTS a flag of the post's annotation whose latest decision is not "dismissed"."""

    type = Boolean()
    inherit_cache = True
    _traverse_internals: ClassVar[list] = []

    def __init__(self, post_id: Any) -> None:
        self.post_id = post_id

    @property
    def _from_objects(self) -> list:  # type: ignore[override]
        return getattr(self.post_id, "_from_objects", [])


#: the partial index of flagged annotations (`flags <> '[]'`, a few percent of them): a public
#: post is told from a held one by a probe of this small index, without reading its annotation
FLAGGED_INDEX = "ix_annotations_flagged"


def _render(element: HeldClause, compiler: Any, annotations: str, elements_from: str, **kw: Any) -> str:
    post_id = compiler.process(element.post_id, **kw)
    return (
        f"EXISTS (SELECT 1 FROM {annotations} {elements_from}"
        f" WHERE ha.post_id = {post_id} AND ha.model_name = '{ANNOTATOR_NAME}' AND ha.flags <> '[]'"
        f" AND {_LATEST_NOT_DISMISSED})"
    )


@compiles(HeldClause, "sqlite")
def _held_sqlite(element: HeldClause, compiler: Any, **kw: Any) -> str:
    # told which index: SQLite would rather take the unique (post_id, model_name) one
    return _render(element, compiler, f"annotations AS ha INDEXED BY {FLAGGED_INDEX}", ", json_each(ha.flags) AS hf", **kw)


@compiles(HeldClause, "postgresql")
def _held_pg(element: HeldClause, compiler: Any, **kw: Any) -> str:
    return _render(element, compiler, "annotations AS ha",
                   "CROSS JOIN LATERAL jsonb_array_elements_text(ha.flags) AS hf(value)", **kw)


def held_clause(post_id: Any) -> ColumnElement[bool]:
    """SQL: true while the post `post_id` (a column) must stay out of public outputs."""
    return HeldClause(post_id)


def held_post_ids(db: Database, post_ids: Iterable[int]) -> set[int]:
    """Those of `post_ids` that are held (the same SQL as `held_clause`)."""
    ids = sorted(set(post_ids))
    held: set[int] = set()
    with db.engine.connect() as conn:
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            held.update(conn.execute(select(Post.id).where(Post.id.in_(chunk), held_clause(Post.id))).scalars())
    return held
