"""The evaluation script runs on a small slice and prints well-formed figures."""

import json
import re

from radpulse.analysis.evaluate import main

NUM = r"[01]\.\d{3}"


def test_evaluate_prints_figures(capsys, fixtures_dir):
    main(["--limit", "40", "--bootstrap", "20", "--tweets", str(fixtures_dir / "sentiment" / "tweets_GroundTruth.txt")])
    out = capsys.readouterr().out
    for name in ("tweets", "radiology_test", "radiology_tuning"):
        assert re.search(rf"^\s+{name}\s+40\s+{NUM}\s+{NUM}\s+{NUM}\s+{NUM}$", out, re.MULTILINE), name
    assert re.search(rf"subspecialty macro-F1: {NUM}  \(95% bootstrap interval {NUM}-{NUM}\)$", out, re.MULTILINE)
    assert re.search(rf"themes macro-F1: {NUM}  \(95% bootstrap interval {NUM}-{NUM}\)$", out, re.MULTILINE)
    for label in ("neuro", "general", "ai", "patient_public"):
        assert re.search(rf"^\s+{label}\s+{NUM}\s+{NUM}\s+{NUM}\s+\d+$", out, re.MULTILINE), label
    for name in ("rules", "model", "both"):
        assert re.search(rf"^\s+{name}\s+n=40\s+accuracy {NUM}\s+macro-F1 {NUM}$", out, re.MULTILINE), name


def test_evaluate_json(capsys, fixtures_dir):
    report = main(["--limit", "30", "--json", "--bootstrap", "0", "--tweets",
                   str(fixtures_dir / "sentiment" / "tweets_GroundTruth.txt")])
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(json.dumps(report))
    assert printed["sentiment"]["tweets"]["vader"]["n"] == 30
    assert 0 <= printed["topics"]["themes_macro_f1"] <= 1
