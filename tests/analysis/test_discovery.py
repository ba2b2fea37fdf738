"""Topic discovery and emerging terms."""

import datetime as dt

import pandas as pd
import plotly.graph_objects as go

from radpulse.analysis.discovery import (
    TopicDiscovery,
    emerging_terms,
    post_terms,
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
    assert "#gleamotron" in terms and "gleamotron scanner" in terms
    # the word is covered by the hashtag with the same accounts: folded into it
    assert "gleamotron" not in terms
    assert "gleamotron" in found[found["term"] == "#gleamotron"].iloc[0]["folded"]
    assert "#cryptoscan" not in terms  # one account, however many posts
    assert "scans" not in terms  # steady against its baseline
    row = found[found["term"] == "#gleamotron"].iloc[0]
    assert row["authors"] == 6 and bool(row["new"]) and row["kind"] == "hashtag"
    assert isinstance(plot_emerging(found), go.Figure)


def test_emerging_terms_empty():
    empty = pd.DataFrame(columns=["created_at", "author", "text"])
    assert emerging_terms(empty, END).empty
    assert isinstance(plot_emerging(emerging_terms(empty, END)), go.Figure)


def _two_hashtag_posts(text: str, n: int = 6) -> pd.DataFrame:
    return pd.DataFrame([{"created_at": END - dt.timedelta(days=1), "author": f"a{i}", "text": text}
                         for i in range(n)])


def test_two_hashtags_in_sequence_produce_no_bridged_bigram():
    found = emerging_terms(_two_hashtag_posts("Big week ahead #HealthPolicy #RSNA2026"), END)
    terms = set(found["term"])
    assert {"#healthpolicy", "#rsna2026"} <= terms
    assert not {t for t in terms if " " in t and not t.startswith("#")} - {"big week", "week ahead"}
    assert "policy rsna" not in terms and "health policy" not in terms
    assert "policy rsna" not in post_terms("#HealthPolicy #RSNA2026")


def test_phrases_never_cross_removed_words_links_or_mentions():
    terms = post_terms("Policy of the RSNA https://x.example/a scanner @bob upgrade. Photon counting!")
    assert "policy rsna" not in terms and "scanner upgrade" not in terms
    assert {"policy", "rsna", "scanner", "upgrade", "photon counting"} <= set(terms)


def test_a_word_with_other_accounts_than_the_hashtag_is_not_folded():
    rows = _two_hashtag_posts("new gleamotron scanner #Gleamotron")
    extra = pd.DataFrame([{"created_at": END - dt.timedelta(days=1), "author": f"x{i}",
                           "text": "a gleamotron arrived"} for i in range(4)])
    found = emerging_terms(pd.concat([rows, extra]), END)
    assert "gleamotron" in set(found["term"])  # 10 accounts, the hashtag has 6


def test_emerging_terms_state_window_and_baseline():
    found = emerging_terms(_posts(), END, window=dt.timedelta(days=7), baseline_windows=4)
    assert found.attrs["window_end"] == END.isoformat()
    assert found.attrs["window_start"] == (END - dt.timedelta(days=7)).isoformat()
    assert found.attrs["baseline_start"] == (END - dt.timedelta(days=35)).isoformat()
    assert found.attrs["baseline_windows"] == 4


def test_topics_are_stable_under_another_seed_and_have_examples():
    docs = [f"{BREAST} {i}" for i in range(15)] + [f"{STROKE} {i}" for i in range(15)]
    runs = [TopicDiscovery(n_topics=2, n_top_terms=5, random_state=seed) for seed in (0, 7)]
    for model in runs:
        model.fit(docs)
    assert sorted(map(sorted, runs[0].top_terms_)) == sorted(map(sorted, runs[1].top_terms_))
    described = runs[0].describe(docs)
    assert list(described.columns) == ["topic", "label", "terms", "examples"]
    for terms, examples in zip(described["terms"], described["examples"]):
        words = set(" ".join(terms).split())
        assert examples and all(words & set(e.split()) for e in examples)
    # the same tokenisation as emerging terms: no bigram across a hashtag boundary
    tagged = TopicDiscovery(n_topics=1, min_df=1).fit([BREAST + " #HealthPolicy #RSNA2026"] * 3)
    assert "policy rsna" not in tagged.vectorizer_.vocabulary_
