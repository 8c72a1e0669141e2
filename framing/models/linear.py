"""Three families with a calibrated logistic-regression head per frame:

- ``tfidf``: TF-IDF word and bigram features, the fast baseline;
- ``embed``: frozen all-MiniLM-L6-v2 sentence embeddings;
- ``hybrid``: both side by side (the TF-IDF features and the embedding, each of unit length), so a
  head can use what a word says and what a passage means.

Each frame gets its own ``CalibratedClassifierCV(LogisticRegression)`` (sigmoid calibration on
internal folds), so every frame can have a different number of positives. Thresholds are tuned on the
out-of-fold scores of the class-balanced regressions before calibration and then carried onto the final
model's calibrated scale (the calibration is monotone, so the decisions are the same): each fold's
calibration is fitted on a few dozen positives and moves its scores around, and on SemEval-2023 tuning on
calibrated out-of-fold probabilities lost 0.035 micro-F1 (benchmarks/README.md). A fitted head is a linear
score followed by a sigmoid, so it is kept as four arrays (``HeadArrays``) in a safetensors file and
scored with numpy: loading runs no code and needs neither pickle nor scikit-learn's estimators. The
TF-IDF vocabulary and weights are JSON.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from framing.errors import ModelError
from framing.models.base import FrameClassifier, out_of_fold_splits
from framing.tables import write_text_atomic

HEADS_FILE = "heads.safetensors"
# Plain JSON (settings, vocabulary in column order, idf weights): a pickle-free estimator format stores a
# vocabulary entry by entry and took over a second to load one of 19,000 terms; JSON loads in milliseconds.
VECTORIZER_FILE = "vectorizer.json"
_VECTORIZER_SETTINGS = ("ngram_range", "min_df", "max_features", "sublinear_tf", "strip_accents", "lowercase", "token_pattern", "norm", "smooth_idf")


@dataclass
class HeadArrays:
    """All frame heads as arrays: p = 1 / (1 + exp(scale * (X @ coef.T + intercept) + bias)).

    ``coef`` is (n_frames, n_features), the others (n_frames,). This is scikit-learn's sigmoid
    calibration of a logistic regression's decision function; an uncalibrated regression has
    scale -1 and bias 0, and a frame that was always (never) present in training has scale 0 and
    bias -inf (+inf).
    """

    coef: np.ndarray
    intercept: np.ndarray
    scale: np.ndarray
    bias: np.ndarray

    @classmethod
    def from_estimators(cls, heads: list, n_features: int) -> "HeadArrays":
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.dummy import DummyClassifier

        arrays = cls(np.zeros((len(heads), n_features)), np.zeros(len(heads)), -np.ones(len(heads)), np.zeros(len(heads)))
        for j, head in enumerate(heads):
            if isinstance(head, DummyClassifier):
                arrays.scale[j], arrays.bias[j] = 0.0, -np.inf if head.constant else np.inf
                continue
            if isinstance(head, CalibratedClassifierCV):
                (calibrated,) = head.calibrated_classifiers_
                (sigmoid,) = calibrated.calibrators
                arrays.scale[j], arrays.bias[j] = sigmoid.a_, sigmoid.b_
                head = calibrated.estimator
            arrays.coef[j], arrays.intercept[j] = head.coef_[0], head.intercept_[0]
        return arrays

    def decision(self, X) -> np.ndarray:
        """The logistic regressions' linear scores, before calibration."""
        return np.asarray(X @ self.coef.T) + self.intercept[None, :]

    def probabilities(self, X) -> np.ndarray:
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(self.scale[None, :] * self.decision(X) + self.bias[None, :]))

    def calibrated(self, uncalibrated: np.ndarray) -> np.ndarray:
        """Per frame, the calibrated probability at an uncalibrated one (the regression's own sigmoid).

        A frame whose calibration does not increase with the score (a constant head, or a sigmoid
        fitted the wrong way round on very few positives) keeps the value given.
        """
        with np.errstate(divide="ignore", over="ignore"):
            decision = np.log(uncalibrated) - np.log1p(-uncalibrated)
            mapped = 1.0 / (1.0 + np.exp(self.scale * decision + self.bias))
        return np.where(self.scale < 0, mapped, uncalibrated)

    def save(self, path: Path) -> None:
        from safetensors.numpy import save_file

        save_file({name: np.ascontiguousarray(value, dtype=np.float64) for name, value in self.__dict__.items()}, str(path))

    @classmethod
    def load(cls, path: Path, n_frames: int) -> "HeadArrays":
        from safetensors import SafetensorError
        from safetensors.numpy import load_file

        try:
            tensors = load_file(str(path))
            arrays = cls(**{name: tensors[name] for name in ("coef", "intercept", "scale", "bias")})
        except (SafetensorError, KeyError, OSError) as exc:
            raise ModelError(f"{path}: damaged heads file ({exc})") from None
        shapes = {name: value.shape for name, value in arrays.__dict__.items()}
        if shapes["coef"][:1] != (n_frames,) or any(shapes[name] != (n_frames,) for name in ("intercept", "scale", "bias")):
            raise ModelError(f"{path}: heads of shapes {shapes} do not fit {n_frames} frames")
        return arrays


