"""The contract every model family follows, and what they share.

A frame model is a scikit-learn style estimator:

- ``fit(texts, Y, groups=None)``: ``Y`` is an (n, n_frames) 0/1 matrix in the codebook's frame order;
  ``groups`` (stories) keep the out-of-fold predictions used for threshold tuning honest.
- ``predict_proba(texts)``: an (n, n_frames) array of calibrated probabilities.
- ``predict(texts)``: an (n, n_frames) boolean array, each frame cut at its own tuned threshold.
  Thresholds are tuned on out-of-fold scores (``out_of_fold_scores``), on whatever scale a family
  ranks on, and stored on the scale of ``predict_proba``.
- ``save(folder)`` / ``load(folder)``: a folder with ``model.json`` (family, format version, codebook,
  thresholds, parameters, card, SHA-256 of every weight file) and weights in safetensors or JSON
  files. Nothing is unpickled, so loading a model folder never runs code from it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import ClassVar

import numpy as np

from framing.codebook import Codebook, from_dict
from framing.errors import FramingError, ModelError
from framing.tables import write_text_atomic

FORMAT_VERSION = 1
MODEL_FILE = "model.json"
CARD_FILE = "MODEL_CARD.md"
TRACKED_LIBRARIES = ("framing", "numpy", "scikit-learn", "torch", "transformers", "tokenizers", "onnxruntime", "safetensors")


def library_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for name in TRACKED_LIBRARIES:
        try:
            versions[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            continue
    return versions


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def tune_thresholds(Y: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
    """Per frame, the threshold that maximises F1 on out-of-fold probabilities (ties: closest to 0.5)."""
    grid = np.round(np.arange(0.05, 0.951, 0.01), 2)
    thresholds = np.full(Y.shape[1], 0.5)
    for j in range(Y.shape[1]):
        truth = Y[:, j].astype(bool)
        if truth.sum() == 0:
            continue
        predicted = probabilities[:, j][:, None] >= grid[None, :]
        tp = (predicted & truth[:, None]).sum(axis=0)
        f1 = 2 * tp / (predicted.sum(axis=0) + truth.sum())
        best = np.flatnonzero(np.isclose(f1, f1.max()))
        thresholds[j] = grid[best[np.argmin(np.abs(grid[best] - 0.5))]]
    return thresholds


def out_of_fold_splits(n: int, groups: np.ndarray | None, n_splits: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """K folds, grouped (whole stories kept together) when groups are given and there are enough of them."""
    from sklearn.model_selection import GroupKFold, KFold

    if groups is not None and len(set(groups)) >= n_splits:
        return list(GroupKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(np.zeros(n), groups=groups))
    return list(KFold(n_splits=n_splits, shuffle=True, random_state=seed).split(np.zeros(n)))


@dataclass
class ModelCard:
    """What a model folder records about itself; rendered as MODEL_CARD.md."""

    data_hash: str = ""
    data_description: str = ""
    n_train: int = 0
    seed: int = 0
    metrics: dict = field(default_factory=dict)
    versions: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    created_by: str = ""
    # An adapted model: the base's folder name, path, family and training-data hash; the added data's file, rows and SHA-256.
    base: dict = field(default_factory=dict)
    added: dict = field(default_factory=dict)


class FrameClassifier:
    """Base class of the model families. Subclasses implement ``_fit``, ``_scores``, ``_save`` and ``_load``."""

    family: ClassVar[str] = ""
    # Whether features come from the packaged sentence encoder (its backend then matters to the results).
    uses_sentence_encoder: ClassVar[bool] = False
    # Folds used to get out-of-fold probabilities for threshold tuning.
    threshold_folds: ClassVar[int] = 5

    def __init__(self, codebook: Codebook, seed: int = 0, **params):
        self.codebook = codebook
        self.seed = seed
        self.params = dict(self.default_params(), **params)
        unknown = set(params) - set(self.default_params())
        if unknown:
            raise ValueError(f"unknown parameters for the {self.family} model: {', '.join(sorted(unknown))}")
        self.thresholds = np.full(len(codebook.frames), 0.5)
        self.card = ModelCard()
        self.folder: Path | None = None
        # The fitted model this one is adapted from (``adapted``); None for a model trained from scratch.
        self.base: FrameClassifier | None = None

    @classmethod
    def adapt_params(cls) -> dict:
        """Parameters that ``adapted`` changes from the base's (a family may continue training more gently)."""
        return {}

    def adapted(self, texts: list[str], Y: np.ndarray, groups: np.ndarray | None = None, **params) -> FrameClassifier:
        """A new model adapted from this fitted one to new labels: the same codebook, features and encoder,
        training continued from this model's weights (each family's ``_fit`` says how), thresholds re-tuned
        on the new data's out-of-fold (or validation) scores. A frame with no positive or no negative in the
        new data keeps this model's head and threshold. This model is left unchanged."""
        model = self.__class__(self.codebook, seed=self.seed, **{**self.params, **self.adapt_params(), **params})
        model.base = self
        return model.fit(texts, Y, groups)

    def fold_model(self) -> FrameClassifier:
        """An unfitted model like this one (same parameters, same base) for an inner fold."""
        model = self.__class__(self.codebook, seed=self.seed, **self.params)
        model.base = self.base
        return model

    def kept_from_base(self, Y: np.ndarray) -> np.ndarray:
        """Per frame, whether the new labels cannot train it (no positive or no negative): it keeps the base's head and threshold."""
        if self.base is None:
            return np.zeros(Y.shape[1], dtype=bool)
        positives = Y.sum(axis=0)
        return (positives == 0) | (positives == len(Y))

    @classmethod
    def default_params(cls) -> dict:
        return {}

    # -- scikit-learn style API --------------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict:
        return {"codebook": self.codebook, "seed": self.seed, **self.params}

    def fit(self, texts: list[str], Y: np.ndarray, groups: np.ndarray | None = None) -> FrameClassifier:
        texts = list(texts)
        Y = np.asarray(Y, dtype=int)
        if Y.shape != (len(texts), len(self.codebook.frames)):
            raise ValueError(f"Y must have shape ({len(texts)}, {len(self.codebook.frames)}), got {Y.shape}")
        tuned = tune_thresholds(Y, self.out_of_fold_scores(texts, Y, groups))
        self._fit(texts, Y)
        self.thresholds = np.where(self.kept_from_base(Y), self.base.thresholds if self.base is not None else 0.5, self._probability_thresholds(tuned))
        return self

    def out_of_fold_scores(self, texts: list[str], Y: np.ndarray, groups: np.ndarray | None) -> np.ndarray:
        """Threshold-tuning scores for every passage from a model that did not see its fold (its story, when grouped)."""
        scores = np.zeros(Y.shape, dtype=float)
        for train_index, test_index in out_of_fold_splits(len(texts), groups, self.threshold_folds, self.seed):
            fold_model = self.fold_model()
            fold_model._fit([texts[i] for i in train_index], Y[train_index])
            scores[test_index] = fold_model._tuning_scores([texts[i] for i in test_index])
        return scores

    def _tuning_scores(self, texts: list[str]) -> np.ndarray:
        """The scores thresholds are tuned on: by default the probabilities themselves."""
        return self.predict_proba(texts)

    def _probability_thresholds(self, tuned: np.ndarray) -> np.ndarray:
        """Thresholds tuned on ``_tuning_scores`` as thresholds on this fitted model's probabilities."""
        return tuned

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, len(self.codebook.frames)))
        return np.asarray(self._scores(texts), dtype=float)

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.predict_proba(texts) >= self.thresholds[None, :]

    def predict_proba_frame(self, texts: list[str]):
        """:meth:`predict_proba` as a DataFrame with a named column per frame (``p_sovereignty``, ...), one row per text."""
        import pandas as pd

        return pd.DataFrame(self.predict_proba(texts), columns=self.codebook.probability_columns)

    # -- persistence -----------------------------------------------------------------------------
    def save(self, folder: str | Path) -> Path:
        from framing.models.card import render_card

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        weight_files = self._save(folder)
        manifest = {
            "format_version": FORMAT_VERSION,
            "family": self.family,
            "seed": self.seed,
            "params": self.params,
            "thresholds": {name: float(t) for name, t in zip(self.codebook.frame_names, self.thresholds)},
            "codebook": self.codebook.to_dict(),
            "codebook_fingerprint": self.codebook.fingerprint,
            "files": {name: sha256_file(folder / name) for name in sorted(weight_files)},
            "card": self.card.__dict__,
        }
        write_text_atomic(folder / MODEL_FILE, json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        write_text_atomic(folder / CARD_FILE, render_card(self, manifest))
        return folder

    def _fit(self, texts: list[str], Y: np.ndarray) -> None:
        raise NotImplementedError

    def _scores(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError

    def _save(self, folder: Path) -> list[str]:
        raise NotImplementedError

    def _load(self, folder: Path) -> None:
        raise NotImplementedError


SCHEMA_FILE = Path(__file__).with_name("model.schema.json")
# Files a model folder may hold beyond its weights: written from the manifest, never read to score.
DESCRIPTIVE_FILES = {MODEL_FILE, CARD_FILE, "evaluation.md"}


@functools.cache
def _manifest_validator():
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))


