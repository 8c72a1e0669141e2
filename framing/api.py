"""The Python API behind every CLI command. Each function returns DataFrames (or writes files) and can be
used directly from a notebook::

    from framing import api
    articles, passages = api.score(["examples/peru-mexico"])
    comparison = api.compare(["examples/peru-mexico"], report_dir="reports/peru-mexico")

Long scoring runs are checkpointed: rows are appended, batch by batch, to ``<output>.partial.jsonl``;
the final file (any format) appears atomically only when the run completes. An interrupted run keeps
its checkpoint (and says, in the KeyboardInterrupt it raises, how many articles it holds), and
``resume=True`` skips the articles already in it.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from framing.articles import MAX_ARTICLE_CHARS, ArticleFailure, articles_with_metadata, text_problem
from framing.codebook import Codebook, load_codebook
from framing.errors import InputError
from framing.tables import DEFAULT_CHUNK_ROWS, TableWriter, drop_torn_line, iter_table, table_format

CHECKPOINT_SUFFIX = ".partial.jsonl"


def load_scoring_model(model_dir: str | Path | None = None, codebook_path: str | Path | None = None):
    """The model to score with; with a codebook, refuse a model trained for another scheme."""
    from framing.models import load_model

    codebook = load_codebook(codebook_path) if codebook_path else None
    return load_model(model_dir, codebook=codebook)


# -- classify ---------------------------------------------------------------------------------------


def iter_passage_input(source: str | Path, stdin: Iterable[str] | None = None, chunk_rows: int = DEFAULT_CHUNK_ROWS) -> Iterator[pd.DataFrame]:
    """Passages to classify, in chunks of ``id`` and ``text``: a table with ``text`` (and optional ``id``;
    without it, row numbers from 1), or ``-`` for one passage per line on stdin.

    A text longer than an article may be (MAX_ARTICLE_CHARS) is refused: it is an export gone wrong, and
    encoding it would take long. So is an empty text, with its row.
    """
    if str(source) == "-":
        lines = [line.rstrip("\n") for line in (stdin if stdin is not None else _stdin_lines())]
        for number, line in enumerate(lines, start=1):
            if len(line) > MAX_ARTICLE_CHARS:
                raise InputError(f"stdin:line {number}: {len(line):,} characters, over the {MAX_ARTICLE_CHARS:,}-character limit")
        texts = [line for line in lines if line.strip()]
        if not texts:
            raise InputError("stdin: no passages (one passage per line expected)")
        yield pd.DataFrame({"id": [str(i) for i in range(1, len(texts) + 1)], "text": texts})
        return
    path = Path(source)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    table_format(path)
    offset = 0
    for chunk in iter_table(path, chunk_rows=chunk_rows):
        chunk = chunk.copy()
        if "id" not in chunk.columns:
            chunk["id"] = [str(i) for i in range(offset + 1, offset + len(chunk) + 1)]
        missing = chunk["id"].isna() | (chunk["id"].astype(str).str.strip() == "")
        if missing.any():
            raise InputError(f"{path}:row {int(missing.to_numpy().nonzero()[0][0]) + offset + 1}: empty id (give every row an id, or drop the id column to number the rows)")
        offset += len(chunk)
        problems = chunk["text"].map(text_problem)
        if problems.notna().any():
            row = int(problems.notna().to_numpy().nonzero()[0][0])
            raise InputError(f"{path}:row {row + offset - len(chunk) + 1}: {problems.iloc[row]}")
        lengths = chunk["text"].astype(str).str.len().to_numpy()
        if (lengths > MAX_ARTICLE_CHARS).any():
            index = int((lengths > MAX_ARTICLE_CHARS).nonzero()[0][0])
            raise InputError(f"{path}:row {index + offset - len(chunk) + 1}: {lengths[index]:,} characters, over the {MAX_ARTICLE_CHARS:,}-character limit")
        yield chunk[["id", "text"]].astype(str)


def _stdin_lines() -> list[str]:
    """Standard input decoded like an article file (UTF-8, or the legacy encoding it is in), not with the
    locale's codec: a Latin-1 "Bogot\xe1" piped in is read as "Bogotá"."""
    from framing.articles import NotText, text_encoding

    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is None:  # a text stream without bytes underneath (a test's StringIO)
        return list(sys.stdin)
    data = buffer.read()
    try:
        encoding = text_encoding(data)
    except NotText as exc:
        raise InputError(f"stdin: {exc}") from None
    return data.decode(encoding, errors="replace").replace("\r\n", "\n").split("\n")


