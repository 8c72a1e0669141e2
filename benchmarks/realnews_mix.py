"""How to combine constructed passages and real news: mixing weights and where thresholds come from.

    .venv/bin/python benchmarks/realnews_mix.py ../shared/realnews [--families tfidf embed hybrid] [--weights 0 1 2 4]

Chooses on the real-news **dev** split only (the test split is never looked at here). For each family
and real-news weight (0: constructed only; ``real-only``: the real train split alone), trains and reports

- held-out stories macro-F1 (constructed text), thresholds as tuned in training;
- real-news dev macro average precision (threshold-free ranking quality);
- real-news dev macro-F1 with thresholds from training, and with thresholds tuned on the dev split
  cross-fitted (tuned on one half of the dev clusters, applied to the other, both ways), so the
  dev-threshold figure is not measured on the passages it was tuned on.

Writes benchmarks/results/realnews-mix.json and .md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def cross_fitted_f1(truth: np.ndarray, probabilities: np.ndarray, groups: np.ndarray, seed: int) -> float:
    from sklearn.metrics import f1_score

    from framing.models.base import tune_thresholds

    clusters = np.array(sorted(set(groups)))
    rng = np.random.default_rng(seed)
    half = set(rng.permutation(clusters)[: len(clusters) // 2])
    side = np.array([g in half for g in groups])
    predicted = np.zeros_like(truth)
    for fit_side in (True, False):
        thresholds = tune_thresholds(truth[side == fit_side], probabilities[side == fit_side])
        predicted[side != fit_side] = probabilities[side != fit_side] >= thresholds[None, :]
    return float(f1_score(truth, predicted, average="macro", zero_division=0))


def main(argv: list[str] | None = None) -> None:
    from sklearn.metrics import average_precision_score

    from framing.api import real_corpus
    from framing.codebook import load_codebook
    from framing.corpus import held_out_stories, label_matrix, load_corpus, split_by_story
    from framing.evaluation import evaluate_model, fit_combined, real_parts
    from framing.models.encoder import cached_embeddings
    from framing.tables import markdown_table, write_text_atomic

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("realnews", type=Path)
    parser.add_argument("--data", type=Path, default=ROOT / "labeled")
    parser.add_argument("--families", nargs="+", default=["tfidf", "embed", "hybrid"])
    parser.add_argument("--weights", nargs="+", default=["0", "1", "2", "4", "real-only"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "realnews-mix")
    args = parser.parse_args(argv)

    codebook = load_codebook()
    train, test = split_by_story(load_corpus(args.data), held_out_stories(args.data))
    real = real_corpus(args.data, codebook, args.realnews, required=True).corpus
    dev = real_parts(real)["dev"]
    dev_truth = label_matrix(dev, codebook)
    rows = []
    with cached_embeddings():
        for family in args.families:
            for weight in args.weights:
                started = time.perf_counter()
                constructed = train.iloc[:0] if weight == "real-only" else train
                model, training = fit_combined(family, codebook, constructed, real, seed=args.seed,
                                               real_weight=1 if weight == "real-only" else int(weight), real_thresholds=False)
                probabilities = model.predict_proba(dev["text"].tolist())
                held_out = evaluate_model(model, test, "held-out", "").metrics["macro_f1"]
                dev_f1 = evaluate_model(model, dev, "dev", "").metrics["macro_f1"]
                rows.append({
                    "family": family, "real weight": weight, "training passages": len(training),
                    "held-out macro-F1": round(held_out, 3),
                    "dev macro AP": round(float(average_precision_score(dev_truth, probabilities, average="macro")), 3),
                    "dev macro-F1, training thresholds": round(dev_f1, 3),
                    "dev macro-F1, dev thresholds (cross-fitted)": round(cross_fitted_f1(dev_truth, probabilities, dev["story"].to_numpy(), args.seed), 3),
                    "seconds": round(time.perf_counter() - started, 1),
                })
                print(rows[-1], flush=True)
    import pandas as pd

    command = f"python benchmarks/realnews_mix.py {args.realnews} --families {' '.join(args.families)} --weights {' '.join(args.weights)}"
    markdown = (f"Real-news dev split: {len(dev)} paragraphs of {dev['article'].nunique()} articles ({dev['story'].nunique()} story clusters); "
                f"held-out stories: {len(test)} constructed passages. Seed {args.seed}, 2-core CPU.\n\n{markdown_table(pd.DataFrame(rows))}\n\n"
                f"Produced by:\n\n- `{command}`")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.output.with_suffix(".json"), json.dumps({"command": command, "rows": rows}, indent=2) + "\n")
    write_text_atomic(args.output.with_suffix(".md"), markdown + "\n")
    print(markdown)


if __name__ == "__main__":
    main()
