"""How fast the sentence encoder embeds news passages, per backend, and how close int8 is to float32.

    .venv/bin/python benchmarks/encoder_speed.py --n 2000
    .venv/bin/python benchmarks/encoder_speed.py --n 2000 --backend onnx-int8 --tokens 40-60

Passages are the labeled corpus texts (``labeled/corpus/*.jsonl``, field ``text``), cycled to ``--n``.
For each backend it prints: passages/s end to end through ``SentenceEncoder.encode`` (tokenisation,
batching, the model, pooling and normalisation; the model already loaded), the same per CPU-second
(the process's CPU time, a steadier figure on a shared machine), the share of the time spent
tokenising, and the one-off load time (for onnx-int8: building the cached int8 file if missing).
With both backends it also prints the cosine between int8 and float32 embeddings of every distinct
passage. The speed figure is the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from framing.models import encoder as enc  # noqa: E402


def load_passages(corpus: Path) -> list[str]:
    texts = []
    for path in sorted(corpus.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = json.loads(line).get("text")
                if text:
                    texts.append(text)
    if not texts:
        raise SystemExit(f"no passages under {corpus}")
    return texts


def cycled(texts: list[str], n: int) -> list[str]:
    return [texts[i % len(texts)] for i in range(n)]


def time_backend(backend: str, passages: list[str], args) -> dict:
    encoder = enc.SentenceEncoder(batch_size=args.batch_size, backend=backend, threads=args.threads, batch_tokens=args.batch_tokens)
    started = time.perf_counter()
    encoder.encode(passages[:8])  # load (and, for onnx-int8, build the cached file if missing)
    load_s = time.perf_counter() - started
    best_wall = best_cpu = float("inf")
    for _ in range(args.repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        encoder.encode(passages)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    tokenizer = enc.load_tokenizer()
    tokenize_s = float("inf")
    for _ in range(args.repeat):
        wall = time.perf_counter()
        tokenizer.encode_batch(passages)
        tokenize_s = min(tokenize_s, time.perf_counter() - wall)
    return {
        "backend": backend,
        "passages_per_s": len(passages) / best_wall,
        "passages_per_cpu_s": len(passages) / best_cpu,
        "tokenize_share": tokenize_s / best_wall,
        "load_s": load_s,
        "describe": encoder.describe(),
    }


def agreement(texts: list[str], args) -> dict:
    distinct = list(dict.fromkeys(texts))
    int8 = enc.SentenceEncoder(batch_size=args.batch_size, backend="onnx-int8", threads=args.threads, batch_tokens=args.batch_tokens).encode(distinct)
    fp32 = enc.SentenceEncoder(batch_size=args.batch_size, backend="torch").encode(distinct)
    cos = np.sum(int8 * fp32, axis=1)
    return {"passages": len(distinct), "mean": float(cos.mean()), "p01": float(np.quantile(cos, 0.01)), "min": float(cos.min())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="passages per timed run (corpus texts, cycled)")
    parser.add_argument("--backend", choices=[*enc.BACKENDS, "all"], default="all")
    parser.add_argument("--batch-size", type=int, default=64, help="rows per batch (the embed family's default is 64)")
    parser.add_argument("--batch-tokens", type=int, default=None, help=f"onnx-int8: tokens per batch (default {enc.ONNX_BATCH_TOKENS}; 0: one text per run)")
    parser.add_argument("--threads", type=int, default=None, help="CPUs for onnx-int8 (default: all available)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per backend; the best is reported")
    parser.add_argument("--corpus", type=Path, default=ROOT / "labeled" / "corpus")
    parser.add_argument("--tokens", default=None, metavar="LO-HI", help="only passages with LO..HI tokens (e.g. 40-60: the issue's ~50-token passages)")
    parser.add_argument("--no-agreement", action="store_true", help="skip the int8 / float32 cosine check")
    args = parser.parse_args(argv)

    texts = load_passages(args.corpus)
    if args.tokens:
        low, _, high = args.tokens.partition("-")
        texts = [t for t, e in zip(texts, enc.load_tokenizer().encode_batch(texts)) if int(low) <= len(e.ids) <= int(high)]
        if not texts:
            raise SystemExit(f"no passages with {args.tokens} tokens")
    passages = cycled(texts, args.n)
    lengths = [len(e.ids) for e in enc.load_tokenizer().encode_batch(passages)]
    backends = list(enc.BACKENDS) if args.backend == "all" else [args.backend]
    print(f"machine: {platform.processor() or platform.machine()}, {enc.cpu_count()} CPUs available; load average {os.getloadavg()[0]:.2f}")
    if os.getloadavg()[0] > 0.5:
        print("note: other processes are using the CPUs, so passages/s understates what an idle machine does; per CPU-s is steadier")
    print(f"passages: {len(passages)} ({len(texts)} distinct), tokens per passage mean {np.mean(lengths):.1f}, max {max(lengths)}")
    print(f"{'backend':<10} {'passages/s':>11} {'per CPU-s':>10} {'tokens/s':>9} {'tokenise':>9} {'load s':>7}")
    for backend in backends:
        r = time_backend(backend, passages, args)
        tokens_per_s = r["passages_per_s"] * float(np.mean(lengths))
        row = f"{r['backend']:<10} {r['passages_per_s']:>11.0f} {r['passages_per_cpu_s']:>10.0f} {tokens_per_s:>9.0f}"
        print(f"{row} {r['tokenize_share']:>8.1%} {r['load_s']:>7.1f}", flush=True)
    if "onnx-int8" in backends and "torch" in backends and not args.no_agreement:
        a = agreement(texts, args)
        print(f"cosine(int8, float32) over {a['passages']} distinct passages: mean {a['mean']:.4f}, 1st percentile {a['p01']:.4f}, min {a['min']:.4f}")
    print(f"onnx-int8 file: {enc.onnx_model_path()}")


if __name__ == "__main__":
    main()
