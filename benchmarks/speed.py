"""How fast `framing score` and `framing classify` run, and how much memory they take, per model and engine.

    .venv/bin/python benchmarks/speed.py                       # the README table (about 15 minutes on 2 cores)
    .venv/bin/python benchmarks/speed.py --sizes 1000 --runs default:local tfidf:local

Input: a generated archive of realistic news passages. Each article is 5 passages drawn (seeded) from the
labeled corpus's passages of 25 to 45 words (about 50 tokens: the issue's reference length), joined with
blank lines, as a JSONL table with ``id``, ``outlet`` and ``text``. Texts repeat across articles when the
archive is larger than the corpus; nothing in framing caches by text, so every passage is read, segmented,
encoded, classified and written again.

Each run is the real command line in a fresh process (`framing -q score INPUT --output OUT.csv --passages
PASSAGES.csv`), so the figures include start-up, the model load, reading, segmenting, encoding,
classifying and writing both tables. Peak memory is the largest resident set of the process tree (the CLI
and, for Dask, its worker processes), sampled every 50 ms with psutil. `classify` rows time the passage-level
command on a table of the same passages (no segmentation, one output table).

Runs (``--runs``): ``MODEL:ENGINE`` with MODEL ``default`` (the folder in models/DEFAULT) or a model folder
name under models/, and ENGINE ``local``, ``dask`` (a local cluster of 2 workers) or ``classify``.
Writes benchmarks/results/speed.json and speed.md; ``--profile N`` adds a cProfile of one in-process local
run of the default model on N passages (time per stage, top functions by own time) to the Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSAGES_PER_ARTICLE = 5
MIN_WORDS, MAX_WORDS = 25, 45
FRAMING = [sys.executable, "-m", "framing.cli"]


def corpus_passages(seed: int) -> list[str]:
    from framing.corpus import load_corpus

    texts = [t for t in load_corpus(ROOT / "labeled")["text"] if MIN_WORDS <= len(t.split()) <= MAX_WORDS]
    random.Random(seed).shuffle(texts)
    return texts


def write_archive(folder: Path, n_passages: int, passages: list[str], seed: int) -> tuple[Path, Path]:
    """An article table (JSONL) of ``n_passages`` passages and a passage table of the same passages."""
    rng = random.Random(seed)
    articles, passage_rows = folder / f"articles-{n_passages}.jsonl", folder / f"passages-{n_passages}.jsonl"
    with articles.open("w", encoding="utf-8") as article_file, passage_rows.open("w", encoding="utf-8") as passage_file:
        for article in range(n_passages // PASSAGES_PER_ARTICLE):
            chosen = [passages[rng.randrange(len(passages))] for _ in range(PASSAGES_PER_ARTICLE)]
            record = {"id": f"a{article}", "outlet": f"outlet-{article % 7}", "text": "\n\n".join(chosen)}
            article_file.write(json.dumps(record) + "\n")
            for k, text in enumerate(chosen):
                passage_file.write(json.dumps({"id": f"a{article}-{k}", "text": text}) + "\n")
    return articles, passage_rows


def run_measured(command: list[str], env: dict) -> tuple[float, float]:
    """Wall seconds and peak resident memory (MiB) of the process tree of ``command``."""
    import psutil

    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        parent = psutil.Process(process.pid)
        while not stop.is_set():
            try:
                tree = [parent] + parent.children(recursive=True)
                peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
            except psutil.Error:
                pass
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    stop.set()
    sampler.join()
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {process.returncode}: {stderr.decode(errors='replace')[-2000:]}")
    return wall, peak / 2**20


def model_folder(name: str) -> Path:
    """``default``, a family name (its newest committed folder) or a folder name under models/."""
    from framing.models import FAMILIES, default_model_dir, models_dir

    if name == "default":
        return default_model_dir()
    if name in FAMILIES:
        folders = sorted(models_dir().glob(f"{name}-*/model.json"))
        if not folders:
            raise SystemExit(f"no {name} model folder under {models_dir()}")
        return folders[-1].parent
    return models_dir() / name


def command_for(model: str, engine: str, articles: Path, passages: Path, out: Path) -> list[str]:
    folder = str(model_folder(model))
    if engine == "classify":
        return FRAMING + ["-q", "classify", str(passages), "--model", folder, "--output", str(out / "classified.csv")]
    command = FRAMING + ["-q", "score", str(articles), "--model", folder, "--output", str(out / "articles.csv"), "--passages", str(out / "passages.csv")]
    if engine == "dask":
        command += ["--engine", "dask", "--workers", "2"]
    return command


# Where a scoring run's time goes: (stage, (file suffix, function name)) of the functions whose cumulative
# time is that stage's. Model load, reading and segmenting, the features and heads, and the writing.
PROFILE_STAGES = [
    ("load the model", ("framing/models/__init__.py", "load_model")),
    ("read articles (decode, metadata, language check)", ("framing/articles.py", "iter_articles")),
    ("segment into passages", ("framing/segmentation.py", "segment")),
    ("classify passages", ("framing/models/base.py", "predict_proba")),
    ("... of which the int8 transformer (ONNX Runtime)", ("framing/models/encoder.py", "run_onnx")),
    ("... of which tokenising", ("framing/models/finetune.py", "__init__")),
    ("... of which TF-IDF features", ("sklearn/feature_extraction/text.py", "transform")),
    ("... of which logistic heads", ("framing/models/linear.py", "probabilities")),
    ("checkpoint the scored batches", ("framing/api.py", "append")),
    ("write the output tables", ("framing/api.py", "finish")),
]


def profile_default(articles: Path, out: Path, top: int) -> str:
    """cProfile of one in-process local scoring run with the default model (model load included): the
    time of each stage, then the top functions by their own time."""
    import cProfile
    import io
    import pstats

    from framing import api

    profiler = cProfile.Profile()
    profiler.enable()
    model = api.load_scoring_model(None, None)
    api.score_to_files([articles], out / "profiled.csv", out / "profiled-passages.csv", None, model)
    profiler.disable()
    stats = pstats.Stats(profiler)
    lines = ["| stage | cumulative time (s) |", "| --- | --- |"]
    for stage, (file_suffix, function) in PROFILE_STAGES:
        seconds = sum(ct for (file, _, name), (_, _, _, ct, _) in stats.stats.items() if name == function and file.endswith(file_suffix))
        if seconds >= 0.005:  # a stage this model does not have (TF-IDF features of a fine-tuned model) is left out
            lines.append(f"| {stage} | {seconds:.2f} |")
    lines.append(f"| whole run (model load included) | {stats.total_tt:.2f} |")
    stream = io.StringIO()
    pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(top)
    functions = "\n".join(line for line in stream.getvalue().splitlines() if line.strip())
    return "\n".join(lines) + f"\n\nTop {top} functions by their own time:\n\n```\n{functions}\n```"


def main(argv: list[str] | None = None) -> dict:
    from framing.tables import markdown_table, write_text_atomic

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000], help="passages per generated archive")
    parser.add_argument("--runs", nargs="+", default=["default:local", "default:dask", "default:classify"], metavar="MODEL:ENGINE")
    parser.add_argument("--large-runs", nargs="*", default=None, metavar="MODEL:ENGINE",
                        help="runs for sizes above 10,000 (default: the same as --runs)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", type=int, default=0, metavar="PASSAGES",
                        help="add a cProfile of an in-process local default run on an archive of this many passages")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "results" / "speed")
    args = parser.parse_args(argv)

    env = dict(os.environ, HF_HUB_OFFLINE="1")
    passages = corpus_passages(args.seed)
    rows = []
    help_seconds = sorted(run_measured(FRAMING + ["--help"], env)[0] for _ in range(5))[2]
    with tempfile.TemporaryDirectory(prefix="framing-speed-") as tmp:
        tmp_path = Path(tmp)
        # Warm-up: the first use of the int8 encoder may build its cached ONNX file; not part of any timing.
        warm_articles, warm_passages = write_archive(tmp_path, 10, passages, args.seed)
        run_measured(command_for("default", "local", warm_articles, warm_passages, tmp_path), env)
        for size in args.sizes:
            articles, passage_table = write_archive(tmp_path, size, passages, args.seed)
            runs = args.runs if size <= 10_000 or args.large_runs is None else args.large_runs
            for run in runs:
                model, engine = run.split(":")
                wall, peak = run_measured(command_for(model, engine, articles, passage_table, tmp_path), env)
                family = json.loads((model_folder(model) / "model.json").read_text())["family"]
                row = {
                    "model": f"{model} ({family})", "engine": engine, "passages": size,
                    "articles": size // PASSAGES_PER_ARTICLE if engine != "classify" else None,
                    "wall_s": round(wall, 2), "passages_per_s": round(size / wall, 1),
                    "articles_per_s": round(size / PASSAGES_PER_ARTICLE / wall, 1) if engine != "classify" else None,
                    "peak_rss_mib": round(peak),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
        profile = profile_default(write_archive(tmp_path, args.profile, passages, args.seed)[0], tmp_path, 20) if args.profile else ""

    import pandas as pd

    table = pd.DataFrame(rows).rename(columns={
        "wall_s": "wall time (s)", "passages_per_s": "passages/s", "articles_per_s": "articles/s", "peak_rss_mib": "peak memory (MiB)"})
    table["articles"] = table["articles"].astype("Int64")
    table = table.astype(object).where(table.notna(), "")
    command = "python benchmarks/speed.py " + " ".join(argv if argv is not None else sys.argv[1:])
    markdown = (
        f"`{command.strip()}` on {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; each row is one fresh "
        f"`framing` process (start-up, model load, read, segment, encode, classify, write). Articles of "
        f"{PASSAGES_PER_ARTICLE} passages of {MIN_WORDS}-{MAX_WORDS} words. Start-up: `framing --help` takes "
        f"{help_seconds:.2f} s (median of 5 fresh processes).\n\n{markdown_table(table)}\n"
    )
    if profile:
        markdown += f"\nWhere the time goes: cProfile of one local run of the default model on {args.profile:,} passages, in process:\n\n{profile}\n"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(args.output.with_suffix(".json"), json.dumps({"command": command, "help_s": round(help_seconds, 3), "rows": rows}, indent=2) + "\n")
    write_text_atomic(args.output.with_suffix(".md"), markdown)
    print(markdown)
    return {"rows": rows}


if __name__ == "__main__":
    main()
