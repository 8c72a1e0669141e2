"""What the external benchmarks (``semeval2023.py``, ``frac.py``) share.

- ``run_benchmark``: cross-validates every requested family with ``framing.evaluation.cross_validate``
  (the same folds for every family and for the baseline), times each, and collects the metrics.
- ``frequent_frames_baseline``: in each training fold, the single set of frames that maximises micro-F1
  when predicted for every text of that training fold; that set is then predicted for every text of the
  held-out fold. (Predicting one constant set S for all n texts gives micro-F1 = 2 * sum_{j in S} n_j /
  (|S| * n + P), P the number of (text, frame) labels, so the best set is the k most frequent frames for
  some k: we try every k.) The frames present in at least half of the training texts, the other common
  reading of "always the frequent frames", is recorded too (``frequency_half_baseline``).
- ``export_corpus``: writes a converted data set as JSONL for ``framing evaluate --data``, refusing any
  folder inside the repository (benchmark data is evaluation-only and must not be committed).
- ``write_results``: JSON and Markdown under ``benchmarks/results/``; only aggregate numbers, no text.

The data never enters the repository: it is read from the folder given on the command line and
converted in memory.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULTS_DIR = ROOT / "benchmarks" / "results"
CODEBOOKS_DIR = ROOT / "benchmarks" / "codebooks"
ALL_FAMILIES = ("tfidf", "embed", "hybrid", "finetune")


# -- parameters -----------------------------------------------------------------------------------


def parse_params(items: list[str] | None) -> dict[str, dict]:
    """``["tfidf.C=8", "embed.C=0.5", "tfidf.ngram_max=1"]`` -> ``{"tfidf": {"C": 8.0}, ...}`` (JSON values)."""
    params: dict[str, dict] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        family, dot, name = key.partition(".")
        if not sep or not dot or not name:
            raise SystemExit(f"--param {item!r}: use FAMILY.NAME=VALUE, e.g. tfidf.C=8")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        params.setdefault(family, {})[name] = value
    return params


def parse_system(spec: str) -> tuple[str, dict]:
    """``"tfidf"`` -> ("tfidf", {}); ``"tfidf:C=16,ngram_max=1"`` -> ("tfidf", {"C": 16, "ngram_max": 1}) (JSON values)."""
    family, _, rest = spec.partition(":")
    params = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"--families {spec!r}: use FAMILY or FAMILY:NAME=VALUE,NAME=VALUE, e.g. tfidf:C=16,ngram_max=1")
        try:
            params[name] = json.loads(raw)
        except json.JSONDecodeError:
            params[name] = raw
    return family, params


# -- export ---------------------------------------------------------------------------------------


def inside_repository(path: Path) -> bool:
    path = Path(path).resolve()
    return path == ROOT or ROOT in path.parents


def export_corpus(corpus: pd.DataFrame, folder: Path, name: str) -> Path:
    """Write ``corpus`` (id, text, labels, story) as ``folder/<name>.jsonl``; never inside the repository."""
    folder = Path(folder)
    if inside_repository(folder):
        raise SystemExit(f"--export {folder}: refusing to write benchmark data inside the repository ({ROOT}); choose a folder outside it")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.jsonl"
    columns = [c for c in ("id", "text", "labels", "story") if c in corpus.columns]
    with path.open("w", encoding="utf-8") as handle:
        for row in corpus[columns].to_dict("records"):
            handle.write(json.dumps({**row, "labels": list(row["labels"])}, ensure_ascii=False) + "\n")
    return path


# -- baselines ------------------------------------------------------------------------------------


def best_constant_set(Y: np.ndarray) -> np.ndarray:
    """The 0/1 frame vector that, predicted for every row of ``Y``, maximises micro-F1 (ties: fewer frames)."""
    n, _ = Y.shape
    counts = Y.sum(axis=0)
    total = counts.sum()
    order = np.argsort(-counts, kind="stable")
    best_k, best_f1 = 0, -1.0
    for k in range(1, len(order) + 1):
        f1 = 2 * counts[order[:k]].sum() / (k * n + total) if total else 0.0
        if f1 > best_f1 + 1e-12:
            best_k, best_f1 = k, f1
    chosen = np.zeros(Y.shape[1], dtype=int)
    chosen[order[:best_k]] = 1
    return chosen


def half_frequency_set(Y: np.ndarray) -> np.ndarray:
    """Every frame in at least half of the rows of ``Y``; the single most frequent one if none is."""
    chosen = (Y.mean(axis=0) >= 0.5).astype(int)
    if not chosen.any():
        chosen[int(np.argmax(Y.sum(axis=0)))] = 1
    return chosen


def constant_baseline(Y: np.ndarray, splits, choose, frame_names: list[str]) -> tuple[dict, np.ndarray]:
    """Out-of-fold predictions of a constant set chosen by ``choose`` on each training fold, and its metrics."""
    from framing.evaluation import metrics

    predicted = np.zeros(Y.shape)
    chosen_sets = []
    for train_index, test_index in splits:
        chosen = choose(Y[train_index])
        predicted[test_index] = chosen[None, :]
        chosen_sets.append([name for name, c in zip(frame_names, chosen) if c])
    result = metrics(Y, predicted, np.full(Y.shape[1], 0.5), frame_names)
    result.pop("ece", None)
    return {**result, "sets_per_fold": chosen_sets}, predicted


# -- running --------------------------------------------------------------------------------------


def folds_of(corpus: pd.DataFrame, folds: int, seed: int):
    """The folds ``cross_validate`` uses for this corpus."""
    from framing.evaluation import cross_validation_folds

    return cross_validation_folds(corpus, folds, seed)[0]


def run_family(family: str, corpus: pd.DataFrame, codebook, folds: int, seed: int, params: dict | None):
    """Cross-validate one family; returns (evaluation or None, result dict with wall time or the error)."""
    from framing.evaluation import cross_validate, metrics

    started, cpu_started = time.perf_counter(), time.process_time()
    try:
        evaluation = cross_validate(family, corpus, codebook, folds=folds, seed=seed, params=params or None)
    except Exception as exc:  # a family that fails (finetune not ready, a bad param) must not lose the others' results
        traceback.print_exc()
        return None, {"error": f"{type(exc).__name__}: {exc}", "wall_seconds": round(time.perf_counter() - started, 1), "params": params or {}}
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    keep = ("micro_f1", "macro_f1", "ece", "per_frame", "description")
    # Diagnostic: the same out-of-fold probabilities cut at a fixed 0.5 instead of the per-frame thresholds tuned in training.
    fixed = metrics(evaluation.truth, evaluation.probabilities, np.full(evaluation.truth.shape[1], 0.5), codebook.frame_names)
    # CPU time (all threads of this process) beside the wall time: the wall time depends on what else runs on the machine.
    return evaluation, {**{k: evaluation.metrics[k] for k in keep}, "at_0.5": {"micro_f1": fixed["micro_f1"], "macro_f1": fixed["macro_f1"]},
                        "params": params or {}, "wall_seconds": round(seconds, 1),
                        "cpu_seconds": round(cpu_seconds, 1)}


def environment() -> dict:

    from framing.models.base import library_versions

    import hashlib

    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    # Which state of the framing code produced the numbers: a hash over its Python sources.
    digest = hashlib.sha256()
    for path in sorted((ROOT / "framing").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    info = {"cpus": cpus, "machine": platform.machine(), "versions": library_versions(), "framing_sources_sha256": digest.hexdigest()[:16]}
    try:  # the embed family's encoder backend (onnx-int8 or torch; FRAMING_ENCODER_BACKEND)
        from framing.models.encoder import SentenceEncoder

        encoder = SentenceEncoder()
        info["encoder"] = encoder.describe() if hasattr(encoder, "describe") else {"backend": "torch"}
    except Exception as exc:  # an encoder that cannot even describe itself must not stop a tfidf run
        info["encoder"] = {"error": f"{type(exc).__name__}: {exc}"}
    return info


def write_results(output: Path, payload: dict, markdown: str) -> tuple[Path, Path]:
    from framing.tables import write_text_atomic

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    json_path = output.with_suffix(".json")
    md_path = output.with_suffix(".md")
    write_text_atomic(json_path, json.dumps(payload, indent=2) + "\n")
    write_text_atomic(md_path, markdown.rstrip() + "\n")
    return json_path, md_path


def merge_results(output: Path, payload: dict) -> dict:
    """Keep the families of an earlier run that this run did not redo (same data, folds and seed only)."""
    path = Path(output).with_suffix(".json")
    if not path.is_file():
        return payload
    try:
        earlier = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        return payload
    same = all(earlier.get(k) == payload.get(k) for k in ("benchmark", "n", "folds", "seed", "codebook_fingerprint"))
    if not same:
        return payload
    families = dict(earlier.get("families", {}))
    families.update(payload["families"])
    return {**payload, "families": {f: families[f] for f in sorted(families, key=lambda k: system_order(k, list(families)))}}


def system_order(key: str, keys: list[str]) -> tuple:
    """Families in the order tfidf, embed, hybrid, finetune; each family's defaults before its parameter variants."""
    family = key.split(" ", 1)[0]
    rank = ALL_FAMILIES.index(family) if family in ALL_FAMILIES else len(ALL_FAMILIES)
    return (rank, key != family, keys.index(key))


