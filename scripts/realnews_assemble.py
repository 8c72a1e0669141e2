"""Turn the annotators' batch outputs into the stand-off files of ``labeled/realnews/``.

    python scripts/realnews_assemble.py /tmp/realnews-batches

Reads, from the batch folder: ``keys*.csv`` (key -> article, paragraph, selection), the label files
``labels-<batch>.jsonl`` (key, labels) and ``adjudication.jsonl`` (key, final, note, adjudicator).
Batches named ``second-*`` are the independent second pass; every other batch is a first pass. The
annotator of a batch is ``agent-a<N>`` for ``first-<N>``, ``agent-b<N>`` for ``second-<N>`` and
``agent-c<N>`` for ``extra-<N>`` and ``agent-d<N>`` for ``econ-<N>``.

Writes (stand-off: no text):
- ``labeled/realnews/labels.jsonl``: the final labels, one row per paragraph of ``plan.csv``;
- ``labeled/realnews/agreement/first-pass.jsonl``, ``second-pass.jsonl``: each pass as ``id``, ``labels``,
  ``annotator``, with ``id`` = ``<article>#<paragraph>``;
- ``labeled/realnews/agreement/adjudication.jsonl``: every disagreement with both passes and the final labels.

Final labels: the first pass; where a second pass exists and differs, the adjudicated labels. A plan row
with no first-pass label is an error (every planned paragraph must be labeled).
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "labeled" / "realnews"
FRAMES = ("sovereignty", "humanitarian", "ideological-bloc", "economic")
ANNOTATOR_PREFIX = {"first": "agent-a", "second": "agent-b", "extra": "agent-c", "econ": "agent-d"}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def ordered(labels: list[str]) -> list[str]:
    unknown = set(labels) - set(FRAMES)
    if unknown:
        raise SystemExit(f"unknown labels {sorted(unknown)}")
    return [f for f in FRAMES if f in labels]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("batches", type=Path, help="the folder of batches, keys and label files")
    args = parser.parse_args()

    keys = {}
    for path in sorted(args.batches.glob("keys*.csv")):
        for row in csv.DictReader(path.open()):
            keys[row["key"]] = (row["article"], int(row["paragraph"]))
    first: dict[tuple[str, int], tuple[list[str], str]] = {}
    second: dict[tuple[str, int], tuple[list[str], str]] = {}
    for path in sorted(args.batches.glob("labels-*.jsonl")):
        match = re.fullmatch(r"labels-(first|second|extra|econ)-(\d+)\.jsonl", path.name)
        if not match:
            raise SystemExit(f"{path}: not a label file name this script knows")
        annotator = ANNOTATOR_PREFIX[match.group(1)] + match.group(2)
        target = second if match.group(1) == "second" else first
        for row in read_jsonl(path):
            paragraph = keys[row["key"]]
            if paragraph in target:
                raise SystemExit(f"{path}: {row['key']} labeled twice in one pass")
            target[paragraph] = (ordered(row["labels"]), annotator)
    adjudication_path = args.batches / "adjudication.jsonl"
    adjudicated = {keys[r["key"]]: r for r in read_jsonl(adjudication_path)} if adjudication_path.is_file() else {}

    plan = list(csv.DictReader((OUT / "plan.csv").open()))
    final_rows, adjudication_rows = [], []
    for row in plan:
        paragraph = (row["article"], int(row["paragraph"]))
        ident = f"{paragraph[0]}#{paragraph[1]}"
        if paragraph not in first:
            raise SystemExit(f"{ident}: planned but not labeled")
        labels, annotator = first[paragraph]
        if paragraph in second and set(second[paragraph][0]) != set(labels):
            if paragraph not in adjudicated:
                raise SystemExit(f"{ident}: the two passes disagree and there is no adjudication")
            decision = adjudicated[paragraph]
            adjudication_rows.append({"id": ident, "first": labels, "second": second[paragraph][0], "final": ordered(decision["final"]),
                                      "note": decision.get("note", ""), "adjudicator": decision.get("adjudicator", "")})
            labels, annotator = ordered(decision["final"]), f"{annotator}+{second[paragraph][1]}+adjudicated"
        elif paragraph in second:
            annotator = f"{annotator}+{second[paragraph][1]}"
        final_rows.append({"article": paragraph[0], "paragraph": paragraph[1], "sha256": row["sha256"], "labels": labels, "annotator": annotator,
                           "selection": row["selection"], "split": row["split"], "cluster": row["cluster"]})

    (OUT / "agreement").mkdir(parents=True, exist_ok=True)

    def write(path: Path, rows: list[dict]) -> None:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")

    write(OUT / "labels.jsonl", final_rows)
    doubled = [p for p in (tuple((r["article"], int(r["paragraph"]))) for r in plan) if p in second]
    write(OUT / "agreement" / "first-pass.jsonl", [{"id": f"{a}#{i}", "labels": first[(a, i)][0], "annotator": first[(a, i)][1]} for a, i in doubled])
    write(OUT / "agreement" / "second-pass.jsonl", [{"id": f"{a}#{i}", "labels": second[(a, i)][0], "annotator": second[(a, i)][1]} for a, i in doubled])
    write(OUT / "agreement" / "adjudication.jsonl", adjudication_rows)
    print(f"{len(final_rows)} paragraphs; {len(doubled)} labeled twice, {len(adjudication_rows)} adjudicated")


if __name__ == "__main__":
    main()
