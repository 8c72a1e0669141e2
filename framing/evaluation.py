"""Training and evaluation: metrics, cross-validation grouped by story, held-out tests, reports, promotion.

Metrics (``metrics``) for an (n, F) truth matrix and probabilities cut at per-frame thresholds:
per frame precision, recall, F1, support and threshold; micro and macro F1; and the expected
calibration error (10 equal-width bins, averaged over frames).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from framing.codebook import NONE_LABEL, Codebook
from framing.corpus import data_hash, label_matrix, split_by_story
from framing.models.base import library_versions, out_of_fold_splits
from framing.tables import markdown_table


def expected_calibration_error(truth: np.ndarray, probabilities: np.ndarray, bins: int = 10) -> float:
    """Mean over frames of the binary ECE: the bin-weighted gap between mean probability and frequency."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    errors = []
    for j in range(truth.shape[1]):
        p, y = probabilities[:, j], truth[:, j]
        which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
        gap = sum(abs(p[which == b].mean() - y[which == b].mean()) * (which == b).sum() for b in range(bins) if (which == b).any())
        errors.append(gap / len(p))
    return float(np.mean(errors)) if errors else 0.0


def metrics(truth: np.ndarray, probabilities: np.ndarray, thresholds: np.ndarray, frame_names: list[str]) -> dict:
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    predicted = (probabilities >= thresholds[None, :]).astype(int)
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, average=None, zero_division=0, labels=range(len(frame_names)))
    return {
        "n": int(len(truth)),
        "per_frame": {
            name: {"precision": round(float(p), 4), "recall": round(float(r), 4), "f1": round(float(f), 4), "support": int(s), "threshold": round(float(t), 2)}
            for name, p, r, f, s, t in zip(frame_names, precision, recall, f1, support, thresholds)
        },
        "micro_f1": round(float(f1_score(truth, predicted, average="micro", zero_division=0)), 4),
        "macro_f1": round(float(f1_score(truth, predicted, average="macro", zero_division=0)), 4),
        "ece": round(expected_calibration_error(truth, probabilities), 4),
    }


@dataclass
class Evaluation:
    """Out-of-fold or held-out predictions with their metrics."""

    name: str
    description: str
    corpus: pd.DataFrame
    truth: np.ndarray
    probabilities: np.ndarray
    thresholds: np.ndarray
    metrics: dict


def cross_validate(family: str, corpus: pd.DataFrame, codebook: Codebook, folds: int = 5, seed: int = 0, params: dict | None = None) -> Evaluation:
    """K-fold cross-validation, whole stories kept in one fold when the data has stories.

    Each fold's model tunes its own thresholds on its training part (inner folds), so the thresholds
    applied to a fold never saw it.
    """
    from framing.models import make_model
    from framing.models.encoder import cached_embeddings

    texts = corpus["text"].tolist()
    Y = label_matrix(corpus, codebook)
    groups = corpus["story"].to_numpy() if corpus["story"].astype(bool).all() else None
    probabilities = np.zeros(Y.shape)
    thresholds = np.zeros(Y.shape)
    with cached_embeddings():
        for train_index, test_index in out_of_fold_splits(len(texts), groups, folds, seed):
            model = make_model(family, codebook, seed=seed, **(params or {}))
            model.fit([texts[i] for i in train_index], Y[train_index], groups=None if groups is None else groups[train_index])
            probabilities[test_index] = model.predict_proba([texts[i] for i in test_index])
            thresholds[test_index] = model.thresholds
    predicted = probabilities >= thresholds
    result = metrics(Y, predicted.astype(float), np.full(Y.shape[1], 0.5), codebook.frame_names)
    # Calibration is a property of the probabilities, not of the cut: recompute it on them.
    result["ece"] = round(expected_calibration_error(Y, probabilities), 4)
    for name, column in zip(codebook.frame_names, thresholds.T):
        result["per_frame"][name]["threshold"] = round(float(column.mean()), 2)
    grouping = "grouped by story" if groups is not None else "not grouped (the data has no stories)"
    description = f"{folds}-fold cross-validation, {grouping}, {len(corpus)} passages; thresholds tuned inside each training fold."
    return Evaluation("cross-validation", description, corpus, Y, probabilities, thresholds.mean(axis=0), result | {"description": description})


