"""Adapting a model to a user's labels (`framing train --base`), evaluating a user's labels without stories
(`framing evaluate`: grouped folds, frames without support, bootstrap intervals), and `framing corpus sample`
on any passage table. The first tests reproduce the bugs a new user reported."""

import json

import jsonschema
import numpy as np
import pandas as pd
import pytest

from framing.codebook import load_codebook
from framing.corpus import label_matrix, load_corpus
from framing.errors import EXIT_INPUT, EXIT_MODEL
from framing.evaluation import metrics
from framing.models import load_model
from framing.models.base import MODEL_FILE, SCHEMA_FILE, sha256_file
from framing.tables import read_table

from .conftest import EXAMPLES, ROOT

TFIDF = next(p for p in (ROOT / "models").iterdir() if p.name.startswith("tfidf-"))
CODEBOOK = load_codebook()
STORIES = ["qatar-blockade-2017", "uk-russia-skripal-2018", "australia-china-trade-2020"]


def _user_file(path, rows: pd.DataFrame, fmt: str = "csv"):
    """A user's own labels: id, text, labels, article, outlet; no story, register, source or annotator."""
    table = rows[["id", "text", "labels", "article", "outlet"]].copy()
    if fmt == "csv":
        table["labels"] = table["labels"].map(";".join)
        table.to_csv(path, index=False)
    else:
        table.to_json(path, orient="records", lines=True, force_ascii=False)
    return path


@pytest.fixture(scope="module")
def eighteen():
    """18 passages of three stories (six articles of three passages), with no economic passage."""
    corpus = load_corpus(ROOT / "labeled")
    rows = corpus[corpus["story"].isin(STORIES) & ~corpus["labels"].map(lambda labels: "economic" in labels)].groupby("story").head(6).reset_index(drop=True)
    assert len(rows) == 18
    rows["article"] = [f"{story}-{i // 3}" for i, story in enumerate(rows["story"])]
    rows["outlet"] = ["outlet-" + "abc"[i % 3] for i in range(len(rows))]
    return rows


@pytest.fixture(scope="module")
def thirty():
    """30 passages of five stories, relabeled so that the passages of two stories, and only they, are economic."""
    corpus = load_corpus(ROOT / "labeled")
    rows = corpus[corpus["story"].isin(STORIES + ["venezuela-recognition-2019", "algeria-morocco-2021"])].groupby("story").head(6).reset_index(drop=True)
    rows["labels"] = [sorted(set(labels) - {"economic"} | ({"economic"} if story in STORIES[:2] else set()))
                      for labels, story in zip(rows["labels"], rows["story"])]
    rows["article"] = rows["story"]
    rows["outlet"] = "outlet"
    assert sum("economic" in labels for labels in rows["labels"]) == 12
    return rows


# -- corpus sample --------------------------------------------------------------------------------


