"""Topic discovery and emerging terms."""

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

from radpulse.analysis.discovery import (
    TopicDiscovery,
    emerging_terms,
    plot_emerging,
    plot_topic_volume,
    topic_volume,
)

END = dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
BREAST = "screening mammography recall rates breast density tomosynthesis"
STROKE = "stroke thrombectomy perfusion imaging large vessel occlusion"


def test_nmf_topics_are_labelled_by_top_terms():
    docs = [f"{BREAST} {i}" for i in range(20)] + [f"{STROKE} {i}" for i in range(20)]
    model = TopicDiscovery(n_topics=2, n_top_terms=5)
    weights = model.fit_transform(docs)
    assert weights.shape == (40, 2)
    words = [set(" ".join(t).split()) for t in model.top_terms_]
    assert {frozenset(w & set(BREAST.split())) != frozenset() for w in words} == {True, False}
    assert any(w <= set(BREAST.split()) for w in words) and any(w <= set(STROKE.split()) for w in words)
    assert model.fit(docs) is model and len(model.labels_) == 2
    dates = [END - dt.timedelta(days=i % 14) for i in range(40)]
    volume = topic_volume(dates, weights, model.labels_)
    assert volume["posts"].sum() == 40
    assert isinstance(plot_topic_volume(volume), go.Figure)
    assert isinstance(model.visualize_volume(dates, weights), go.Figure)


def test_lda_backend():
    docs = [BREAST] * 10 + [STROKE] * 10
    assert TopicDiscovery(n_topics=2, method="lda").fit_transform(docs).shape == (20, 2)


def _posts():
    rows = []
    for week in range(1, 5):  # baseline: steady chatter about ct
        for a in range(5):
            rows.append({"created_at": END - dt.timedelta(days=7 * week + 1), "author": f"b{a}",
                         "text": "reading ct scans all day"})
    for a in range(6):  # this week: six different accounts on a new thing
        rows.append({"created_at": END - dt.timedelta(days=2), "author": f"n{a}",
                     "text": "the new gleamotron scanner is here #Gleamotron"})
    for _ in range(50):  # one account posting the same hashtag fifty times
        rows.append({"created_at": END - dt.timedelta(days=1), "author": "spammer",
                     "text": "buy #CryptoScan now"})
    for a in range(5):
        rows.append({"created_at": END - dt.timedelta(days=3), "author": f"b{a}",
                     "text": "reading ct scans all day"})
    return pd.DataFrame(rows)


def test_emerging_terms_count_authors_not_posts():
    found = emerging_terms(_posts(), END, min_authors=3)
    terms = list(found["term"])
    assert "#gleamotron" in terms and "gleamotron" in terms
    assert "#cryptoscan" not in terms  # one account, however many posts
    assert "scans" not in terms  # steady against its baseline
    row = found[found["term"] == "#gleamotron"].iloc[0]
    assert row["authors"] == 6 and bool(row["new"]) and row["kind"] == "hashtag"
    assert isinstance(plot_emerging(found), go.Figure)


def test_emerging_terms_empty():
    empty = pd.DataFrame(columns=["created_at", "author", "text"])
    assert emerging_terms(empty, END).empty
    assert isinstance(plot_emerging(emerging_terms(empty, END)), go.Figure)
