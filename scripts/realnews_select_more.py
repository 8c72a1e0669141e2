"""Second selection round: paragraphs likely to carry the frames that are still short of positives.

    python scripts/realnews_select_more.py ../shared/realnews --out /tmp/realnews-batches --want economic=400 sovereignty=250

Trains a quick ``embed`` model (frozen MiniLM, logistic heads) on the real-news labels made so far
(``labeled/realnews/labels.jsonl``, train and dev splits), scores every eligible paragraph of train and dev
articles not yet planned, and for each wanted frame picks the highest-probability paragraphs
(``selection = likely:<frame>``). Test articles are never drawn from: the test split stays a random
sample. Appends the rows to ``labeled/realnews/plan.csv`` and writes ``extra-<N>.jsonl`` batches (key and
text only) and ``keys-extra.csv`` under ``--out``.
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
sys.path.insert(0, str(ROOT / "scripts"))

from realnews_select import pool_paragraphs  # noqa: E402

from framing.codebook import load_codebook  # noqa: E402
from framing.corpus import label_matrix  # noqa: E402
from framing.models import make_model  # noqa: E402
from framing.realnews import article_folder, load_realnews, paragraph_hash  # noqa: E402

PLAN = ROOT / "labeled" / "realnews" / "plan.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("realnews", help="the real-news folder, e.g. ../shared/realnews")
    parser.add_argument("--out", required=True, help="folder for the annotation batches (outside the repository)")
    parser.add_argument("--want", nargs="+", required=True, help="FRAME=N: how many paragraphs to pick for a frame")
    parser.add_argument("--pattern", help="only paragraphs matching this case-insensitive regular expression (selection then reads keyword+likely:<frame>)")
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--prefix", default="extra", help="batch and key names: <prefix>-<N>.jsonl, keys-<prefix>.csv")
    parser.add_argument("--key-prefix", default="x", help="first letter of the batch's opaque keys")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    codebook = load_codebook()
    folder = article_folder(args.realnews)
    labeled = load_realnews(ROOT / "labeled" / "realnews", folder)
    known = labeled[labeled["split"] != "test"]
    model = make_model("embed", codebook, seed=args.seed)
    model.fit(known["text"].tolist(), label_matrix(known, codebook), groups=known["story"].to_numpy())

    plan = list(csv.DictReader(PLAN.open()))
    planned = {(r["article"], int(r["paragraph"])) for r in plan}
    split_of = {r["article"]: (r["split"], r["cluster"]) for r in csv.DictReader((ROOT / "labeled" / "realnews" / "clusters.csv").open())}
    _, eligible = pool_paragraphs(folder)
    candidates = [r for r in eligible if (r[0], r[1]) not in planned and split_of[r[0]][0] != "test"]
    if args.pattern:
        import re

        matcher = re.compile(args.pattern, re.IGNORECASE)
        candidates = [r for r in candidates if matcher.search(r[2])]
    P = model.predict_proba([c[2] for c in candidates])
    chosen, taken = [], set()
    for want in args.want:
        frame, n = want.split("=")
        j = codebook.frame_names.index(frame)
        picked = [i for i in np.argsort(-P[:, j], kind="stable") if i not in taken][: int(n)]
        taken.update(picked)
        chosen += [(candidates[i], f"{'keyword+' if args.pattern else ''}likely:{frame}") for i in picked]

    with PLAN.open("a", newline="") as handle:
        writer = csv.writer(handle)
        for (article, index, text), selection in chosen:
            split, cluster = split_of[article]
            writer.writerow([article, index, paragraph_hash(text), selection, split, cluster])
    out = Path(args.out)
    order = list(range(len(chosen)))
    random.Random(args.seed).shuffle(order)
    key_prefix = args.key_prefix
    with open(out / f"keys-{args.prefix}.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "article", "paragraph", "selection"])
        for position, index in enumerate(order):
            (article, paragraph, _), selection = chosen[index]
            writer.writerow([f"{key_prefix}{position:05d}", article, paragraph, selection])
    for b in range(args.batches):
        with open(out / f"{args.prefix}-{b + 1}.jsonl", "w") as handle:
            for position in range(b, len(order), args.batches):
                handle.write(json.dumps({"key": f"{key_prefix}{position:05d}", "text": chosen[order[position]][0][2]}, ensure_ascii=False) + "\n")
    print(f"{len(candidates)} candidates; {len(chosen)} chosen into {args.batches} batches in {out}")


if __name__ == "__main__":
    main()
