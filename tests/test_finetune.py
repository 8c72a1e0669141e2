"""The fine-tuned family, kept small and fast: one epoch on a few dozen corpus passages, 64-token pieces."""

import json

import numpy as np
import pytest

from framing.codebook import load_codebook
from framing.corpus import label_matrix, load_corpus, repository_labeled_dir
from framing.models import load_model, make_model
from framing.models.base import MODEL_FILE

PARAMS = {"epochs": 1, "max_length": 48, "batch_size": 16, "validation_fraction": 0.3}


@pytest.fixture(scope="module")
def data():
    codebook = load_codebook()
    corpus = load_corpus(repository_labeled_dir() / "corpus")
    # A few passages from each of five stories, so the validation split holds whole stories.
    stories = sorted(corpus["story"].unique())[:5]
    sample = corpus[corpus["story"].isin(stories)].groupby("story").head(5).reset_index(drop=True)
    texts = sample["text"].tolist()
    # One article-length text (over the 150-word chunking limit), to exercise chunking and pooling.
    texts[0] = " ".join(texts[:5])
    assert len(texts[0].split()) > 150
    return codebook, texts, label_matrix(sample, codebook), sample["story"].to_numpy()


@pytest.fixture(scope="module")
def fitted(data):
    codebook, texts, Y, groups = data
    return make_model("finetune", codebook, seed=3, **PARAMS).fit(texts, Y, groups=groups)


def test_fit_shapes_and_calibrated_probabilities(data, fitted):
    codebook, texts, Y, _ = data
    probabilities = fitted.predict_proba(texts)
    assert probabilities.shape == Y.shape
    assert np.all((probabilities >= 0) & (probabilities <= 1))
    assert fitted.predict(texts).shape == Y.shape and fitted.predict(texts).dtype == bool
    assert fitted.thresholds.shape == (len(codebook.frames),)
    assert fitted.validation["n_validation"] > 0 and fitted.validation["n_train"] + fitted.validation["n_validation"] == len(texts)
    assert fitted.predict_proba([]).shape == (0, len(codebook.frames))


def test_save_load_round_trip_is_exact(data, fitted, tmp_path):
    codebook, texts, _, _ = data
    folder = fitted.save(tmp_path / "finetune")
    manifest = json.loads((folder / MODEL_FILE).read_text())
    assert set(manifest["files"]) == {"model.safetensors", "calibration.json"}
    assert not {p.suffix for p in folder.iterdir()} & {".pkl", ".pickle", ".pt", ".bin"}
    loaded = load_model(folder, codebook=codebook)
    np.testing.assert_array_equal(loaded.predict_proba(texts), fitted.predict_proba(texts))
    np.testing.assert_array_equal(loaded.thresholds, fitted.thresholds)


def test_same_seed_same_probabilities(data, fitted):
    codebook, texts, Y, groups = data
    again = make_model("finetune", codebook, seed=3, **PARAMS).fit(texts, Y, groups=groups)
    np.testing.assert_array_equal(again.predict_proba(texts), fitted.predict_proba(texts))
    np.testing.assert_array_equal(again.thresholds, fitted.thresholds)


def test_the_float32_backend_agrees_with_the_int8_one(data, fitted, monkeypatch):
    from framing.models.encoder import BACKEND_ENV

    codebook, texts, Y, groups = data
    int8 = fitted.predict_proba(texts)
    monkeypatch.setenv(BACKEND_ENV, "torch")
    float32 = fitted.predict_proba(texts)
    assert float32.shape == int8.shape
    assert np.abs(float32 - int8).max() < 0.05
    assert np.corrcoef(float32.ravel(), int8.ravel())[0, 1] > 0.99


def test_weights_that_do_not_fit_are_refused(fitted, tmp_path):
    from safetensors import safe_open
    from safetensors.numpy import save_file

    from framing.errors import ModelError
    from framing.models.base import sha256_file

    folder = fitted.save(tmp_path / "finetune")
    with safe_open(str(folder / "model.safetensors"), framework="numpy") as saved:
        weights, metadata = {name: saved.get_tensor(name) for name in saved.keys()}, saved.metadata()
    weights["head.weight"] = weights["head.weight"][:2]
    save_file(weights, str(folder / "model.safetensors"), metadata=metadata)
    manifest = json.loads((folder / MODEL_FILE).read_text())
    manifest["files"]["model.safetensors"] = sha256_file(folder / "model.safetensors")
    (folder / MODEL_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="do not fit"):
        load_model(folder)


def test_adapting_continues_from_the_base_weights_toward_the_new_labels(data, fitted):
    codebook, texts, Y, groups = data
    new = Y.copy()
    new[:, 0] = 1 - new[:, 0]  # the first frame's labels turned round
    # No validation split (one training, kept short): calibration and thresholds stay the base's.
    adapted = fitted.adapted(texts, new, groups, head_learning_rate=1e-2, validation_fraction=0.0)
    assert adapted.base is fitted and adapted.params["learning_rate"] == 1e-5 and adapted.params["epochs"] == fitted.params["epochs"]
    np.testing.assert_array_equal(adapted.thresholds, fitted.thresholds)
    np.testing.assert_array_equal(adapted.calibration_scale, fitted.calibration_scale)
    # Started from the base's trained head, not from a fresh one: the head moved, but little.
    change = np.linalg.norm(adapted.state["head.weight"] - fitted.state["head.weight"]) / np.linalg.norm(fitted.state["head.weight"])
    assert 0 < change < 0.5
    before, after = fitted._logits(texts)[:, 0], adapted._logits(texts)[:, 0]
    moved = after - before
    assert moved[new[:, 0] == 1].mean() > moved[new[:, 0] == 0].mean()
