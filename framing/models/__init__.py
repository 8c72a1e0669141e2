"""Frame models: one contract (``base.FrameClassifier``), several families.

``make_model(family, codebook)`` builds an unfitted model; ``load_model(folder)`` loads a saved one,
checking its format version, codebook and file checksums first. The default model is the folder
named in ``models/DEFAULT`` (override the models directory with FRAMING_MODELS_DIR).
"""

from __future__ import annotations

import os
from pathlib import Path

from framing.codebook import Codebook
from framing.errors import ModelError
from framing.models.base import FrameClassifier, read_manifest, restore

FAMILIES = {
    "tfidf": "framing.models.linear:TfidfClassifier",
    "embed": "framing.models.linear:EmbeddingClassifier",
    "hybrid": "framing.models.linear:HybridClassifier",
    "finetune": "framing.models.finetune:FineTunedClassifier",
}
# What `framing train` and `framing evaluate` use without --model: the family with the best macro-F1 on the
# held-out stories (benchmarks/results/heldout.md, from `python benchmarks/heldout.py`).
DEFAULT_FAMILY = "finetune"
DEFAULT_POINTER = "DEFAULT"


def family_class(family: str) -> type[FrameClassifier]:
    import importlib

    if family not in FAMILIES:
        raise ModelError(f"unknown model family {family!r}; choose one of: {', '.join(FAMILIES)}")
    module, name = FAMILIES[family].split(":")
    return getattr(importlib.import_module(module), name)


def make_model(family: str, codebook: Codebook, seed: int = 0, **params) -> FrameClassifier:
    return family_class(family)(codebook, seed=seed, **params)


def models_dir() -> Path:
    """The models directory: $FRAMING_MODELS_DIR, else ``models/`` beside the package (the repository)."""
    configured = os.environ.get("FRAMING_MODELS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "models"


def default_model_dir() -> Path:
    pointer = models_dir() / DEFAULT_POINTER
    if not pointer.is_file():
        raise ModelError(f"{pointer}: no default model is set; train one with `framing train` or pass --model FOLDER")
    return models_dir() / pointer.read_text(encoding="utf-8").strip()


def load_model(folder: str | Path | None = None, codebook: Codebook | None = None) -> FrameClassifier:
    """Load a model folder (the default one without a folder; a ``DEFAULT`` pointer file stands for the folder it
    names). With ``codebook``, refuse a model made for another."""
    folder = Path(folder) if folder is not None else default_model_dir()
    if folder.is_file() and folder.name == DEFAULT_POINTER:  # models/DEFAULT: the folder it names, beside it
        folder = folder.parent / folder.read_text(encoding="utf-8").strip()
    if not folder.is_dir():
        raise ModelError(f"{folder}: model folder not found")
    manifest = read_manifest(folder, expected_codebook=codebook)
    return restore(family_class(manifest.get("family", "")), folder, manifest)
