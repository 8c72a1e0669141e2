"""--engine dask: the same article and passage tables, failures and warnings as the single-process path.

Runs on a real local cluster of two worker processes with the committed default model. One module-scoped
cluster serves the direct calls (through its address, as with --scheduler); the CLI test starts and
closes its own cluster, as `framing score --engine dask --workers 2` does.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from framing.api import score_to_files
from framing.errors import InputError, ModelError
from framing.segmentation import segment
from framing.tables import read_table

from .conftest import EXAMPLES, SEEDS

SPANISH = ("El gobierno del Perú rompió relaciones diplomáticas con México después de que el ex primer ministro "
           "pidiera asilo en la embajada mexicana en Lima. La cancillería dijo que se trata de una injerencia "
           "inaceptable en los asuntos internos del país y convocó a los embajadores de la región.")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """About forty short articles built from the example passages, plus one empty file (a failure), one with
    headings only (a failure), one in Spanish (a warning) and one HTML page."""
    folder = tmp_path_factory.mktemp("generated")
    # the first two sentences of every example passage: short paragraphs keep the test fast
    pool = [" ".join(re.split(r"(?<=[.!?])\s+", p.text)[:2]) for seed in SEEDS for p in segment(seed.read_text(encoding="utf-8"))]
    for i in range(40):
        paragraphs = [pool[(i * 5 + j * 7) % len(pool)] for j in range(1 + i % 3)]
        (folder / f"story-{i:02d}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    (folder / "empty.txt").write_text("", encoding="utf-8")
    (folder / "headings-only.md").write_text("# Peru and Mexico\n\n## What Happens Next\n\nBy Ana Ruiz\n", encoding="utf-8")
    (folder / "spanish.txt").write_text(SPANISH + "\n", encoding="utf-8")
    body = "".join(f"<p>{text}</p>" for text in pool[3:6])
    (folder / "page.html").write_text(f"<html><head><title>Asylum row</title></head><body><nav>Home | World</nav><article>{body}</article></body></html>",
                                      encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def inputs(generated) -> list[Path]:
    return [EXAMPLES, generated]


# Small batches make several partitions out of this small input; a partition is one single-process batch.
BATCH = 16


@pytest.fixture(scope="module")
def reference(inputs, tmp_path_factory, default_model):
    """The single-process result over the same inputs, with the same batch size."""
    folder = tmp_path_factory.mktemp("reference")
    return score_to_files(inputs, folder / "articles.csv", folder / "passages.csv", folder / "errors.csv", default_model, batch_passages=BATCH)


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    from framing.distributed import local_worker_env

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", env=local_worker_env(2)) as local:
        yield local


def assert_same_table(actual: Path, expected: Path) -> None:
    got, want = read_table(actual, required=()), read_table(expected, required=())
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    for column in want.columns:
        if column.startswith(("p_", "share_")):
            np.testing.assert_allclose(got[column].astype(float), want[column].astype(float), rtol=0, atol=1e-6, err_msg=column)
        else:
            assert got[column].astype(str).tolist() == want[column].astype(str).tolist(), column


def assert_same_summary(summary, reference) -> None:
    assert summary.articles_scored == reference.articles_scored
    assert summary.passages_scored == reference.passages_scored
    assert summary.failures == reference.failures
    assert summary.warnings == reference.warnings


def test_the_inputs_make_failures_and_a_warning(reference):
    assert reference.articles_scored == 3 + 40 + 2  # examples, stories, the Spanish article and the HTML page
    assert {f.id for f in reference.failures} == {"empty", "headings-only"}
    assert any("English" in message for _, message in reference.warnings)


def test_dask_matches_the_single_process_path(inputs, reference, cluster, tmp_path):
    from framing.distributed import score_with_dask
    from framing.models import default_model_dir

    seen = []
    summary = score_with_dask(inputs, tmp_path / "articles.csv", tmp_path / "passages.csv", tmp_path / "errors.csv", default_model_dir(),
                              scheduler=cluster.scheduler_address, batch_passages=BATCH, progress=seen.append)
    assert_same_summary(summary, reference)
    assert sum(seen) == summary.articles_scored + len(summary.failures) and len(seen) >= summary.passages_scored // BATCH >= 5
    assert list(summary.outputs) == list(reference.outputs) == ["passages", "articles", "errors"]
    for name in ("articles", "passages", "errors"):
        assert_same_table(summary.outputs[name], reference.outputs[name])
        assert summary.outputs[name].read_bytes() == reference.outputs[name].read_bytes(), name
    passages = read_table(summary.outputs["passages"])
    assert passages["article_id"].drop_duplicates().tolist()[:4] == ["editorial", "wire-a", "wire-b", "page"]


def test_rows_of_a_table_input_are_partitioned(reference, cluster, tmp_path, default_model):
    from framing.distributed import score_with_dask

    articles = read_table(reference.outputs["passages"]).groupby("article_id", sort=False)["text"].agg("\n\n".join)
    table = pd.DataFrame({"id": articles.index, "text": articles.to_numpy()})
    table = pd.concat([table.iloc[:8], pd.DataFrame({"id": ["blank"], "text": [" "]}), table.iloc[8:14]], ignore_index=True)
    source = tmp_path / "articles.jsonl"
    table.to_json(source, orient="records", lines=True, force_ascii=False)
    expected = score_to_files([source], tmp_path / "expected.parquet", tmp_path / "expected-passages.parquet", model=default_model, batch_passages=8)
    # a model object without a folder is sent to the workers once
    summary = score_with_dask([source], tmp_path / "articles.parquet", tmp_path / "passages.parquet", None, default_model,
                              scheduler=cluster.scheduler_address, batch_passages=8)
    assert_same_summary(summary, expected)
    assert summary.warnings  # the Spanish article
    assert [f.source for f in summary.failures] == [f"{source}:row 9"]
    assert_same_table(summary.outputs["articles"], expected.outputs["articles"])
    assert_same_table(summary.outputs["passages"], expected.outputs["passages"])
    assert summary.outputs["errors"] == tmp_path / "articles.errors.csv"


def test_cli_engine_dask(run_cli, inputs, reference, tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMING_BATCH_PASSAGES", str(BATCH))  # read by both engines, as the interruption tests do
    output, passages = tmp_path / "x.csv", tmp_path / "x-passages.csv"
    result = run_cli("score", *inputs, "--engine", "dask", "--workers", "2", "--output", output, "--passages", passages)
    assert result.exit_code == 3, result.stderr  # partial: two articles failed, as in the single-process run
    assert f"scored {reference.articles_scored} articles ({reference.passages_scored} passages)" in result.stderr
    for written, name in ((output, "articles"), (passages, "passages"), (tmp_path / "x.errors.csv", "errors")):
        assert_same_table(written, reference.outputs[name])
        assert written.read_bytes() == reference.outputs[name].read_bytes(), name


def test_partitions_are_the_single_process_batches(inputs, default_model):
    from framing.articles import articles_with_metadata
    from framing.articles import Article
    from framing.distributed import partitions
    from framing.scoring import score_articles

    parts = list(partitions(inputs, batch_passages=BATCH))
    batches = list(score_articles(articles_with_metadata(inputs, None), default_model, BATCH))
    assert len(parts) == len(batches) >= 5
    for part, batch in zip(parts, batches):
        failed = {f.id for f in batch.failures}
        assert [f.id for f in batch.failures] == [i.id for i in part.items if not isinstance(i, Article) or i.id in failed]
        assert batch.articles["article_id"].tolist() == [i.id for i in part.items if isinstance(i, Article) and i.id not in failed]
        assert len(batch.passages) == part.n_passages


def test_a_worker_refuses_a_model_folder_that_differs_from_the_clients():
    from framing.distributed import ModelFolder, model_reference, worker_model

    reference = model_reference(None)
    assert Path(reference.path).is_absolute() and len(reference.manifest_sha256) == 64
    with pytest.raises(ModelError, match="another model"):
        worker_model(ModelFolder(reference.path, "0" * 64))


def test_bad_requests_fail_before_a_cluster_starts(tmp_path):
    from framing.distributed import score_with_dask

    with pytest.raises(InputError, match="no such file"):
        score_with_dask([tmp_path / "missing"], tmp_path / "a.csv")
    with pytest.raises(InputError, match="unknown table format"):
        score_with_dask([EXAMPLES], tmp_path / "a.txt")
    with pytest.raises(ModelError, match="not found"):
        score_with_dask([EXAMPLES], tmp_path / "a.csv", model=tmp_path / "no-model")