def read_manifest(folder: Path, expected_codebook: Codebook | None = None) -> dict:
    """Read and check ``model.json``: its schema (``model.schema.json``), format version, codebook and
    fingerprint, thresholds per frame, and a checksum for every file of the folder. Anything else is a
    ModelError (exit 4) in one line."""
    import jsonschema

    manifest_path = folder / MODEL_FILE
    if not manifest_path.is_file():
        raise ModelError(f"{folder}: not a model folder (no {MODEL_FILE})")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{manifest_path}: damaged model manifest ({exc})") from None
    error = jsonschema.exceptions.best_match(_manifest_validator().iter_errors(manifest))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the top level"
        raise ModelError(f"{manifest_path}: not a valid model manifest ({where}: {error.message})")
    version = manifest["format_version"]
    if version > FORMAT_VERSION:
        raise ModelError(f"{folder}: model format version {version} is newer than this framing reads ({FORMAT_VERSION}); upgrade framing")
    if version < 1:
        raise ModelError(f"{manifest_path}: format version {version} is not a version framing ever wrote")
    try:
        codebook = from_dict(manifest["codebook"], source=str(manifest_path))
    except FramingError as exc:
        raise ModelError(str(exc)) from None
    if codebook.fingerprint != manifest["codebook_fingerprint"]:
        raise ModelError(f"{manifest_path}: the codebook fingerprint does not match the codebook's frames (the manifest was edited)")
    if sorted(manifest["thresholds"]) != sorted(codebook.frame_names):
        raise ModelError(f"{manifest_path}: thresholds are given for {', '.join(sorted(manifest['thresholds']))}, "
                         f"but the codebook's frames are {', '.join(codebook.frame_names)}")
    if expected_codebook is not None and (manifest["codebook_fingerprint"] != expected_codebook.fingerprint or codebook.frame_names != expected_codebook.frame_names):
        raise ModelError(
            f"{folder}: the model was trained for another codebook (frames: {', '.join(codebook.frame_names)}); "
            f"it cannot score frames {', '.join(expected_codebook.frame_names)}"
        )
    unlisted = sorted(p.name for p in folder.iterdir() if p.is_file() and p.name not in DESCRIPTIVE_FILES and p.name not in manifest["files"])
    if unlisted:
        raise ModelError(f"{folder}: {', '.join(unlisted)} not listed with a checksum in {MODEL_FILE}")
    for name, digest in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            raise ModelError(f"{path}: model file missing")
        if sha256_file(path) != digest:
            raise ModelError(f"{path}: checksum does not match the model card; the file is damaged or was changed")
    return manifest


def restore(cls: type[FrameClassifier], folder: Path, manifest: dict) -> FrameClassifier:
    codebook = from_dict(manifest["codebook"], source=str(folder / MODEL_FILE))
    try:
        model = cls(codebook, seed=manifest.get("seed", 0), **manifest.get("params", {}))
    except (TypeError, ValueError) as exc:
        raise ModelError(f"{folder / MODEL_FILE}: {exc}") from None
    model.thresholds = np.array([manifest["thresholds"][name] for name in codebook.frame_names], dtype=float)
    model.card = ModelCard(**manifest.get("card", {}))
    model._load(folder)
    # Where it came from, so a distributed run can send workers the folder rather than the weights.
    model.folder = folder
    return model
