"""Three families with a calibrated logistic-regression head per frame:

- ``tfidf``: TF-IDF word and bigram features, the fast baseline;
- ``embed``: frozen all-MiniLM-L6-v2 sentence embeddings;
- ``hybrid``: both side by side (the TF-IDF features and the embedding, each of unit length), so a
  head can use what a word says and what a passage means.

Each frame gets its own ``CalibratedClassifierCV(LogisticRegression)`` (sigmoid calibration on
internal folds), so every frame can have a different number of positives. Heads and the vectorizer
are persisted with skops, which loads only the types on ``_TRUSTED_TYPES``.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from framing.errors import ModelError
from framing.models.base import FrameClassifier, out_of_fold_splits

HEADS_FILE = "heads.skops"
VECTORIZER_FILE = "vectorizer.skops"
_TRUSTED_TYPES = {
    "builtins.dict", "builtins.list", "builtins.tuple", "builtins.slice", "builtins.float", "builtins.int", "builtins.str",
    "numpy.dtype", "numpy.ndarray", "numpy.float64", "numpy.int64", "numpy.int32", "numpy.str_",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.calibration.CalibratedClassifierCV", "sklearn.calibration._CalibratedClassifier", "sklearn.calibration._SigmoidCalibration",
    "sklearn.feature_extraction.text.TfidfVectorizer", "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.dummy.DummyClassifier", "scipy.sparse._csr.csr_matrix",
}


def skops_dump(obj, path: Path) -> None:
    import skops.io as sio

    sio.dump(obj, path)


def skops_load(path: Path):
    """Load a skops file, refusing any type outside the allow-list (no arbitrary code runs)."""
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    refused = sorted(set(untrusted) - _TRUSTED_TYPES)
    if refused:
        raise ModelError(f"{path}: refused to load types outside the allow-list: {', '.join(refused)}")
    return sio.load(path, trusted=untrusted)


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


def _positive_proba(head, X) -> np.ndarray:
    from sklearn.dummy import DummyClassifier

    if isinstance(head, DummyClassifier):
        return np.full(X.shape[0], float(head.constant))
    return head.predict_proba(X)[:, 1]


class LinearHeadClassifier(FrameClassifier):
    """Features -> one calibrated logistic regression per frame."""

    # Whether features depend on the training data (a fitted vectorizer) or are fixed (a frozen encoder).
    features_are_fixed: ClassVar[bool] = False

    def __init__(self, codebook, seed: int = 0, **params):
        super().__init__(codebook, seed=seed, **params)
        self.heads: list = []

    def _fit(self, texts: list[str], Y: np.ndarray, features=None) -> None:
        X = self._fit_features(texts) if features is None else features
        self.heads = []
        for j in range(Y.shape[1]):
            head = _frame_head(Y[:, j], self.params["C"], self.seed, self.params["solver"])
            if not hasattr(head, "classes_"):
                head.fit(X, Y[:, j])
            self.heads.append(head)

    def _scores(self, texts: list[str]) -> np.ndarray:
        return self._scores_from_features(self._features(texts))

    def _scores_from_features(self, X) -> np.ndarray:
        if not self.heads:
            raise ModelError("the model is not fitted")
        return np.column_stack([_positive_proba(head, X) for head in self.heads])

    def out_of_fold_proba(self, texts, Y, groups):
        if not self.features_are_fixed:
            return super().out_of_fold_proba(texts, Y, groups)
        # A frozen encoder gives the same features in every fold: encode once, refit only the heads.
        X = self._features(texts)
        probabilities = np.zeros(Y.shape, dtype=float)
        for train_index, test_index in out_of_fold_splits(len(texts), groups, self.threshold_folds, self.seed):
            fold_model = self.__class__(self.codebook, seed=self.seed, **self.params)
            fold_model._fit([], Y[train_index], features=X[train_index])
            probabilities[test_index] = fold_model._scores_from_features(X[test_index])
        self._cached_features = (texts, X)
        return probabilities

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
        skops_dump(self.heads, folder / HEADS_FILE)
        return [HEADS_FILE]

    def _load(self, folder: Path) -> None:
        self.heads = skops_load(folder / HEADS_FILE)
        if len(self.heads) != len(self.codebook.frames):
            raise ModelError(f"{folder}: {len(self.heads)} heads for {len(self.codebook.frames)} frames")

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
        skops_dump(self.vectorizer, folder / VECTORIZER_FILE)
        return super()._save(folder) + [VECTORIZER_FILE]

    def _load(self, folder: Path) -> None:
        self.vectorizer = skops_load(folder / VECTORIZER_FILE)
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
