"""How many labels are enough? Learning curves of adapting a model to real news, and of a custom codebook from scratch.

    .venv/bin/python benchmarks/learning_curve.py --realnews ../shared/realnews --frac ../shared/benchmarks/frac

**Real news (adapting).** A base model is trained on the constructed corpus alone (the training stories
of ``labeled/``, no real news): the situation of a researcher who starts from the shipped codebook and
model. From the real-news **train** split (the pool; ``labeled/realnews/labels.jsonl``, split column),
50, 100, 200, 400 and 800 paragraphs are chosen, their gold labels standing in for the researcher's
annotation, by three strategies:

- ``random``: a random sample (nested: the first 50 of one permutation, then the first 100, ...), repeated
  for every ``--seeds``;
- ``uncertainty``: the paragraphs whose base-model probabilities are closest to a frame's threshold
  (the smallest ``min_f |p_f - t_f|``);
- ``diversity``: k-means of the paragraphs' MiniLM embeddings into as many clusters as paragraphs
  wanted, then the most uncertain paragraph of each cluster.

The base is adapted to each sample with ``FrameClassifier.adapted`` (what ``framing train --base`` does)
and scored on the real-news **test** split (721 paragraphs, story clusters never in the pool). The row
``random, from scratch`` trains the same family on the sample alone, without the base.

**FrAC (a custom codebook from scratch).** FrAC's 523 sentences are split once (seed 0) into a test
portion (``--frac-test``, 123 sentences) and a pool (400): the family is trained from scratch with
``benchmarks/codebooks/frac.toml`` on random samples of 50, 100, 200 and 400 (FrAC has no 800), and
scored on the test portion.

The family is ``embed`` by default (logistic heads over frozen MiniLM embeddings): every text is
encoded once, so an adaptation takes seconds on a CPU; the ``finetune`` family would take minutes per
point (``--family finetune``). Writes ``benchmarks/results/learning-curve.{json,md,png}``, after every
point (a run stopped early keeps what it measured). Only aggregate scores are written; real paragraphs
and FrAC sentences never leave the folders they are read from.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# `benchmarks` is also a package that pysbd installs into site-packages: import the helpers as `common`.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CODEBOOKS_DIR, environment, write_results  # noqa: E402

STRATEGIES = ("random", "uncertainty", "diversity")
SCRATCH = "random, from scratch"


def uncertainty(probabilities: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per passage, how close its probabilities come to a frame's threshold (smaller: less certain)."""
    return np.abs(probabilities - thresholds[None, :]).min(axis=1)