def read_passage_input(source: str | Path, stdin: Iterable[str] | None = None) -> pd.DataFrame:
    """All of :func:`iter_passage_input` in one DataFrame."""
    return pd.concat(list(iter_passage_input(source, stdin)), ignore_index=True)


def classify(texts: pd.DataFrame | list[str], model=None) -> pd.DataFrame:
    """Frame probabilities and labels of passages: a DataFrame with ``text`` (and ``id``; without it, row
    numbers from 1, as in ``framing classify``), or a plain list of texts."""
    from framing.scoring import classify_texts

    if not isinstance(texts, pd.DataFrame):
        texts = pd.DataFrame({"text": list(texts)})
    if "text" not in texts.columns:
        raise InputError(f"no 'text' column (columns: {', '.join(map(str, texts.columns))})")
    ids = texts["id"].astype(str).tolist() if "id" in texts.columns else [str(i) for i in range(1, len(texts) + 1)]
    model = model or load_scoring_model()
    return classify_texts(model, texts["text"].tolist(), ids)


def classify_to_file(source: str | Path, output: str | Path, model=None, progress: Callable[[int], None] | None = None,
                     chunk_rows: int = DEFAULT_CHUNK_ROWS) -> int:
    """Classify passages chunk by chunk into ``output`` (format from its extension), so memory stays flat
    with the input's size; the file appears, atomically, only if every chunk was read and classified.
    Returns the number of passages."""
    from framing.tables import check_output_paths

    check_output_paths({"--output": output})
    model = model or load_scoring_model()
    with TableWriter(output) as writer:
        for chunk in iter_passage_input(source, chunk_rows=chunk_rows):
            writer.write(classify(chunk, model))
            if progress:
                progress(len(chunk))
    return writer.rows_written


# -- score ------------------------------------------------------------------------------------------


@dataclass
class ScoreSummary:
    articles_scored: int = 0
    passages_scored: int = 0
    resumed_articles: int = 0
    failures: list[ArticleFailure] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)

    @property
    def partial(self) -> bool:
        return bool(self.failures)


class _Checkpoint:
    """Rows appended to ``<target>.partial.jsonl`` as they are produced, one complete JSON line each.

    With ``finished_ids`` (the articles of the article checkpoint, when resuming the passage checkpoint),
    rows of other articles are dropped: a run killed between writing a batch's passages and its articles
    leaves passages of articles that the resumed run scores again.
    """

    def __init__(self, target: Path, resume: bool, finished_ids: set[str] | None = None):
        self.target = target
        self.path = target.with_name(target.name + CHECKPOINT_SUFFIX)
        self.done_ids: set[str] = set()
        self.rows_before = 0
        if resume and self.path.exists():
            drop_torn_line(self.path)
            self._check_lines()
            if finished_ids is not None:
                self._keep_articles(finished_ids)
            for chunk in pd.read_json(self.path, lines=True, chunksize=DEFAULT_CHUNK_ROWS, dtype=False, precise_float=True):
                self.done_ids.update(chunk["article_id"].astype(str))
                self.rows_before += len(chunk)
        elif self.path.exists():
            self.path.unlink()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.handle = self.path.open("a", encoding="utf-8")

    def _check_lines(self) -> None:
        """Every line a JSON object with an article id, as this class writes them; anything else is refused with its line."""
        with self.path.open(encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    row = None
                if not isinstance(row, dict) or "article_id" not in row:
                    raise InputError(f"{self.path}:line {number}: not a row written by framing; delete the checkpoint, or run without --resume to start again")

    def _keep_articles(self, ids: set[str]) -> None:
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent)
        with self.path.open(encoding="utf-8") as source, os.fdopen(fd, "w", encoding="utf-8") as kept:
            kept.writelines(line for line in source if str(json.loads(line)["article_id"]) in ids)
        os.replace(tmp, self.path)

    def append(self, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        text = frame.to_json(orient="records", lines=True, force_ascii=False)
        self.handle.write(text if text.endswith("\n") else text + "\n")
        self.handle.flush()
        os.fsync(self.handle.fileno())

    def finish(self) -> Path:
        """Convert the checkpoint into the target's format, atomically. The checkpoint is removed by the
        caller once every target is written, so a run killed in between can still be resumed."""
        self.handle.close()
        with TableWriter(self.target) as writer:
            if self.path.stat().st_size:
                for chunk in pd.read_json(self.path, lines=True, chunksize=DEFAULT_CHUNK_ROWS, dtype=False, precise_float=True):
                    writer.write(_restore_types(chunk))
        return self.target

    def close(self) -> None:
        self.handle.close()

    def complete_rows(self) -> int:
        """Rows that a resumed run keeps (a torn last line is not one), counted from the file itself
        because an interruption can fall between a write and any count kept beside it."""
        with self.path.open("rb") as handle:
            return sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))


