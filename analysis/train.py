"""Train the shipped models: ``python -m radpulse.analysis.train``.

1. Read the corpus posts and their adjudicated gold labels, split by author and time
   (`radpulse.analysis.corpus`), and the shipped general rated corpora (sentiment only).
2. Tune on the **validation** split only: C of each task, the weight of the general corpora
   and the theme threshold (a small grid, macro-F1). The test split is never read here.
3. Refit on train + validation with the chosen settings and write ``data/models/`` (model file
   and manifest). The model hash is the sha256 of the training data, the settings and the code
   version, so the same data and code give the same hash (and, liblinear being seeded and the
   calibration folds unshuffled, the same coefficients).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from sklearn.metrics import f1_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer

from radpulse.analysis.corpus import (
    GENERAL_DIR, GENERAL_FILES, read_general, read_labels, read_posts, split_hashes, split_posts,
)
from radpulse.analysis.features import PostFeatures, as_docs
from radpulse.analysis.lexicon import THEMES
from radpulse.analysis.models import (
    CODE_VERSION, MODELS_DIR, RadiologyModels, _svm, domain_features, save_models, sha256_file,
)

DEFAULTS = {"C_sentiment": 0.3, "C_subspecialty": 0.3, "C_themes": 0.3, "theme_threshold": 0.4,
            "general_weight": 0.5}
GRID_C = (0.3, 1.0, 3.0)
#: radiology comes first: among settings within this of the best radiology validation macro-F1
#: (the general corpora cost about 0.02 there; without them general texts fall to about 0.35),
#: the one best on the held-back tenth of the general corpora is chosen
RADIOLOGY_TOLERANCE = 0.025
GRID_GENERAL = (0.0, 0.25, 0.5, 1.0)
GRID_THRESHOLD = (0.3, 0.35, 0.4, 0.45, 0.5)


def labelled(posts, gold) -> tuple[list[str], list[str], list[str], list[list[str]]]:
    """Texts, sentiment, subspecialty and themes of posts that have a gold label."""
    rows = [(p.text, gold[p.id]) for p in posts if p.id in gold]
    return ([t for t, _ in rows], [g["sentiment"] for _, g in rows],
            [g["subspecialty"] for _, g in rows], [g["themes"] for _, g in rows])


def data_hash(posts, gold, general_files: bool) -> str:
    """sha256 of the training posts (id, text, gold labels) and the general corpora files."""
    h = hashlib.sha256()
    for p in sorted(posts, key=lambda p: p.id):
        g = gold[p.id]
        h.update(json.dumps([p.id, p.text, g["sentiment"], g["subspecialty"], sorted(g["themes"])],
                            ensure_ascii=False).encode())
    if general_files:
        for name in GENERAL_FILES:
            h.update(sha256_file(GENERAL_DIR / f"{name}_GroundTruth.txt.gz").encode())
    return h.hexdigest()


def tune(train, val, gen_texts, gen_labels) -> tuple[dict, dict]:
    """Choose settings by macro-F1 on the validation split; returns (settings, scores)."""
    Xt, St, Bt, Tt = train
    Xv, Sv, Bv, Tv = val
    feats = PostFeatures()
    F = feats.fit_transform(as_docs(Xt + gen_texts))
    n = len(Xt)
    Fv = feats.transform(as_docs(Xv))
    best, scores = dict(DEFAULTS), {}
    # every tenth general text is held back to measure general sentiment while tuning
    gen_fit = [i for i in range(len(gen_texts)) if i % 10]
    gen_val = [i for i in range(len(gen_texts)) if not i % 10]
    Fg = F[n:]
    Fgv = domain_features(Fg[gen_val], len(gen_val)) if gen_val else None
    Fvd = domain_features(Fv, Fv.shape[0])
    sent, general = {}, {}
    for gw in GRID_GENERAL if gen_texts else (0.0,):
        rows = list(range(n)) + ([n + i for i in gen_fit] if gw > 0 else [])
        Xs = domain_features(F[rows], n)
        ys = St + ([gen_labels[i] for i in gen_fit] if gw > 0 else [])
        w = [1.0] * n + [gw * n / max(1, len(gen_fit))] * (len(rows) - n)
        for C in GRID_C:
            clf = _svm(C).fit(Xs, ys, sample_weight=w)
            sent[(gw, C)] = f1_score(Sv, clf.predict(Fvd), average="macro")
            if Fgv is not None:
                general[(gw, C)] = f1_score([gen_labels[i] for i in gen_val], clf.predict(Fgv),
                                            average="macro")
    top = max(sent.values())
    near = [k for k, v in sent.items() if v >= top - RADIOLOGY_TOLERANCE]
    choice = max(near, key=lambda k: (general.get(k, 0.0), sent[k]))
    best["general_weight"], best["C_sentiment"] = choice
    scores["sentiment"] = sent[choice]
    scores["sentiment_general_heldback"] = general.get(choice, 0.0)
    sub = {C: f1_score(Bv, _svm(C).fit(F[:n], Bt).predict(Fv), average="macro") for C in GRID_C}
    best["C_subspecialty"], scores["subspecialty"] = max(sub.items(), key=lambda kv: kv[1])
    mlb = MultiLabelBinarizer(classes=list(THEMES)).fit([[]])
    Yt, Yv = mlb.transform(Tt), mlb.transform(Tv)
    theme = {}
    for C in GRID_C:
        proba = OneVsRestClassifier(_svm(C)).fit(F[:n], Yt).predict_proba(Fv)
        for th in GRID_THRESHOLD:
            theme[(C, th)] = f1_score(Yv, proba >= th, average="macro", zero_division=0)
    (best["C_themes"], best["theme_threshold"]), scores["themes"] = max(
        theme.items(), key=lambda kv: kv[1])
    scores["grid"] = {
        "sentiment": {f"general_weight={gw} C={C}": round(float(v), 3) for (gw, C), v in sent.items()},
        "sentiment_general_heldback": {f"general_weight={gw} C={C}": round(float(v), 3)
                                       for (gw, C), v in general.items()},
        "subspecialty": {f"C={C}": round(float(v), 3) for C, v in sub.items()},
        "themes": {f"C={C} threshold={th}": round(float(v), 3) for (C, th), v in theme.items()},
    }
    return best, {k: v if k == "grid" else round(float(v), 3) for k, v in scores.items()}


def train(output: Path = MODELS_DIR, subset: int | None = None, do_tune: bool = True,
          use_general: bool = True) -> dict:
    """Tune, fit and save; returns the manifest. `subset` keeps the first N posts (tests)."""
    posts = read_posts()
    gold = read_labels("gold")
    if subset:
        posts = posts[:subset]
    splits = split_posts(posts)
    gen_texts, gen_labels = read_general() if use_general else ([], [])
    if subset and gen_texts:
        gen_texts, gen_labels = gen_texts[: subset * 2], gen_labels[: subset * 2]
    settings, val_scores = dict(DEFAULTS), {}
    if do_tune:
        settings, val_scores = tune(labelled(splits["train"], gold),
                                    labelled(splits["validation"], gold), gen_texts, gen_labels)
    if settings["general_weight"] <= 0:
        gen_texts, gen_labels = [], []
    fit_posts = splits["train"] + splits["validation"]
    X, S, B, T = labelled(fit_posts, gold)
    models = RadiologyModels(**{k: v for k, v in settings.items() if k != "general_weight"})
    models.fit(X, S, B, T, gen_texts, gen_labels, general_weight=settings["general_weight"])
    d_hash = data_hash(fit_posts, gold, bool(gen_texts))
    general_note = [f"{n}_GroundTruth.txt.gz" for n in GENERAL_FILES] if gen_texts else []
    model_hash = hashlib.sha256(json.dumps(
        {"data": d_hash, "code": CODE_VERSION, "settings": settings, "general": len(gen_texts)},
        sort_keys=True).encode()).hexdigest()
    manifest = {
        "model_hash": model_hash, "data_hash": d_hash, "settings": settings,
        "validation_macro_f1": val_scores, "split_sha256": split_hashes(splits),
        "trained_on": {"radiology_posts": len(X), "splits": ["train", "validation"],
                       "general_texts": len(gen_texts), "general_files": general_note},
    }
    return save_models(models, manifest, output)


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point; prints and returns the manifest."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=MODELS_DIR, help="directory to write")
    parser.add_argument("--subset", type=int, default=None, help="use only the first N posts")
    parser.add_argument("--no-tune", action="store_true", help="use the default settings")
    parser.add_argument("--no-general", action="store_true", help="radiology posts only")
    args = parser.parse_args(argv)
    manifest = train(args.output, args.subset, not args.no_tune, not args.no_general)
    print(json.dumps(manifest, indent=2))
    return manifest


if __name__ == "__main__":
    main()