def predict_with_progress(model, texts: list[str], description: str, chunk: int = 256) -> np.ndarray:
    """``model.predict_proba(texts)`` in chunks, with a progress bar (shown by the CLI on a terminal)."""
    from framing import progress

    if not progress.enabled() or len(texts) <= chunk:
        return model.predict_proba(texts)
    parts = []
    with progress.bar(len(texts), "passage", description) as bar:
        for start in range(0, len(texts), chunk):
            parts.append(model.predict_proba(texts[start : start + chunk]))
            bar.update(len(parts[-1]))
    return np.vstack(parts)


def evaluate_model(model, corpus: pd.DataFrame, name: str, description: str) -> Evaluation:
    Y = label_matrix(corpus, model.codebook)
    probabilities = predict_with_progress(model, corpus["text"].tolist(), name)
    result = metrics(Y, probabilities, model.thresholds, model.codebook.frame_names)
    return Evaluation(name, description, corpus, Y, probabilities, model.thresholds, result | {"description": description})


def cooccurrence(evaluation: Evaluation, frame_names: list[str]) -> pd.DataFrame:
    """Rows: true frames (and none); columns: predicted frames (and none); cells: passages with both."""
    predicted = evaluation.probabilities >= evaluation.thresholds[None, :]
    truth = evaluation.truth.astype(bool)
    truth_ext = np.hstack([truth, ~truth.any(axis=1, keepdims=True)])
    predicted_ext = np.hstack([predicted, ~predicted.any(axis=1, keepdims=True)])
    labels = frame_names + [NONE_LABEL]
    table = truth_ext.T.astype(int) @ predicted_ext.astype(int)
    return pd.DataFrame(table, index=[f"true {x}" for x in labels], columns=[f"predicted {x}" for x in labels])


def worst_errors(evaluation: Evaluation, frame_names: list[str], n: int = 20) -> pd.DataFrame:
    """The confident mistakes: passage-frame pairs with the largest gap between probability and label."""
    from framing.realnews import REAL_SOURCE, STANDOFF_TEXT

    gaps = np.abs(evaluation.probabilities - evaluation.truth)
    wrong = (evaluation.probabilities >= evaluation.thresholds[None, :]) != evaluation.truth.astype(bool)
    # Real-news text is licensed for research, not for redistribution: a report (committed beside a model)
    # names such a paragraph by its id (article#paragraph) and never quotes it.
    sources = evaluation.corpus["source"] if "source" in evaluation.corpus.columns else pd.Series("", index=evaluation.corpus.index)
    rows = []
    for i, j in zip(*np.nonzero(wrong)):
        rows.append({
            "id": evaluation.corpus["id"].iloc[i], "frame": frame_names[j],
            "error": "false positive" if evaluation.truth[i, j] == 0 else "false negative",
            "probability": round(float(evaluation.probabilities[i, j]), 3), "gap": float(gaps[i, j]),
            "labels": ";".join(evaluation.corpus["labels"].iloc[i]),
            "text": STANDOFF_TEXT if sources.iloc[i] == REAL_SOURCE else evaluation.corpus["text"].iloc[i],
        })
    table = pd.DataFrame(rows, columns=["id", "frame", "error", "probability", "gap", "labels", "text"])
    return table.sort_values("gap", ascending=False).head(n).drop(columns="gap").reset_index(drop=True)


def metrics_table(result: dict) -> pd.DataFrame:
    rows = [{"frame": name, **values} for name, values in result["per_frame"].items()]
    rows.append({"frame": "micro", "f1": result["micro_f1"]})
    rows.append({"frame": "macro", "f1": result["macro_f1"]})
    # Object dtype first: the micro/macro rows have no precision or recall, shown blank rather than NaN.
    table = pd.DataFrame(rows)
    if "support" in table:
        table["support"] = table["support"].astype("Int64")
    return table.astype(object).fillna("")


def evaluation_report(evaluations: list[Evaluation], codebook: Codebook, title: str, n_errors: int = 20) -> str:
    lines = [f"# {title}", "", f"Codebook `{codebook.name}` {codebook.version}; generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.", ""]
    for evaluation in evaluations:
        lines += [f"## {evaluation.name}", "", evaluation.metrics["description"], "", markdown_table(metrics_table(evaluation.metrics)), ""]
        lines += [f"Expected calibration error: {evaluation.metrics['ece']:.3f}", ""]
        lines += ["### Frame co-occurrence (true x predicted)", "", markdown_table(cooccurrence(evaluation, codebook.frame_names), index=True), ""]
        lines += [f"### The {n_errors} most confident errors, for annotators to review", "", markdown_table(worst_errors(evaluation, codebook.frame_names, n_errors)), ""]
    return "\n".join(lines)


