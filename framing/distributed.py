"""Scoring on a Dask cluster (``framing score --engine dask``), with the single-process path's results.

**Partitions are the single-process batches.** ``framing.api.score_to_files`` scores articles in
batches of about ``batch_passages`` passages (4,096 by default). This module cuts the input exactly
where the single-process path cuts its batches: the client reads the articles in input order
(``framing.articles.iter_articles``, metadata included), segments each one to count its passages, and
closes a partition after the article that brings it to ``batch_passages``. Each partition is then
scored by a worker with ``framing.scoring.score_articles``, the function the single-process path uses,
and so yields that path's batch: same rows, same probabilities, same failures and warnings, in the
same order. (The encoder embeds one text per call, so a passage's probabilities do not depend on its
batch; following the batches keeps failures and warnings where the local engine reports them.)

- The client reads the inputs (files and tables) and sends the articles' text with each partition, so
  workers do not need to see the input files. Segmenting on the client costs little (about 0.1 s per
  2,000 passages) next to encoding.
- The model is loaded once per worker process from its folder (``framing.models.load_model``, checksums
  checked) and cached there for the following partitions. The client sends the folder path and the
  SHA-256 of its ``model.json``; a worker whose folder holds another model refuses it. A model object
  without a folder (trained in memory) is sent once to every worker instead.
- Outputs are written only by the client, atomically, with ``framing.tables.TableWriter``: each
  partition's rows are appended as soon as it and every partition before it are done, and the files
  appear only when the run completes. A few partitions per worker thread are in flight at a time, so
  the client's memory stays flat with the size of the archive.

Without ``scheduler`` a LocalCluster of ``workers`` single-threaded worker processes is started (each
one's encoder gets its share of this machine's CPUs) and closed at the end. With ``scheduler``
(``tcp://host:8786``, a scheduler JSON file, or a ``distributed.Client``) an existing cluster is used;
see docs/distributed.md. A script that calls :func:`score_with_dask` without ``scheduler`` must guard
its entry point with ``if __name__ == "__main__":``: local workers are started with ``spawn``.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from framing.api import ScoreSummary, _restore_types, write_failures
from framing.articles import Article, ArticleFailure, articles_with_metadata
from framing.errors import InputError, ModelError
from framing.tables import TableWriter, table_format

BATCH_PASSAGES_ENV = "FRAMING_BATCH_PASSAGES"  # read by framing.api.score_to_files too
# Partitions in flight per worker thread: one being scored and one waiting, so no worker idles while
# the client writes; few enough that the client holds only a handful of partitions' text and rows.
IN_FLIGHT_PER_THREAD = 2
MIN_IN_FLIGHT = 4
# Models kept per worker process (one is the usual case; a long-lived cluster may serve a few).
_MAX_CACHED_MODELS = 2


# -- what travels to the workers --------------------------------------------------------------------


@dataclass(frozen=True)
class ModelFolder:
    """A model by reference: its folder (absolute) and the SHA-256 of its ``model.json`` as the client saw it."""

    path: str
    manifest_sha256: str


@dataclass
class Partition:
    """Articles and failures in input order: one single-process batch (``n_passages`` counted by the client)."""

    items: list[Article | ArticleFailure]
    n_passages: int = 0


@dataclass
class PartitionResult:
    passages: pd.DataFrame
    articles: pd.DataFrame
    failures: list[ArticleFailure] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)


# -- worker side ------------------------------------------------------------------------------------

_models: dict[tuple[str, str], object] = {}
_models_lock = threading.Lock()


def worker_model(ref):
    """The model for a task: loaded once per worker process from a ModelFolder, or the object sent by the client."""
    if not isinstance(ref, ModelFolder):
        return ref
    key = (ref.path, ref.manifest_sha256)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            from framing.models import load_model
            from framing.models.base import MODEL_FILE, sha256_file

            folder = Path(ref.path)
            manifest = folder / MODEL_FILE
            if not manifest.is_file():
                raise ModelError(f"{folder}: model folder not found on worker {_worker_name()}; every worker needs the model folder at this path")
            if sha256_file(manifest) != ref.manifest_sha256:
                raise ModelError(f"{folder}: on worker {_worker_name()} this folder holds another model than on the client; "
                                 "copy the same model folder to every machine")
            model = load_model(folder)
            while len(_models) >= _MAX_CACHED_MODELS:
                _models.pop(next(iter(_models)))
            _models[key] = model
        return model


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        import socket

        return socket.gethostname()


def as_written(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows as the single-process path writes them: it checkpoints to JSON lines and converts from there,
    so the same round trip gives the same types and the same float representations in every format."""
    if frame.empty:
        return frame
    text = frame.to_json(orient="records", lines=True, force_ascii=False)
    return _restore_types(pd.read_json(io.StringIO(text), lines=True, dtype=False))


