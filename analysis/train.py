"""Train the shipped models: ``python -m radpulse.analysis.train``.

1. Read the corpus posts and their adjudicated gold labels, split by author and time
   (`radpulse.analysis.corpus`), the shipped general rated corpora (``data/general/``) and the
   social-media sentiment sets found in the general-data folder (``--general-data``, default
   RADPULSE_GENERAL_DATA or ``../shared/general``; what goes there and where it comes from:
   ``data/general/README.md``). Their test splits are never read.
2. Tune on the **validation** split only (small grids, macro-F1): the sentiment C and the weight
   of the general domains (radiology first: the best radiology figure among the settings that
   reach `TWEETS_FLOOR` on TweetEval's validation tweets, unless that costs radiology more than
   `RADIOLOGY_TOLERANCE`), the subspecialty C and lexicon weight, the themes C and probability
   threshold. The test split is never read here.
3. Refit on train + validation (and the general sets' validation parts) with the chosen
   settings and write ``data/models/`` (model file and manifest). The model hash is the sha256
   of the training data, the settings and the code version, so the same data and code give the
   same hash (and, liblinear being seeded and the calibration folds unshuffled, the same
   weights).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.metrics import f1_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import MultiLabelBinarizer
from sklearn.svm import LinearSVC

from radpulse.analysis.corpus import (
    GENERAL_DATA, GENERAL_DIR, GENERAL_FILES, read_general, read_labels, read_posts,
    social_sets, split_hashes, split_posts,
)
from radpulse.analysis.features import PostFeatures, as_docs
from radpulse.analysis.lexicon import LABELS, THEMES
from radpulse.analysis.models import (
    CODE_VERSION, MODELS_DIR, RADIOLOGY, RadiologyModels, calibrated_svm, domain_features,
    save_models, sha256_file,
)

DEFAULTS = {"C_sentiment": 0.3, "C_subspecialty": 1.0, "C_themes": 1.0, "theme_threshold": 0.4,
            "lexicon_weight": 1.0, "general_weight": 1.0}
#: relative weight of each general domain; `general_weight` multiplies them all
DOMAIN_SHARE = {"tweets": 1.0, "reddit": 0.5, "rated": 0.5}
GRID_C_SENTIMENT = (0.1, 0.3)
GRID_GENERAL = (0.0, 0.5, 1.5)
GRID_C = (0.3, 1.0, 3.0)
GRID_LEXICON = (1.0, 2.0, 4.0)
GRID_THRESHOLD = (0.3, 0.35, 0.4, 0.45, 0.5)
#: sentiment: the best radiology validation macro-F1 among the settings that reach
#: `TWEETS_FLOOR` on TweetEval's validation tweets (in the tweet domain), unless that costs
#: radiology more than `RADIOLOGY_TOLERANCE` against the best setting overall
TWEETS_FLOOR = 0.65
RADIOLOGY_TOLERANCE = 0.02


def labelled(posts, gold) -> tuple[list[str], list[str], list[str], list[list[str]]]:
    """Texts, sentiment, subspecialty and themes of posts that have a gold label."""
    rows = [(p.text, gold[p.id]) for p in posts if p.id in gold]
    return ([t for t, _ in rows], [g["sentiment"] for _, g in rows],
            [g["subspecialty"] for _, g in rows], [g["themes"] for _, g in rows])


def data_hash(posts, gold, general_files: list[Path]) -> str:
    """sha256 of the training posts (id, text, gold labels) and of the general corpora files."""
    h = hashlib.sha256()
    for p in sorted(posts, key=lambda p: p.id):
        g = gold[p.id]
        h.update(json.dumps([p.id, p.text, g["sentiment"], g["subspecialty"], sorted(g["themes"])],
                            ensure_ascii=False).encode())
    for path in general_files:
        h.update(sha256_file(path).encode())
    return h.hexdigest()


def general_data(folder: Path | None, use_general: bool, subset: int | None):
    """Training and validation sets of the general domains, and the files they came from."""
    train: dict[str, tuple[list[str], list[str]]] = {}
    val: dict[str, tuple[list[str], list[str]]] = {}
    files: list[Path] = []
    sources: dict[str, dict] = {}
    if not use_general:
        return train, val, files, sources
    texts, labels = read_general()
    rated_files = [GENERAL_DIR / f"{n}_GroundTruth.txt.gz" for n in GENERAL_FILES]
    train["rated"] = (texts, labels)
    files += rated_files
    sources["rated"] = {"texts": len(texts), "files": [p.name for p in rated_files]}
    found = social_sets(folder) if folder is not None and folder.is_dir() else {}
    for domain in ("tweets", "reddit"):
        if domain in found:
            s = found[domain]
            train[domain] = (s.texts, s.labels)
            files += s.files
            sources[domain] = {"set": s.name, "texts": len(s.texts),
                               "files": {p.name: sha256_file(p) for p in s.files}}
        if f"{domain}_val" in found:
            s = found[f"{domain}_val"]
            val[domain] = (s.texts, s.labels)
            files += s.files
            sources.setdefault(domain, {})["validation"] = {
                "set": s.name, "texts": len(s.texts), "files": {p.name: sha256_file(p) for p in s.files}}
    if subset:
        train = {d: (t[: subset * 2], y[: subset * 2]) for d, (t, y) in train.items()}
        val = {d: (t[:subset], y[:subset]) for d, (t, y) in val.items()}
    return train, val, files, sources


def _log(msg: str) -> None:
    print(f"[train {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _scale_lexicon(F, weight: float):
    """The feature matrix with the lexicon columns (the last ones) scaled by `weight`."""
    n_lex = 7 + len(LABELS)
    scale = np.ones(F.shape[1], dtype=np.float32)
    scale[-n_lex:] = weight
    return F @ sparse.diags(scale)


def tune(train, val, general: dict, general_val: dict) -> tuple[dict, dict]:
    """Choose settings by macro-F1 on the validation split; returns (settings, scores)."""
    Xt, St, Bt, Tt = train
    Xv, Sv, Bv, Tv = val
    n = len(Xt)
    domains = (RADIOLOGY, *sorted(general))
    texts, labels, dom = list(Xt), list(St), [0] * n
    for k, d in enumerate(domains[1:], start=1):
        texts += general[d][0]
        labels += general[d][1]
        dom += [k] * len(general[d][0])
    feats = PostFeatures()
    _log(f"features of {len(texts):,} texts")
    F = feats.fit_transform(as_docs(texts), priority=n)
    Fv = feats.transform(as_docs(Xv))
    dom_arr, y = np.asarray(dom), np.asarray(labels)
    nd = len(domains)
    Fvd = domain_features(Fv, np.zeros(Fv.shape[0], dtype=int), nd)
    tweets_val = None
    if "tweets" in general_val and "tweets" in domains:
        k = domains.index("tweets")
        Ftv = feats.transform(as_docs(general_val["tweets"][0]))
        tweets_val = (domain_features(Ftv, np.full(Ftv.shape[0], k), nd), general_val["tweets"][1])
    best, scores = dict(DEFAULTS), {}
    sent, tweets = {}, {}
    for gw in GRID_GENERAL if len(domains) > 1 else (0.0,):
        rows = np.flatnonzero((dom_arr == 0) | (gw > 0))
        w = np.ones(len(dom_arr))
        for k, d in enumerate(domains[1:], start=1):
            m = dom_arr == k
            w[m] = gw * DOMAIN_SHARE.get(d, 0.5) * n / max(1, m.sum())
        Xs = domain_features(F[rows], dom_arr[rows], nd)
        for C in GRID_C_SENTIMENT:
            # plain SVM decisions while tuning (the calibration only rescales them)
            clf = LinearSVC(C=C, class_weight="balanced", random_state=0)
            clf.fit(Xs, y[rows], sample_weight=w[rows])
            sent[(gw, C)] = f1_score(Sv, clf.predict(Fvd), average="macro")
            if tweets_val is not None and gw > 0:
                tweets[(gw, C)] = f1_score(tweets_val[1], clf.predict(tweets_val[0]), average="macro")
            _log(f"sentiment general_weight={gw} C={C}: radiology {sent[(gw, C)]:.3f}, "
                 f"tweets {tweets.get((gw, C), float('nan')):.3f}")
    choice = max(sent, key=lambda k: (sent[k], -k[0]))
    general_ok = [k for k in sent if tweets.get(k, 0.0) >= TWEETS_FLOOR]
    if general_ok:
        best_ok = max(general_ok, key=lambda k: (sent[k], tweets[k]))
        if sent[best_ok] >= sent[choice] - RADIOLOGY_TOLERANCE:
            choice = best_ok
    best["general_weight"], best["C_sentiment"] = choice
    scores["sentiment"] = sent[choice]
    scores["sentiment_tweets_val"] = tweets.get(choice, 0.0)
    Fr = F[:n]
    sub, theme = {}, {}
    mlb = MultiLabelBinarizer(classes=list(THEMES)).fit([[]])
    Yt, Yv = mlb.transform(Tt), mlb.transform(Tv)
    for lw in GRID_LEXICON:
        Frl, Fvl = _scale_lexicon(Fr, lw), _scale_lexicon(Fv, lw)
        for C in GRID_C:
            sub[(lw, C)] = f1_score(Bv, calibrated_svm(C).fit(Frl, Bt).predict(Fvl), average="macro")
            proba = OneVsRestClassifier(calibrated_svm(C)).fit(Frl, Yt).predict_proba(Fvl)
            for th in GRID_THRESHOLD:
                theme[(lw, C, th)] = f1_score(Yv, proba >= th, average="macro", zero_division=0)
        _log(f"lexicon weight {lw}: subspecialty {max(v for k, v in sub.items() if k[0] == lw):.3f}, "
             f"themes {max(v for k, v in theme.items() if k[0] == lw):.3f}")
    # one lexicon weight for both topic tasks (they share the feature matrix)
    lw = max(GRID_LEXICON, key=lambda lw: max(v for k, v in sub.items() if k[0] == lw)
             + max(v for k, v in theme.items() if k[0] == lw))
    best["lexicon_weight"] = lw
    best["C_subspecialty"], scores["subspecialty"] = max(
        ((C, v) for (w_, C), v in sub.items() if w_ == lw), key=lambda kv: kv[1])
    (best["C_themes"], best["theme_threshold"]), scores["themes"] = max(
        (((C, th), v) for (w_, C, th), v in theme.items() if w_ == lw), key=lambda kv: kv[1])
    scores["grid"] = {
        "sentiment": {f"general_weight={gw} C={C}": round(float(v), 3) for (gw, C), v in sent.items()},
        "sentiment_tweets_val": {f"general_weight={gw} C={C}": round(float(v), 3)
                                 for (gw, C), v in tweets.items()},
        "subspecialty": {f"lexicon_weight={lw_} C={C}": round(float(v), 3) for (lw_, C), v in sub.items()},
        "themes": {f"lexicon_weight={lw_} C={C} threshold={th}": round(float(v), 3)
                   for (lw_, C, th), v in theme.items()},
    }
    return best, {k: v if k == "grid" else round(float(v), 3) for k, v in scores.items()}


def _models(settings: dict, dense=None) -> RadiologyModels:
    """Unfitted models with the given settings."""
    features = PostFeatures(lexicon_weight=settings["lexicon_weight"])
    return RadiologyModels(features, settings["C_sentiment"], settings["C_subspecialty"],
                           settings["C_themes"], settings["theme_threshold"], dense=dense)


def domain_weights(settings: dict, domains) -> dict[str, float]:
    """Weight of each general domain (a multiple of the radiology posts' total weight)."""
    return {d: settings["general_weight"] * DOMAIN_SHARE.get(d, 0.5) for d in domains}


def train(output: Path = MODELS_DIR, subset: int | None = None, do_tune: bool = True,
          use_general: bool = True, general_dir: Path | None = GENERAL_DATA, dense=None) -> dict:
    """Tune, fit and save; returns the manifest. `subset` keeps the first N posts (tests);
    `dense` adds a `DenseFeatures` provider's columns (the optional embedding tier)."""
    posts = read_posts()
    gold = read_labels("gold")
    if subset:
        posts = posts[:subset]
    splits = split_posts(posts)
    general, general_val, files, sources = general_data(general_dir, use_general, subset)
    settings, val_scores = dict(DEFAULTS), {}
    if do_tune:
        settings, val_scores = tune(labelled(splits["train"], gold),
                                    labelled(splits["validation"], gold), general, general_val)
    if settings["general_weight"] <= 0:
        general, general_val, files, sources = {}, {}, [], {}
    fit_general = {d: (list(t) + list(general_val.get(d, ((), ()))[0]),
                       list(y) + list(general_val.get(d, ((), ()))[1]))
                   for d, (t, y) in general.items()}
    fit_posts = splits["train"] + splits["validation"]
    X, S, B, T = labelled(fit_posts, gold)
    _log(f"final fit: {len(X)} radiology posts, "
         + ", ".join(f"{d} {len(t):,}" for d, (t, _) in fit_general.items()))
    models = _models(settings, dense)
    models.fit(X, S, B, T, fit_general, domain_weights(settings, fit_general))
    d_hash = data_hash(fit_posts, gold, files)
    model_hash = hashlib.sha256(json.dumps(
        {"data": d_hash, "code": CODE_VERSION, "settings": settings,
         "general": {d: len(t) for d, (t, _) in fit_general.items()},
         "dense": models.dense_spec}, sort_keys=True).encode()).hexdigest()
    manifest = {
        "model_hash": model_hash, "data_hash": d_hash, "settings": settings,
        "validation_macro_f1": val_scores, "split_sha256": split_hashes(splits),
        "trained_on": {"radiology_posts": len(X), "splits": ["train", "validation"],
                       "domains": list(models.domains_),
                       "domain_weights": domain_weights(settings, fit_general),
                       "general_texts": {d: len(t) for d, (t, _) in fit_general.items()},
                       "general_sources": sources},
        "dense": models.dense_spec,
    }
    return save_models(models, manifest, output)


def main(argv: list[str] | None = None) -> dict:
    """Command-line entry point; prints and returns the manifest."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=MODELS_DIR, help="directory to write")
    parser.add_argument("--subset", type=int, default=None, help="use only the first N posts")
    parser.add_argument("--no-tune", action="store_true", help="use the default settings")
    parser.add_argument("--no-general", action="store_true", help="radiology posts only")
    parser.add_argument("--general-data", type=Path, default=GENERAL_DATA,
                        help="folder with tweeteval/, semeval2017/, goemotions/ "
                             "(default: RADPULSE_GENERAL_DATA or ../shared/general)")
    args = parser.parse_args(argv)
    if not args.no_general and not args.general_data.is_dir():
        _log(f"no general-data folder at {args.general_data}: training without tweets and "
             "Reddit comments (see analysis/data/general/README.md)")
    manifest = train(args.output, args.subset, not args.no_tune, not args.no_general,
                     args.general_data)
    print(json.dumps(manifest, indent=2))
    return manifest


if __name__ == "__main__":
    main()