def _vectorizer_state(vectorizer) -> dict:
    settings = {name: getattr(vectorizer, name) for name in _VECTORIZER_SETTINGS}
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)
    return {"settings": settings, "vocabulary": terms, "idf": vectorizer.idf_.astype(float).tolist()}


def _vectorizer_from_state(state: dict, folder: Path):
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        settings = dict(state["settings"], ngram_range=tuple(state["settings"]["ngram_range"]))
        vectorizer = TfidfVectorizer(dtype=np.float32, **settings)
        vectorizer.vocabulary_ = {term: index for index, term in enumerate(state["vocabulary"])}
        vectorizer.idf_ = np.asarray(state["idf"], dtype=np.float32)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"{folder / VECTORIZER_FILE}: damaged vectorizer ({exc})") from None
    if len(vectorizer.idf_) != len(vectorizer.vocabulary_):
        raise ModelError(f"{folder / VECTORIZER_FILE}: {len(vectorizer.idf_)} idf weights for {len(vectorizer.vocabulary_)} terms")
    return vectorizer


def _frame_head(y: np.ndarray, C: float, seed: int, solver: str):
    """A calibrated logistic regression for one frame; a constant predictor when the frame is always or never present."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression

    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    if positives == 0 or negatives == 0:
        return DummyClassifier(strategy="constant", constant=int(positives > 0)).fit(np.zeros((len(y), 1)), y)
    regression = LogisticRegression(C=C, class_weight="balanced", max_iter=2000, random_state=seed, solver=solver)
    folds = min(3, positives, negatives)
    return CalibratedClassifierCV(regression, method="sigmoid", cv=folds, ensemble=False) if folds >= 2 else regression


class LinearHeadClassifier(FrameClassifier):
    """Features -> one calibrated logistic regression per frame."""

    # Whether features depend on the training data (a fitted vectorizer) or are fixed (a frozen encoder).
    features_are_fixed: ClassVar[bool] = False

    def __init__(self, codebook, seed: int = 0, **params):
        super().__init__(codebook, seed=seed, **params)
        self.heads: HeadArrays | None = None

    def _fit(self, texts: list[str], Y: np.ndarray, features=None) -> None:
        X = self._fit_features(texts) if features is None else features
        if self.base is not None:
            self.heads = self._adapted_heads(X, Y)
            return
        estimators = []
        for j in range(Y.shape[1]):
            head = _frame_head(Y[:, j], self.params["C"], self.seed, self.params["solver"])
            if not hasattr(head, "classes_"):
                head.fit(X, Y[:, j])
            estimators.append(head)
        self.heads = HeadArrays.from_estimators(estimators, X.shape[1])

    def _adapted_heads(self, X, Y: np.ndarray) -> HeadArrays:
        """Heads refitted on new labels from the base's: each frame's regression sees the base head's linear
        score as one more feature beside the (base's) features, so it starts from what the base knew and
        learns the correction the new labels ask for; the result is again one linear score per frame
        (``coef + w * base coef``), calibrated on the new data. A frame the new labels cannot train keeps
        the base's head."""
        from scipy.sparse import csr_matrix, hstack, issparse

        base = self.base.heads
        base_scores = base.decision(X)
        kept = self.kept_from_base(Y)
        heads = HeadArrays(base.coef.copy(), base.intercept.copy(), base.scale.copy(), base.bias.copy())
        # Only the features some new passage has can get a correction (the others' would be 0): fitting on
        # them alone keeps a refit over a large TF-IDF vocabulary fast.
        used = np.unique(X.indices) if issparse(X) else np.arange(X.shape[1])
        X = X[:, used]
        for j in np.flatnonzero(~kept):
            # Scaled to unit spread like the other features (an unscaled score makes liblinear crawl).
            spread = float(base_scores[:, j].std()) or 1.0
            column = (base_scores[:, j : j + 1] / spread).astype(np.float32)
            stacked = hstack([X, csr_matrix(column)], format="csr") if issparse(X) else np.hstack([X, column])
            head = _frame_head(Y[:, j], self.params["C"], self.seed, self.params["solver"]).fit(stacked, Y[:, j])
            fitted = HeadArrays.from_estimators([head], stacked.shape[1])
            weight = fitted.coef[0, -1] / spread
            heads.coef[j] = weight * base.coef[j]
            heads.coef[j, used] += fitted.coef[0, :-1]
            heads.intercept[j] = fitted.intercept[0] + weight * base.intercept[j]
            # A calibration fitted the wrong way round (few positives in its folds) would invert the ranking: keep the regression's own sigmoid.
            heads.scale[j], heads.bias[j] = (fitted.scale[0], fitted.bias[0]) if fitted.scale[0] < 0 else (-1.0, 0.0)
        return heads

    def _scores(self, texts: list[str]) -> np.ndarray:
        return self._scores_from_features(self._features(texts))

    def _scores_from_features(self, X) -> np.ndarray:
        return self._checked_heads(X).probabilities(X)

    def _checked_heads(self, X) -> HeadArrays:
        if self.heads is None:
            raise ModelError("the model is not fitted")
        if X.shape[1] != self.heads.coef.shape[1]:
            raise ModelError(f"the features have {X.shape[1]} columns but the heads expect {self.heads.coef.shape[1]}")
        return self.heads

    def _uncalibrated_from_features(self, X) -> np.ndarray:
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-self._checked_heads(X).decision(X)))

    def _tuning_scores(self, texts):
        return self._uncalibrated_from_features(self._features(texts))

    def _probability_thresholds(self, tuned):
        return self.heads.calibrated(tuned)

    def out_of_fold_scores(self, texts, Y, groups):
        if not self.features_are_fixed:
            return super().out_of_fold_scores(texts, Y, groups)
        # A frozen encoder gives the same features in every fold: encode once, refit only the heads.
        X = self._features(texts)
        scores = np.zeros(Y.shape, dtype=float)
        for train_index, test_index in out_of_fold_splits(len(texts), groups, self.threshold_folds, self.seed):
            fold_model = self.fold_model()
            fold_model._fit([], Y[train_index], features=X[train_index])
            scores[test_index] = fold_model._uncalibrated_from_features(X[test_index])
        self._cached_features = (texts, X)
        return scores

    def fit(self, texts, Y, groups=None):
        self._cached_features = None
        super().fit(texts, Y, groups)
        self._cached_features = None
        return self

    def _fit_features(self, texts: list[str]):
        cached = getattr(self, "_cached_features", None)
        if cached is not None and cached[0] is texts:
            return cached[1]
        return self._features(texts)

    def _save(self, folder: Path) -> list[str]:
        self.heads.save(folder / HEADS_FILE)
        return [HEADS_FILE]

    def _load(self, folder: Path) -> None:
        self.heads = HeadArrays.load(folder / HEADS_FILE, len(self.codebook.frames))

    def _features(self, texts: list[str]):
        raise NotImplementedError


