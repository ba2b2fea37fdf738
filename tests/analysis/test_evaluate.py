"""The evaluation: figures on the held-out split hold the committed ones; output is well formed."""

import json
import re

import pytest

from radpulse.analysis.evaluate import FIGURES_FILE, evaluate_corpus, main
from radpulse.analysis.models import read_manifest

NUM = r"[01]\.\d{3}"
COMMITTED = json.loads(FIGURES_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def held_out():
    return evaluate_corpus("test", n_boot=0)


@pytest.mark.parametrize("task", ["sentiment", "subspecialty", "themes"])
def test_held_out_macro_f1_does_not_drop_below_the_committed_interval(held_out, task):
    committed = COMMITTED["corpus"]["all"][task]["trained"]
    low, high = committed["macro_f1_ci95"]
    # the committed figure minus its interval's lower half-width
    floor = committed["macro_f1"] - (committed["macro_f1"] - low)
    assert held_out["all"][task]["trained"]["macro_f1"] >= floor - 1e-9, (task, floor)
    assert low <= committed["macro_f1"] <= high


def test_the_committed_figures_are_for_this_split_and_these_models(held_out):
    assert COMMITTED["corpus"]["split_sha256"] == held_out["split_sha256"]
    assert COMMITTED["corpus"]["split_sha256"] == read_manifest()["split_sha256"]
    assert COMMITTED["corpus"]["split"] == "test"


def test_trained_models_beat_the_previous_lexicon_model_on_sentiment(held_out):
    s = held_out["all"]["sentiment"]
    assert s["trained"]["macro_f1"] > s["lexicon"]["macro_f1"]
    assert s["trained"]["macro_f1"] > s["vader"]["macro_f1"]


def test_evaluate_prints_figures(capsys, fixtures_dir):
    main(["--limit", "60", "--bootstrap", "20", "--tweets",
          str(fixtures_dir / "sentiment" / "tweets_GroundTruth.txt")])
    out = capsys.readouterr().out
    assert re.search(r"split sha256 test\s+[0-9a-f]{64}$", out, re.MULTILINE)
    for task in ("SENTIMENT", "SUBSPECIALTY", "THEMES"):
        assert re.search(rf"^  {task}: macro-F1", out, re.MULTILINE), task
    assert re.search(rf"^    trained\s+{NUM} \({NUM}-{NUM}\)$", out, re.MULTILINE)
    assert re.search(rf"^    vader\s+{NUM} \({NUM}-{NUM}\)$", out, re.MULTILINE)
    assert re.search(r"^    gold \\ predicted\s+nega\s+neut\s+posi$", out, re.MULTILINE)
    assert "EXTERNAL SENTIMENT CHECK (n=60): VADER tweets (not independent of VADER)" in out
    for name in ("rules", "model", "both"):
        assert re.search(rf"^\s+{name}\s+n=\d+\s+accuracy {NUM}\s+macro-F1 {NUM}$", out, re.MULTILINE), name
    assert max(len(line) for line in out.splitlines() if not line.startswith("  split sha256")) <= 80


def test_evaluate_json_and_tweeteval_folder(capsys, tmp_path):
    (tmp_path / "test_text.txt").write_text("I love this\nthis is awful\nthe meeting is at 5\n")
    (tmp_path / "test_labels.txt").write_text("2\n0\n1\n")
    report = main(["--limit", "30", "--json", "--bootstrap", "0", "--tweets", str(tmp_path / "none.txt"),
                   "--tweeteval", str(tmp_path)])
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(report))
    assert printed["corpus"]["all"]["sentiment"]["trained"]["n"] == 30
    assert printed["external"]["tweeteval_test"]["trained"]["n"] == 3
    assert "vader_tweets" not in printed["external"]