def fmt(value) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) and not isinstance(value, bool) else ("" if value is None else str(value))


def per_frame_table(payload: dict, frame_names: list[str]) -> pd.DataFrame:
    """Rows: frames with their support; columns: F1 of every baseline and of every family run with its default parameters."""
    rows = []
    systems = {**{f"baseline: {k}": v for k, v in payload["baselines"].items()},
               **{k: v for k, v in payload["families"].items() if "per_frame" in v and not v.get("params")}}
    for name in frame_names:
        row = {"frame": name}
        for system, values in systems.items():
            row.setdefault("support", values["per_frame"][name]["support"])
            row[system] = fmt(values["per_frame"][name]["f1"])
        rows.append(row)
    return pd.DataFrame(rows)


# -- the shared command line ------------------------------------------------------------------------


def system_name(family: str, params: dict) -> str:
    """``tfidf`` for the defaults; ``tfidf (C=16, ngram_max=1)`` for a run with parameters."""
    if not params:
        return family
    return f"{family} ({', '.join(f'{k}={v}' for k, v in sorted(params.items()))})"


def build_parser(description: str, default_output: Path, with_baseline_note: str = ""):
    import argparse

    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path, nargs="?", help="the benchmark's folder (read only; nothing from it is written into the repository); "
                        "not needed with --render-only")
    parser.add_argument("--families", nargs="*", default=list(ALL_FAMILIES), metavar="FAMILY[:NAME=VALUE,...]",
                        help="model families to cross-validate, in order (none: baselines only); a family may carry parameters for "
                        "cross_validate, e.g. tfidf:C=16,ngram_max=1, and may appear several times with different ones")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--param", action="append", default=[], metavar="FAMILY.NAME=VALUE",
                        help="a model parameter passed to cross_validate, e.g. --param tfidf.C=16 (repeatable); the run is recorded under 'family (params)'")
    parser.add_argument("--output", type=Path, default=default_output, help="results file stem: writes .json and .md (default: %(default)s)")
    parser.add_argument("--no-merge", action="store_true", help="do not keep other systems' results from an earlier run of the same benchmark in --output")
    parser.add_argument("--render-only", action="store_true", help="only rewrite <output>.md from <output>.json (no data is read)")
    parser.add_argument("--export", type=Path, metavar="DIR", help="only write the converted data as DIR/<benchmark>.jsonl (DIR outside the repository) for `framing evaluate --data`, then exit")
    return parser


