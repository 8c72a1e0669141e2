"""Training and evaluation: metrics, cross-validation grouped by story, held-out tests, reports, promotion.

Metrics (``metrics``) for an (n, F) truth matrix and probabilities cut at per-frame thresholds:
per frame precision, recall, F1, support and threshold; micro and macro F1; and the expected
calibration error (10 equal-width bins, averaged over frames).
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from framing.codebook import NONE_LABEL, Codebook
from framing.corpus import data_hash, fold_groups, label_matrix, split_by_story
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


# Below this many positives a frame's F1 is flagged: a handful of passages cannot pin it down.
FEW_POSITIVES = 20
BOOTSTRAP_RESAMPLES = 1000
# Below this many groups (stories, articles) a bootstrap over them is too coarse to trust.
FEW_GROUPS = 10


def metrics(truth: np.ndarray, probabilities: np.ndarray, thresholds: np.ndarray, frame_names: list[str], groups: np.ndarray | None = None,
            seed: int = 0, confidence: float = 0.95) -> dict:
    """Per-frame and micro/macro scores, each F1 with a bootstrap interval (resampling ``groups``, e.g.
    articles, when given; else passages; seeded).

    A frame with no positive in ``truth`` has no support: its recall and F1 are undefined (None), and it
    is left out of macro-F1 (``macro_frames`` says how many frames it averages). ``warnings`` names every
    frame with fewer than FEW_POSITIVES positives."""
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    predicted = (probabilities >= thresholds[None, :]).astype(int)
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, average=None, zero_division=0, labels=range(len(frame_names)))
    supported = support > 0
    low, high, macro_low, macro_high = _bootstrap_f1(truth, predicted, groups, seed, confidence)
    per_frame = {}
    for j, name in enumerate(frame_names):
        defined = bool(supported[j])
        per_frame[name] = {
            "precision": round(float(precision[j]), 4) if predicted[:, j].any() or defined else None,
            "recall": round(float(recall[j]), 4) if defined else None, "f1": round(float(f1[j]), 4) if defined else None,
            "f1_low": round(float(low[j]), 4) if defined else None, "f1_high": round(float(high[j]), 4) if defined else None,
            "support": int(support[j]), "threshold": round(float(thresholds[j]), 2),
        }
    notes = [f"{name}: no positive passage, so no F1 (left out of macro-F1)" if not s else
                f"{name}: only {s} positive passage(s); its F1 is uncertain (interval {per_frame[name]['f1_low']:.2f}-{per_frame[name]['f1_high']:.2f})"
                for name, s in zip(frame_names, support) if s < FEW_POSITIVES]
    n_groups = len(set(groups)) if groups is not None else len(truth)
    if n_groups < FEW_GROUPS:
        notes.append(f"the intervals resample only {n_groups} {'groups' if groups is not None else 'passages'}; they understate the uncertainty")
    return {
        "n": int(len(truth)),
        "per_frame": per_frame,
        "micro_f1": round(float(f1_score(truth, predicted, average="micro", zero_division=0)), 4),
        "macro_f1": round(float(f1[supported].mean()), 4) if supported.any() else None,
        "macro_f1_low": round(float(macro_low), 4) if supported.any() else None,
        "macro_f1_high": round(float(macro_high), 4) if supported.any() else None,
        "macro_frames": int(supported.sum()),
        "confidence": confidence,
        "bootstrap": f"{BOOTSTRAP_RESAMPLES} resamples of {'groups' if groups is not None else 'passages'}, seed {seed}",
        "warnings": notes,
        "ece": round(expected_calibration_error(truth, probabilities), 4),
    }


def _bootstrap_f1(truth: np.ndarray, predicted: np.ndarray, groups: np.ndarray | None, seed: int, confidence: float):
    """Percentile intervals of every frame's F1 and of macro-F1 (over the frames with support in the data):
    whole groups (or passages) drawn with replacement, counts summed per resample."""
    rng = np.random.default_rng(seed)
    index = np.unique(groups, return_inverse=True)[1] if groups is not None else np.arange(len(truth))
    n_groups = int(index.max()) + 1 if len(index) else 0
    if n_groups == 0:
        empty = np.zeros(truth.shape[1])
        return empty, empty, 0.0, 0.0
    per_group = [np.zeros((n_groups, truth.shape[1])) for _ in range(3)]
    for counts, values in zip(per_group, (truth * predicted, (1 - truth) * predicted, truth * (1 - predicted))):
        np.add.at(counts, index, values)
    draws = rng.multinomial(n_groups, np.full(n_groups, 1.0 / n_groups), size=BOOTSTRAP_RESAMPLES)
    tp, fp, fn = (draws @ counts for counts in per_group)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(tp + fn > 0, 2 * tp / (2 * tp + fp + fn), np.nan)
    supported = truth.sum(axis=0) > 0
    tail = (1 - confidence) / 2 * 100
    with warnings.catch_warnings():  # a frame without support is NaN in every resample: its interval is not used
        warnings.simplefilter("ignore", RuntimeWarning)
        low, high = np.nan_to_num(np.nanpercentile(f1, [tail, 100 - tail], axis=0))
        # A resample that misses every positive of a frame leaves it out of that resample's macro-F1, as the data's own macro-F1 does.
        macro = np.nanmean(np.where(supported[None, :], f1, np.nan), axis=1)
        macro_low, macro_high = np.nan_to_num(np.nanpercentile(macro, [tail, 100 - tail]))
    return low, high, macro_low, macro_high


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


def cross_validation_folds(corpus: pd.DataFrame, folds: int, seed: int, group: str | None = None):
    """The (train, test) index pairs of ``cross_validate``, the groups they keep whole and the groups' name:
    ``folds`` folds, or one per group when there are fewer groups."""
    groups, grouping = fold_groups(corpus, group)
    if groups is not None and len(set(groups)) < 2:  # one story (or article): nothing to keep apart
        groups, grouping = None, "passage"
    if groups is not None and len(set(groups)) < folds:
        folds = len(set(groups))
    return out_of_fold_splits(len(corpus), groups, folds, seed), groups, grouping


def cross_validate(family, corpus: pd.DataFrame, codebook: Codebook, folds: int = 5, seed: int = 0, params: dict | None = None,
                   group: str | None = None) -> Evaluation:
    """K-fold cross-validation, whole groups (stories, articles or outlets: ``fold_groups``) kept in one fold.

    ``family`` is a family name (each fold trains from scratch) or a fitted model (each fold adapts it:
    ``FrameClassifier.adapted``, what ``framing train --base`` does). With fewer groups than folds, there is
    one fold per group. Each fold's model tunes its own thresholds on its training part (inner folds), so
    the thresholds applied to a fold never saw it.
    """
    from framing.models import make_model
    from framing.models.encoder import cached_embeddings

    texts = corpus["text"].tolist()
    Y = label_matrix(corpus, codebook)
    splits, groups, grouping = cross_validation_folds(corpus, folds, seed, group)
    folds = len(splits)
    probabilities = np.zeros(Y.shape)
    thresholds = np.zeros(Y.shape)
    with cached_embeddings():
        for train_index, test_index in splits:
            train_texts, train_groups = [texts[i] for i in train_index], None if groups is None else groups[train_index]
            if isinstance(family, str):
                model = make_model(family, codebook, seed=seed, **(params or {})).fit(train_texts, Y[train_index], groups=train_groups)
            else:
                model = family.adapted(train_texts, Y[train_index], train_groups, **(params or {}))
            probabilities[test_index] = model.predict_proba([texts[i] for i in test_index])
            thresholds[test_index] = model.thresholds
    predicted = probabilities >= thresholds
    result = metrics(Y, predicted.astype(float), np.full(Y.shape[1], 0.5), codebook.frame_names, groups=groups, seed=seed)
    # Calibration is a property of the probabilities, not of the cut: recompute it on them.
    result["ece"] = round(expected_calibration_error(Y, probabilities), 4)
    for name, column in zip(codebook.frame_names, thresholds.T):
        result["per_frame"][name]["threshold"] = round(float(column.mean()), 2)
    what = "" if isinstance(family, str) else f"adapting {_model_name(family)}, "
    grouping = f"grouped by {grouping}" if groups is not None else "not grouped (the data has no stories or articles)"
    description = f"{folds}-fold cross-validation {what}{grouping}, {len(corpus)} passages; thresholds tuned inside each training fold."
    return Evaluation("cross-validation", description, corpus, Y, probabilities, thresholds.mean(axis=0), result | {"description": description})


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``1 held-out story``, ``7 held-out stories``: report text that reads right for any count."""
    return f"{n} {noun if n == 1 else plural or (noun[:-1] + 'ies' if noun.endswith('y') else noun + 's')}"


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


