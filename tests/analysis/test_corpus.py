"""The labelled corpus: gold labels, agreement, the author-and-time split and its hash."""

from collections import Counter

import pytest

from radpulse.analysis.agreement import build_gold, disagreements, kappas, read_adjudications
from radpulse.analysis.corpus import (
    TEST_FROM, VALIDATION_FROM, read_labels, read_posts, social_sets, split_hashes, split_of,
    split_posts,
)
from radpulse.analysis.lexicon import SUBSPECIALTIES, THEMES
from radpulse.analysis.models import SENTIMENT_LABELS, SUBSPECIALTY_LABELS

POSTS = read_posts()
GOLD = read_labels("gold")


def test_every_label_of_the_guide_has_at_least_30_gold_examples():
    assert set(GOLD) == {p.id for p in POSTS}
    sentiment = Counter(g["sentiment"] for g in GOLD.values())
    subspecialty = Counter(g["subspecialty"] for g in GOLD.values())
    themes = Counter(t for g in GOLD.values() for t in g["themes"])
    for counts, labels in ((sentiment, SENTIMENT_LABELS), (subspecialty, SUBSPECIALTY_LABELS),
                           (themes, THEMES)):
        for label in labels:
            assert counts[label] >= 30, (label, counts[label])
    assert set(subspecialty) <= set(SUBSPECIALTIES) | {"general"}


def test_gold_is_the_agreed_label_or_the_adjudicated_one():
    first, second = read_labels("labeller1"), read_labels("labeller2")
    adj = read_adjudications()
    diffs = disagreements(first, second)
    assert diffs and all((d["id"], d["task"]) in adj for d in diffs)
    assert all(r["reason"].strip() for r in adj.values())
    assert build_gold(first, second, adj) == [
        {k: v for k, v in GOLD[i].items()} for i in sorted(GOLD)]
    for i, g in GOLD.items():
        if first[i]["sentiment"] == second[i]["sentiment"]:
            assert g["sentiment"] == first[i]["sentiment"]
        else:
            assert g["sentiment"] == adj[(i, "sentiment")]["decision"]
    # an unadjudicated disagreement is refused
    missing = dict(adj)
    missing.pop((diffs[0]["id"], diffs[0]["task"]))
    with pytest.raises(ValueError, match="not adjudicated"):
        build_gold(first, second, missing)


def test_kappa_is_one_for_identical_labels_and_lower_for_disagreement():
    first = read_labels("labeller1")
    same = kappas(first, first)
    assert same["sentiment"]["kappa"] == 1.0 and same["themes_mean_kappa"] == 1.0
    real = kappas(first, read_labels("labeller2"))
    assert 0 < real["sentiment"]["kappa"] < 1 and 0 < real["subspecialty"]["kappa"] < 1
    assert set(real["themes"]) == set(THEMES)


def test_split_is_by_author_and_by_time():
    splits = split_posts(POSTS)
    assert sum(map(len, splits.values())) == len(POSTS)
    train_authors = {p.author for p in splits["train"]}
    # no post of the latest months is in train or validation
    assert all(p.created_at[:7] < VALIDATION_FROM for p in splits["train"])
    assert all(p.created_at[:7] < TEST_FROM for p in splits["validation"])
    # held-out authors: a test post from before the test months is by an author train never saw
    early_test = [p for p in splits["test"] if p.created_at[:7] < TEST_FROM]
    assert early_test and not {p.author for p in early_test} & train_authors
    # both writers in every split
    for part in splits.values():
        assert {p.id[0] for p in part} >= {"A", "B"}
    assert 0.15 < len(splits["test"]) / len(POSTS) < 0.35


def test_split_hash_depends_only_on_the_ids():
    splits = split_posts(POSTS)
    again = split_posts(list(reversed(POSTS)))
    assert split_hashes(splits) == split_hashes(again)
    moved = {k: list(v) for k, v in splits.items()}
    moved["train"].append(moved["test"].pop())
    assert split_hashes(moved)["test"] != split_hashes(splits)["test"]
    assert split_of(POSTS[0]) in splits


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_social_sets_read_tweeteval_semeval_and_goemotions_without_test_splits(tmp_path):
    """The general-data folder: TweetEval validation, SemEval gold files (deduplicated, without
    TweetEval's validation tweets, conflicting labels dropped), GoEmotions by its own grouping."""
    _write(tmp_path / "tweeteval" / "val_text.txt", "Great game @bob!\nmeh\n")
    _write(tmp_path / "tweeteval" / "val_labels.txt", "2\n1\n")
    _write(tmp_path / "tweeteval" / "test_text.txt", "never read\n")
    _write(tmp_path / "tweeteval" / "test_labels.txt", "0\n")
    _write(tmp_path / "semeval2017" / "twitter-2013train-A.txt",
           "1\tpositive\tGreat game @alice!\n2\tnegative\tawful service http://t.co/x\n"
           "3\tneutral\tthe bus comes at 5\n4\tpositive\tsame text twice\n")
    _write(tmp_path / "semeval2017" / "twitter-2016test-A.txt",
           "5\tnegative\tAwful service\n6\tnegative\tsame text twice\n7\tbogus\tx\n")
    _write(tmp_path / "goemotions" / "emotions.txt", "joy\nanger\nsurprise\nneutral\n")
    _write(tmp_path / "goemotions" / "train.tsv",
           "yay\t0\ta\nugh\t1\tb\nwow\t2\tc\nok\t3\td\nmixed\t0,1\te\n")
    sets = social_sets(tmp_path)
    assert sets["tweets_val"].labels == ["positive", "neutral"]
    tweets = sets["tweets"]
    assert tweets.name == "semeval2017_train"
    # the validation tweet (same text, other handle) and the conflicting pair are left out
    assert sorted(zip(tweets.texts, tweets.labels)) == [
        ("awful service http://t.co/x", "negative"), ("the bus comes at 5", "neutral")]
    assert all("test_" not in p.name for s in sets.values() for p in s.files)
    reddit = sets["reddit"]
    assert list(zip(reddit.texts, reddit.labels)) == [("yay", "positive"), ("ugh", "negative"),
                                                      ("ok", "neutral")]
    assert "reddit_val" not in sets
    # TweetEval's own train split, when present, is used instead of the SemEval files
    _write(tmp_path / "tweeteval" / "train_text.txt", "a\nb\n")
    _write(tmp_path / "tweeteval" / "train_labels.txt", "0\n2\n")
    assert social_sets(tmp_path)["tweets"].labels == ["negative", "positive"]
    assert social_sets(tmp_path / "missing") == {}
