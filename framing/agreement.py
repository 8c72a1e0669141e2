"""Inter-annotator agreement: a blind second annotation pass, per-frame Krippendorff's alpha, adjudication.

The files, under ``labeled/agreement/``:

- ``sample.jsonl``: the passages drawn for double annotation (``id``, ``text`` only: the second
  annotator sees the codebook and the text, never the first labels);
- ``first-pass.jsonl`` / ``second-pass.jsonl``: ``id``, ``labels``, ``annotator`` of each independent pass;
- ``adjudication.jsonl``: for every disagreement, ``id``, ``first``, ``second``, ``final`` and a note.
  The final labels are the ones in the corpus.

Alpha is computed per frame on the binary present/absent decision (nominal level) with the
``krippendorff`` package.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from framing.codebook import NONE_LABEL, Codebook
from framing.corpus import _parse_labels, fold_groups, load_corpus
from framing.errors import InputError
from framing.tables import read_table


def read_passages(path: str | Path) -> pd.DataFrame:
    """Any table of passages (a labeled file or folder, or the passage table of ``framing score --passages``)
    with ``id`` (the table's own, else ``<article_id>#<passage_index>``, else the row number) and ``text``,
    and the table's other columns."""
    from framing.corpus import labeled_files

    frames = [read_table(file, required=("text",)) for file in labeled_files(path)]
    table = pd.concat(frames, ignore_index=True)
    if "id" not in table.columns:
        if {"article_id", "passage_index"} <= set(table.columns):
            table["id"] = table["article_id"].astype(str) + "#" + table["passage_index"].astype(str)
        else:
            table["id"] = [str(i) for i in range(1, len(table) + 1)]
    table["id"] = table["id"].astype(str)
    return table


def draw_sample(table: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` passages (all of them if there are fewer), spread over the table's groups (stories, else
    articles: ``fold_groups``) in proportion to their size.

    Each passage gets the key (its rank in a seeded shuffle of its group + a uniform draw) / group size,
    and the ``n`` smallest keys are taken: every group gives about n x its share, and when ``n`` is smaller
    than the number of groups, different groups give one passage each."""
    rng = np.random.default_rng(seed)
    groups, _ = fold_groups(table)
    groups = np.zeros(len(table), dtype=int) if groups is None else groups
    order = rng.permutation(len(table))
    shuffled = pd.Series(groups[order])
    rank = shuffled.groupby(shuffled).cumcount().to_numpy()
    size = shuffled.map(shuffled.value_counts()).to_numpy()
    keys = np.empty(len(table))
    keys[order] = (rank + rng.random(len(table))) / size
    picked = np.sort(np.argsort(keys, kind="stable")[: min(n, len(table))])
    return table.iloc[picked][["id", "text"]].reset_index(drop=True)


def _labels_by_id(path: Path) -> dict[str, list[str]]:
    table = read_table(path, required=("id", "labels"))
    return {str(i): _parse_labels(v) for i, v in zip(table["id"], table["labels"])}


def alpha_per_frame(first: list[list[str]], second: list[list[str]], codebook: Codebook) -> pd.DataFrame:
    import krippendorff

    rows = []
    labels = codebook.frame_names + [NONE_LABEL]
    for name in labels:
        a = np.array([(name in x) if name != NONE_LABEL else not x for x in first], dtype=float)
        b = np.array([(name in x) if name != NONE_LABEL else not x for x in second], dtype=float)
        alpha = krippendorff.alpha(reliability_data=np.vstack([a, b]), level_of_measurement="nominal") if len(set(a) | set(b)) > 1 else float("nan")
        both_positive = float((a * b).sum())
        # F1 of one pass scored against the other: the ceiling a model's F1 on these labels can be read against.
        f1 = 2 * both_positive / (a.sum() + b.sum()) if a.sum() + b.sum() else float("nan")
        rows.append({
            "frame": name, "alpha": round(float(alpha), 3), "agreement": round(float((a == b).mean()), 3), "f1": round(float(f1), 3),
            "first_positive": int(a.sum()), "second_positive": int(b.sum()), "both_positive": int((a * b).sum()),
        })
    return pd.DataFrame(rows)


CONSTRUCTED_CAVEAT = (
    "**Read these numbers with care.** Both passes were made by AI agents built on the same family of language "
    "model, and the first pass is the label the passage's writer gave while writing it for a frame. Alpha here "
    "measures how consistently such annotators apply the codebook; two trained human coders labelling real "
    "coverage would very likely agree less. A human second pass is the most useful addition to this corpus."
)
REAL_CAVEAT = (
    "**Read these numbers with care.** Both passes were made by AI agents built on the same family of language "
    "model, each working alone from the guide and the passage. Alpha measures how consistently such annotators "
    "apply the codebook to real text; annotators of one model family may share blind spots that alpha cannot see. "
    "A human second pass is the most useful addition."
)


def final_labels_of(labeled: Path) -> tuple[dict[str, list[str]], str]:
    """The final labels by id of a labeled folder (a corpus, or stand-off real-news labels), and how the sample was drawn."""
    from framing.realnews import is_standoff_folder, final_labels

    if is_standoff_folder(labeled):
        return final_labels(labeled), "real-news paragraphs; how each was chosen is in `labels.jsonl` (`selection`) and the datasheet"
    corpus = load_corpus(labeled)
    return dict(zip(corpus["id"], corpus["labels"])), f"drawn across all {corpus['story'].nunique()} stories by `framing corpus sample`"


def agreement_report(first_path: Path, second_path: Path, labeled_dir: Path, codebook: Codebook) -> tuple[str, pd.DataFrame]:
    """The Markdown report of ``AGREEMENT.md`` (of the corpus, or of the real-news labels) and the per-frame alpha table."""
    for path in (first_path, second_path):
        if not Path(path).is_file():
            raise InputError(f"{path}: annotation pass not found")
    first, second = _labels_by_id(Path(first_path)), _labels_by_id(Path(second_path))
    ids = sorted(set(first) & set(second))
    if not ids:
        raise InputError(f"{first_path} and {second_path} share no passage ids")
    table = alpha_per_frame([first[i] for i in ids], [second[i] for i in ids], codebook)
    all_final, drawn = final_labels_of(Path(labeled_dir))
    final = {i: all_final[i] for i in ids if i in all_final}
    disagreements = [i for i in ids if set(first[i]) != set(second[i])]
    adjudication_path = Path(second_path).with_name("adjudication.jsonl")
    adjudicated = read_table(adjudication_path, required=("id", "final")) if adjudication_path.is_file() else pd.DataFrame(columns=["id", "final"])
    sided_first = sum(set(final.get(i, [])) == set(first[i]) for i in disagreements)
    sided_second = sum(set(final.get(i, [])) == set(second[i]) for i in disagreements)
    annotators = sorted(set(read_table(Path(second_path), required=("id",)).get("annotator", pd.Series(["unknown"])).astype(str)))
    lines = [
        "# Inter-annotator agreement",
        "",
        f"Regenerate with `framing corpus agreement {labeled_dir} --first {first_path} --second {second_path}` (this file is written by that command).",
        "",
        f"- passages annotated twice, independently: **{len(ids)}** ({drawn})",
        f"- second annotator(s): {', '.join(annotators)}; they saw only `labeled/CODEBOOK.md` and the passage text",
        f"- exact agreement on the whole label set: {np.mean([set(first[i]) == set(second[i]) for i in ids]):.1%}",
        f"- disagreements: {len(disagreements)}; adjudicated: {len(adjudicated)} (final label set equal to the first pass in {sided_first}, "
        f"to the second pass in {sided_second}, to neither in {len(disagreements) - sided_first - sided_second})",
        "",
        "## Krippendorff's alpha per frame",
        "",
        "Binary present/absent decision per frame, nominal level, computed with the `krippendorff` package. "
        "`none` is the decision that a passage carries no frame.",
        "",
        "| frame | alpha | raw agreement | F1 between passes | positive (1st) | positive (2nd) | positive (both) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += [f"| {r.frame} | {r.alpha:.3f} | {r.agreement:.3f} | {r.f1:.3f} | {r.first_positive} | {r.second_positive} | {r.both_positive} |" for r in table.itertuples()]
    frames_only = table[table["frame"] != NONE_LABEL]
    lines += ["", f"Macro-F1 between the passes over the {len(frames_only)} frames: **{frames_only['f1'].mean():.3f}** "
              "(one pass scored against the other; a model's macro-F1 on such labels is best read against it)."]
    lines += [
        "", "Alpha of 0.8 or more is usually read as reliable, 0.667 to 0.8 as tentative.", "",
        REAL_CAVEAT if "real-news" in drawn else CONSTRUCTED_CAVEAT, "",
    ]
    if not adjudicated.empty and "note" in adjudicated.columns:
        lines += ["## Adjudicated disagreements", "", "| id | first | second | final | note |", "| --- | --- | --- | --- | --- |"]
        for row in adjudicated.itertuples():
            lines.append(f"| {row.id} | {';'.join(first.get(str(row.id), [])) or 'none'} | {';'.join(second.get(str(row.id), [])) or 'none'} | "
                         f"{';'.join(_parse_labels(row.final)) or 'none'} | {str(row.note).replace('|', '/')} |")
        lines.append("")
    return "\n".join(lines), table
