"""Plain-text rendering of the evaluation report (80 columns)."""

from __future__ import annotations


def _ci(r: dict) -> str:
    ci = r.get("macro_f1_ci95") or []
    return f"{r['macro_f1']:.3f} ({ci[0]:.3f}-{ci[1]:.3f})" if ci else f"{r['macro_f1']:.3f}"


def _per_class(r: dict) -> None:
    print(f"    {'label':<24}{'P':>7}{'R':>7}{'F1':>7}{'support':>9}")
    for label, c in r["per_class"].items():
        print(f"    {label:<24}{c['precision']:>7.3f}{c['recall']:>7.3f}{c['f1']:>7.3f}{c['support']:>9}")


def _confusion(r: dict) -> None:
    if isinstance(r["confusion"], dict):
        print(f"    {'theme':<24}{'TP':>6}{'FP':>6}{'FN':>6}{'TN':>6}")
        for t, c in r["confusion"].items():
            print(f"    {t:<24}{c['tp']:>6}{c['fp']:>6}{c['fn']:>6}{c['tn']:>6}")
        return
    labels = [lab[:4] for lab in r["labels"]]
    print("    gold \\ predicted" + "".join(f"{lab:>5}" for lab in labels))
    for lab, row in zip(r["labels"], r["confusion"]):
        print(f"    {lab:<17}" + "".join(f"{v:>5}" for v in row))


def print_report(report: dict) -> None:
    """Print the report of `radpulse.analysis.evaluate.main`."""
    corpus = report["corpus"]
    sizes = ", ".join(f"{k} {v}" for k, v in corpus["split_sizes"].items())
    print(f"CORPUS, {corpus['split']} split (held out: authors and latest months)")
    print(f"  posts per split: {sizes}")
    for name, digest in corpus["split_sha256"].items():
        print(f"  split sha256 {name:<10} {digest}")
    for part in ("all", "unseen_authors"):
        block = corpus[part]
        print(f"\n== {part} (n={block['sentiment']['trained']['n']}) ==")
        for task, models in block.items():
            print(f"\n  {task.upper()}: macro-F1 (95% bootstrap interval)")
            for model, r in models.items():
                print(f"    {model:<10} {_ci(r)}")
            if part == "all":
                print("  trained model, per class:")
                _per_class(models["trained"])
                print("  trained model, confusion:")
                _confusion(models["trained"])
    for key, r in report.get("external", {}).items():
        print(f"\nEXTERNAL SENTIMENT CHECK (n={r['trained']['n']}): {r['source']}")
        for model, shown in (("trained", "trained"), ("trained_tweet_domain", "trained, tweet domain"),
                             ("vader", "vader"), ("lexicon", "lexicon")):
            if model in r:
                print(f"    {shown:<22} {_ci(r[model])}")
        _per_class(r["trained"])
    print("\nAUTHOR TYPES (held-out profiles)")
    for name, r in report["authors"].items():
        print(f"  {name:<8} n={r['n']:<4} accuracy {r['accuracy']:.3f}  macro-F1 {r['macro_f1']:.3f}")