def choose(strategy: str, size: int, seed: int, closeness: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """Indices of ``size`` pool passages by ``strategy`` (see the module docstring)."""
    if strategy == "random":
        return np.random.default_rng(seed).permutation(len(closeness))[:size]
    if strategy == "uncertainty":
        return np.argsort(closeness, kind="stable")[:size]
    if strategy == "diversity":
        from sklearn.cluster import KMeans

        clusters = KMeans(n_clusters=size, n_init=1, random_state=seed).fit_predict(embeddings)
        return np.array([members[np.argmin(closeness[members])] for members in (np.flatnonzero(clusters == c) for c in range(size)) if len(members)])
    raise ValueError(f"unknown strategy {strategy!r}")


def scores(model, rows) -> dict:
    from framing.evaluation import evaluate_model

    result = evaluate_model(model, rows, "test", "").metrics
    return {"macro_f1": result["macro_f1"], "micro_f1": result["micro_f1"], "per_frame": {k: v["f1"] for k, v in result["per_frame"].items()}}


def summarise(points: list[dict]) -> list[dict]:
    """Mean and standard deviation of macro-F1 (and micro-F1) over seeds, per curve and size."""
    keys = sorted({(p["curve"], p["strategy"], p["size"]) for p in points}, key=lambda k: (k[0], k[1], k[2]))
    rows = []
    for curve, strategy, size in keys:
        group = [p for p in points if (p["curve"], p["strategy"], p["size"]) == (curve, strategy, size)]
        macro, micro = np.array([p["macro_f1"] for p in group]), np.array([p["micro_f1"] for p in group])
        rows.append({"curve": curve, "strategy": strategy, "size": size, "runs": len(group), "macro_f1": round(float(macro.mean()), 4),
                     "macro_sd": round(float(macro.std(ddof=1)), 4) if len(group) > 1 else None, "micro_f1": round(float(micro.mean()), 4),
                     "seconds": round(float(np.mean([p["seconds"] for p in group])), 1)})
    return rows


def render(payload: dict) -> str:
    import pandas as pd

    from framing.tables import markdown_table

    summary = pd.DataFrame(payload["summary"])
    lines = [
        f"Command: `{payload['command']}`. Family `{payload['family']}`; {payload['environment']['cpus']} CPU cores. "
        "Macro-F1 (mean ± sd over the random seeds; one run for the deterministic strategies) on the test data; "
        "size 0 is the model before any label of the new data.",
        "",
    ]
    for curve, title in (("realnews", "Real news: the constructed-only model adapted with real paragraphs"), ("frac", "FrAC: a custom codebook, from scratch")):
        part = summary[summary["curve"] == curve] if not summary.empty else summary
        if part.empty:
            continue
        notes = payload["curves"][curve]
        lines += [f"**{title}.** {notes['description']}", ""]
        table = part.pivot(index="size", columns="strategy", values="macro_f1")
        spread = part.pivot(index="size", columns="strategy", values="macro_sd")
        cells = table.copy().astype(object)
        for strategy in table.columns:
            for size in table.index:
                value, sd = table.loc[size, strategy], spread.loc[size, strategy]
                cells.loc[size, strategy] = "" if pd.isna(value) else f"{value:.3f}" + ("" if pd.isna(sd) else f" ± {sd:.3f}")
        cells = cells.reset_index().rename(columns={"size": "labeled passages"})
        lines += [markdown_table(cells), ""]
    lines += ["Regenerate with the command above (about "
              f"{payload['wall_seconds'] / 60:.0f} minutes here); `--render-only` rewrites this file and the chart from the JSON.", ""]
    return "\n".join(lines)


def chart(payload: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    curves = [c for c in ("realnews", "frac") if any(r["curve"] == c for r in payload["summary"])]
    figure, axes = plt.subplots(1, len(curves), figsize=(5.5 * len(curves), 4), squeeze=False)
    for axis, curve in zip(axes[0], curves):
        rows = [r for r in payload["summary"] if r["curve"] == curve]
        for strategy in dict.fromkeys(r["strategy"] for r in rows):
            line = sorted((r for r in rows if r["strategy"] == strategy), key=lambda r: r["size"])
            x, y = [r["size"] for r in line], np.array([r["macro_f1"] for r in line])
            sd = np.array([r["macro_sd"] or 0.0 for r in line])
            (drawn,) = axis.plot(x, y, marker="o", label=strategy)
            if sd.any():
                axis.fill_between(x, y - sd, y + sd, alpha=0.2, color=drawn.get_color())
        axis.set_xscale("symlog", linthresh=50)
        axis.set_xticks(sorted({r["size"] for r in rows}))
        axis.set_xticklabels([str(s) for s in sorted({r["size"] for r in rows})])
        axis.set_xlabel("labeled passages added")
        axis.set_ylabel("macro-F1 on the test data")
        axis.set_title("real news: adapting the constructed-only model" if curve == "realnews" else "FrAC: custom codebook from scratch")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def save(args, payload: dict) -> None:
    payload["summary"] = summarise(payload["points"])
    write_results(args.output, payload, render(payload))
    chart(payload, args.output.with_suffix(".png"))


def realnews_curve(args, payload: dict, record) -> None:
    from framing import api
    from framing.corpus import held_out_stories, label_matrix, split_by_story
    from framing.evaluation import fit_combined, real_parts
    from framing.models import load_model, make_model
    from framing.models.encoder import SentenceEncoder

    codebook = api.load_codebook_for(None)
    corpus, problems = api.checked_corpus(args.data, codebook)
    if problems:
        raise SystemExit(f"{args.data}: fails `framing corpus check` ({len(problems)} problems)")
    constructed, _ = split_by_story(corpus, held_out_stories(args.data))
    parts = real_parts(api.real_corpus(args.data, codebook, args.realnews, required=True).corpus)
    pool, test = parts["train"], parts["test"]
    started = time.perf_counter()
    base = load_model(args.base) if args.base else fit_combined(args.family, codebook, constructed, None, seed=0)[0]
    payload["curves"]["realnews"] = {
        "description": f"Base: {args.base or f'{args.family} trained on the {len(constructed)} constructed passages of the training stories (no real news)'}"
        f" ({time.perf_counter() - started:.0f} s). Pool: the {len(pool)} paragraphs of the real-news train split; test: the {len(test)} paragraphs "
        f"of the test split. Each point adapts the base (`framing train --base`) to the chosen paragraphs; `{SCRATCH}` trains {args.family} on them alone.",
        "pool": len(pool), "test": len(test),
    }
    before = scores(base, test)
    for strategy in [s for s in args.strategies if s != SCRATCH]:  # every adapted curve starts at the base
        record({"curve": "realnews", "strategy": strategy, "size": 0, "seed": 0, "seconds": 0.0, **before})
    texts = pool["text"].tolist()
    Y = label_matrix(pool, codebook)
    closeness = uncertainty(base.predict_proba(texts), base.thresholds)
    embeddings = SentenceEncoder().encode(texts)
    groups = pool["story"].to_numpy()
    for size in [s for s in args.sizes if s <= len(pool)]:
        for strategy in args.strategies:
            for seed in (args.seeds if strategy in ("random", SCRATCH) else args.seeds[:1]):
                chosen = choose("random" if strategy == SCRATCH else strategy, size, seed, closeness, embeddings)
                t = time.perf_counter()
                if strategy == SCRATCH:
                    model = make_model(args.family, codebook, seed=seed).fit([texts[i] for i in chosen], Y[chosen], groups[chosen])
                else:
                    model = base.adapted([texts[i] for i in chosen], Y[chosen], groups[chosen])
                record({"curve": "realnews", "strategy": strategy, "size": int(len(chosen)), "seed": seed, "seconds": round(time.perf_counter() - t, 1),
                        "positives": Y[chosen].sum(axis=0).tolist(), **scores(model, test)})


def frac_curve(args, payload: dict, record) -> None:
    from frac import load_frac

    from framing.codebook import load_codebook
    from framing.corpus import label_matrix
    from framing.models import make_model

    codebook = load_codebook(CODEBOOKS_DIR / "frac.toml")
    corpus, _ = load_frac(args.frac)
    order = np.random.default_rng(0).permutation(len(corpus))
    test, pool = corpus.iloc[order[: args.frac_test]].reset_index(drop=True), corpus.iloc[order[args.frac_test :]].reset_index(drop=True)
    payload["curves"]["frac"] = {
        "description": f"FrAC split once (seed 0): {len(test)} test sentences, a pool of {len(pool)}; {args.family} trained from scratch with "
        "`benchmarks/codebooks/frac.toml` on random samples of the pool (no base model: a new codebook starts from nothing). "
        f"Sizes above the pool ({len(pool)}) are not run.",
        "pool": len(pool), "test": len(test),
    }
    texts, Y = pool["text"].tolist(), label_matrix(pool, codebook)
    for size in sorted({min(s, len(pool)) for s in args.sizes}):
        for seed in args.seeds:
            chosen = np.random.default_rng(seed).permutation(len(pool))[:size]
            t = time.perf_counter()
            model = make_model(args.family, codebook, seed=seed).fit([texts[i] for i in chosen], Y[chosen])
            record({"curve": "frac", "strategy": "random, from scratch", "size": int(size), "seed": seed, "seconds": round(time.perf_counter() - t, 1),
                    **scores(model, test)})


def main(argv: list[str] | None = None) -> dict:
    from framing.models.encoder import cached_embeddings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--realnews", type=Path, help="the real-news folder the stand-off labels of <data>/realnews point into")
    parser.add_argument("--frac", type=Path, help="the FrAC folder (gold_standard_single_label_all.csv); read only")
    parser.add_argument("--data", type=Path, default=ROOT / "labeled")
    parser.add_argument("--base", type=Path, help="adapt this model folder instead of training a constructed-only one")
    parser.add_argument("--family", default="embed")
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200, 400, 800])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of the random samples (the first also seeds k-means)")
    parser.add_argument("--strategies", nargs="+", default=[*STRATEGIES, SCRATCH], choices=[*STRATEGIES, SCRATCH],
                        help="the real-news curves to measure (default: all)")
    parser.add_argument("--frac-test", type=int, default=123, help="FrAC sentences held out for testing")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "learning-curve")
    parser.add_argument("--render-only", action="store_true", help="rewrite the .md and .png from the .json")
    args = parser.parse_args(argv)
    if args.render_only:
        payload = json.loads(args.output.with_suffix(".json").read_text(encoding="utf-8"))
        save(args, payload)
        return payload
    if not args.realnews and not args.frac:
        parser.error("give --realnews, --frac or both")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    shown = ["benchmarks/learning_curve.py"] + [a if not Path(a).is_absolute() else str(Path(a)) for a in (argv if argv is not None else sys.argv[1:])]
    payload = {"benchmark": "learning-curve", "command": "python " + " ".join(shlex.quote(a) for a in shown), "family": args.family,
               "environment": environment(), "curves": {}, "points": []}
    started = time.perf_counter()

    def record(point: dict) -> None:
        payload["points"].append(point)
        payload["wall_seconds"] = round(time.perf_counter() - started, 1)
        save(args, payload)
        logging.info("%s %s %d (seed %d): macro-F1 %.3f in %.1f s", point["curve"], point["strategy"], point["size"], point["seed"], point["macro_f1"], point["seconds"])

    with cached_embeddings():
        if args.realnews:
            realnews_curve(args, payload, record)
        if args.frac:
            frac_curve(args, payload, record)
    return payload


if __name__ == "__main__":
    main()
