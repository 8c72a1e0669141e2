"""Compare the model families on the two fixed tests: the corpus's held-out stories and the real-news test split.

    .venv/bin/python benchmarks/heldout.py --realnews ../shared/realnews [--families tfidf embed hybrid finetune] [--seed 0]
    .venv/bin/python benchmarks/heldout.py --realnews ../shared/realnews --real-weight 0   # constructed only, tested on both
    .venv/bin/python benchmarks/heldout.py --realnews ../shared/realnews --models models/$(cat models/DEFAULT)   # a committed model as it is
    FRAMING_ENCODER_BACKEND=torch .venv/bin/python benchmarks/heldout.py --families embed hybrid --output benchmarks/results/heldout-float32

Each family is trained on the training stories (thresholds tuned on out-of-fold predictions grouped by
story) and tested on the stories in labeled/test_stories.txt, which no family sees in training. With
``--realnews``, the real-news train paragraphs are added (each ``--real-weight`` times; 0 trains on the
constructed corpus alone), thresholds stay the out-of-fold ones (``--real-thresholds`` tunes them on
the real-news dev split), and every row is also tested on the real-news test split. Rows are named
``family`` (constructed only) or ``family+real`` (with real news). Writes
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
    if any(earlier.get(key) != payload[key] for key in ("held_out_stories", "n_train", "n_test", "seed", "backend", "n_real_test")):
        return payload["results"]
    results = {**earlier.get("results", {}), **payload["results"]}
    return {f: results[f] for f in sorted(results, key=lambda k: system_order(k, list(results)))}


def main(argv: list[str] | None = None) -> dict:
    from framing.codebook import load_codebook
    from framing.corpus import held_out_stories, load_corpus, split_by_story
    from framing.evaluation import HELD_OUT_TEST, REAL_TEST, fit_combined, real_parts, test_evaluations
    from framing.tables import markdown_table, write_text_atomic

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "labeled")
    parser.add_argument("--families", nargs="+", default=["tfidf", "embed", "hybrid", "finetune"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "heldout")
    parser.add_argument("--no-merge", action="store_true", help="drop the families of an earlier run instead of keeping those not redone")
    parser.add_argument("--realnews", type=Path, help="the real-news folder the stand-off labels of <data>/realnews point into")
    parser.add_argument("--real-weight", type=int, default=1, help="times each real-news train paragraph counts; 0: constructed only")
    parser.add_argument("--real-thresholds", action="store_true", help="tune thresholds on the real-news dev split instead of out-of-fold training predictions")
    parser.add_argument("--models", nargs="+", type=Path, default=[], help="committed model folders to test as they are (no training), instead of --families")
    args = parser.parse_args(argv)
    from framing.models.encoder import BACKEND_ENV, default_backend

    backend = default_backend()
    command = "python benchmarks/heldout.py " + (f"--models {' '.join(str(m) for m in args.models)}" if args.models else "--families " + " ".join(args.families))
    if args.realnews:
        command += f" --realnews {args.realnews}" + ("" if args.models else f" --real-weight {args.real_weight}") + (" --real-thresholds" if args.real_thresholds else "")
    if args.output != parser.get_default("output"):
        command += f" --output {args.output.relative_to(ROOT) if args.output.is_relative_to(ROOT) else args.output}"
    if os.environ.get(BACKEND_ENV):
        command = f"{BACKEND_ENV}={backend} {command}"

    codebook = load_codebook()
    corpus = load_corpus(args.data)
    stories = held_out_stories(args.data)
    train, test = split_by_story(corpus, stories)
    real = None
    if args.realnews:
        from framing.api import real_corpus

        real = real_corpus(args.data, codebook, args.realnews, required=True).corpus
    def tested(model, n_train: int, **fields) -> dict:
        """One row: both tests' metrics of ``model``, with the row's own fields."""
        evaluations = {e.name: e.metrics for e in test_evaluations(model, test, real, n_train)}
        result = {"command": command, "n_train": n_train, **fields}
        result.update({k: evaluations[HELD_OUT_TEST][k] for k in ("micro_f1", "macro_f1", "ece", "per_frame")})
        if REAL_TEST in evaluations:
            result["real"] = {k: evaluations[REAL_TEST][k] for k in ("n", "micro_f1", "macro_f1", "ece", "per_frame")}
        return result

    results = {}
    for folder in args.models:
        from framing.models import load_model

        model = load_model(folder, codebook=codebook)
        results[f"{Path(folder).resolve().name} (committed)"] = tested(model, model.card.n_train, fit_seconds="see its card", thresholds="as committed")
    for family in [] if args.models else args.families:
        started = time.perf_counter()
        model, training = fit_combined(family, codebook, train, real, seed=args.seed, real_weight=args.real_weight, real_thresholds=args.real_thresholds)
        fit_seconds = time.perf_counter() - started
        name = family + ("+real" if real is not None and args.real_weight else "")
        results[name] = result = tested(model, len(training), fit_seconds=round(fit_seconds, 1),
                                        thresholds="real-news dev" if real is not None and args.real_thresholds else "training data")
        real_note = f", real-news macro-F1 {result['real']['macro_f1']:.3f}" if "real" in result else ""
        print(f"{name}: held-out micro-F1 {result['micro_f1']:.3f}, macro-F1 {result['macro_f1']:.3f}{real_note}, fit {fit_seconds:.0f} s", flush=True)

    payload = {"held_out_stories": stories, "n_train": len(train), "n_test": len(test), "seed": args.seed, "backend": backend,
               "n_real_test": 0 if real is None else len(real_parts(real)["test"]), "results": results}
    json_path = args.output.with_suffix(".json")
    if not args.no_merge:
        payload["results"] = results = merged_results(json_path, payload)

    rows = []
    for family, r in results.items():
        real_result = r.get("real")
        row = {"model": family, "training data": f"{r.get('n_train', payload['n_train'])} passages", "thresholds": r.get("thresholds", "training data"),
               "held-out macro-F1": f"{r['macro_f1']:.3f}", "real-news macro-F1": f"{real_result['macro_f1']:.3f}" if real_result else "not measured"}
        row.update({f"held-out {name}": f"{r['per_frame'][name]['f1']:.3f}" for name in codebook.frame_names})
        row.update({f"real {name}": f"{real_result['per_frame'][name]['f1']:.3f}" if real_result else "" for name in codebook.frame_names})
        row["real-news ECE"] = f"{real_result['ece']:.3f}" if real_result else ""
        row["training time (s)"] = r["fit_seconds"]
        rows.append(row)
    import pandas as pd

    best = max(results, key=lambda f: min(results[f]["macro_f1"], results[f].get("real", {}).get("macro_f1", 0)))
    commands = "\n".join(f"- `{c}`" for c in dict.fromkeys(r["command"] for r in results.values()))
    real_line = (f" and the real-news test split ({payload['n_real_test']} real paragraphs of whole story clusters never used for training or tuning)"
                 if payload["n_real_test"] else "")
    markdown = (
        f"Held-out stories ({len(test)} constructed passages of {test['story'].nunique()} disputes never seen in training; the constructed training part is "
        f"{len(train)} passages of {train['story'].nunique()} disputes){real_line}, seed {args.seed}, sentence encoder backend "
        f"`{backend}`, 2-core CPU. F1 per frame on each test; rows named `+real` also trained on the real-news train split:\n\n"
        f"{markdown_table(pd.DataFrame(rows))}\n\nBest on the weaker of the two tests: **{best}**.\n\nProduced by:\n\n{commands}"
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(json_path, json.dumps(payload, indent=2) + "\n")
    write_text_atomic(args.output.with_suffix(".md"), markdown + "\n")
    print(markdown)
    return results


if __name__ == "__main__":
    main()