def _restore_types(chunk: pd.DataFrame) -> pd.DataFrame:
    for column in ("article_id", "outlet", "title", "published", "kind", "labels", "source", "text"):
        if column in chunk.columns:
            chunk[column] = chunk[column].fillna("").astype(str)
    return chunk


def score_to_files(
    paths: list[str | Path], output: str | Path, passages_output: str | Path | None = None, errors_output: str | Path | None = None,
    model=None, metadata_path: str | Path | None = None, resume: bool = False, progress: Callable[[int], None] | None = None,
    batch_passages: int | None = None,
) -> ScoreSummary:
    """Score articles into an article table (and optionally a passage table), checkpointing as it goes.

    The checkpoint grows by one batch of about ``batch_passages`` passages at a time; without the
    argument, the environment variable FRAMING_BATCH_PASSAGES (used by the tests to make an
    interruptible run out of a small input) or the default of ``framing.scoring``.
    """
    from framing.scoring import DEFAULT_BATCH_PASSAGES, score_articles

    from framing.tables import check_output_paths

    output = Path(output)
    errors_output = Path(errors_output) if errors_output else output.with_name(output.stem + ".errors.csv")
    check_output_paths({"--output": output, "--passages": passages_output, "--errors": errors_output})
    model = model or load_scoring_model()
    items = articles_with_metadata(paths, metadata_path)
    batch_passages = batch_passages or int(os.environ.get("FRAMING_BATCH_PASSAGES", DEFAULT_BATCH_PASSAGES))
    summary = ScoreSummary()
    article_checkpoint = _Checkpoint(output, resume)
    passage_checkpoint = _Checkpoint(Path(passages_output), resume, finished_ids=article_checkpoint.done_ids) if passages_output else None
    if passage_checkpoint is not None and article_checkpoint.done_ids - passage_checkpoint.done_ids:
        article_checkpoint.close()
        passage_checkpoint.close()
        raise InputError(f"{passage_checkpoint.path}: no passages for some of the articles in {article_checkpoint.path}; "
                         "resume with the --passages of the interrupted run, or start again without --resume")
    summary.resumed_articles = len(article_checkpoint.done_ids)
    if progress and summary.resumed_articles:
        progress(summary.resumed_articles)
    try:
        for batch in score_articles(items, model, batch_passages, skip_ids=article_checkpoint.done_ids):
            if passage_checkpoint is not None:
                passage_checkpoint.append(batch.passages)
            article_checkpoint.append(batch.articles)
            summary.articles_scored += len(batch.articles)
            summary.passages_scored += len(batch.passages)
            summary.failures.extend(batch.failures)
            summary.warnings.extend(batch.warnings)
            if progress:
                progress(len(batch.articles) + len(batch.failures))
        # Converted inside the try: a run interrupted here keeps its checkpoints (removed only below) for --resume.
        if summary.articles_scored + summary.resumed_articles:
            if passage_checkpoint is not None:
                summary.outputs["passages"] = passage_checkpoint.finish()
            summary.outputs["articles"] = article_checkpoint.finish()
    except BaseException as exc:
        article_checkpoint.close()
        if passage_checkpoint is not None:
            passage_checkpoint.close()
        if isinstance(exc, KeyboardInterrupt):
            raise KeyboardInterrupt(f"{article_checkpoint.complete_rows()} scored article(s) are kept in {article_checkpoint.path}") from None
        raise
    if "articles" not in summary.outputs:
        article_checkpoint.close()
        article_checkpoint.path.unlink(missing_ok=True)
        if passage_checkpoint is not None:
            passage_checkpoint.close()
            passage_checkpoint.path.unlink(missing_ok=True)
        reasons = "; ".join(f"{f.source}: {f.reason}" for f in summary.failures[:5])
        raise InputError(f"no article could be scored ({reasons})")
    for checkpoint in (article_checkpoint, passage_checkpoint):
        if checkpoint is not None:
            checkpoint.path.unlink()
    if summary.failures:
        summary.outputs["errors"] = write_failures(summary.failures, errors_output)
    return summary


