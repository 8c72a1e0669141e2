"""SemEval-2023 Task 3 subtask 2 (English framing, 14 frames, multi-label, article level): k-fold
cross-validation of the model families and of the "always the frequent frames" baseline.

    .venv/bin/python benchmarks/semeval2023.py DATA_DIR [--families tfidf embed finetune] [--folds 5] [--seed 0]
        [--param tfidf.C=16 ...] [--output benchmarks/results/semeval2023] [--export DIR]

DATA_DIR holds ``train/article<ID>.txt`` (title line, blank line, paragraphs) and
``train-labels-subtask-2.txt`` (``<ID>\\t<Frame>,<Frame>,...``). The data is converted in memory into
the labeled-data shape of ``framing.corpus`` (id, text, labels, story): the text is the whole file (title
and body), labels are mapped to the codebook ``benchmarks/codebooks/semeval2023-mfc.toml`` by
lower-casing and replacing '_' with '-'. Texts that are exact duplicates of each other (after
normalising case and white space) become one row carrying the union of their labels, so no text is both
trained on and tested in one fold, and `framing corpus check` accepts the export. There are no stories,
so the folds are plain shuffled k-fold (seeded) and every family and the baseline see the same folds.

Results: ``<output>.json`` (every metric, per frame too) and ``<output>.md`` (the tables in
benchmarks/README.md). A family run with ``--param`` is recorded as ``family (name=value)`` beside the
defaults; results of systems not rerun are kept from the earlier file (``--no-merge`` to start afresh).
``--export DIR`` only writes ``DIR/semeval2023.jsonl`` for ``framing evaluate --data`` and exits.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

# `benchmarks` is also a package that pysbd installs into site-packages, so the helpers are imported as
# `common` from this folder rather than as `benchmarks.common`.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import CODEBOOKS_DIR, benchmark_main, best_family, commands_block, finish, per_frame_table, start, summary_table  # noqa: E402

CODEBOOK = CODEBOOKS_DIR / "semeval2023-mfc.toml"
LABELS_FILE = "train-labels-subtask-2.txt"
ARTICLE = re.compile(r"^article(\d+)\.txt$")
TARGET_MICRO, TARGET_MACRO = 0.72, 0.60


def frame_name(label: str) -> str:
    """``Legality_Constitutionality_and_jurisprudence`` -> ``legality-constitutionality-and-jurisprudence``."""
    return label.strip().lower().replace("_", "-").replace(" ", "-")


def parse_labels_file(path: Path) -> dict[str, list[str]]:
    """``<ID>\\t<Frame>,<Frame>`` lines -> {id: [frame names]}; blank lines skipped, an ID without labels gets []."""
    labels: dict[str, list[str]] = {}
    for number, line in enumerate(Path(path).read_text(encoding="utf-8-sig").splitlines(), start=1):
        if not line.strip():
            continue
        identifier, _, rest = line.partition("\t")
        identifier = identifier.strip()
        if not identifier.isdigit():
            raise ValueError(f"{path}:{number}: expected '<ID>\\t<Frame>,<Frame>', got an ID of {identifier!r}")
        if identifier in labels:
            raise ValueError(f"{path}:{number}: article {identifier} is listed twice")
        names = [frame_name(part) for part in rest.split(",") if part.strip()]
        labels[identifier] = list(dict.fromkeys(names))
    return labels


def read_article(path: Path) -> str:
    """The whole article (title line, blank line, paragraphs), line endings normalised, outer white space stripped."""
    return path.read_text(encoding="utf-8-sig", errors="replace").replace("\r\n", "\n").replace("\r", "\n").strip()


def load_semeval(data_dir: Path, codebook=None, split: str = "train"):
    """The labeled articles as a DataFrame (id, text, labels, story), and notes on the conversion."""
    import pandas as pd

    data_dir = Path(data_dir)
    labels_path = data_dir / LABELS_FILE
    articles_dir = data_dir / split
    if not labels_path.is_file() or not articles_dir.is_dir():
        raise SystemExit(f"{data_dir}: expected {LABELS_FILE} and a {split}/ folder of article<ID>.txt files")
    labels = parse_labels_file(labels_path)
    files = {m.group(1): p for p in sorted(articles_dir.iterdir()) if (m := ARTICLE.match(p.name))}
    if codebook is not None:
        unknown = sorted({name for names in labels.values() for name in names} - set(codebook.frame_names))
        if unknown:
            raise SystemExit(f"{labels_path}: labels not in the codebook {codebook.source}: {', '.join(unknown)}")
    rows, unlabeled = [], sorted(set(files) - set(labels), key=int)
    missing = sorted(set(labels) - set(files), key=int)
    by_text: dict[str, int] = {}
    merged = 0
    for identifier in sorted(set(files) & set(labels), key=int):
        text = read_article(files[identifier])
        if not text:
            continue
        key = " ".join(text.lower().split())
        if key in by_text:
            row = rows[by_text[key]]
            row["id"] += f"+{identifier}"
            row["labels"] = list(dict.fromkeys(row["labels"] + labels[identifier]))
            merged += 1
            continue
        by_text[key] = len(rows)
        rows.append({"id": identifier, "text": text, "labels": labels[identifier], "story": ""})
    corpus = pd.DataFrame(rows, columns=["id", "text", "labels", "story"])
    words = corpus["text"].str.split().str.len()
    notes = {
        "articles_labeled": len(labels),
        "article_files": len(files),
        "rows": len(corpus),
        "exact_duplicates_merged": merged,
        "articles_without_labels_skipped": len(unlabeled),
        "labels_without_article": len(missing),
        "words_per_article": {"min": int(words.min()), "median": int(words.median()), "max": int(words.max())} if len(corpus) else {},
        "frames_per_article": round(float(corpus["labels"].str.len().mean()), 2) if len(corpus) else 0.0,
    }
    return corpus, notes


def render_markdown(payload: dict, frame_names: list[str]) -> str:
    from framing.tables import markdown_table

    notes = payload["data"]
    best = best_family(payload)
    lines = [
        f"SemEval-2023 Task 3 subtask 2, English training set: {payload['n']} articles "
        f"({notes['articles_labeled']} labeled, {notes['exact_duplicates_merged']} exact duplicate(s) merged), 14 frames, "
        f"{notes['frames_per_article']} frames per article on average. {payload['folds']}-fold cross-validation "
        f"(shuffled, seed {payload['seed']}; the same folds for every row); thresholds tuned inside each training fold; "
        f"{payload['environment']['cpus']}-core CPU.",
        "",
        markdown_table(summary_table(payload)),
        "",
    ]
    if best:
        r = payload["families"][best]
        met = r["micro_f1"] >= TARGET_MICRO and r["macro_f1"] >= TARGET_MACRO
        lines += [f"Best micro-F1: **{best}** ({r['micro_f1']:.3f} micro, {r['macro_f1']:.3f} macro); target micro-F1 >= {TARGET_MICRO} "
                  f"and macro-F1 >= {TARGET_MACRO}: **{'met' if met else 'not met'}**.", ""]
    lines += ["Per-frame F1 (support = articles with the frame):", "", markdown_table(per_frame_table(payload, frame_names)), ""]
    lines += commands_block(payload)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    args, codebook, command, rendered = start(__doc__, "semeval2023", CODEBOOK, render_markdown, argv)
    if rendered is not None:
        return rendered
    corpus, notes = load_semeval(args.data_dir, codebook)
    payload = benchmark_main("semeval2023-task3-en-subtask2", args, corpus, codebook, notes, command=command, export_name="semeval2023")
    return finish(args, payload, codebook, render_markdown)


if __name__ == "__main__":
    main()