class TfidfClassifier(LinearHeadClassifier):
    """TF-IDF word uni- and bigrams (sublinear term frequency) with a logistic-regression head per frame."""

    family = "tfidf"

    @classmethod
    def default_params(cls) -> dict:
        # liblinear is several times faster than lbfgs on sparse, high-dimensional TF-IDF features.
        return {"C": 4.0, "min_df": 2, "max_features": 100_000, "ngram_max": 2, "solver": "liblinear"}

    def _fit_features(self, texts):
        from sklearn.feature_extraction.text import TfidfVectorizer

        if self.base is not None:  # adapting: the base's vocabulary and weights, so its heads still apply
            self.vectorizer = self.base.vectorizer
            return self.vectorizer.transform(texts)
        self.vectorizer = TfidfVectorizer(
            ngram_range=(1, self.params["ngram_max"]),
            min_df=min(self.params["min_df"], max(1, len(texts) // 10)),
            max_features=self.params["max_features"],
            sublinear_tf=True,
            strip_accents="unicode",
            dtype=np.float32,
        )
        return self.vectorizer.fit_transform(texts)

    def _features(self, texts):
        return self.vectorizer.transform(texts)

    def _save(self, folder: Path) -> list[str]:
        write_text_atomic(folder / VECTORIZER_FILE, json.dumps(_vectorizer_state(self.vectorizer), ensure_ascii=False))
        return super()._save(folder) + [VECTORIZER_FILE]

    def _load(self, folder: Path) -> None:
        self.vectorizer = _vectorizer_from_state(json.loads((folder / VECTORIZER_FILE).read_text(encoding="utf-8")), folder)
        super()._load(folder)


class EmbeddingClassifier(LinearHeadClassifier):
    """Frozen all-MiniLM-L6-v2 embeddings with a logistic-regression head per frame."""

    family = "embed"
    features_are_fixed = True
    uses_sentence_encoder = True

    @classmethod
    def default_params(cls) -> dict:
        return {"C": 2.0, "solver": "lbfgs"}

    def _features(self, texts):
        return _embeddings(texts)

    def _save(self, folder: Path) -> list[str]:
        self.card.notes = _with_encoder_note(self.card.notes)
        return super()._save(folder)


class HybridClassifier(TfidfClassifier):
    """TF-IDF features and frozen MiniLM embeddings concatenated, with a logistic-regression head per frame."""

    family = "hybrid"
    uses_sentence_encoder = True

    @classmethod
    def default_params(cls) -> dict:
        return dict(super().default_params(), embedding_weight=1.0)

    def fit(self, texts, Y, groups=None):
        from framing.models.encoder import cached_embeddings

        # The threshold-tuning folds refit the vectorizer but would re-encode the same texts: encode once.
        with cached_embeddings():
            return super().fit(texts, Y, groups)

    def _fit_features(self, texts):
        return self._joined(super()._fit_features(texts), texts)

    def _features(self, texts):
        return self._joined(super()._features(texts), texts)

    def _joined(self, word_features, texts):
        from scipy.sparse import csr_matrix, hstack

        embedded = csr_matrix(_embeddings(texts) * np.float32(self.params["embedding_weight"]))
        return hstack([word_features, embedded], format="csr")

    def _save(self, folder: Path) -> list[str]:
        self.card.notes = _with_encoder_note(self.card.notes)
        return super()._save(folder)


def _embeddings(texts: list[str]) -> np.ndarray:
    from framing.models.encoder import SentenceEncoder

    return SentenceEncoder().encode(texts)


def _with_encoder_note(notes: list[str]) -> list[str]:
    """The card says which encoder backend produced the training embeddings (heads expect the same one)."""
    from framing.models.encoder import SentenceEncoder

    described = SentenceEncoder().describe()
    note = "Embeddings: " + ", ".join(f"{key} {value}" for key, value in described.items())
    return [n for n in notes if not n.startswith("Embeddings: ")] + [note]