def write_failures(failures: list[ArticleFailure], path: Path) -> Path:
    from framing.tables import write_table

    return write_table(pd.DataFrame([f.__dict__ for f in failures], columns=["id", "source", "reason"]), path)


def score(paths: list[str | Path], model=None, metadata_path: str | Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame, list[ArticleFailure]]:
    """Score articles in memory: (article table, passage table, failures). For large inputs use score_to_files."""
    from framing.scoring import score_articles

    from framing import progress
    from framing.articles import count_articles, resolve_inputs

    model = model or load_scoring_model()
    batches = []
    # The bar (on a terminal, from the CLI) serves every command that scores in memory: compare, annotate.
    with progress.bar(lambda: count_articles(resolve_inputs(paths)), "article") as bar:
        for batch in score_articles(articles_with_metadata(paths, metadata_path), model):
            batches.append(batch)
            bar.update(len(batch.articles) + len(batch.failures))
    articles = pd.concat([b.articles for b in batches if not b.articles.empty] or [pd.DataFrame()], ignore_index=True)
    passages = pd.concat([b.passages for b in batches if not b.passages.empty] or [pd.DataFrame()], ignore_index=True)
    failures = [f for b in batches for f in b.failures]
    if articles.empty:
        reasons = "; ".join(f"{f.source}: {f.reason}" for f in failures[:5])
        raise InputError(f"no article could be scored ({reasons})")
    return articles, passages, failures


# -- compare ----------------------------------------------------------------------------------------


def check_grouping(paths: list[str | Path], metadata_path: str | Path | None = None, by: str = "article", over: str | None = None) -> pd.DataFrame:
    """Refuse, before any scoring, a comparison the metadata cannot support: ``by`` not a metadata column,
    articles without a value for it, or (with ``over``) articles without a published date; the message
    gives the count and the first ids. Returns the articles' metadata (see ``articles.article_metadata``)."""
    from framing.articles import article_metadata, metadata_for, resolve_inputs
    from framing.comparison import ARTICLE, natural_order

    resolved = resolve_inputs(paths)
    metadata_file, metadata = metadata_for(resolved, metadata_path)
    table = article_metadata(resolved, metadata)
    where = f"in {metadata_file} or" if metadata_file else "with --metadata or in"
    if by != ARTICLE and by not in table.columns.drop(["id", "source"]):
        raise InputError(f"--by {by}: not a metadata column of these articles; use article or one of {', '.join(table.columns.drop(['id', 'source']))}")
    checks = ([(f"--by {by}", by, f"no {by}")] if by != ARTICLE else []) + ([(f"--over {over}", "published", "no published date (an ISO date such as 2024-03-05)")] if over else [])
    for option, column, what in checks:
        missing = natural_order(table.loc[table[column] == "", "id"])
        if missing:
            raise InputError(f"{option}: {len(missing)} of {len(table)} articles have {what} (first: {', '.join(missing[:5])}); "
                             f"give every article one {where} the article table's {column!r} column")
    return table