def benchmark_main(benchmark: str, args, corpus: pd.DataFrame, codebook, data_notes: dict, extra_metrics=None, extra_baselines=None,
                   command: str = "", half_baseline: bool = True, export_name: str | None = None) -> dict:
    """Cross-validate the families and the baselines on ``corpus``; returns the results payload.

    ``extra_metrics(Y, probabilities) -> dict`` adds benchmark-specific metrics (FrAC's single-label accuracy)
    to every family, from its out-of-fold probabilities; ``extra_baselines(Y, splits, frame_names) -> dict``
    adds baselines of its own (FrAC's majority class).
    """
    import logging

    import framing.models.encoder as encoder_module
    from framing.corpus import label_matrix
    from framing.models import family_class
    from framing.models.encoder import cached_embeddings

    # Progress of long fits (the finetune family logs every epoch) on stderr.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.export:
        path = export_corpus(corpus, args.export, export_name or benchmark)
        codebook_path = Path(codebook.source)
        shown = codebook_path.relative_to(ROOT) if inside_repository(codebook_path) else codebook_path
        print(f"wrote {len(corpus)} rows to {path}")
        print(f"evaluate it with: framing evaluate --data {path} --codebook {shown} --model tfidf --lenient --folds {args.folds} --seed {args.seed}")
        return {"export": str(path)}

    params = parse_params(args.param)
    systems = [parse_system(spec) for spec in args.families]
    unknown = sorted(set(params) - {family for family, _ in systems})
    if unknown:
        raise SystemExit(f"--param for {', '.join(unknown)}, which is not in --families")
    Y = label_matrix(corpus, codebook)
    splits = folds_of(corpus, args.folds, args.seed)
    names = codebook.frame_names
    payload: dict = {
        "benchmark": benchmark,
        "codebook": codebook.name,
        "codebook_fingerprint": codebook.fingerprint,
        "n": len(corpus),
        "folds": args.folds,
        "seed": args.seed,
        "data": data_notes,
        "label_frequency": {name: int(c) for name, c in zip(names, Y.sum(axis=0))},
        "baselines": {},
        "families": {},
        "environment": environment(),
        "command": command,
    }
    started = time.perf_counter()
    constants = [("best constant set", best_constant_set)] + ([("frames in >= 50% of training texts", half_frequency_set)] if half_baseline else [])
    for key, choose in constants:
        payload["baselines"][key] = constant_baseline(Y, splits, choose, names)[0]
    if extra_baselines is not None:
        payload["baselines"].update(extra_baselines(Y, splits, names))
    for key, result in payload["baselines"].items():
        print(f"baseline ({key}): micro-F1 {result['micro_f1']:.3f}, macro-F1 {result['macro_f1']:.3f}", flush=True)

    with cached_embeddings():  # embed runs with different heads encode each text once
        for family, own_params in systems:
            family_params = {**params.get(family, {}), **own_params}
            name = system_name(family, family_params)
            backend = os.environ.get("FRAMING_ENCODER_BACKEND", "")
            if family_class(family).uses_sentence_encoder and backend and backend != getattr(encoder_module, "DEFAULT_BACKEND", backend):
                name += f" [FRAMING_ENCODER_BACKEND={backend}]"
            print(f"{name}: {args.folds}-fold cross-validation on {len(corpus)} texts ...", flush=True)
            evaluation, result = run_family(family, corpus, codebook, args.folds, args.seed, family_params)
            result["command"] = command
            result["framing_sources_sha256"] = payload["environment"]["framing_sources_sha256"]
            if family_class(family).uses_sentence_encoder:
                result["encoder"] = payload["environment"].get("encoder")
            if evaluation is not None and extra_metrics is not None:
                result.update(extra_metrics(evaluation.truth, evaluation.probabilities))
            payload["families"][name] = result
            if "error" in result:
                print(f"{name}: FAILED after {result['wall_seconds']:.0f} s: {result['error']}", flush=True)
            else:
                print(f"{name}: micro-F1 {result['micro_f1']:.3f}, macro-F1 {result['macro_f1']:.3f}, {result['wall_seconds']:.0f} s", flush=True)
    payload["wall_seconds"] = round(time.perf_counter() - started, 1)
    if not args.no_merge:
        payload = merge_results(args.output, payload)
    return payload


