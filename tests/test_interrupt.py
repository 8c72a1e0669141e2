"""Nothing half-written: a `framing score` killed mid-way leaves no broken output and a checkpoint of
complete rows, says what it kept, and `--resume` finishes with the table an uninterrupted run gives."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from framing import api
from framing.errors import EXIT_INTERRUPTED, EXIT_OK, InputError
from framing.segmentation import segment, sentence_spans
from framing.tables import read_table

from .conftest import SEEDS

N_ARTICLES = 300
# Every run here scores the same batches (articles have one passage each): the encoder's output for a
# text may depend on the other texts of its batch (padding, int8 activation ranges), and a resumed run
# must give exactly what the uninterrupted run gives.
BATCH = 20
STORIES = ["lima", "mexico-city", "bogota", "quito", "la-paz"]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A folder of one-sentence articles (the first words of the example articles' sentences), with varied ids."""
    sentences = []
    for seed in SEEDS:
        for passage in segment(seed.read_text(encoding="utf-8")):
            words = [passage.text[s:e].split() for s, e in sentence_spans(passage.text)]
            sentences += [" ".join(w[:12]).rstrip(",;:") + "." for w in words if len(w) >= 8]
    assert all(segment(sentence) for sentence in sentences)
    folder = tmp_path_factory.mktemp("archive")
    for i in range(N_ARTICLES):
        (folder / f"{STORIES[i % len(STORIES)]}-{i:04d}.txt").write_text(sentences[(7 * i) % len(sentences)] + "\n", encoding="utf-8")
    return folder


def _complete_json_lines(path) -> list[dict]:
    data = path.read_bytes()
    assert data.endswith(b"\n"), f"{path} ends with a torn line"
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def _assert_same_tables(actual: pd.DataFrame, expected: pd.DataFrame, keys: list[str]) -> None:
    actual, expected = (t.sort_values(keys).reset_index(drop=True) for t in (actual, expected))
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False, check_exact=False, atol=1e-9)


def test_killed_run_keeps_complete_rows_and_resume_gives_the_uninterrupted_result(archive, tmp_path, run_cli, default_model, monkeypatch):
    output, passages = tmp_path / "mixes.parquet", tmp_path / "passages.csv"
    checkpoint, passage_checkpoint = tmp_path / "mixes.parquet.partial.jsonl", tmp_path / "passages.csv.partial.jsonl"
    previous = b"an earlier, complete output"
    output.write_bytes(previous)

    command = [sys.executable, "-m", "framing.cli", "score", str(archive), "--output", str(output), "--passages", str(passages)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "FRAMING_BATCH_PASSAGES": str(BATCH), "HF_HUB_OFFLINE": "1"})
    deadline = time.monotonic() + 300
    while not (checkpoint.exists() and checkpoint.stat().st_size) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be interrupted"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == EXIT_INTERRUPTED, stderr
    assert "Traceback" not in stderr
    kept = _complete_json_lines(checkpoint)
    assert f"interrupted: {len(kept)} scored article(s) are kept in {checkpoint}; run the same command with --resume to continue" in stderr
    assert 0 < len(kept) < N_ARTICLES and len(kept) % BATCH == 0
    assert output.read_bytes() == previous and not passages.exists()
    assert {row["article_id"] for row in _complete_json_lines(passage_checkpoint)} >= {row["article_id"] for row in kept}

    monkeypatch.setenv("FRAMING_BATCH_PASSAGES", str(BATCH))
    result = run_cli("score", archive, "--output", output, "--passages", passages, "--resume")
    assert result.exit_code == EXIT_OK, result.stderr
    assert f"scored {N_ARTICLES - len(kept)} articles" in result.stderr and f"(+{len(kept)} from the checkpoint)" in result.stderr
    assert not checkpoint.exists() and not passage_checkpoint.exists()

    api.score_to_files([archive], tmp_path / "reference.parquet", tmp_path / "reference-passages.csv", model=default_model, batch_passages=BATCH)
    _assert_same_tables(read_table(output, required=()), read_table(tmp_path / "reference.parquet", required=()), ["article_id"])
    _assert_same_tables(read_table(passages), read_table(tmp_path / "reference-passages.csv"), ["article_id", "passage_index"])
    assert len(read_table(output, required=())) == N_ARTICLES


def test_resume_drops_passages_of_articles_whose_row_was_not_written(tmp_path, default_model):
    reference, reference_passages = tmp_path / "reference.jsonl", tmp_path / "reference-passages.jsonl"
    api.score_to_files(SEEDS, reference, reference_passages, model=default_model, batch_passages=1)  # a batch per article
    articles = reference.read_text(encoding="utf-8").splitlines(keepends=True)
    passages = reference_passages.read_text(encoding="utf-8").splitlines(keepends=True)
    n_editorial = sum('"article_id":"editorial"' in line for line in passages)
    # Killed after the editorial's batch, and while writing the next batch's passages (before its articles).
    (tmp_path / "mixes.jsonl.partial.jsonl").write_text(articles[0], encoding="utf-8")
    (tmp_path / "passages.jsonl.partial.jsonl").write_text("".join(passages[: n_editorial + 3]) + passages[n_editorial + 3][:40], encoding="utf-8")

    summary = api.score_to_files(SEEDS, tmp_path / "mixes.jsonl", tmp_path / "passages.jsonl", model=default_model, resume=True, batch_passages=1)
    assert summary.resumed_articles == 1 and summary.articles_scored == 2
    _assert_same_tables(read_table(tmp_path / "mixes.jsonl", required=()), read_table(reference, required=()), ["article_id"])
    _assert_same_tables(read_table(tmp_path / "passages.jsonl"), read_table(reference_passages), ["article_id", "passage_index"])


def test_resume_refuses_a_passage_table_that_the_interrupted_run_did_not_write(tmp_path, default_model):
    api.score_to_files(SEEDS[:1], tmp_path / "reference.jsonl", model=default_model)
    (tmp_path / "mixes.jsonl.partial.jsonl").write_text((tmp_path / "reference.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InputError, match="no passages for some of the articles in"):
        api.score_to_files(SEEDS, tmp_path / "mixes.jsonl", tmp_path / "passages.jsonl", model=default_model, resume=True)
