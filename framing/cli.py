"""The ``framing`` command: a thin shell over ``framing.api``.

Every table a command produces is printed on the terminal (``--format table|csv|jsonl``) or written
with ``--output FILE`` in the format its extension names (.csv, .jsonl, .parquet).

Exit codes: 0 success; 1 internal error; 2 bad input (the message names the file and row);
3 partial run (some articles failed, listed in the errors file); 4 model refused; 130 interrupted.
Heavy libraries are imported inside the commands so that ``framing --help`` starts fast.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from framing.errors import EXIT_INPUT, EXIT_INTERRUPTED, EXIT_PARTIAL, FramingError, InputError, Interrupted

app = typer.Typer(
    help="Tag news passages with the frames they carry, score each article's framing mix and compare "
    "articles or outlets side by side.\n\nExample: framing compare examples/peru-mexico/*.txt\n\n"
    "Exit codes: 0 ok, 1 internal error, 2 bad input, 3 partial run (see the errors file), 4 model refused, 130 interrupted.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)
corpus_app = typer.Typer(help="Check and describe labeled data.\n\nExample: framing corpus check labeled/", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")

_state = {"debug": False, "quiet": False}


class Format(str, Enum):
    table = "table"
    csv = "csv"
    jsonl = "jsonl"


def _output_option(example: str):
    """--output, with an example that names what the command writes."""
    return Annotated[Optional[Path], typer.Option("--output", "-o", help=f"Write the table to FILE; format from the extension (.csv, .jsonl, .parquet). Example: --output {example}")]


OutputOption = _output_option("mixes.csv")
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="How to print the table when there is no --output. Example: --format csv")]
ModelOption = Annotated[Optional[Path], typer.Option("--model", "-m", help="Model folder to use instead of the default in models/. Example: --model models/tfidf-20261201-110750-2b2f7727")]
CodebookOption = Annotated[Optional[Path], typer.Option("--codebook", help="Codebook TOML file; the model must have been trained for it. Example: --codebook my-frames.toml")]
TrainingCodebookOption = Annotated[Optional[Path], typer.Option("--codebook", help="Codebook TOML file whose frames the labels use; the new model is trained for it (default: the built-in codebook). Example: --codebook my-frames.toml")]
MetadataOption = Annotated[Optional[Path], typer.Option("--metadata", help="Table with id (or file), outlet, title, published (ISO date), kind and any other column (country, ...) per article; default: metadata.csv beside the inputs. Example: --metadata outlets.csv")]


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"framing {version('framing')}")
        raise typer.Exit()


@app.callback()
def _global(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit. Example: framing --version")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback on errors. Example: framing --debug score a.txt")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar or notes on stderr. Example: framing -q score archive/ -o mixes.csv")] = False,
) -> None:
    from framing import progress

    _state["debug"] = debug
    _state["quiet"] = quiet
    progress.enable(not quiet and sys.stderr.isatty())


def _note(message: str) -> None:
    if not _state["quiet"]:
        typer.echo(message, err=True)


def _emit(table, output: Path | None, fmt: Format, title: str = "") -> None:
    """Print a table or write it to --output."""
    if output is not None:
        from framing.tables import write_table

        write_table(table, output)
        _note(f"wrote {len(table)} rows to {output}")
        return
    if fmt is Format.csv:
        from framing.tables import write_csv

        write_csv(table, sys.stdout)
    elif fmt is Format.jsonl:
        from framing.tables import jsonl_text

        sys.stdout.write(jsonl_text(table))
    else:
        _print_table(table, title)


def _print_table(table, title: str = "") -> None:
    from framing.terminal import print_table

    hidden = print_table(table, title)
    if hidden:
        _note(f"{len(hidden)} column(s) not shown, to fit the terminal: {', '.join(hidden)}; "
              "see every column with -f csv, -f jsonl or -o FILE, or in a wider terminal")


@app.command()
def classify(
    input: Annotated[str, typer.Argument(help="CSV, JSONL or Parquet file with a 'text' column (optional 'id'), or - for one passage per line on stdin. Example: passages.csv")],
    output: _output_option("passages-scored.csv") = None,
    format: FormatOption = Format.table,
    model: ModelOption = None,
    codebook: CodebookOption = None,
) -> None:
    """Tag passages with frame probabilities and labels.

    Output columns: id, text, p_<frame> for every frame of the codebook, labels (frames over their threshold, joined with ';').

    Example: echo "Lima expelled Mexico's ambassador, citing interference." | framing classify -
    """
    from framing import api

    scoring_model = api.load_scoring_model(model, codebook)
    if output is not None:  # streamed chunk by chunk: an archive of passages need not fit in memory
        from framing import progress
        from framing.tables import count_rows

        with progress.bar(None if str(input) == "-" else (lambda: count_rows(input)), "passage") as bar:
            rows = api.classify_to_file(input, output, scoring_model, progress=bar.update)
        _note(f"wrote {rows} rows to {output}")
        return
    _emit(api.classify(api.read_passage_input(input), scoring_model), None, format, "passages")


@app.command()
def score(
    paths: Annotated[list[str], typer.Argument(help=".txt, .md or .html articles, folders of them, or a CSV/JSONL/Parquet table with text and optional id, outlet, title, published. Example: examples/peru-mexico/")],
    output: OutputOption = None,
    passages: Annotated[Optional[Path], typer.Option("--passages", help="Also write the passage table (article id, outlet, passage index, character span, text, probabilities, labels). Example: --passages passages.parquet")] = None,
    errors: Annotated[Optional[Path], typer.Option("--errors", help="Where to list the articles that could not be scored, with the reason; default: <output>.errors.csv. Example: --errors failed.csv")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted run: skip the articles already in its checkpoint. Example: framing score archive/ -o mixes.csv --resume")] = False,
    engine: Annotated[str, typer.Option("--engine", help="'local' (one process) or 'dask' (partitions scored by parallel workers). Example: --engine dask --workers 2")] = "local",
    workers: Annotated[int, typer.Option("--workers", help="Number of Dask workers for a local cluster. Example: --workers 4")] = 2,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Address of an existing Dask scheduler instead of a local cluster. Example: --scheduler tcp://10.0.0.5:8786")] = None,
    format: FormatOption = Format.table,
    metadata: MetadataOption = None,
    model: ModelOption = None,
    codebook: CodebookOption = None,
) -> None:
    """Score each article's framing mix: the share of every frame and of none, weighted by passage length, and the dominant frame.

    Example: framing score examples/peru-mexico/*.txt --output mixes.csv --passages passages.csv
    """
    import contextlib
    import tempfile

    from framing import api
    from framing.articles import resolve_inputs

    resolve_inputs(paths)  # a mistyped path fails at once, not after loading the model
    scoring_model = api.load_scoring_model(model, codebook)
    with contextlib.ExitStack() as cleanup:
        # Without --output the table goes through a temporary folder that is removed afterwards.
        target = output or Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="framing-"))) / "articles.jsonl"
        summary = _score_into(paths, target, output, passages, errors, scoring_model, metadata, engine, resume, workers, scheduler, api)
        for source, warning in summary.warnings:
            _note(f"warning: {source}: {warning}")
        if output is None:
            from framing.tables import read_table

            _emit(read_table(target, required=()), None, format, "articles")
        else:
            _note(f"scored {summary.articles_scored} articles ({summary.passages_scored} passages) -> {output}"
                  + (f" (+{summary.resumed_articles} from the checkpoint)" if summary.resumed_articles else ""))
        if passages:
            _note(f"passages -> {passages}")
        if summary.failures:
            if output is None and errors is None:
                for failure in summary.failures:
                    typer.echo(f"failed: {failure.source}: {failure.reason}", err=True)
                _note(f"{len(summary.failures)} article(s) failed (listed above; --errors FILE writes them to a table)")
            else:
                _note(f"{len(summary.failures)} article(s) failed, listed in {summary.outputs['errors']}")
            raise typer.Exit(EXIT_PARTIAL)


def _score_into(paths, target: Path, output, passages, errors, scoring_model, metadata, engine: str, resume: bool, workers, scheduler, api):
    from framing import progress
    from framing.articles import count_articles, resolve_inputs

    if engine not in ("local", "dask"):
        raise InputError(f"--engine {engine!r}: use 'local' or 'dask'")
    if engine == "dask" and resume:
        raise InputError("--resume works with --engine local only: a Dask run keeps no checkpoint")
    with progress.bar(lambda: count_articles(resolve_inputs(paths)), "article") as bar:
        if engine == "dask":
            from framing.distributed import score_with_dask

            return score_with_dask(paths, target, passages, errors, scoring_model, metadata, workers=workers, scheduler=scheduler, progress=bar.update)
        try:
            return api.score_to_files(paths, target, passages, errors, scoring_model, metadata, resume=resume, progress=bar.update)
        except KeyboardInterrupt as exc:
            # Without --output the checkpoint is in a temporary folder that no later run looks in.
            raise Interrupted(f"{exc}; run the same command with --resume to continue" if output
                              else "nothing was printed; score into --output FILE for a run that --resume can continue") from None


class Period(str, Enum):
    week = "week"
    month = "month"
    year = "year"


@app.command()
def compare(
    paths: Annotated[list[str], typer.Argument(help="Articles telling the same story: files, folders or a table (as for score). Example: examples/peru-mexico/*.txt")],
    by: Annotated[str, typer.Option("--by", help="Compare articles, or the groups of any metadata column (outlet, kind, country, a custom one; from --metadata "
                                    "or the table). Example: --by outlet")] = "article",
    over: Annotated[Optional[Period], typer.Option("--over", help="Also chart the mix over time: by week, month or year of 'published' (per group with --by). "
                                                   "Example: --over month")] = None,
    name: Annotated[Optional[str], typer.Option("--name", help="Report folder name under --reports-dir; default: the inputs' folder name. Example: --name peru-mexico")] = None,
    reports_dir: Annotated[Path, typer.Option("--reports-dir", help="Where report folders go. Example: --reports-dir out/reports")] = Path("reports"),
    bootstrap: Annotated[int, typer.Option("--bootstrap", min=100, help="Bootstrap resamples for the intervals (articles within a group, then passages "
                                           "within each article). Example: --bootstrap 5000")] = 2000,
    permutations: Annotated[int, typer.Option("--permutations", min=0, help="Permutations for the test of each distance (0: no test). Example: "
                                              "--permutations 5000")] = 1000,
    all_pairs: Annotated[bool, typer.Option("--all-pairs", help="Distances between every pair even past 40 units (400 articles: 79,800 pairs), "
                                            "then without interval and test. Example: --all-pairs")] = False,
    confidence: Annotated[float, typer.Option("--confidence", min=0.5, max=0.999, help="Interval coverage. Example: --confidence 0.9")] = 0.95,
    evidence: Annotated[int, typer.Option("--evidence", min=1, help="Evidence passages per article and frame. Example: --evidence 3")] = 2,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap and permutations, for reproducible results. Example: --seed 7")] = 0,
    stata: Annotated[bool, typer.Option("--stata-names", help="Column names Stata accepts as they are (share_ideological_bloc), in the report's CSVs and "
                                        "the printed or --output table. Example: --stata-names")] = False,
    output: _output_option("outlet-mixes.csv") = None,
    format: FormatOption = Format.table,
    metadata: MetadataOption = None,
    model: ModelOption = None,
    codebook: CodebookOption = None,
) -> None:
    """Compare articles (or outlets, or any metadata group) side by side: mixes with bootstrap intervals,
    Jensen-Shannon distances with intervals and permutation tests, evidence passages, charts and an HTML
    report, all under reports/<name>/. The metadata is checked before any article is scored.

    --format csv|jsonl and --output give the mix table with share_, low_ and high_ columns; the terminal
    table shows each share as "share [low, high]".

    Example: framing compare examples/border-closure/ --by outlet --over month
    """
    from framing import api
    from framing.tables import stata_names

    report_dir = reports_dir / (name or api.default_report_name(paths))
    comparison, files, failures = api.compare(paths, report_dir, by=by, model_dir=model, codebook_path=codebook, metadata_path=metadata,
                                              n_bootstrap=bootstrap, confidence=confidence, n_evidence=evidence, seed=seed,
                                              n_permutations=permutations, all_pairs=all_pairs, over=over.value if over else None, stata_names=stata)
    for warning in comparison.warnings:
        _note(f"warning: {warning}")
    if output is not None or format is not Format.table:
        mixes = comparison.mixes
        _emit(mixes.set_axis(stata_names(mixes.columns), axis=1) if stata else mixes, output, format)
    else:
        labels = [c.removeprefix("share_") for c in comparison.mixes.columns if c.startswith("share_")]
        summary = comparison.mixes[["unit", "n_articles", "n_passages"]].copy()
        for label in labels:
            summary[label] = [f"{s:.2f} [{lo:.2f}, {hi:.2f}]" for s, lo, hi in comparison.mixes[[f"share_{label}", f"low_{label}", f"high_{label}"]].to_numpy()]
        summary["dominant"] = comparison.mixes["dominant_frame"]
        _print_table(summary, f"framing mix by {by} (share [{confidence:.0%} interval])")
        if comparison.pairs_skipped:
            _note(f"{len(comparison.mixes)} units: pairwise distances only with --all-pairs")
        else:
            _print_table(comparison.distances, f"Jensen-Shannon distance between mixes, [{confidence:.0%} interval], permutation p-value")
        strongest = comparison.evidence[comparison.evidence["rank"] == 1]
        _print_table(strongest[["unit", "frame", "probability", "start", "end", "text"]],
                     f"evidence: the passage that carries each frame most strongly (all {evidence} per frame in evidence.csv)")
    charts = ", ".join(str(files[n]) for n in ("chart.png", "trend.png") if n in files)
    _note(f"report: {files['report.html']} (tables: {', '.join(sorted(n for n in files if n.endswith('.csv')))}; charts: {charts})")
    if failures:
        _note(f"{len(failures)} article(s) failed, listed in {files['errors.csv']}")
        raise typer.Exit(EXIT_PARTIAL)


DataOption = Annotated[Path, typer.Option("--data", help="Labeled file or folder (JSONL/CSV/Parquet with id, text, labels, story). Example: --data labeled/")]
RealnewsOption = Annotated[Optional[Path], typer.Option(
    "--realnews", help="The real-news article folder that the stand-off labels in <data>/realnews/ point into (the text is rebuilt from it, never stored). "
    "Example: --realnews ../shared/realnews")]


StrictOption = Annotated[Optional[bool], typer.Option(
    "--strict/--lenient", help="Require the full corpus schema (story, register, source, annotator, 15-120 words), or only id, text and labels; "
    "default: strict for a folder (the corpus layout of labeled/), lenient for a single file. Example: --lenient", show_default=False)]
GroupOption = Annotated[Optional[str], typer.Option(
    "--group", help="What cross-validation folds keep together: story, article (an 'article' or 'article_id' column) or outlet; default: the stories "
    "when every row has one, else the articles. Example: --group outlet")]
BaseOption = Annotated[Optional[Path], typer.Option(
    "--base", help="A model folder (or models/DEFAULT) to adapt to --data instead of training from scratch: its codebook, features and "
    "encoder are kept and training continues from its weights. Example: --base models/DEFAULT")]


def _training_data(data: Path, codebook_path: Path | None, strict: bool | None, codebook=None):
    from framing import api
    from framing.corpus import held_out_stories

    codebook = codebook or api.load_codebook_for(codebook_path)
    strict = data.is_dir() if strict is None else strict
    corpus, problems = api.checked_corpus(data, codebook, strict_schema=strict)
    if problems:
        shown = "\n".join(f"  {p}" for p in problems[:20])
        raise InputError(f"{data}: the labeled data fails `framing corpus check` ({len(problems)} problem(s)):\n{shown}")
    held_out = held_out_stories(data)
    return codebook, corpus, held_out


RealWeightOption = Annotated[int, typer.Option("--real-weight", min=1, help="How many times each real-news train paragraph counts beside the constructed passages. Example: --real-weight 2")]
RealThresholdsOption = Annotated[bool, typer.Option(
    "--real-thresholds/--training-thresholds", help="Tune each frame's threshold on the real-news dev split (when --realnews is given) or, the default, on out-of-fold "
    "predictions of the training data (better on the dev split in benchmarks/realnews_mix.py). Example: --real-thresholds")]


def _real_rows(data: Path, codebook_obj, realnews: Path | None):
    """The real-news rows to train and test on: None without --realnews; an error when the folder or the labels are missing."""
    from framing import api

    if realnews is None:
        return None
    real = api.real_corpus(data, codebook_obj, realnews, required=True)
    if real.problems:
        shown = "\n".join(f"  {p}" for p in real.problems[:20])
        raise InputError(f"{real.labels_path}: the real-news labels fail `framing corpus check` ({len(real.problems)} problem(s)):\n{shown}")
    return real.corpus


@app.command()
def train(
    data: DataOption = Path("labeled"),
    model: Annotated[Optional[str], typer.Option("--model", help="Model family: tfidf, embed, hybrid or finetune (the default: best on the held-out stories; minutes on a CPU); "
                                                 "with --base, the base's family. Example: --model tfidf", show_default=False)] = None,
    base: BaseOption = None,
    codebook: TrainingCodebookOption = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same data and seed give the same metrics. Example: --seed 1")] = 0,
    folds: Annotated[int, typer.Option("--folds", min=0, help="Cross-validation folds (grouped by story, or by --group); 0 skips cross-validation (the fixed tests still run). Example: --folds 10")] = 5,
    group: GroupOption = None,
    models_dir: Annotated[Optional[Path], typer.Option("--models-dir", help="Where versioned model folders go; default: models/. Example: --models-dir /data/models")] = None,
    promote: Annotated[bool, typer.Option("--promote/--no-promote", help="Make the new model the default if it is not worse on the real-news test (and at most 0.02 macro-F1 worse "
                                            "on the held-out stories), or, without real news, not worse on the held-out stories. Example: --no-promote")] = True,
    strict: StrictOption = None,
    realnews: RealnewsOption = None,
    real_weight: RealWeightOption = 1,
    real_thresholds: RealThresholdsOption = False,
) -> None:
    """Train a model on labeled data (or adapt one with --base) and save it as a new versioned folder with its card.

    The training data must pass `framing corpus check`. The stories in <data>/test_stories.txt are held out.
    With --realnews, the real-news paragraphs of <data>/realnews/ are added: their train split to training
    (--real-weight times), their dev split to tune thresholds (--real-thresholds), their test split as a second
    fixed test. The new model becomes the default only if its real-news test macro-F1 is at least the current
    default's and its held-out macro-F1 at most 0.02 lower (without real news: held-out not lower).

    With --base MODEL, the model is adapted to <data> (labels of the base's codebook; any other frame is
    refused): same codebook, features and encoder, training continued from its weights, thresholds re-tuned on
    the new data; the folds (grouped by story, else article, or --group) cross-validate the adaptation, and the
    card records the base and the data added.

    Example: framing train --data labeled/ --realnews ../shared/realnews --model finetune --folds 0

    Example: framing train --base models/DEFAULT --data mine.jsonl
    """
    from framing.evaluation import train_and_register
    from framing.models import DEFAULT_FAMILY
    from framing.models import models_dir as default_models_dir

    if folds == 1:
        raise typer.BadParameter("1 fold cannot cross-validate: give 2 or more, or 0 to skip", param_hint="--folds")
    if base is not None:
        result = _adapt(base, data, model, codebook, seed, folds, group, models_dir or default_models_dir(), promote, strict, realnews)
    else:
        codebook_obj, corpus, held_out = _training_data(data, codebook, strict)
        real = _real_rows(data, codebook_obj, realnews)
        description = f"{len(corpus)} labeled passages from {data}" + (f" and {len(real)} real-news paragraphs (stand-off, text from {realnews})" if real is not None else "")
        result = train_and_register(model or DEFAULT_FAMILY, corpus, codebook_obj, held_out, models_dir or default_models_dir(), seed=seed, folds=folds, promote=promote,
                                    data_description=description, real=real, real_weight=real_weight, real_thresholds=real_thresholds, group=group)
    for evaluation in result.evaluations:
        _print_metrics(evaluation)
    _note(f"model saved to {result.folder}; {result.promotion_note}")


def _adapt(base_path: Path, data: Path, family: str | None, codebook: Path | None, seed: int, folds: int, group: str | None, models_root: Path,
           promote: bool, strict: bool | None, realnews: Path | None):
    """``framing train --base``: load the base (refusing another codebook than --codebook's), check the data against its codebook, adapt."""
    from framing import api
    from framing.evaluation import adapt_and_register

    if realnews is not None:
        _refuse_realnews_with_base()
    base = api.load_scoring_model(base_path, codebook)
    if family is not None and family != base.family:
        raise typer.BadParameter(f"{base_path} is a {base.family} model; an adapted model keeps its family (leave out --model)", param_hint="--model")
    _, corpus, held_out = _training_data(data, None, strict, codebook=base.codebook)
    return adapt_and_register(base, corpus, data, held_out, models_root, seed=seed, folds=folds, promote=promote, group=group)


def _refuse_realnews_with_base() -> None:
    raise typer.BadParameter("adapting a model (--base) takes its new labels from --data only", param_hint="--realnews")


def _print_metrics(evaluation) -> None:
    from framing.evaluation import metrics_table

    _print_table(metrics_table(evaluation.metrics), f"{evaluation.name}: {evaluation.metrics['description']}")
    for warning in evaluation.metrics["warnings"]:
        _note(f"warning: {warning}")


@app.command()
def evaluate(
    data: DataOption = Path("labeled"),
    model: Annotated[str, typer.Option("--model", help="A model family to cross-validate (tfidf, embed, hybrid, finetune; default finetune) or a model folder (or models/DEFAULT) "
                                       "to test as it is. Example: --model models/DEFAULT")] = "finetune",
    base: Annotated[Optional[Path], typer.Option("--base", help="Cross-validate adapting this model folder to --data, as `framing train --base` would. "
                                                 "Example: --base models/DEFAULT")] = None,
    codebook: CodebookOption = None,
    folds: Annotated[int, typer.Option("--folds", min=2, help="Cross-validation folds (grouped by story, else article, or by --group). Example: --folds 10")] = 5,
    group: GroupOption = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the folds and of the bootstrap intervals. Example: --seed 1")] = 0,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the metrics as JSON. Example: --output metrics.json")] = None,
    report: Annotated[Optional[Path], typer.Option("--report", help="Write a Markdown report: metrics, co-occurrence table, worst errors. Example: --report evaluation.md")] = None,
    strict: StrictOption = None,
    realnews: RealnewsOption = None,
    real_weight: RealWeightOption = 1,
    real_thresholds: RealThresholdsOption = False,
) -> None:
    """Per-frame precision, recall, F1 (with a bootstrap interval) and calibration: on the held-out stories and,
    with --realnews, on the real-news test split.

    A model folder is tested as it is: on the held-out stories, or, when the data names none (no
    test_stories.txt), on all its rows. A family is cross-validated on the training stories, folds grouped
    by story (else by article, or --group); with --realnews it is also trained on them plus the real-news
    train split (thresholds on the dev split) and tested on both fixed tests, as `framing train` would.
    With --base, the folds adapt that model instead of training from scratch. A frame with no positive in
    the tested rows has no support: no F1, and it is left out of macro-F1; a frame with under 20 positives
    gets a warning.

    Example: framing evaluate --data labeled/ --model models/DEFAULT --realnews ../shared/realnews

    Example: framing evaluate --data mine.jsonl --base models/DEFAULT
    """
    from framing import api
    from framing.corpus import split_by_story
    from framing.evaluation import HELD_OUT_TEST, counted, cross_validate, evaluation_report, fit_combined, save_metrics, test_evaluations
    from framing.models import FAMILIES
    from framing.models.encoder import cached_embeddings
    from framing.tables import write_text_atomic

    if base is not None and realnews is not None:
        _refuse_realnews_with_base()
    base_model = api.load_scoring_model(base, codebook) if base is not None else None
    codebook_obj, corpus, held_out = _training_data(data, codebook, strict, codebook=base_model.codebook if base_model else None)
    real = _real_rows(data, codebook_obj, realnews)
    train_part, test_part = split_by_story(corpus, held_out)
    if base_model is not None or model in FAMILIES:
        with cached_embeddings():
            evaluations = [cross_validate(base_model or model, train_part, codebook_obj, folds=folds, seed=seed, group=group)]
            if real is not None and base_model is None:
                fitted, training = fit_combined(model, codebook_obj, train_part, real, seed=seed, real_weight=real_weight, real_thresholds=real_thresholds)
                evaluations += test_evaluations(fitted, test_part, real, len(training))
    else:
        loaded = api.load_scoring_model(Path(model), codebook)
        if held_out:
            description = f"{model} tested on {counted(len(test_part), 'passage')} of {counted(test_part['story'].nunique(), 'held-out story')}."
        else:  # no stories named for testing: every row is new to the model, unless it was trained on this very file
            test_part = corpus
            description = f"{model} tested as it is on all {len(corpus)} passages of {data} (no test_stories.txt names stories to hold out)."
        evaluations = test_evaluations(loaded, test_part, real, loaded.card.n_train)
        if evaluations and evaluations[0].name == HELD_OUT_TEST:
            evaluations[0].metrics["description"] = evaluations[0].description = description
            evaluations[0].name = HELD_OUT_TEST if held_out else "all rows"
    for evaluation in evaluations:
        _print_metrics(evaluation)
    if output:
        save_metrics(output, evaluations)
        _note(f"metrics -> {output}")
    if report:
        write_text_atomic(report, evaluation_report(evaluations, codebook_obj, f"Evaluation: {base or model} on {data}"))
        _note(f"report -> {report}")


class Order(str, Enum):
    random = "random"
    uncertain = "uncertain"
    diverse = "diverse"


class Tool(str, Enum):
    label_studio = "label-studio"
    prodigy = "prodigy"


def _default_annotator() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment
        return "annotator"


@app.command()
def annotate(
    source: Annotated[list[str], typer.Argument(help="Articles (files, folders, a table, as for score) or a passage table from `score --passages`. Example: examples/peru-mexico/")],
    labels: Annotated[Optional[Path], typer.Option("--labels", help="The labeled JSONL file answers are appended to; an existing one is resumed. Example: --labels labeled/mine.jsonl")] = None,
    export: Annotated[Optional[tuple[Tool, Path]], typer.Option("--export", metavar="TOOL FILE", help="Instead of serving the page, write tasks with the model's frames as pre-annotations for "
                                                             "label-studio (JSON, plus FILE's .label-config.xml) or prodigy (JSONL). Example: --export prodigy tasks.jsonl")] = None,
    order: Annotated[Order, typer.Option("--order", help="random; uncertain (nearest a frame's threshold first); diverse (embedding clusters in turn, uncertain first inside each). "
                                                    "Refreshed as answers arrive. Example: --order diverse")] = Order.uncertain,
    blind: Annotated[bool, typer.Option("--blind", help="Hide the model's probabilities, for an unbiased pass. Example: --blind")] = False,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port on 127.0.0.1; 0 picks a free one. Example: --port 8800")] = 8765,
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open the page in the default browser. Example: --no-browser")] = True,
    annotator: Annotated[Optional[str], typer.Option("--annotator", help="Name recorded with every answer; default: your user name. Example: --annotator ana")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random order and of the clusters. Example: --seed 3")] = 0,
    metadata: MetadataOption = None,
    model: ModelOption = None,
    codebook: CodebookOption = None,
) -> None:
    """Label passages in a local web page, one at a time, with the model's probabilities as suggestions.

    The page (on 127.0.0.1, behind a per-session token) shows the passage with its article's title, outlet and
    neighbouring passages, and the codebook's definitions. Keys: a digit toggles a frame, 0 none, Enter accepts,
    S skips, U undoes, ? shows the keys. Every answer is appended to --labels at once; running the same command
    again resumes. With --export, writes Label Studio or Prodigy tasks instead (read their exports back with
    `framing corpus import`).

    Example: framing annotate examples/peru-mexico/ --labels labeled/mine.jsonl --order uncertain
    """
    from framing import api
    from framing.articles import resolve_inputs

    if labels is None and export is None:
        raise typer.BadParameter("give --labels FILE.jsonl to annotate in the browser, or --export TOOL FILE to write tasks", param_hint="--labels")
    if labels is not None and labels.suffix.lower() != ".jsonl":
        raise typer.BadParameter(f"{labels}: the labels file is JSONL; name it .jsonl", param_hint="--labels")
    resolve_inputs(source)  # a mistyped path fails at once, not after loading the model
    scoring_model = api.load_scoring_model(model, codebook)
    if export is not None:
        tool, output = export
        files, n = api.export_annotation_tasks(source, tool.value, output, scoring_model, order.value, seed, labels, metadata)
        _note(f"{n} {tool.value} tasks -> {', '.join(map(str, files))}")
        return
    _serve_annotation(api.annotation_session(source, labels, scoring_model, order.value, blind, annotator or _default_annotator(), seed, metadata),
                      labels, port, browser)


def _serve_annotation(session, labels: Path, port: int, browser: bool) -> None:
    import secrets

    from framing.annotation.web import bind, create_app, serve

    token = secrets.token_urlsafe(24)
    try:
        sock = bind(port)
    except OSError as exc:
        raise InputError(f"--port {port}: cannot listen on 127.0.0.1:{port} ({exc.strerror}); choose another port, or --port 0 for any free one") from None
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/?token={token}"

    def started() -> None:
        typer.echo(f"annotate: {url}", err=True)  # always printed: the URL is how the page is reached
        _note(f"{session.state()['progress']['left']} passage(s) to label, {len(session.store.rows)} answered in {labels}; Ctrl-C stops (answers are kept)")
        if browser:
            import webbrowser

            webbrowser.open(url)

    try:
        serve(create_app(session, token), sock, started)
    except KeyboardInterrupt:
        pass  # uvicorn stops on Ctrl-C or SIGTERM and passes the signal on
    finally:
        session.store.close()
        sock.close()
    _note(f"{len(session.store.rows)} answer(s) in {labels}; run the same command to resume")


@corpus_app.command("check")
def corpus_check(
    data: Annotated[Path, typer.Argument(help="Labeled file or folder. Example: labeled/")] = Path("labeled"),
    codebook: CodebookOption = None,
    strict: Annotated[bool, typer.Option("--strict/--lenient", help="Require the full corpus schema; --lenient checks only id, text, labels and duplicates. Example: --lenient")] = True,
    realnews: RealnewsOption = None,
) -> None:
    """Validate labeled data: schema, label names against the codebook, empty or over-long text, exact and near duplicates.

    The real-news labels in <data>/realnews/ are checked too: their columns and labels always, their text
    (every paragraph must match its stored hash) when the real-news folder is there.
    Prints one located problem per line (file:row (id)) and exits with 2 if there is any.

    Example: framing corpus check labeled/ --realnews ../shared/realnews
    """
    from framing import api

    codebook_obj = api.load_codebook_for(codebook)
    corpus, problems = api.checked_corpus(data, codebook_obj, strict_schema=strict)
    real = api.real_corpus(data, codebook_obj, realnews)
    problems = [str(p) for p in problems] + (real.problems if real else [])
    for problem in problems:
        typer.echo(problem)
    if problems:
        typer.echo(f"{len(problems)} problem(s) in {len(corpus) + (len(real.standoff) if real else 0)} rows", err=True)
        raise typer.Exit(EXIT_INPUT)
    _note(f"ok: {len(corpus)} rows, no problems" + (f"; {real.note}, no problems" if real else ""))


@corpus_app.command("stats")
def corpus_stats(
    data: Annotated[Path, typer.Argument(help="Labeled file or folder. Example: labeled/")] = Path("labeled"),
    codebook: CodebookOption = None,
    table: Annotated[str, typer.Option("--table", help="Which table: overall, per_frame, per_story, per_register, per_source (real news: per_split, per_selection, per_annotator), or all. Example: --table per_story")] = "all",
    output: _output_option("per-frame.csv") = None,
    format: FormatOption = Format.table,
    update: Annotated[Optional[Path], typer.Option("--update", help="Write the tables as Markdown into FILE between <!-- corpus-stats:begin --> and <!-- corpus-stats:end -->. Example: --update labeled/README.md")] = None,
) -> None:
    """Statistics of labeled data: counts per frame, story, register and source.

    Given the stand-off real-news folder (labeled/realnews), the tables are of the real-news labels: per
    frame, split, selection and annotator (no text needed).

    Example: framing corpus stats labeled/realnews --table per_split
    """
    from framing import api
    from framing.corpus import load_corpus, statistics
    from framing.realnews import is_standoff_folder, standoff_statistics
    from framing.tables import markdown_table, replace_marked_block

    codebook_obj = api.load_codebook_for(codebook)
    tables = standoff_statistics(data, codebook_obj.frame_names) if is_standoff_folder(data) else statistics(load_corpus(data), codebook_obj)
    if table != "all" and table not in tables:
        raise InputError(f"--table {table!r}: choose one of all, {', '.join(tables)}")
    if update is not None:
        blocks = [f"Generated by `framing corpus stats {data} --update {update}`.\n"]
        blocks += [f"### {name.replace('_', ' ')}\n\n{markdown_table(frame)}\n" for name, frame in tables.items() if table in ("all", name)]
        replace_marked_block(update, "corpus-stats", "\n".join(blocks))
        _note(f"statistics -> {update}")
        return
    for name, frame in tables.items():
        if table in ("all", name):
            _emit(frame, output if table != "all" else None, format, name)


@corpus_app.command("sample")
def corpus_sample(
    data: Annotated[Path, typer.Argument(help="A table of passages (labeled file or folder, or a passage table from score --passages). Example: labeled/corpus")] = Path("labeled/corpus"),
    n: Annotated[int, typer.Option("--n", min=1, help="How many passages to draw, spread over stories (else articles). Example: --n 360")] = 360,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the draw. Example: --seed 0")] = 0,
    output: _output_option("sample.jsonl") = None,
    format: FormatOption = Format.table,
) -> None:
    """Draw passages (id and text only, no labels) for a blind second annotation pass, or for labeling.

    Any table of passages works: a labeled file or folder, or the passage table of `framing score --passages`
    (ids <article_id>#<passage_index>). Exactly --n rows (all, if fewer), spread over stories (else articles)
    in proportion to their size.

    Example: framing corpus sample labeled/corpus --n 360 --output labeled/agreement/sample.jsonl

    Example: framing corpus sample passages.csv --n 200 --output to-label.jsonl
    """
    from framing.agreement import draw_sample, read_passages

    _emit(draw_sample(read_passages(data), n, seed), output, format, "sample")


@corpus_app.command("import")
def corpus_import(
    file: Annotated[Path, typer.Argument(help="Annotations exported from Label Studio (JSON) or Prodigy (`prodigy db-out`, JSONL). Example: project-1-export.json")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The labeled file to write (.jsonl, .csv or .parquet). Example: --output labeled/imported.jsonl")],
    tool: Annotated[Optional[Tool], typer.Option("--from", help="Which tool exported FILE; default: told from its content. Example: --from prodigy")] = None,
    codebook: CodebookOption = None,
) -> None:
    """Read annotations made in Label Studio or Prodigy (on tasks from `framing annotate --export`) into the labeled format.

    Cancelled (Label Studio) and rejected or ignored (Prodigy) tasks are left out. The result is checked like any labeled file.

    Example: framing corpus import project-1-export.json --output labeled/imported.jsonl
    """
    from framing import api

    rows = api.import_annotation_file(file, output, codebook, tool.value if tool else None)
    _note(f"{len(rows)} annotation(s) from {file} -> {output}")


@corpus_app.command("agreement")
def corpus_agreement(
    data: Annotated[Path, typer.Argument(help="The labeled folder with the corpus and the second annotation pass. Example: labeled/")] = Path("labeled"),
    second: Annotated[Path, typer.Option("--second", help="The second, independent annotation (id, labels). Example: --second labeled/agreement/second-pass.jsonl")] = Path("labeled/agreement/second-pass.jsonl"),
    first: Annotated[Path, typer.Option("--first", help="The first annotation of the same passages, before adjudication. Example: --first labeled/agreement/first-pass.jsonl")] = Path("labeled/agreement/first-pass.jsonl"),
    report: Annotated[Path, typer.Option("--report", help="Where to write the agreement report. Example: --report labeled/AGREEMENT.md")] = Path("labeled/AGREEMENT.md"),
    codebook: CodebookOption = None,
) -> None:
    """Per-frame Krippendorff's alpha between two independent annotations, and the adjudication record.

    Example: framing corpus agreement labeled/ --report labeled/AGREEMENT.md
    """
    from framing import api
    from framing.agreement import agreement_report

    text, table = agreement_report(first, second, data, api.load_codebook_for(codebook))
    from framing.tables import write_text_atomic

    write_text_atomic(report, text)
    _print_table(table, "Krippendorff's alpha per frame")
    _note(f"report -> {report}")


def _interrupt_on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt


def _click_exceptions() -> tuple[type[Exception], ...]:
    """Click's exception class, and the copy of click that recent typer releases vendor (``typer._click``):
    a usage error raised by either must exit 2 with click's message, not as an internal error."""
    import click

    types: list[type[Exception]] = [click.ClickException]
    try:
        from typer._click.exceptions import ClickException as VendoredClickException
    except ImportError:
        pass
    else:
        types.append(VendoredClickException)
    return tuple(types)


def _show_input_warnings() -> None:
    """Print the API's InputWarnings as ``warning: ...`` lines (silenced by -q), every time, not once per place."""
    import warnings

    from framing.errors import InputWarning

    default = warnings.showwarning
    if getattr(default, "shows_input_warnings", False):  # main() called again in one process (the tests)
        return

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, InputWarning):
            _note(f"warning: {message}")
        else:
            default(message, category, filename, lineno, file, line)

    show.shows_input_warnings = True
    warnings.simplefilter("always", InputWarning)
    warnings.showwarning = show


def main() -> None:
    import signal

    import click

    # A killed run (SIGTERM) unwinds like Ctrl-C: checkpoints are closed on complete rows.
    signal.signal(signal.SIGTERM, _interrupt_on_sigterm)
    _show_input_warnings()
    try:
        code = app(standalone_mode=False)
    except click.exceptions.Abort:
        typer.echo("interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        typer.echo("interrupted: finished work is kept; run the same command with --resume to continue", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Interrupted as exc:
        typer.echo(f"interrupted: {exc}", err=True)
        sys.exit(exc.exit_code)
    except _click_exceptions() as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except FramingError as exc:
        if _state["debug"]:
            raise
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if _state["debug"]:
            raise
        typer.echo(f"error: {type(exc).__name__}: {exc} (run with --debug for the traceback)", err=True)
        sys.exit(1)
    if code == EXIT_INTERRUPTED:
        # Typer turns a KeyboardInterrupt (Ctrl-C, or SIGTERM through the handler above) into this exit code, silently.
        typer.echo("interrupted", err=True)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