def summary_table(payload: dict, extra_columns: dict[str, str] | None = None) -> pd.DataFrame:
    """One row per baseline and family: micro-F1, macro-F1, any extra columns (label -> metric key), ECE, wall time."""
    extra_columns = extra_columns or {}
    rows = []
    for key, r in payload["baselines"].items():
        rows.append({"system": f"baseline: {key}", "micro-F1": fmt(r["micro_f1"]), "macro-F1": fmt(r["macro_f1"]),
                     **{label: fmt(r.get(metric)) for label, metric in extra_columns.items()}, "micro / macro-F1 at 0.5": "", "ECE": "",
                     "wall time (s)": "", "CPU time (s)": ""})
    for key, r in payload["families"].items():
        if "error" in r:
            rows.append({"system": key, "micro-F1": "failed", "macro-F1": r["error"][:80], **{label: "" for label in extra_columns},
                         "micro / macro-F1 at 0.5": "", "ECE": "",
                         "wall time (s)": f"{r['wall_seconds']:.0f}", "CPU time (s)": ""})
            continue
        rows.append({"system": key, "micro-F1": fmt(r["micro_f1"]), "macro-F1": fmt(r["macro_f1"]),
                     **{label: fmt(r.get(metric)) for label, metric in extra_columns.items()},
                     "micro / macro-F1 at 0.5": f"{r['at_0.5']['micro_f1']:.3f} / {r['at_0.5']['macro_f1']:.3f}" if "at_0.5" in r else "",
                     "ECE": fmt(r["ece"]),
                     "wall time (s)": f"{r['wall_seconds']:.0f}", "CPU time (s)": f"{r['cpu_seconds']:.0f}" if r.get("cpu_seconds") is not None else ""})
    return pd.DataFrame(rows)