def compare(paths: list[str | Path], report_dir: str | Path, by: str = "article", model=None, metadata_path: str | Path | None = None,
            n_bootstrap: int = 2000, confidence: float = 0.95, n_evidence: int = 2, seed: int = 0, title: str | None = None,
            n_permutations: int = 1000, all_pairs: bool = False, over: str | None = None, stata_names: bool = False,
            model_dir: str | Path | None = None, codebook_path: str | Path | None = None):
    """Score and compare articles, or the groups of a metadata column ``by`` (outlet, kind, country, ...),
    optionally over time (``over``: week, month or year of ``published``); write the report folder.

    The metadata is checked first (``check_grouping``), and only then is the model (``model``, or the one
    in ``model_dir``) loaded and the articles scored. Returns (comparison, files, failures).
    """
    from framing.comparison import ARTICLE
    from framing.comparison import compare as compare_passages
    from framing.reports import write_report

    check_grouping(paths, metadata_path, by, over)
    model = model or load_scoring_model(model_dir, codebook_path)
    articles, passages, failures = score(paths, model=model, metadata_path=metadata_path)
    if by != ARTICLE and by not in passages.columns:
        passages[by] = passages["article_id"].map(articles.set_index("article_id")[by])
    published = articles.set_index("article_id")["published"].replace("", None) if over else None
    try:
        comparison = compare_passages(passages, model.codebook, model.thresholds, by=by, n_bootstrap=n_bootstrap, confidence=confidence,
                                      n_evidence=n_evidence, seed=seed, n_permutations=n_permutations, all_pairs=all_pairs, over=over,
                                      published=published)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    report_dir = Path(report_dir)
    files = write_report(report_dir, comparison, articles, passages, model.codebook, model.family, title or f"Framing comparison: {report_dir.name}",
                         stata_names=stata_names)
    if failures:
        files["errors.csv"] = write_failures(failures, report_dir / "errors.csv")
    return comparison, files, failures


def default_report_name(paths: list[str | Path]) -> str:
    """The report folder's name: the inputs' common folder name (``examples/peru-mexico/*.txt`` -> ``peru-mexico``)."""
    folders = {(Path(p) if Path(p).is_dir() else Path(p).parent).resolve() for p in paths}
    names = {f.name for f in folders}
    return names.pop() if len(names) == 1 and "" not in names else "comparison"


# -- corpus -----------------------------------------------------------------------------------------


def load_codebook_for(codebook_path: str | Path | None) -> Codebook:
    return load_codebook(codebook_path) if codebook_path else load_codebook()


def checked_corpus(path: str | Path, codebook: Codebook, strict_schema: bool = True, max_words: int | None = None):
    """Load labeled data and fail with every problem found (used by `corpus check` and before training)."""
    from framing.corpus import MAX_WORDS, MIN_WORDS, check_corpus, load_corpus

    corpus = load_corpus(path)
    problems = check_corpus(corpus, codebook, min_words=MIN_WORDS if strict_schema else 1,
                            max_words=(MAX_WORDS if strict_schema else 0) if max_words is None else max_words, strict_schema=strict_schema)
    return corpus, problems


@dataclass
class RealCorpus:
    """The real-news labels of a labeled folder: the stand-off rows, and the rebuilt corpus where the text is at hand."""

    labels_path: Path
    standoff: pd.DataFrame
    corpus: pd.DataFrame | None  # None when the real-news folder is not there
    problems: list[str]
    note: str


def real_corpus(labeled: str | Path, codebook: Codebook, realnews_dir: str | Path | None = None, required: bool = False) -> RealCorpus | None:
    """Check and load the stand-off real-news labels of ``labeled`` (``labeled/realnews/labels.jsonl``).

    The text is rebuilt from ``realnews_dir`` (default ``$FRAMING_REALNEWS_DIR`` or ``../shared/realnews``).
    A folder given explicitly must exist (InputError); the default one may be absent, and then only the
    stand-off rows are checked. With ``required``, a missing folder or missing labels are errors.
    None when ``labeled`` has no real-news labels and they are not required.
    """
    from framing.realnews import check_standoff, default_realnews_dir, pool_articles, read_standoff, rebuild_text, standoff_labels_of

    labels = standoff_labels_of(labeled)
    if labels is None:
        if required:
            raise InputError(f"{labeled}: no real-news labels (realnews/labels.jsonl)")
        return None
    standoff = read_standoff(labels)
    folder = Path(realnews_dir) if realnews_dir is not None else default_realnews_dir()
    if realnews_dir is None and not folder.is_dir():
        if required:
            raise InputError(f"{folder}: no such real-news folder; the real-news labels in {labels} point into it (give it with --realnews)")
        problems = check_standoff(standoff, codebook.frame_names)
        return RealCorpus(labels, standoff, None, problems, f"{len(standoff)} real-news rows checked without their text ({folder} not found; give --realnews)")
    corpus = rebuild_text(standoff, folder)
    problems = check_standoff(standoff, codebook.frame_names, pool_articles(folder))
    return RealCorpus(labels, standoff, corpus, problems, f"{len(corpus)} real-news rows, text rebuilt from {folder} and matched to its hashes")