# -- training, versioning and promotion ---------------------------------------------------------------------


@dataclass
class TrainingResult:
    model: object
    folder: Path
    evaluations: list[Evaluation]
    promoted: bool
    promotion_note: str


def real_parts(real: pd.DataFrame | None) -> dict[str, pd.DataFrame]:
    """The train, dev and test parts of real-news rows (empty frames when there are none)."""
    if real is None:
        real = pd.DataFrame(columns=["id", "text", "labels", "story", "source", "split"])
    return {split: real[real["split"] == split].reset_index(drop=True) for split in ("train", "dev", "test")}


def fit_combined(family: str, codebook: Codebook, constructed: pd.DataFrame, real: pd.DataFrame | None = None, seed: int = 0,
                 params: dict | None = None, real_weight: int = 1, real_thresholds: bool = False):
    """Fit a model on constructed passages plus the real-news train part, each real row repeated ``real_weight``
    times (0: constructed only); with ``real_thresholds``, each frame's threshold is then tuned on the
    real-news dev part.

    Returns the model and the training rows (for the card's data hash)."""
    from framing.models import make_model
    from framing.models.base import tune_thresholds

    parts = real_parts(real)
    columns = ["id", "text", "labels", "story", "source"]
    training = pd.concat([constructed[columns]] + [parts["train"][columns]] * real_weight, ignore_index=True)
    model = make_model(family, codebook, seed=seed, **(params or {}))
    groups = training["story"].to_numpy() if training["story"].astype(bool).all() else None
    model.fit(training["text"].tolist(), label_matrix(training, codebook), groups=groups)
    if real_thresholds and not parts["dev"].empty:
        dev_truth = label_matrix(parts["dev"], codebook)
        model.thresholds = tune_thresholds(dev_truth, model.predict_proba(parts["dev"]["text"].tolist()))
    return model, training


def test_evaluations(model, constructed_test: pd.DataFrame, real: pd.DataFrame | None, n_train: int) -> list[Evaluation]:
    """The two fixed tests: held-out constructed stories, and the real-news test split."""
    evaluations = []
    if not constructed_test.empty:
        evaluations.append(evaluate_model(model, constructed_test, HELD_OUT_TEST, f"Trained on {n_train} passages; tested on {len(constructed_test)} constructed passages of "
                                          f"{constructed_test['story'].nunique()} stories never seen in training: {', '.join(sorted(constructed_test['story'].unique()))}."))
    real_test = real_parts(real)["test"]
    if not real_test.empty:
        evaluations.append(evaluate_model(model, real_test, REAL_TEST, f"Tested on {len(real_test)} real news paragraphs of {real_test['article'].nunique()} articles "
                                          f"({real_test['story'].nunique()} story clusters) never used for training or tuning, labeled with the codebook."))
    return evaluations


REAL_TEST = "real-news test"
HELD_OUT_TEST = "held-out stories"
# How much held-out (constructed) macro-F1 a model may lose against the default and still be promoted for reading real text better.
CONSTRUCTED_TOLERANCE = 0.02


