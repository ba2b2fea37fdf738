"""The labelled corpus: gold labels, agreement, the author-and-time split and its hash."""

from collections import Counter

import pytest

from radpulse.analysis.agreement import build_gold, disagreements, kappas, read_adjudications
from radpulse.analysis.corpus import (
    TEST_FROM, VALIDATION_FROM, read_labels, read_posts, split_hashes, split_of, split_posts,
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