def score_partition(partition: Partition, model_ref, batch_passages: int) -> PartitionResult:
    """Score one partition with ``framing.scoring.score_articles`` (runs in a worker)."""
    from framing import __version__
    from framing.scoring import score_articles

    model = worker_model(model_ref)
    batches = list(score_articles(partition.items, model, batch_passages))
    passages = [b.passages for b in batches if not b.passages.empty]
    articles = [b.articles for b in batches if not b.articles.empty]
    result = PartitionResult(
        passages=as_written(pd.concat(passages, ignore_index=True)) if passages else pd.DataFrame(),
        articles=as_written(pd.concat(articles, ignore_index=True)) if articles else pd.DataFrame(),
        failures=[f for b in batches for f in b.failures],
        warnings=[w for b in batches for w in b.warnings],
    )
    if len(result.passages) != partition.n_passages or len(passages) > 1:
        raise RuntimeError(f"worker {_worker_name()} (framing {__version__}) cut {len(result.passages)} passages where the client counted "
                           f"{partition.n_passages}: the client and the workers must run the same framing version")
    return result


# -- client side ------------------------------------------------------------------------------------


def resolve_batch_passages(batch_passages: int | None) -> int:
    """As ``framing.api.score_to_files`` does: the argument, else $FRAMING_BATCH_PASSAGES, else the default."""
    from framing.scoring import DEFAULT_BATCH_PASSAGES

    value = batch_passages or int(os.environ.get(BATCH_PASSAGES_ENV, DEFAULT_BATCH_PASSAGES))
    if value < 1:
        raise InputError(f"batch_passages must be at least 1, not {value}")
    return value


def partitions(paths: list[str | Path], metadata_path: str | Path | None = None, batch_passages: int | None = None) -> Iterator[Partition]:
    """The input cut where ``framing.scoring.score_articles`` cuts its batches, read lazily in input order.

    The inputs are checked (and the metadata loaded) at once; articles are read as partitions are consumed.
    """
    batch_passages = resolve_batch_passages(batch_passages)
    return cut_batches(articles_with_metadata(paths, metadata_path), batch_passages)


def cut_batches(items: Iterable[Article | ArticleFailure], batch_passages: int) -> Iterator[Partition]:
    """Group items as ``score_articles`` batches them: close a group after the article that brings it to
    ``batch_passages`` passages; failures (and articles with no passage) stay with the articles around them."""
    from framing.segmentation import segment

    current: list[Article | ArticleFailure] = []
    n_passages = 0
    for item in items:
        current.append(item)
        if isinstance(item, Article):
            n_passages += len(segment(item.text))
            if n_passages >= batch_passages:
                yield Partition(current, n_passages)
                current, n_passages = [], 0
    if current:
        yield Partition(current, n_passages)


def model_reference(model, codebook_path: str | Path | None = None) -> ModelFolder | None:
    """A ModelFolder for a folder path, None (the default model), or a model with a ``folder`` attribute;
    None for a model object that has no folder (it is then sent to the workers as an object).

    The folder's manifest is checked here (format version, checksums and, with ``codebook_path``, that the
    model was trained for that codebook), so a refused model fails before any worker starts.
    """
    from framing.codebook import load_codebook
    from framing.models import default_model_dir
    from framing.models.base import MODEL_FILE, read_manifest, sha256_file

    if model is None:
        folder = default_model_dir()
    elif isinstance(model, (str, os.PathLike)):
        folder = Path(model)
    else:
        folder = getattr(model, "folder", None)
        if folder is None:
            if codebook_path is not None and model.codebook.fingerprint != load_codebook(codebook_path).fingerprint:
                raise ModelError(f"the model was trained for another codebook than {codebook_path}")
            return None
        folder = Path(folder)
    folder = folder.resolve()
    if not folder.is_dir():
        raise ModelError(f"{folder}: model folder not found")
    read_manifest(folder, expected_codebook=load_codebook(codebook_path) if codebook_path else None)
    return ModelFolder(str(folder), sha256_file(folder / MODEL_FILE))