def print_table(table: pd.DataFrame) -> None:
    print(table.to_string(index=False))


def best_family(payload: dict, metric: str = "micro_f1") -> str | None:
    scored = {k: v for k, v in payload["families"].items() if metric in v}
    return max(scored, key=lambda k: (scored[k][metric], scored[k].get("macro_f1", 0))) if scored else None


def commands_block(payload: dict) -> list[str]:
    """Markdown lines naming the command that produced each row, and how to read the times."""
    commands = list(dict.fromkeys(r["command"] for r in payload["families"].values() if r.get("command")))
    lines = ["micro-F1 and macro-F1: each frame cut at its own threshold, tuned inside each training fold (as `framing` predicts). "
             "micro / macro-F1 at 0.5: a diagnostic, the same out-of-fold probabilities cut at a fixed 0.5 (no tuning).", "",
             "Wall time: the whole k-fold cross-validation of that row (every fold's model, including its inner threshold-tuning "
             "fits). CPU time: this process's CPU seconds (all threads) over the same span; the wall time also counts waiting for "
             "other jobs on the machine. Baselines take well under a second.", ""]
    if commands:
        lines += ["Produced by:", ""] + [f"- `{c}`" for c in commands] + [""]
    return lines


def start(description: str, name: str, default_codebook: Path, render_markdown, argv: list[str] | None):
    """Parse a benchmark's command line and load its codebook. Returns ``(args, codebook, command, payload)``:
    with --render-only the Markdown is rewritten from the JSON and ``payload`` is that JSON (nothing else to do)."""
    from framing.codebook import load_codebook

    parser = build_parser(description, RESULTS_DIR / name)
    parser.add_argument("--codebook", type=Path, default=default_codebook, help="codebook TOML (default: %(default)s)")
    args = parser.parse_args(argv)
    codebook = load_codebook(args.codebook)
    if args.render_only:
        payload = json.loads(args.output.with_suffix(".json").read_text(encoding="utf-8"))
        print(write_results(args.output, payload, render_markdown(payload, codebook.frame_names))[1])
        return args, codebook, "", payload
    if args.data_dir is None:
        parser.error("DATA_DIR is required (except with --render-only)")
    script = Path(sys.argv[0]).name if argv is None else f"{name}.py"
    command = f"python benchmarks/{script} " + " ".join(shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    if os.environ.get("FRAMING_ENCODER_BACKEND"):
        command = f"FRAMING_ENCODER_BACKEND={os.environ['FRAMING_ENCODER_BACKEND']} {command}"
    return args, codebook, command, None


def finish(args, payload: dict, codebook, render_markdown, extra_columns: dict[str, str] | None = None) -> dict:
    """Print the summary and write the results (nothing to do after --export)."""
    if "export" in payload:
        return payload
    print_table(summary_table(payload, extra_columns))
    json_path, md_path = write_results(args.output, payload, render_markdown(payload, codebook.frame_names))
    print(f"results -> {json_path}, {md_path}")
    return payload
