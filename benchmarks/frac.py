"""FrAC gold standard (Guida et al., 2025: 523 news and reader-comment sentences, one of 10 labels each):
k-fold cross-validation of the model families and of the constant baselines.

    .venv/bin/python benchmarks/frac.py DATA_DIR [--families tfidf embed finetune] [--folds 5] [--seed 0]
        [--param embed.C=8 ...] [--output benchmarks/results/frac] [--export DIR]

DATA_DIR holds ``gold_standard_single_label_all.csv`` (columns ``sentence,label``; labels are Media Frames
Corpus codes; DATA_DIR may also be the CSV file itself). Each sentence becomes one row of the labeled-data
shape (id ``frac-<row>``, text, labels = [its one frame], no story) under the codebook
``benchmarks/codebooks/frac.toml``, where code 15 "Other" is the frame ``other`` (see the codebook for why).

Two views of the same out-of-fold predictions:

- multi-label, as ``framing`` predicts: every frame cut at its own threshold (tuned inside each training
  fold), so a sentence may get no frame or several; micro- and macro-F1 over the 10 frames (the
  ``cross_validate`` metrics);
- single-label, as FrAC is annotated: the frame with the highest probability; accuracy and macro-F1 over
  the 10 labels (``argmax accuracy``, ``argmax macro-F1``).

Baselines, chosen on each training fold: the constant frame set that maximises micro-F1, and the majority
class (the "frames in at least half of the texts" baseline of SemEval is the same thing here: no label
reaches half).
``--export DIR`` only writes ``DIR/frac.jsonl`` for ``framing evaluate --data`` and exits.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

# `benchmarks` is also a package that pysbd installs into site-packages: import the helpers as `common`.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from common import CODEBOOKS_DIR, benchmark_main, best_family, commands_block, finish, per_frame_table, start, summary_table  # noqa: E402

CODEBOOK = CODEBOOKS_DIR / "frac.toml"
CSV_FILE = "gold_standard_single_label_all.csv"
# Media Frames Corpus codes as FrAC uses them -> frame names of benchmarks/codebooks/frac.toml.
CODES = {
    "1": "economic",
    "3": "morality",
    "4": "fairness-and-equality",
    "5": "legality-and-crime",
    "6": "political-and-policies",
    "8": "security-and-defense",
    "9": "health-and-safety",
    "11": "cultural-identity",
    "12": "public-opinion",
    "15": "other",
}
EXTRA_COLUMNS = {"argmax accuracy": "argmax_accuracy", "argmax macro-F1": "argmax_macro_f1"}


def code_to_frame(value: str) -> str:
    """``"5"``, ``"5.0"`` or ``" 5 "`` -> ``legality-and-crime``; an unknown code raises ValueError."""
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    if text not in CODES:
        raise ValueError(f"unknown FrAC label {value!r}; expected one of the codes {', '.join(CODES)}")
    return CODES[text]


def load_frac(data: Path):
    """The labeled sentences as a DataFrame (id, text, labels, story), and notes on the conversion."""
    import pandas as pd

    data = Path(data)
    path = data / CSV_FILE if data.is_dir() else data
    if not path.is_file():
        raise SystemExit(f"{data}: expected {CSV_FILE} (columns sentence,label)")
    rows, by_text, merged, empty = [], {}, 0, 0
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"sentence", "label"} - set(reader.fieldnames or [])
        if missing:
            raise SystemExit(f"{path}: no {', '.join(sorted(missing))} column (columns: {', '.join(reader.fieldnames or [])})")
        for number, record in enumerate(reader, start=1):
            text = " ".join(str(record["sentence"] or "").split())
            if not text:
                empty += 1
                continue
            try:
                frame = code_to_frame(record["label"])
            except ValueError as exc:
                raise SystemExit(f"{path}: data row {number}: {exc}") from None
            key = text.lower()
            if key in by_text:  # an exact duplicate: one row, with the union of the labels
                row = rows[by_text[key]]
                row["labels"] = list(dict.fromkeys(row["labels"] + [frame]))
                merged += 1
                continue
            by_text[key] = len(rows)
            rows.append({"id": f"frac-{number:04d}", "text": text, "labels": [frame], "story": ""})
    corpus = pd.DataFrame(rows, columns=["id", "text", "labels", "story"])
    words = corpus["text"].str.split().str.len()
    notes = {
        "rows": len(corpus),
        "exact_duplicates_merged": merged,
        "empty_sentences_skipped": empty,
        "multi_label_rows_after_merging": int((corpus["labels"].str.len() > 1).sum()),
        "words_per_sentence": {"min": int(words.min()), "median": int(words.median()), "max": int(words.max())} if len(corpus) else {},
    }
    return corpus, notes


def single_label_metrics(Y: np.ndarray, scores: np.ndarray) -> dict:
    """Accuracy and macro-F1 over all labels when each row is given its highest-scoring frame.

    A row with several true labels (only possible after merging duplicates) counts as right if the choice is among them.
    """
    from sklearn.metrics import f1_score

    chosen = np.argmax(scores, axis=1)
    hit = Y[np.arange(len(Y)), chosen] == 1
    truth = np.where(hit, chosen, np.argmax(Y, axis=1))
    return {
        "argmax_accuracy": round(float(hit.mean()), 4),
        "argmax_macro_f1": round(float(f1_score(truth, chosen, labels=range(Y.shape[1]), average="macro", zero_division=0)), 4),
    }


def majority_baseline(Y: np.ndarray, splits, frame_names: list[str]) -> dict:
    """Each held-out fold gets the single most frequent frame of its training fold."""
    from framing.evaluation import metrics

    predicted = np.zeros(Y.shape)
    chosen_per_fold = []
    for train_index, test_index in splits:
        j = int(np.argmax(Y[train_index].sum(axis=0)))
        predicted[test_index, j] = 1
        chosen_per_fold.append([frame_names[j]])
    result = metrics(Y, predicted, np.full(Y.shape[1], 0.5), frame_names)
    result.pop("ece", None)
    return {"majority class": {**result, **single_label_metrics(Y, predicted), "sets_per_fold": chosen_per_fold}}


def render_markdown(payload: dict, frame_names: list[str]) -> str:
    from framing.tables import markdown_table

    notes = payload["data"]
    best = best_family(payload, "macro_f1")
    lines = [
        f"FrAC gold standard: {payload['n']} sentences, one of 10 labels each ('Other' is the frame `other`). "
        f"{payload['folds']}-fold cross-validation (shuffled, seed {payload['seed']}; the same folds for every row); "
        f"thresholds tuned inside each training fold; {payload['environment']['cpus']}-core CPU. micro-/macro-F1: multi-label "
        f"decisions (each frame at its threshold, as `framing` predicts); argmax: the single most probable frame per sentence "
        f"(accuracy, and macro-F1 over the 10 labels).",
        "",
        markdown_table(summary_table(payload, EXTRA_COLUMNS)),
        "",
    ]
    if notes.get("exact_duplicates_merged"):
        lines += [f"{notes['exact_duplicates_merged']} exact duplicate sentence(s) merged.", ""]
    if best:
        r = payload["families"][best]
        lines += [f"Best macro-F1: **{best}** ({r['macro_f1']:.3f} macro, {r['micro_f1']:.3f} micro; argmax accuracy "
                  f"{r['argmax_accuracy']:.3f}, argmax macro-F1 {r['argmax_macro_f1']:.3f}).", ""]
    lines += ["Per-frame F1 of the multi-label decisions (support = sentences with the label):", "", markdown_table(per_frame_table(payload, frame_names)), ""]
    lines += commands_block(payload)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    args, codebook, command, rendered = start(__doc__, "frac", CODEBOOK, render_markdown, argv)
    if rendered is not None:
        return rendered
    unknown = sorted(set(CODES.values()) - set(codebook.frame_names))
    if unknown:
        raise SystemExit(f"{args.codebook}: the codebook lacks the frames {', '.join(unknown)}")
    corpus, notes = load_frac(args.data_dir)
    payload = benchmark_main("frac-gold-standard", args, corpus, codebook, notes, extra_metrics=single_label_metrics,
                             extra_baselines=majority_baseline, command=command, export_name="frac", half_baseline=False)
    return finish(args, payload, codebook, render_markdown, EXTRA_COLUMNS)


if __name__ == "__main__":
    main()
