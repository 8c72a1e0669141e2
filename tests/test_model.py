"""The committed default model: it loads safely, checks itself, and behaves sensibly on clear passages."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from framing.codebook import from_dict, load_codebook
from framing.errors import ModelError
from framing.models import default_model_dir, load_model
from framing.models.base import FORMAT_VERSION, MODEL_FILE


def test_default_model_loads_with_the_default_codebook(default_model):
    assert default_model.codebook.frame_names == load_codebook().frame_names
    assert default_model.thresholds.shape == (4,)
    assert np.all((default_model.thresholds > 0) & (default_model.thresholds < 1))


def test_model_folder_has_no_pickle_and_a_card():
    folder = default_model_dir()
    suffixes = {p.suffix for p in folder.iterdir()}
    assert not suffixes & {".pkl", ".pickle", ".joblib", ".pt", ".bin"}
    card = (folder / "MODEL_CARD.md").read_text()
    manifest = json.loads((folder / MODEL_FILE).read_text())
    assert manifest["card"]["data_hash"] in card
    assert "held-out stories" in manifest["card"]["metrics"]
    for name in load_codebook().frame_names:
        assert name in card


@pytest.mark.parametrize(
    "text, frame",
    [
        ("Exporters of grapes and copper warned that the rupture could cost them 300 million dollars a year in lost sales, and freight rates doubled.", "economic"),
        ("Lawyers for the detained activist said she had been denied medication and had not seen her children for eleven months in pre-trial detention.", "humanitarian"),
        ("The foreign ministry declared the ambassador persona non grata and accused the neighbouring government of meddling in its internal affairs.", "sovereignty"),
        ("The left-wing governments of the region closed ranks behind the deposed president, while conservative allies of Washington recognised the new interim leader.", "ideological-bloc"),
    ],
)
def test_clear_passages_get_their_frame(default_model, text, frame):
    probabilities = default_model.predict_proba([text])[0]
    names = default_model.codebook.frame_names
    assert names[int(np.argmax(probabilities))] == frame
    assert default_model.predict([text])[0][names.index(frame)]


def test_procedural_passage_gets_no_frame(default_model):
    predicted = default_model.predict(["The statement was released shortly before midnight local time, the agency said."])
    assert not predicted.any()


def test_predictions_are_deterministic_and_ordered(default_model):
    texts = ["Tariffs on barley rose to 80 percent.", "The envoy was expelled.", "Refugees slept in the forest at minus five degrees."]
    first = default_model.predict_proba(texts)
    reversed_ = default_model.predict_proba(texts[::-1])[::-1]
    np.testing.assert_allclose(first, reversed_, atol=1e-5)


@pytest.fixture
def model_copy(tmp_path):
    target = tmp_path / "model"
    shutil.copytree(default_model_dir(), target)
    return target


def test_a_changed_model_file_is_refused(model_copy):
    manifest = json.loads((model_copy / MODEL_FILE).read_text())
    victim = model_copy / next(iter(manifest["files"]))
    victim.write_bytes(victim.read_bytes() + b"\0")
    with pytest.raises(ModelError, match="checksum"):
        load_model(model_copy)


def test_a_newer_format_is_refused(model_copy):
    manifest = json.loads((model_copy / MODEL_FILE).read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    (model_copy / MODEL_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="newer"):
        load_model(model_copy)


def test_a_model_for_another_codebook_is_refused(model_copy):
    other = from_dict({"name": "x", "frames": [{"name": "economic", "definition": "Money."}, {"name": "morality", "definition": "Right and wrong."}]})
    with pytest.raises(ModelError, match="another codebook"):
        load_model(model_copy, codebook=other)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda path: path.write_bytes(b"\x80\x04\x95 a pickle, not safetensors"), "damaged heads file"),
        (lambda path: __import__("safetensors.numpy").numpy.save_file({"coef": np.zeros((2, 3))}, str(path)), "damaged heads file"),
        (lambda path: __import__("safetensors.numpy").numpy.save_file({k: np.zeros(3) for k in ("coef", "intercept", "scale", "bias")}, str(path)), "do not fit 4 frames"),
    ],
    ids=["not-safetensors", "missing-arrays", "wrong-shapes"],
)
def test_damaged_heads_are_refused_even_with_a_matching_checksum(tmp_path, damage, message):
    from framing.models import models_dir
    from framing.models.base import sha256_file
    from framing.models.linear import HEADS_FILE

    model_copy = tmp_path / "tfidf"
    shutil.copytree(sorted(models_dir().glob("tfidf-*"))[-1], model_copy)  # the committed fast model: a linear family

    damage(model_copy / HEADS_FILE)
    manifest = json.loads((model_copy / MODEL_FILE).read_text())
    manifest["files"][HEADS_FILE] = sha256_file(model_copy / HEADS_FILE)
    (model_copy / MODEL_FILE).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match=message):
        load_model(model_copy)


@pytest.fixture
def small_model_copy(tmp_path):
    from framing.models import models_dir

    target = tmp_path / "tfidf"
    shutil.copytree(next(models_dir().glob("tfidf-*")), target)
    return target


def _edit_manifest(folder, edit):
    manifest = json.loads((folder / MODEL_FILE).read_text())
    edited = edit(manifest)
    (folder / MODEL_FILE).write_text(json.dumps(edited if isinstance(edited, list) else manifest))


def _swap_frames(m):
    m["codebook"]["frames"][0], m["codebook"]["frames"][3] = m["codebook"]["frames"][3], m["codebook"]["frames"][0]


@pytest.mark.parametrize("edit, message", [
    (lambda m: m.pop("files"), "'files' is a required property"),
    (lambda m: m.update(format_version=0), "not a version framing ever wrote"),
    (lambda m: m.update(format_version=-5), "not a version framing ever wrote"),
    (lambda m: m.update(format_version="1"), "format_version: '1' is not of type 'integer'"),
    (lambda m: m.pop("format_version"), "'format_version' is a required property"),
    (lambda m: [m], "not of type 'object'"),
    (lambda m: m["thresholds"].pop("economic"), "thresholds are given for"),
    (lambda m: m["params"].update(bogus=1), "unknown parameters"),
    (lambda m: m.update(codebook_fingerprint="0123456789abcdef"), "fingerprint does not match"),
    (lambda m: m["codebook"]["frames"][0].update(name="sovereignty2"), "fingerprint does not match"),
    (_swap_frames, "fingerprint does not match"),
], ids=["no-files", "version-0", "version-negative", "version-string", "no-version", "a-list", "missing-threshold", "unknown-param",
        "edited-fingerprint", "renamed-frame", "swapped-frames"])
def test_a_tampered_manifest_is_refused(small_model_copy, edit, message):
    _edit_manifest(small_model_copy, edit)
    with pytest.raises(ModelError, match=message):
        load_model(small_model_copy)


def test_weights_without_a_checksum_are_refused(small_model_copy):
    def drop_heads(m):
        m["files"].pop("heads.safetensors")
    _edit_manifest(small_model_copy, drop_heads)
    with pytest.raises(ModelError, match="heads.safetensors not listed with a checksum"):
        load_model(small_model_copy)


def test_a_tampered_model_exits_4_on_the_cli(run_cli, small_model_copy):
    _edit_manifest(small_model_copy, lambda m: m.update(format_version="1"))
    result = run_cli("classify", "-", "--model", small_model_copy, stdin="Lima expelled the ambassador.\n")
    assert result.exit_code == 4 and "not a valid model manifest" in result.stderr and "Traceback" not in result.stderr


def test_probabilities_come_with_frame_names_and_classify_takes_plain_texts(default_model):
    from framing import api

    texts = ["Tariffs on Australian barley rose to 80 percent.", "Lima expelled the ambassador over interference."]
    frame = default_model.predict_proba_frame(texts)
    assert list(frame.columns) == ["p_sovereignty", "p_humanitarian", "p_ideological-bloc", "p_economic"]
    assert np.allclose(frame.to_numpy(), default_model.predict_proba(texts))
    for given in (pd.DataFrame({"text": texts}), texts):
        table = api.classify(given, default_model)
        assert table["id"].tolist() == ["1", "2"] and table["labels"].iloc[0] == "economic"