class _SlowExitFilter(logging.Filter):
    """Drop the nanny's note that it killed a worker process on shutdown.

    A worker that has loaded the encoder libraries can take a few seconds to finish its interpreter
    teardown after it has closed; the nanny of a local cluster then kills it, which is harmless but is
    logged as a warning.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Worker process still alive after")


def local_worker_env(workers: int) -> dict[str, str]:
    """Environment of local worker processes: each encoder gets its share of this machine's CPUs
    (unless $FRAMING_ENCODER_THREADS is set), so ``workers`` processes do not oversubscribe the cores."""
    from framing.models.encoder import THREADS_ENV, cpu_count

    if os.environ.get(THREADS_ENV):
        return {}
    return {THREADS_ENV: str(max(1, cpu_count() // workers))}


def _connect(stack: ExitStack, scheduler, workers: int):
    """A Client: on a new LocalCluster (closed with the stack), an existing Client, or an existing scheduler."""
    from distributed import Client, LocalCluster

    if scheduler is None:
        if workers < 1:
            raise InputError(f"--workers {workers}: at least one worker is needed")
        nanny_logger, quiet_exit = logging.getLogger("distributed.nanny"), _SlowExitFilter()
        nanny_logger.addFilter(quiet_exit)
        stack.callback(nanny_logger.removeFilter, quiet_exit)
        cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                                                   env=local_worker_env(workers)))
        return stack.enter_context(Client(cluster))
    if isinstance(scheduler, Client):
        return scheduler
    address = str(scheduler)
    try:
        if address.endswith(".json") and Path(address).is_file():
            client = Client(scheduler_file=address)
        else:
            client = Client(address)
    except (OSError, TimeoutError) as exc:
        raise InputError(f"--scheduler {address}: cannot reach the Dask scheduler ({' '.join(str(exc).split())[:300]})") from None
    return stack.enter_context(client)


def _in_flight_limit(client) -> int:
    return max(MIN_IN_FLIGHT, IN_FLIGHT_PER_THREAD * sum(client.nthreads().values()))


def score_with_dask(
    paths: list[str | Path], output: str | Path, passages_output: str | Path | None = None, errors_output: str | Path | None = None,
    model=None, metadata_path: str | Path | None = None, workers: int = 2, scheduler=None, batch_passages: int | None = None,
    progress: Callable[[int], None] | None = None, codebook_path: str | Path | None = None,
) -> ScoreSummary:
    """Score articles on a Dask cluster into the same files as :func:`framing.api.score_to_files`.

    ``model``: a model folder, a model object (its ``folder`` attribute is used when it has one), or None
    for the default model. ``scheduler``: None for a local cluster of ``workers`` processes, else the
    address of a running scheduler (``tcp://host:8786``), a scheduler file, or a ``distributed.Client``
    (left open). ``batch_passages``: passages per partition, the single-process batch size (default as
    in ``score_to_files``: $FRAMING_BATCH_PASSAGES, else 4,096); the output equals ``score_to_files``
    with the same value. ``progress`` is called with the number of articles (scored or failed) of each
    partition as it is written. ``codebook_path``: refuse (ModelError) a model trained for another
    codebook. There is no checkpoint and no resume: an interrupted run writes nothing.
    """
    output = Path(output)
    table_format(output)
    if passages_output:
        table_format(passages_output)
    batch_passages = resolve_batch_passages(batch_passages)
    parts = partitions(paths, metadata_path, batch_passages)  # checks the inputs before a cluster starts
    model_ref = model_reference(model, codebook_path)
    summary = ScoreSummary()
    run_id = uuid.uuid4().hex[:8]
    with ExitStack() as stack:
        client = _connect(stack, scheduler, workers)
        task_model = model_ref if model_ref is not None else client.scatter(model, broadcast=True, hash=False)
        pending: deque = deque()
        try:
            with ExitStack() as writers:
                passage_writer = writers.enter_context(TableWriter(passages_output)) if passages_output else None
                article_writer = writers.enter_context(TableWriter(output))

                def write_oldest() -> None:
                    result: PartitionResult = pending.popleft().result()
                    if passage_writer is not None and not result.passages.empty:
                        passage_writer.write(result.passages)
                    if not result.articles.empty:
                        article_writer.write(result.articles)
                    summary.articles_scored += len(result.articles)
                    summary.passages_scored += len(result.passages)
                    summary.failures.extend(result.failures)
                    summary.warnings.extend(result.warnings)
                    if progress:
                        progress(len(result.articles) + len(result.failures))

                limit = _in_flight_limit(client)
                for index, part in enumerate(parts):
                    pending.append(client.submit(score_partition, part, task_model, batch_passages, key=f"framing-score-{run_id}-{index:07d}"))
                    while len(pending) >= limit:
                        write_oldest()
                        limit = _in_flight_limit(client)  # workers may have joined or left
                while pending:
                    write_oldest()
                if summary.articles_scored == 0:
                    reasons = "; ".join(f"{f.source}: {f.reason}" for f in summary.failures[:5])
                    raise InputError(f"no article could be scored ({reasons})")
        except BaseException:
            if pending:
                client.cancel(list(pending))
            raise
    if passages_output:
        summary.outputs["passages"] = Path(passages_output)
    summary.outputs["articles"] = output
    if summary.failures:
        errors_path = Path(errors_output) if errors_output else output.with_name(output.stem + ".errors.csv")
        summary.outputs["errors"] = write_failures(summary.failures, errors_path)
    return summary