def test_sample_draws_n_rows_of_a_passage_table_written_by_score(run_cli, tmp_path):
    passages = tmp_path / "p.csv"
    result = run_cli("score", *sorted(EXAMPLES.glob("*.txt")), "--model", TFIDF, "--output", tmp_path / "a.csv", "--passages", passages)
    assert result.exit_code == 0, result.stderr
    result = run_cli("corpus", "sample", passages, "--n", "5", "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    drawn = [json.loads(line) for line in result.stdout.splitlines()]
    table = read_table(passages)
    assert len(drawn) == 5
    ids = {f"{a}#{i}" for a, i in zip(table["article_id"], table["passage_index"])}
    assert {row["id"] for row in drawn} <= ids and len({row["id"] for row in drawn}) == 5
    assert {row["id"].split("#")[0] for row in drawn} == set(table["article_id"])  # spread over the three articles


@pytest.mark.parametrize("n", [1, 3, 10])
def test_sample_honours_n_on_the_corpus(run_cli, n):
    result = run_cli("corpus", "sample", ROOT / "labeled" / "corpus", "--n", str(n), "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    ids = [json.loads(line)["id"] for line in result.stdout.splitlines()]
    assert len(ids) == len(set(ids)) == n
    corpus = load_corpus(ROOT / "labeled" / "corpus").set_index("id")
    assert corpus.loc[ids, "story"].nunique() == n  # fewer passages than stories: each from another story


def test_sample_is_proportional_to_story_size_and_seeded(run_cli):
    from framing.agreement import draw_sample, read_passages

    table = read_passages(ROOT / "labeled" / "corpus")
    first, again = draw_sample(table, 470, seed=4), draw_sample(table, 470, seed=4)
    assert first.equals(again) and len(first) == 470
    per_story = table.set_index("id").loc[first["id"], "story"].value_counts()
    expected = table["story"].value_counts() * 470 / len(table)
    assert (per_story.reindex(expected.index, fill_value=0) - expected).abs().max() <= 1


# -- evaluate on a user's labels --------------------------------------------------------------------


def test_evaluate_a_model_folder_on_labels_without_stories(run_cli, tmp_path, eighteen):
    data = _user_file(tmp_path / "mine.csv", eighteen)
    output = tmp_path / "metrics.json"
    result = run_cli("evaluate", "--data", data, "--model", TFIDF, "--output", output)
    assert result.exit_code == 0, result.stderr
    assert "held-out stories" not in result.stderr + result.stdout and "no held-out stories" not in result.stderr
    measured = json.loads(output.read_text())["all rows"]
    assert measured["n"] == 18
    economic = measured["per_frame"]["economic"]
    assert economic["support"] == 0 and economic["f1"] is None and economic["recall"] is None
    supported = [v["f1"] for v in measured["per_frame"].values() if v["support"]]
    assert measured["macro_frames"] == 3 and measured["macro_f1"] == pytest.approx(np.mean(supported), abs=1e-4)
    assert "no support" in result.stdout and "macro over 3 frames" in result.stdout
    assert "warning: economic: no positive passage, so no F1 (left out of macro-F1)" in result.stderr
    assert "warning: sovereignty: only" in result.stderr  # every frame of 18 passages has fewer than 20 positives
    for values in measured["per_frame"].values():
        if values["support"]:
            assert values["f1_low"] <= values["f1"] <= values["f1_high"]


@pytest.mark.parametrize("group, expected", [(None, "grouped by article"), ("outlet", "grouped by outlet")])
def test_evaluate_a_family_on_labels_without_stories_uses_grouped_folds(run_cli, tmp_path, eighteen, group, expected):
    data = _user_file(tmp_path / "mine.jsonl", eighteen, fmt="jsonl")
    output = tmp_path / "metrics.json"
    result = run_cli("evaluate", "--data", data, "--model", "tfidf", "--folds", "3", "--output", output, *(["--group", group] if group else []))
    assert result.exit_code == 0, result.stderr
    measured = json.loads(output.read_text())["cross-validation"]
    assert expected in measured["description"] and measured["per_frame"]["economic"]["f1"] is None


def test_evaluate_base_cross_validates_the_adaptation(run_cli, tmp_path, eighteen):
    output = tmp_path / "metrics.json"
    result = run_cli("evaluate", "--data", _user_file(tmp_path / "mine.csv", eighteen), "--base", TFIDF, "--group", "outlet", "--output", output)
    assert result.exit_code == 0, result.stderr
    measured = json.loads(output.read_text())["cross-validation"]
    assert f"3-fold cross-validation adapting {TFIDF.name}, grouped by outlet, 18 passages" in measured["description"]
    assert "warning: the intervals resample only 3 groups" in result.stderr


def test_evaluate_refuses_a_group_the_data_lacks(run_cli, tmp_path, eighteen):
    data = _user_file(tmp_path / "mine.csv", eighteen.drop(columns=[]))
    result = run_cli("evaluate", "--data", data, "--model", "tfidf", "--group", "story")
    assert result.exit_code == EXIT_INPUT and "--group story: the data has no 'story' column" in result.stderr


def test_a_frame_without_support_is_left_out_of_macro_f1():
    truth = np.array([[1, 0], [1, 0], [0, 0], [1, 0]])
    probabilities = np.array([[0.9, 0.1], [0.8, 0.7], [0.2, 0.1], [0.3, 0.2]])
    result = metrics(truth, probabilities, np.full(2, 0.5), ["a", "b"])
    assert result["per_frame"]["b"]["f1"] is None and result["per_frame"]["b"]["precision"] == 0.0
    assert result["macro_f1"] == result["per_frame"]["a"]["f1"] == 0.8 and result["macro_frames"] == 1


def test_bootstrap_interval_is_seeded_and_resamples_groups():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, size=(200, 3))
    probabilities = np.clip(truth * 0.3 + rng.random((200, 3)) * 0.6, 0, 1)
    first = metrics(truth, probabilities, np.full(3, 0.5), ["a", "b", "c"], seed=1)
    assert first == metrics(truth, probabilities, np.full(3, 0.5), ["a", "b", "c"], seed=1)
    a = first["per_frame"]["a"]
    assert a["f1_low"] < a["f1"] < a["f1_high"] and first["macro_f1_low"] < first["macro_f1"] < first["macro_f1_high"]
    assert first["warnings"] == [] and "resamples of passages" in first["bootstrap"]
    # Whole groups are drawn: with one group every resample is the data itself, so the interval is the point.
    one = metrics(truth, probabilities, np.full(3, 0.5), ["a", "b", "c"], groups=np.zeros(200), seed=1)
    assert one["per_frame"]["a"]["f1_low"] == one["per_frame"]["a"]["f1_high"] == a["f1"] and "resamples of groups" in one["bootstrap"]
    assert any("resample only 1 groups; they understate the uncertainty" in w for w in one["warnings"])


# -- train --base ---------------------------------------------------------------------------------


def test_train_base_adapts_a_model_and_its_card_records_base_and_data(run_cli, tmp_path, thirty):
    data = _user_file(tmp_path / "mine.jsonl", thirty, fmt="jsonl")
    models = tmp_path / "models"
    result = run_cli("train", "--base", TFIDF, "--data", data, "--models-dir", models, "--folds", "3")
    assert result.exit_code == 0, result.stderr
    (folder,) = [p for p in models.iterdir() if p.is_dir()]
    manifest = json.loads((folder / MODEL_FILE).read_text())
    jsonschema.validate(manifest, json.loads(SCHEMA_FILE.read_text()))
    card = manifest["card"]
    assert card["base"] == {"model": TFIDF.name, "path": str(TFIDF), "family": "tfidf", "data_hash": load_model(TFIDF).card.data_hash}
    assert card["added"] == {"file": str(data), "rows": 30, "sha256": sha256_file(data)}
    assert "adapting tfidf-" in card["metrics"]["cross-validation"]["description"]
    text = (folder / "MODEL_CARD.md").read_text()
    assert f"base model: `{TFIDF.name}`" in text and f"file SHA-256 `{sha256_file(data)}`" in text
    base, adapted = load_model(TFIDF), load_model(folder)
    assert adapted.codebook.fingerprint == base.codebook.fingerprint and adapted.vectorizer.vocabulary_ == base.vectorizer.vocabulary_
    # Predictions move toward the new labels: economic now means "of the first two stories".
    texts, truth = thirty["text"].tolist(), label_matrix(thirty, CODEBOOK)[:, CODEBOOK.frame_names.index("economic")].astype(bool)
    before, after = base.predict_proba(texts)[:, 3], adapted.predict_proba(texts)[:, 3]
    assert after[truth].mean() - after[~truth].mean() > before[truth].mean() - before[~truth].mean() + 0.2


def test_adapting_keeps_the_base_head_of_a_frame_the_new_labels_cannot_train(eighteen):
    base = load_model(TFIDF)
    adapted = base.adapted(eighteen["text"].tolist(), label_matrix(eighteen, CODEBOOK), eighteen["article"].to_numpy())
    j = CODEBOOK.frame_names.index("economic")  # no economic passage among the 18
    assert np.array_equal(adapted.heads.coef[j], base.heads.coef[j]) and adapted.thresholds[j] == base.thresholds[j]
    assert not np.array_equal(adapted.heads.coef[0], base.heads.coef[0])
    assert base.base is None and adapted.base is base


def test_train_base_refuses_frames_outside_the_base_codebook(run_cli, tmp_path, thirty):
    rows = thirty.copy()
    rows.loc[0, "labels"] = ["tariffs"]
    models = tmp_path / "models"
    result = run_cli("train", "--base", TFIDF, "--data", _user_file(tmp_path / "mine.csv", rows), "--models-dir", models)
    assert result.exit_code == EXIT_INPUT and "unknown frame 'tariffs'" in result.stderr
    assert not models.exists()


def test_train_base_refuses_another_codebook(run_cli, tmp_path, thirty):
    result = run_cli("train", "--base", TFIDF, "--data", _user_file(tmp_path / "mine.csv", thirty), "--codebook", ROOT / "benchmarks" / "codebooks" / "frac.toml",
                     "--models-dir", tmp_path / "models")
    assert result.exit_code == EXIT_MODEL and "trained for another codebook" in result.stderr


def test_train_base_keeps_the_family(run_cli, tmp_path, thirty):
    result = run_cli("train", "--base", TFIDF, "--model", "embed", "--data", _user_file(tmp_path / "mine.csv", thirty), "--models-dir", tmp_path / "models")
    assert result.exit_code == 2 and "is a tfidf model" in result.stderr


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_base_takes_its_labels_from_data_only(run_cli, tmp_path, thirty, command):
    result = run_cli(command, "--base", TFIDF, "--data", _user_file(tmp_path / "mine.csv", thirty), "--realnews", tmp_path)
    assert result.exit_code == 2 and "takes its new labels from --data only" in result.stderr


def test_the_default_pointer_file_stands_for_its_folder():
    from framing.models import default_model_dir

    assert load_model(ROOT / "models" / "DEFAULT").folder == default_model_dir()
