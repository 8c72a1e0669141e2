"""How `framing corpus check` scales: time, memory and near-duplicate recall at 1x and 10x the labeled corpus.

The corpus at scale k is the committed constructed corpus (labeled/corpus) plus (k-1) times as many
passages made by joining three random sentences of it (distinct texts, as in a real archive), plus 300
planted near duplicates (one to three words changed). Each size runs in its own process, so the peak
memory (ru_maxrss) is that size's own:

    python benchmarks/corpus_check_scale.py --scales 1 10 --output benchmarks/results/corpus-check-scale.md

Recall is measured against the exhaustive search (every pair's cosine, in blocks: the quadratic method
that `corpus check` used before), which the script also times.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def scaled_texts(scale: int, seed: int = 0) -> tuple[list[str], int]:
    """The texts at ``scale``, and how many of them are planted near duplicates."""
    from framing.corpus import load_corpus

    base = [" ".join(str(t).split()) for t in load_corpus(ROOT / "labeled")["text"]]
    rng = random.Random(seed)
    sentences = [s.strip() + "." for t in base for s in t.split(". ") if len(s.split()) >= 5]
    texts = base + [" ".join(rng.sample(sentences, 3)) for _ in range((scale - 1) * len(base))]
    for i in rng.sample(range(len(texts)), 300):
        words = texts[i].split()
        for _ in range(rng.randint(1, 3)):
            words[rng.randrange(len(words))] = rng.choice(["today", "officials", "reportedly", "meanwhile"])
        texts.append(" ".join(words))
    return texts, 300


def exhaustive_pairs(texts: list[str], threshold: float) -> set[tuple[int, int]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    X = TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True).fit_transform(texts)
    pairs = set()
    for start in range(0, X.shape[0], 2000):
        block = (X[start : start + 2000] @ X.T).toarray()
        for offset in range(block.shape[0]):
            i = start + offset
            pairs.update((i, int(j)) for j in np.flatnonzero(block[offset, :i] >= threshold))
    return pairs


def measure(scale: int, method: str) -> dict:
    import pandas as pd

    from framing.codebook import load_codebook
    from framing.corpus import NEAR_DUPLICATE_SIMILARITY, check_corpus, near_duplicate_pairs

    texts, planted = scaled_texts(scale)
    texts = [" ".join(t.lower().split()) for t in texts]
    start = time.perf_counter()
    if method == "corpus-check":
        corpus = pd.DataFrame({"id": [str(i) for i in range(len(texts))], "text": texts, "labels": [[] for _ in texts], "file": "scaled", "row": range(1, len(texts) + 1),
                               "story": "s", "register": "wire", "source": "constructed", "annotator": "a"})
        check_corpus(corpus, load_codebook(), max_words=0)
        seconds = time.perf_counter() - start
        pairs = {(i, j) for i, j, _ in near_duplicate_pairs(texts)}  # what the check found, outside the timing
    else:
        pairs = exhaustive_pairs(texts, NEAR_DUPLICATE_SIMILARITY)
        seconds = time.perf_counter() - start
    return {"scale": scale, "method": method, "texts": len(texts), "megabytes": round(sum(map(len, texts)) / 1e6, 1), "seconds": round(seconds, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "pairs": sorted(pairs), "planted": planted}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    parser.add_argument("--output", type=Path, help="write the Markdown table here")
    parser.add_argument("--one", nargs=2, metavar=("SCALE", "METHOD"), help=argparse.SUPPRESS)  # a single measurement, in its own process
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(int(args.one[0]), args.one[1])))
        return
    lines = ["| corpus | texts | MB | method | seconds (whole check, or the exhaustive search alone) | peak memory (MB) | near-duplicate pairs | recall vs exhaustive |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for scale in args.scales:
        runs = {method: json.loads(subprocess.run([sys.executable, __file__, "--one", str(scale), method], check=True, capture_output=True, text=True).stdout)
                for method in ("exhaustive", "corpus-check")}
        truth = {tuple(p) for p in runs["exhaustive"]["pairs"]}
        for method, run in runs.items():
            found = {tuple(p) for p in run["pairs"]}
            recall = f"{len(found & truth) / len(truth):.3f} ({len(found & truth)}/{len(truth)})" if truth else "n/a"
            lines.append(f"| {scale}x | {run['texts']:,} | {run['megabytes']} | {method} | {run['seconds']} | {run['peak_rss_mb']:,} | {len(found):,} | {recall} |")
            print(lines[-1], flush=True)
    table = "\n".join(lines) + "\n"
    if args.output:
        args.output.write_text("# `corpus check` at scale\n\nCommand: `python benchmarks/corpus_check_scale.py --scales "
                               + " ".join(map(str, args.scales)) + f" --output {args.output}`\n\n" + __doc__.split("\n\n")[1] + "\n\n" + table)


if __name__ == "__main__":
    main()
