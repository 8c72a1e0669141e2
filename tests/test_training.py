"""Batch retraining: reproducible metrics, versioned folders with cards, promotion only when not worse."""

import json

import numpy as np
import pytest

from framing.codebook import load_codebook
from framing.corpus import load_corpus
from framing.evaluation import train_and_register
from framing.models import DEFAULT_POINTER, load_model
from framing.models.base import MODEL_FILE

from .conftest import ROOT

CODEBOOK = load_codebook()
HELD_OUT = ["canada-saudi-2018", "czech-russia-vrbetice-2021"]
TRAIN_STORIES = ["qatar-blockade-2017", "uk-russia-skripal-2018", "australia-china-trade-2020", "venezuela-recognition-2019",
                 "poland-belarus-border-2021", "algeria-morocco-2021"]


@pytest.fixture(scope="module")
def small_corpus():
    corpus = load_corpus(ROOT / "labeled")
    return corpus[corpus["story"].isin(TRAIN_STORIES + HELD_OUT)].reset_index(drop=True)


def _train(corpus, root, **kwargs):
    return train_and_register("tfidf", corpus, CODEBOOK, HELD_OUT, root, seed=kwargs.pop("seed", 0), folds=3, **kwargs)


def test_same_data_and_seed_give_the_same_metrics(small_corpus, tmp_path):
    first = _train(small_corpus, tmp_path / "a", promote=False)
    second = _train(small_corpus, tmp_path / "b", promote=False)
    assert first.model.card.metrics == second.model.card.metrics
    assert first.model.card.data_hash == second.model.card.data_hash
    texts = small_corpus["text"].head(20).tolist()
    np.testing.assert_array_equal(first.model.predict_proba(texts), second.model.predict_proba(texts))


def test_a_new_version_folder_has_a_complete_card(small_corpus, tmp_path):
    result = _train(small_corpus, tmp_path, promote=True)
    assert result.promoted and (tmp_path / DEFAULT_POINTER).read_text().strip() == result.folder.name
    manifest = json.loads((result.folder / MODEL_FILE).read_text())
    card = manifest["card"]
    assert len(card["data_hash"]) == 64
    assert set(card["metrics"]) == {"cross-validation", "held-out stories"}
    assert card["metrics"]["held-out stories"]["n"] == int(small_corpus["story"].isin(HELD_OUT).sum())
    assert {"scikit-learn", "numpy", "python"} <= set(card["versions"])
    assert manifest["codebook"]["frames"][0]["name"] == "sovereignty" and manifest["seed"] == 0
    assert (result.folder / "evaluation.md").read_text().count("most confident errors") == 2
    reloaded = load_model(result.folder, codebook=CODEBOOK)
    texts = small_corpus["text"].head(5).tolist()
    np.testing.assert_allclose(reloaded.predict_proba(texts), result.model.predict_proba(texts))


def test_promotion_refuses_a_worse_model(small_corpus, tmp_path):
    good = _train(small_corpus, tmp_path, promote=True)
    assert good.promoted
    # Much less training data (one story) gives a model that is worse on the same held-out stories.
    starved = small_corpus[small_corpus["story"].isin(["uk-russia-skripal-2018"] + HELD_OUT)].reset_index(drop=True)
    worse = train_and_register("tfidf", starved, CODEBOOK, HELD_OUT, tmp_path, seed=0, folds=2, promote=True)
    assert not worse.promoted
    assert "not promoted" in worse.promotion_note and "<" in worse.promotion_note
    assert (tmp_path / DEFAULT_POINTER).read_text().strip() == good.folder.name
    assert worse.folder.is_dir()  # kept as a version, just not the default


def test_train_command_refuses_data_that_fails_the_check(run_cli, tmp_path):
    (tmp_path / "corpus").mkdir()
    row = {"id": "1", "text": "The ministry recalled its ambassador for consultations and summoned the envoy to protest the remarks.", "labels": ["tariffs"],
           "story": "s", "register": "wire", "source": "constructed", "annotator": "a"}
    (tmp_path / "corpus" / "x.jsonl").write_text(json.dumps(row) + "\n")
    result = run_cli("train", "--data", tmp_path, "--model", "tfidf", "--models-dir", tmp_path / "models")
    assert result.exit_code == 2
    assert "fails `framing corpus check`" in result.stderr and "unknown frame 'tariffs'" in result.stderr
    assert not (tmp_path / "models").exists()