def train_and_register(
    family: str, corpus: pd.DataFrame, codebook: Codebook, held_out_stories: list[str], models_root: Path, seed: int = 0,
    folds: int = 5, params: dict | None = None, promote: bool = True, data_description: str = "",
    real: pd.DataFrame | None = None, real_weight: int = 1, real_thresholds: bool = False, constructed_tolerance: float = CONSTRUCTED_TOLERANCE,
) -> TrainingResult:
    """Train on the stories not held out (and the real-news train part), evaluate (cross-validation unless
    ``folds`` is 0, the held-out stories and the real-news test), save a new versioned model folder with its
    card, and promote it to default by ``_decide_promotion``'s rule."""
    from framing.models import DEFAULT_POINTER, load_model
    from framing.models.encoder import cached_embeddings
    from framing.tables import write_text_atomic

    train, test = split_by_story(corpus, held_out_stories)
    if train.empty:
        raise ValueError("every story is held out: nothing left to train on")
    started = time.perf_counter()
    with cached_embeddings():
        model, training = fit_combined(family, codebook, train, real, seed=seed, params=params, real_weight=real_weight, real_thresholds=real_thresholds)
        # Cross-validate on each row once, whatever the real-news weight.
        evaluations = [cross_validate(family, training.drop_duplicates("id"), codebook, folds=folds, seed=seed, params=params)] if folds else []
        evaluations += test_evaluations(model, test, real, len(training))
    parts = real_parts(real)
    model.card.data_hash = data_hash(training)
    model.card.data_description = data_description or f"{len(train)} passages of {train['story'].nunique()} stories"
    model.card.n_train = len(training)
    model.card.seed = seed
    model.card.metrics = {e.name: e.metrics for e in evaluations}
    model.card.versions = library_versions()
    model.card.notes = [f"training took {time.perf_counter() - started:.0f} s including evaluation"]
    if not parts["train"].empty:
        model.card.notes.append(f"real news: {len(parts['train'])} train paragraphs, each repeated {real_weight} time(s), beside {len(train)} constructed passages")
    if real_thresholds and not parts["dev"].empty:
        model.card.notes.append(f"thresholds tuned on the {len(parts['dev'])} paragraphs of the real-news dev split")

    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    folder = models_root / f"{family}-{stamp}-{model.card.data_hash[:8]}"
    model.save(folder)
    (folder / "evaluation.md").write_text(evaluation_report(evaluations, codebook, f"Evaluation of {folder.name}"), encoding="utf-8")

    promoted, note = False, "not promoted (--no-promote)"
    if promote:
        promoted, note = _decide_promotion(model.card.metrics, test, parts["test"], models_root, codebook, load_model, constructed_tolerance)
        if promoted:
            write_text_atomic(models_root / DEFAULT_POINTER, folder.name + "\n")
    return TrainingResult(model, folder, evaluations, promoted, note)


def _decide_promotion(new_metrics: dict[str, dict], constructed_test: pd.DataFrame, real_test: pd.DataFrame, models_root: Path, codebook: Codebook,
                      load_model, constructed_tolerance: float = CONSTRUCTED_TOLERANCE) -> tuple[bool, str]:
    """Promote only if the new model is not worse than the current default, both measured now on the same passages.

    With a real-news test split, real text decides: the new model's macro-F1 there must be at least the
    current default's, and on the constructed held-out stories it may be lower by at most
    ``constructed_tolerance`` (a gain on constructed text never excuses a loss on real text; a small loss
    on constructed text is the price of reading real text better). Without one, the held-out stories
    decide alone, with no tolerance.
    """
    from framing.errors import FramingError
    from framing.models import DEFAULT_POINTER

    pointer = models_root / DEFAULT_POINTER
    if not pointer.is_file():
        return True, "promoted: there was no default model"
    if constructed_test.empty and real_test.empty:
        return False, "not promoted: there is no held-out split to compare on"
    try:
        current = load_model(models_root / pointer.read_text().strip(), codebook=codebook)
    except FramingError as exc:
        return False, f"not promoted: the current default cannot be compared ({exc})"

    def both(rows: pd.DataFrame, name: str) -> tuple[float, float]:
        # The new model was tested on these rows when it was trained (``new_metrics``); only the current default is run.
        return new_metrics[name]["macro_f1"], evaluate_model(current, rows, "current", "").metrics["macro_f1"]

    checks = []
    if not real_test.empty:
        new, old = both(real_test, REAL_TEST)
        checks.append((new >= old, f"real-news test macro-F1 {new:.4f} {'>=' if new >= old else '<'} current default's {old:.4f}"))
    if not constructed_test.empty:
        new, old = both(constructed_test, HELD_OUT_TEST)
        allowed = constructed_tolerance if not real_test.empty else 0.0
        ok = new >= old - allowed
        bound = f"current default's {old:.4f}" + (f" - {allowed:.2f}" if allowed else "")
        checks.append((ok, f"held-out macro-F1 {new:.4f} {'>=' if ok else '<'} {bound}"))
    summary = "; ".join(text for _, text in checks)
    return (True, f"promoted: {summary}") if all(ok for ok, _ in checks) else (False, f"not promoted: {summary}")


def save_metrics(path: Path, evaluations: list[Evaluation]) -> None:
    from framing.tables import write_text_atomic

    write_text_atomic(path, json.dumps({e.name: e.metrics for e in evaluations}, indent=2) + "\n")
