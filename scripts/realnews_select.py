"""Choose the real-news paragraphs to annotate, and the split, before any of them is labeled.

    python scripts/realnews_select.py ../shared/realnews --out /tmp/realnews-batches

Writes, deterministically for a seed:
- ``labeled/realnews/clusters.csv``: every pool article's story cluster (TF-IDF of title and text,
  average-linkage agglomerative clustering at cosine distance ``--cluster-distance``) and split;
- ``labeled/realnews/plan.csv``: the paragraphs chosen (article, paragraph, sha256, selection, split);
- under ``--out`` (outside the repository, since the text may not enter it): annotation batches of
  ``key`` and ``text`` only, and ``keys.csv`` mapping each key back to its paragraph.

Selection: ``--random`` paragraphs drawn uniformly from every eligible paragraph of the pool (5 to 250
words, first occurrence of a repeated text), then, from train and dev articles only, ``--per-frame``
paragraphs per frame nearest the current default model's threshold (``uncertain:<frame>``, margin in
log-odds) and ``--disagreement`` paragraphs where the default and the hybrid model disagree most.
Split: whole clusters drawn at random into test until it holds ``--test`` random paragraphs, then into
dev until ``--dev``; the rest is train. Nothing is tuned on test.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from framing.realnews import article_folder, paragraph_hash, split_paragraphs  # noqa: E402

MIN_WORDS, MAX_WORDS = 5, 250


def pool_paragraphs(folder: Path) -> tuple[dict[str, str], list[tuple[str, int, str]]]:
    """Article texts and the eligible paragraphs (article, index, text) of every article in pool.txt."""
    names = [line.strip() for line in (folder.parent / "pool.txt").read_text().splitlines() if line.strip()]
    texts, eligible, seen = {}, [], set()
    for name in names:
        content = (folder / name).read_text(encoding="utf-8")
        title, paragraphs = split_paragraphs(content)
        texts[name] = title + "\n" + "\n".join(paragraphs)
        for index, text in enumerate(paragraphs):
            normal = " ".join(text.lower().split())
            if MIN_WORDS <= len(text.split()) <= MAX_WORDS and normal not in seen:
                eligible.append((name, index, text))
            seen.add(normal)
    return texts, eligible


def cluster_articles(texts: dict[str, str], distance: float) -> dict[str, str]:
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer

    names = sorted(texts)
    X = TfidfVectorizer(stop_words="english", min_df=2, max_df=0.5, sublinear_tf=True).fit_transform([texts[n] for n in names])
    labels = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance).fit_predict(X.toarray())
    # Name clusters by size order so the file reads naturally: c000 is the largest story.
    order = {label: rank for rank, (label, _) in enumerate(sorted(((l, int((labels == l).sum())) for l in set(labels)), key=lambda x: (-x[1], x[0])))}
    return {name: f"c{order[label]:03d}" for name, label in zip(names, labels)}


def assign_splits(clusters: dict[str, str], random_rows: list[tuple[str, int, str]], n_test: int, n_dev: int, seed: int) -> dict[str, str]:
    per_cluster: dict[str, int] = {}
    for article, _, _ in random_rows:
        per_cluster[clusters[article]] = per_cluster.get(clusters[article], 0) + 1
    order = sorted(set(clusters.values()))
    random.Random(seed).shuffle(order)
    split, counts = {}, {"test": 0, "dev": 0}
    for cluster in order:
        # A cluster larger than a fifth of the test target would make the split one story: keep it in train.
        size = per_cluster.get(cluster, 0)
        target = next((s for s, n in (("test", n_test), ("dev", n_dev)) if counts[s] < n), "train")
        if target != "train" and size > n_test / 5:
            target = "train"
        split[cluster] = target
        if target != "train":
            counts[target] += size
    return {article: split[cluster] for article, cluster in clusters.items()}


def model_selection(candidates: list[tuple[str, int, str]], per_frame: int, n_disagreement: int) -> list[tuple[tuple[str, int, str], str]]:
    from framing.models import load_model

    default = load_model()
    hybrid = load_model(next((ROOT / "models").glob("hybrid-*")))
    texts = [c[2] for c in candidates]
    P = np.clip(default.predict_proba(texts), 1e-6, 1 - 1e-6)
    H = hybrid.predict_proba(texts)
    t = np.clip(default.thresholds, 1e-6, 1 - 1e-6)
    margin = np.abs(np.log(P / (1 - P)) - np.log(t / (1 - t))[None, :])
    chosen: list[tuple[tuple[str, int, str], str]] = []
    taken: set[int] = set()
    for j, frame in enumerate(default.codebook.frame_names):
        picked = [i for i in np.argsort(margin[:, j], kind="stable") if i not in taken][:per_frame]
        taken.update(picked)
        chosen += [(candidates[i], f"uncertain:{frame}") for i in picked]
    gap = np.abs((P >= t[None, :]).astype(float) - (H >= hybrid.thresholds[None, :]).astype(float)).sum(axis=1) + np.abs(P - H).max(axis=1)
    picked = [i for i in np.argsort(-gap, kind="stable") if i not in taken][:n_disagreement]
    chosen += [(candidates[i], "disagreement") for i in picked]
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("realnews", help="the real-news folder, e.g. ../shared/realnews")
    parser.add_argument("--out", required=True, help="folder for the annotation batches (outside the repository)")
    parser.add_argument("--random", type=int, default=2150)
    parser.add_argument("--per-frame", type=int, default=250)
    parser.add_argument("--disagreement", type=int, default=150)
    parser.add_argument("--test", type=int, default=650, help="random paragraphs in the test split, at least")
    parser.add_argument("--dev", type=int, default=350, help="random paragraphs in the dev split, at least")
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--double", type=int, default=520, help="paragraphs to label a second time")
    parser.add_argument("--cluster-distance", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    folder = article_folder(args.realnews)
    texts, eligible = pool_paragraphs(folder)
    clusters = cluster_articles(texts, args.cluster_distance)
    rng = random.Random(args.seed)
    random_rows = sorted(rng.sample(eligible, args.random), key=lambda r: (r[0], r[1]))
    splits = assign_splits(clusters, random_rows, args.test, args.dev, args.seed)
    chosen_keys = {(a, i) for a, i, _ in random_rows}
    candidates = [r for r in eligible if (r[0], r[1]) not in chosen_keys and splits[r[0]] != "test"]
    plan = [(row, "random") for row in random_rows] + model_selection(candidates, args.per_frame, args.disagreement)

    out_labels = ROOT / "labeled" / "realnews"
    out_labels.mkdir(parents=True, exist_ok=True)
    with open(out_labels / "clusters.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["article", "cluster", "split"])
        for article in sorted(clusters):
            writer.writerow([article, clusters[article], splits[article]])
    with open(out_labels / "plan.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["article", "paragraph", "sha256", "selection", "split", "cluster"])
        for (article, index, text), selection in plan:
            writer.writerow([article, index, paragraph_hash(text), selection, splits[article], clusters[article]])

    # Batches: keys are opaque so that annotators see nothing but the passage.
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    order = list(range(len(plan)))
    rng.shuffle(order)
    keys = {}
    for position, index in enumerate(order):
        keys[index] = f"p{position:05d}"
    with open(out / "keys.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "article", "paragraph", "selection"])
        for index, ((article, paragraph, _), selection) in enumerate(plan):
            writer.writerow([keys[index], article, paragraph, selection])
    for b in range(args.batches):
        with open(out / f"first-{b + 1}.jsonl", "w") as handle:
            for index in order[b :: args.batches]:
                handle.write(json.dumps({"key": keys[index], "text": plan[index][0][2]}, ensure_ascii=False) + "\n")
    # Second pass: a random subset of the random paragraphs plus some selected ones, in two batches.
    random_index = [i for i, (_, s) in enumerate(plan) if s == "random"]
    selected_index = [i for i, (_, s) in enumerate(plan) if s != "random"]
    n_selected = args.double // 5
    double = rng.sample(random_index, args.double - n_selected) + rng.sample(selected_index, n_selected)
    rng.shuffle(double)
    for b in range(2):
        with open(out / f"second-{b + 1}.jsonl", "w") as handle:
            for index in double[b::2]:
                handle.write(json.dumps({"key": keys[index], "text": plan[index][0][2]}, ensure_ascii=False) + "\n")
    summary = {s: sum(1 for a in clusters if splits[a] == s) for s in ("train", "dev", "test")}
    print(f"{len(eligible)} eligible paragraphs in {len(texts)} articles, {len(set(clusters.values()))} clusters; articles per split {summary}")
    print({s: sum(1 for (a, _, _), sel in plan if sel == "random" and splits[a] == s) for s in ("train", "dev", "test")}, "random paragraphs per split")
    print(f"{len(plan)} paragraphs planned, {len(double)} to label twice; batches in {out}")


if __name__ == "__main__":
    main()
