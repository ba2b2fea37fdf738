"""Each factor of the attention score, on mention frames with replies, reposts and engagement."""

import datetime as dt

import pandas as pd
import pytest

from radpulse.literature.attention import (
    ENGAGEMENT_SHARE,
    PROLIFIC_FLOOR,
    PROLIFIC_MIN,
    account_modifiers,
    score_components,
    score_mentions,
)

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def mention(article, author, platform="x", kind="original", likes=0, reposts=0, replies=0, post=None):
    return {"article_id": article, "post_id": post if post is not None else hash((article, author, kind)),
            "platform": platform, "author": author, "created_at": T0,
            "in_reply_to": "1" if kind == "reply" else None, "reposted": "1" if kind == "repost" else None,
            "likes": likes, "reposts": reposts, "replies": replies, "kind": kind}


def frame(*rows):
    return pd.DataFrame(list(rows))


def test_source_weights_put_reddit_below_x_and_news_and_blogs_above():
    scores = score_mentions(frame(*(mention(i, "a", platform=p)
                                    for i, p in enumerate(["reddit", "x", "blog", "news"]))))
    assert scores[0] < scores[1] < scores[2] < scores[3]
    assert scores[1] == pytest.approx(1.0) and scores[0] == pytest.approx(0.25)
    # Bluesky and Mastodon count as X
    same = score_mentions(frame(mention(1, "a", "bluesky"), mention(2, "a", "mastodon"), mention(3, "a", "x")))
    assert same[1] == same[2] == same[3]


def test_replies_and_reposts_count_less_and_an_author_counts_once():
    scores = score_mentions(frame(mention(1, "a"), mention(2, "a", kind="reply"), mention(3, "a", kind="repost")))
    assert scores[1] > scores[2] > scores[3] > 0
    # one author posting, replying and reposting the same paper counts once, by the best mention
    once = score_mentions(frame(mention(1, "a", post=1), mention(1, "a", kind="reply", post=2),
                                mention(1, "a", kind="repost", post=3)))
    assert once[1] == pytest.approx(1.0)
    # two authors count twice
    assert score_mentions(frame(mention(1, "a"), mention(1, "b", kind="repost")))[1] == pytest.approx(1.25)


def test_accounts_that_post_every_paper_count_less():
    journal = [mention(i, "journal") for i in range(10)]
    reader = mention(0, "reader")
    comps = score_components(frame(*journal, reader))
    # paper 0: the reader counts 1, the journal (every paper of the window) only the floor
    assert comps.loc[0, "social"] == pytest.approx(1.0 + PROLIFIC_FLOOR)
    assert comps.loc[5, "social"] == pytest.approx(PROLIFIC_FLOOR)
    mods = account_modifiers(frame(*journal, reader))
    assert mods[("x", "journal")] == PROLIFIC_FLOOR and mods[("x", "reader")] == 1.0
    # an account below PROLIFIC_MIN papers is not penalised, however small the window
    few = [mention(i, "keen") for i in range(PROLIFIC_MIN - 1)]
    assert account_modifiers(frame(*few))[("x", "keen")] == 1.0
    # half the window's papers: weighted by 1 - 0.5
    half = [mention(i, "half") for i in range(6)] + [mention(i, "other") for i in range(6, 12)]
    assert account_modifiers(frame(*half))[("x", "half")] == pytest.approx(0.5)


def test_engagement_orders_but_cannot_dominate():
    quiet = [mention(1, "a"), mention(1, "b")]
    loud = [mention(2, "c", likes=10, reposts=5, replies=2), mention(2, "d")]
    viral = [mention(3, "e", likes=1_000_000, reposts=200_000, replies=50_000)]
    comps = score_components(frame(*quiet, *loud, *viral))
    assert comps.loc[2, "score"] > comps.loc[1, "score"]  # same voices, more engagement
    share = comps["engagement"] / comps["score"]
    assert (share <= ENGAGEMENT_SHARE + 1e-9).all()
    assert share[3] == pytest.approx(ENGAGEMENT_SHARE)  # the bound, not the raw engagement, applies
    # one viral post scores below two independent plain voices... plus its bounded bonus
    assert comps.loc[3, "score"] < comps.loc[1, "score"]
    # engagement of a repost counts by the repost's weight
    rep = score_components(frame(mention(4, "f", kind="repost", likes=15), mention(4, "g")))
    org = score_components(frame(mention(5, "f", likes=15), mention(5, "g")))
    assert rep.loc[4, "engagement"] < org.loc[5, "engagement"]