def _model_name(model) -> str:
    return model.folder.name if model.folder is not None else f"a {model.family} model"


def evaluate_model(model, corpus: pd.DataFrame, name: str, description: str) -> Evaluation:
    Y = label_matrix(corpus, model.codebook)
    probabilities = predict_with_progress(model, corpus["text"].tolist(), name)
    result = metrics(Y, probabilities, model.thresholds, model.codebook.frame_names, groups=fold_groups(corpus)[0])
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
    """One row per frame (and micro, macro): precision, recall, F1 with its bootstrap interval, support, threshold.
    A frame without support shows "no support" for its F1."""
    def interval(low, high) -> str:
        return "" if low is None else f"{low:.2f}-{high:.2f}"

    rows = [{"frame": name, "precision": values["precision"], "recall": values["recall"],
             "f1": "no support" if values["f1"] is None else values["f1"], "f1 interval": interval(values.get("f1_low"), values.get("f1_high")),
             "support": values["support"], "threshold": values["threshold"]} for name, values in result["per_frame"].items()]
    rows.append({"frame": "micro", "f1": result["micro_f1"]})
    macro_note = f" over {result['macro_frames']} frames" if result.get("macro_frames", len(result["per_frame"])) < len(result["per_frame"]) else ""
    rows.append({"frame": f"macro{macro_note}", "f1": "no support" if result["macro_f1"] is None else result["macro_f1"],
                 "f1 interval": interval(result.get("macro_f1_low"), result.get("macro_f1_high"))})
    # Object dtype first: the micro/macro rows have no precision or recall, shown blank rather than NaN.
    table = pd.DataFrame(rows)
    table["support"] = table["support"].astype("Int64")
    return table.astype(object).where(table.notna(), "")


