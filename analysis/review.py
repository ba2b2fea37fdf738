"""Human review of flagged posts: list them, confirm or dismiss a flag with a reason.

A flagged post is *held* (kept out of digests and public top lists) while any of its flags has
no decision or was confirmed; it is released once every flag is dismissed. A later decision on
the same flag replaces an earlier one (all decisions are kept as the audit trail).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import String, cast, select

from radpulse.analysis.flags import FLAGS
from radpulse.analysis.pipeline import ANNOTATOR_NAME
from radpulse.db.engine import Database
from radpulse.db.models import Annotation, Post, ReviewDecision
from radpulse.db.queries.privacy import held_clause, held_post_ids  # noqa: F401  (the one held rule)
from radpulse.db.rollups import day_of, mark_days, refresh_rollups
from radpulse.errors import InputError

DECISIONS = ("confirmed", "dismissed")


@dataclass
class FlaggedPost:
    """A flagged post with its pending flags and the decisions taken so far."""

    post_id: int
    platform: str
    created_at: dt.datetime
    text: str
    flags: list[str]
    reasons: dict[str, list[str]]
    decisions: dict[str, str] = field(default_factory=dict)

    @property
    def pending(self) -> list[str]:
        """Flags nobody has decided on yet."""
        return [f for f in self.flags if f not in self.decisions]

    @property
    def held(self) -> bool:
        """True while the post must stay out of digests and public lists."""
        return any(self.decisions.get(f) != "dismissed" for f in self.flags)


def _latest_decisions(session, post_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    ids = list(post_ids)
    out: dict[int, dict[str, str]] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(ReviewDecision.post_id, ReviewDecision.flag, ReviewDecision.decision)
            .where(ReviewDecision.post_id.in_(ids[start : start + 500]))
            .order_by(ReviewDecision.decided_at, ReviewDecision.id)
        ).all()
        for pid, flag, decision in rows:
            out.setdefault(pid, {})[flag] = decision
    return out


def flagged_posts(
    db: Database, *, flag: str | None = None, include_decided: bool = False, limit: int = 100
) -> list[FlaggedPost]:
    """Flagged posts, newest first; by default only those with a flag still undecided."""
    if flag is not None and flag not in FLAGS:
        raise InputError(f"Unknown flag {flag!r}.", hint=f"Flags are: {', '.join(FLAGS)}.")
    found: list[FlaggedPost] = []
    with db.session() as session:
        stmt = (
            select(Post.id, Post.platform, Post.created_at, Post.title, Post.text,
                   Annotation.flags, Annotation.extra)
            .join(Annotation, Annotation.post_id == Post.id)
            .where(Annotation.model_name == ANNOTATOR_NAME)
            .where(cast(Annotation.flags, String) != "[]")
            .order_by(Post.created_at.desc(), Post.id.desc())
        )
        for rows in session.execute(stmt).partitions(500):
            batch = [r for r in rows if r.flags and (flag is None or flag in r.flags)]
            decisions = _latest_decisions(session, (r.id for r in batch))
            for r in batch:
                item = FlaggedPost(
                    r.id, r.platform, r.created_at,
                    "\n".join(t for t in (r.title, r.text) if t),
                    list(r.flags), (r.extra or {}).get("flag_reasons", {}),
                    decisions.get(r.id, {}),
                )
                if include_decided or item.pending:
                    found.append(item)
                if len(found) >= limit:
                    return found
    return found


def decide(
    db: Database, post_id: int, flag: str, decision: str, reason: str, reviewer: str | None = None
) -> ReviewDecision:
    """Record a reviewer's decision on one flag of one post."""
    if decision not in DECISIONS:
        raise InputError(f"Decision must be one of {DECISIONS}, not {decision!r}.")
    if not reason or not reason.strip():
        raise InputError("A reason is required.", hint="Pass --reason 'why'.")
    with db.session() as session:
        flags = session.execute(
            select(Annotation.flags).where(
                Annotation.post_id == post_id, Annotation.model_name == ANNOTATOR_NAME
            )
        ).scalar_one_or_none()
        if flags is None:
            raise InputError(f"Post {post_id} has not been analysed (or does not exist).",
                             hint="Run `radpulse analyze` first.")
        if flag not in flags:
            shown = ", ".join(flags) or "none"
            raise InputError(f"Post {post_id} is not flagged {flag!r} (its flags: {shown}).")
        row = ReviewDecision(
            post_id=post_id, flag=flag, decision=decision, reason=reason.strip(),
            reviewer=reviewer, decided_at=dt.datetime.now(dt.UTC),
        )
        session.add(row)
        session.flush()
        # the post leaves or rejoins the public counts: its day's rollups, in this transaction
        created = session.execute(select(Post.created_at).where(Post.id == post_id)).scalar_one()
        mark_days(session.connection(), {day_of(created)})  # the stored trends: the next analysis
        refresh_rollups(session.connection(), {day_of(created)})
    return row