def metrics_json(evaluations) -> str:
    return json.dumps({e.name: e.metrics for e in evaluations}, indent=2)


# -- annotate ---------------------------------------------------------------------------------------


def annotation_passages(paths: list[str | Path], model, metadata_path: str | Path | None = None, embed: bool = True):
    """The passages of ``paths`` (articles, or a ``score --passages`` table) scored with ``model``, and
    (with ``embed``; else None) their embeddings from the packaged sentence encoder, which the diverse
    order's clusters and the refitted head use."""
    from framing.annotation.source import from_scored, is_passage_table, read_passage_table, with_ids
    from framing.models.encoder import SentenceEncoder

    if is_passage_table(paths):
        passages = with_ids(read_passage_table(paths[0], model))
    else:
        articles, scored, _ = score(paths, model=model, metadata_path=metadata_path)
        passages = with_ids(from_scored(articles, scored, model.codebook))
    return passages, SentenceEncoder().encode(passages["text"].tolist()) if embed else None


def annotation_session(paths: list[str | Path], labels: str | Path, model=None, order: str = "uncertain", blind: bool = False,
                       annotator: str = "annotator", seed: int = 0, metadata_path: str | Path | None = None):
    """An annotation session over ``paths`` whose answers go to (and resume from) the labels file ``labels``."""
    from framing.annotation.session import AnnotationSession, SessionOptions
    from framing.annotation.store import LabelStore

    model = model or load_scoring_model()
    passages, embeddings = annotation_passages(paths, model, metadata_path, embed=order != "random")  # a random order is never refreshed
    options = SessionOptions(order=order, blind=blind, annotator=annotator, seed=seed, model_name=_model_version(model))
    return AnnotationSession(passages, model.codebook, model.thresholds, LabelStore(labels), options, embeddings)


def export_annotation_tasks(paths: list[str | Path], tool: str, output: str | Path, model=None, order: str = "uncertain", seed: int = 0,
                            labels: str | Path | None = None, metadata_path: str | Path | None = None) -> tuple[list[Path], int]:
    """Write the passages of ``paths`` as Label Studio or Prodigy tasks with the model's frames as
    pre-annotations, in ``order``, leaving out those already answered in ``labels``. Returns (files, tasks)."""
    from framing.annotation.formats import export_label_studio, export_prodigy
    from framing.annotation.ordering import clusters, plan
    from framing.annotation.store import LabelStore

    model = model or load_scoring_model()
    passages, embeddings = annotation_passages(paths, model, metadata_path, embed=order == "diverse")
    answered = set()
    if labels is not None and Path(labels).exists():
        store = LabelStore(labels)
        answered = store.answered_ids
        store.close()
    candidates = [i for i, pid in enumerate(passages["id"]) if pid not in answered]
    if not candidates:
        raise InputError(f"every passage is already answered in {labels}")
    probabilities = passages[model.codebook.probability_columns].to_numpy(dtype=float)
    picks = plan(order, candidates, probabilities, model.thresholds, clusters(embeddings, seed) if order == "diverse" else None, seed=seed)
    ordered = passages.iloc[[p.index for p in picks]].reset_index(drop=True)
    write = export_label_studio if tool == "label-studio" else export_prodigy
    return write(ordered, model.codebook, model.thresholds, output, _model_version(model)), len(ordered)


def _model_version(model) -> str:
    """What an answer or a task records as the model that suggested it: the model folder, else the family."""
    return model.folder.name if model.folder else model.family


def import_annotation_file(path: str | Path, output: str | Path, codebook_path: str | Path | None = None, tool: str | None = None) -> pd.DataFrame:
    """Read a Label Studio or Prodigy export into the labeled format and write it to ``output`` (format from its extension)."""
    from framing.annotation.formats import import_annotations
    from framing.tables import write_table

    rows = import_annotations(path, load_codebook_for(codebook_path), tool)
    if table_format(output) == "csv":  # CSV holds the labels ';'-separated (framing.corpus)
        rows = rows.assign(labels=[";".join(labels) for labels in rows["labels"]])
    write_table(rows, output)
    return rows