def evaluation_report(evaluations: list[Evaluation], codebook: Codebook, title: str, n_errors: int = 20) -> str:
    lines = [f"# {title}", "", f"Codebook `{codebook.name}` {codebook.version}; generated {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC.", ""]
    for evaluation in evaluations:
        lines += [f"## {evaluation.name}", "", evaluation.metrics["description"], "", markdown_table(metrics_table(evaluation.metrics)), ""]
        lines += [f"F1 intervals: {evaluation.metrics['confidence']:.0%} bootstrap ({evaluation.metrics['bootstrap']}).", ""]
        lines += [f"- warning: {w}" for w in evaluation.metrics["warnings"]] + ([""] if evaluation.metrics["warnings"] else [])
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
                                          f"{counted(constructed_test['story'].nunique(), 'story')} never seen in training: {', '.join(sorted(constructed_test['story'].unique()))}."))
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
    group: str | None = None,
) -> TrainingResult:
    """Train on the stories not held out (and the real-news train part), evaluate (cross-validation unless
    ``folds`` is 0, the held-out stories and the real-news test), save a new versioned model folder with its
    card, and promote it to default by ``_decide_promotion``'s rule."""
    from framing.models.encoder import cached_embeddings

    train, test = split_by_story(corpus, held_out_stories)
    if train.empty:
        raise ValueError("every story is held out: nothing left to train on")
    started = time.perf_counter()
    with cached_embeddings():
        model, training = fit_combined(family, codebook, train, real, seed=seed, params=params, real_weight=real_weight, real_thresholds=real_thresholds)
        # Cross-validate on each row once, whatever the real-news weight.
        evaluations = [cross_validate(family, training.drop_duplicates("id"), codebook, folds=folds, seed=seed, params=params, group=group)] if folds else []
        evaluations += test_evaluations(model, test, real, len(training))
    parts = real_parts(real)
    model.card.data_hash = data_hash(training)
    model.card.data_description = data_description or f"{counted(len(train), 'passage')} of {counted(train['story'].nunique(), 'story')}"
    model.card.n_train = len(training)
    model.card.notes = [f"training took {time.perf_counter() - started:.0f} s including evaluation"]
    if not parts["train"].empty:
        model.card.notes.append(f"real news: {len(parts['train'])} train paragraphs, each repeated {real_weight} time(s), beside {len(train)} constructed passages")
    if real_thresholds and not parts["dev"].empty:
        model.card.notes.append(f"thresholds tuned on the {len(parts['dev'])} paragraphs of the real-news dev split")
    return register_model(model, evaluations, codebook, models_root, seed, test, parts["test"], promote, constructed_tolerance)


