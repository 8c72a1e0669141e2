"""Compare the model families on the corpus's held-out stories: which one should `framing train` default to?

    .venv/bin/python benchmarks/heldout.py [--data labeled/] [--families tfidf embed hybrid finetune] [--seed 0]
    FRAMING_ENCODER_BACKEND=torch .venv/bin/python benchmarks/heldout.py --families embed hybrid --output benchmarks/results/heldout-float32

Each family is trained on the training stories (thresholds tuned on out-of-fold predictions grouped by
story) and tested on the stories in labeled/test_stories.txt, which no family sees in training. Writes
benchmarks/results/heldout.json and heldout.md (the table the README shows). Families of an earlier run
that this run does not redo are kept when the split, seed and encoder backend are the same (each row
names its command; ``--no-merge`` to start afresh), so one family can be rerun without the others.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# `benchmarks` is also a package that pysbd installs into site-packages: see semeval2023.py.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import system_order  # noqa: E402


def merged_results(path: Path, payload: dict) -> dict:
    """``payload``'s results plus the earlier file's families it did not redo, on the same split, seed and backend."""
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return payload["results"]
    if any(earlier.get(key) != payload[key] for key in ("held_out_stories", "n_train", "n_test", "seed", "backend")):
        return payload["results"]
    results = {**earlier.get("results", {}), **payload["results"]}
    return {f: results[f] for f in sorted(results, key=lambda k: system_order(k, list(results)))}


def main(argv: list[str] | None = None) -> dict:
    from framing.codebook import load_codebook
    from framing.corpus import held_out_stories, label_matrix, load_corpus, split_by_story
    from framing.evaluation import evaluate_model
    from framing.models import make_model
    from framing.tables import markdown_table, write_text_atomic

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "labeled")
    parser.add_argument("--families", nargs="+", default=["tfidf", "embed", "hybrid", "finetune"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "heldout")
    parser.add_argument("--no-merge", action="store_true", help="drop the families of an earlier run instead of keeping those not redone")
    args = parser.parse_args(argv)
    from framing.models.encoder import BACKEND_ENV, default_backend

    backend = default_backend()
    command = "python benchmarks/heldout.py --families " + " ".join(args.families)
    if args.output != parser.get_default("output"):
        command += f" --output {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}"
    if os.environ.get(BACKEND_ENV):
        command = f"{BACKEND_ENV}={backend} {command}"

    codebook = load_codebook()
    corpus = load_corpus(args.data)
    stories = held_out_stories(args.data)
    train, test = split_by_story(corpus, stories)
    Y = label_matrix(train, codebook)
    results = {}
    for family in args.families:
        started = time.perf_counter()
        model = make_model(family, codebook, seed=args.seed)
        model.fit(train["text"].tolist(), Y, groups=train["story"].to_numpy())
        fit_seconds = time.perf_counter() - started
        evaluation = evaluate_model(model, test, "held-out stories", "")
        results[family] = {"command": command, "fit_seconds": round(fit_seconds, 1), **{k: evaluation.metrics[k] for k in ("micro_f1", "macro_f1", "ece", "per_frame")}}
        print(f"{family}: micro-F1 {evaluation.metrics['micro_f1']:.3f}, macro-F1 {evaluation.metrics['macro_f1']:.3f}, fit {fit_seconds:.0f} s", flush=True)

    payload = {"held_out_stories": stories, "n_train": len(train), "n_test": len(test), "seed": args.seed, "backend": backend, "results": results}
    json_path = args.output.with_suffix(".json")
    if not args.no_merge:
        payload["results"] = results = merged_results(json_path, payload)

    rows = []
    for family, r in results.items():
        row = {"family": family, "micro-F1": f"{r['micro_f1']:.3f}", "macro-F1": f"{r['macro_f1']:.3f}", "ECE": f"{r['ece']:.3f}"}
        row.update({f"F1 {name}": f"{r['per_frame'][name]['f1']:.3f}" for name in codebook.frame_names})
        row["training time (s)"] = r["fit_seconds"]
        rows.append(row)
    import pandas as pd

    best = max(results, key=lambda f: results[f]["macro_f1"])
    commands = "\n".join(f"- `{c}`" for c in dict.fromkeys(r["command"] for r in results.values()))
    markdown = (
        f"Held-out stories ({len(test)} passages of {test['story'].nunique()} disputes never seen in training; trained on "
        f"{len(train)} passages of {train['story'].nunique()} disputes), seed {args.seed}, sentence encoder backend "
        f"`{backend}`, 2-core CPU:\n\n{markdown_table(pd.DataFrame(rows))}\n\nBest macro-F1: **{best}**.\n\nProduced by:\n\n{commands}"
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(json_path, json.dumps(payload, indent=2) + "\n")
    write_text_atomic(args.output.with_suffix(".md"), markdown + "\n")
    print(markdown)
    return results


if __name__ == "__main__":
    main()