def register_model(model, evaluations: list[Evaluation], codebook: Codebook, models_root: Path, seed: int, constructed_test: pd.DataFrame,
                   real_test: pd.DataFrame, promote: bool, constructed_tolerance: float = CONSTRUCTED_TOLERANCE) -> TrainingResult:
    """Save a trained model as ``<models_root>/<family>-<UTC time>-<data hash>/`` with its card and
    evaluation report, and promote it to default by ``_decide_promotion``'s rule."""
    from framing.models import DEFAULT_POINTER, load_model
    from framing.tables import write_text_atomic

    model.card.seed = seed
    model.card.metrics = {e.name: e.metrics for e in evaluations}
    model.card.versions = library_versions()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    folder = models_root / f"{model.family}-{stamp}-{model.card.data_hash[:8]}"
    model.save(folder)
    (folder / "evaluation.md").write_text(evaluation_report(evaluations, codebook, f"Evaluation of {folder.name}"), encoding="utf-8")

    promoted, note = False, "not promoted (--no-promote)"
    if promote:
        promoted, note = _decide_promotion(model.card.metrics, constructed_test, real_test, models_root, codebook, load_model, constructed_tolerance)
        if promoted:
            write_text_atomic(models_root / DEFAULT_POINTER, folder.name + "\n")
    return TrainingResult(model, folder, evaluations, promoted, note)


def adapt_and_register(base, corpus: pd.DataFrame, data_path: Path, held_out_stories: list[str], models_root: Path, seed: int = 0, folds: int = 5,
                       promote: bool = True, group: str | None = None, params: dict | None = None) -> TrainingResult:
    """``framing train --base``: adapt the fitted model ``base`` to the labeled rows of ``data_path`` (the
    stories in ``held_out_stories`` held out as a test), cross-validate the adaptation (``folds``, grouped by
    ``group`` or ``fold_groups``' default; 0 skips it), and save the adapted model with a card that records the
    base and the data added."""
    from framing.models.base import sha256_file
    from framing.models.encoder import cached_embeddings

    train, test = split_by_story(corpus, held_out_stories)
    if train.empty:
        raise ValueError("every story is held out: nothing left to train on")
    started = time.perf_counter()
    with cached_embeddings():
        evaluations = [cross_validate(base, train, base.codebook, folds=folds, seed=seed, params=params, group=group)] if folds else []
        model = base.adapted(train["text"].tolist(), label_matrix(train, base.codebook), fold_groups(train, group)[0], **(params or {}))
        evaluations += test_evaluations(model, test, None, len(train))
    # A file is named by its bytes; a folder of files by its rows (``data_hash``).
    digest = sha256_file(Path(data_path)) if Path(data_path).is_file() else data_hash(corpus)
    model.card.data_hash = data_hash(train)
    model.card.data_description = f"{base.card.data_description} (the base), then adapted on {len(train)} labeled passages from {data_path}"
    model.card.n_train = len(train)
    model.card.base = {"model": _model_name(base), "path": str(base.folder), "family": base.family, "data_hash": base.card.data_hash}
    model.card.added = {"file": str(data_path), "rows": len(corpus), "sha256": digest}
    model.card.notes = [f"adapting took {time.perf_counter() - started:.0f} s including evaluation",
                        f"adaptation parameters: { {**base.adapt_params(), **(params or {})} or 'as the base'}"]
    return register_model(model, evaluations, base.codebook, models_root, seed, test, real_parts(None)["test"], promote)


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
