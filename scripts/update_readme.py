"""Run the commands shown in README.md and paste their real output between its example markers.

    .venv/bin/python scripts/update_readme.py            # all examples and result tables
    .venv/bin/python scripts/update_readme.py classify   # one example

Each example is a block ``<!-- example:NAME:begin --> ... <!-- example:NAME:end -->`` in README.md;
the command is shown with its output. Result blocks (``<!-- results:NAME:begin -->``) receive the
Markdown that a benchmark script wrote under benchmarks/results/, which names the command that
produced it. So every figure in the README comes from a command.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"

EXAMPLES = {
    "help": "framing --help",
    "classify": "printf '%s\\n' \"Lima declared Mexico's ambassador persona non grata, accusing Mexico of meddling in Peru's internal affairs.\" "
                "\"Avocado and blueberry exporters fear losing 200 million dollars in sales if the rupture drags on.\" "
                "\"The statement was released shortly before midnight.\" | framing classify - --format csv",
    "score": "framing score examples/peru-mexico/*.txt --format csv",
    "compare": "framing compare examples/peru-mexico/*.txt --name peru-mexico",
    "compare-outlet": "framing compare examples/peru-mexico/ --by outlet --name peru-mexico-outlets --format csv && cat reports/peru-mexico-outlets/distances.csv",
    "compare-border": "framing compare examples/border-closure/ --by outlet --over month --name border-closure",
    "corpus-check": "framing corpus check labeled/ --realnews ../shared/realnews",
    "realnews-stats": "framing corpus stats labeled/realnews --table per_split",
    "corpus-stats": "framing corpus stats labeled/ --table per_frame",
    "annotate-export": "(framing annotate examples/peru-mexico/ --export label-studio /tmp/peru-mexico-tasks.json --order uncertain && head -c 700 /tmp/peru-mexico-tasks.json)",
    "corpus-import": "(framing corpus import examples/annotation/prodigy-db-out.jsonl --output /tmp/imported.jsonl && framing corpus check /tmp/imported.jsonl)",
    "evaluate": "framing evaluate --data labeled/ --model models/$(cat models/DEFAULT) --realnews ../shared/realnews --report reports/default-model-evaluation.md",
    "evaluate-mine": "framing evaluate --data examples/mine.jsonl --model models/DEFAULT",
    "evaluate-scratch": "framing evaluate --data examples/mine.jsonl",
    "adapt": "framing train --base models/DEFAULT --data examples/mine.jsonl --models-dir /tmp/my-models --no-promote",
}

# Block name -> the result files pasted into it, in order.
RESULTS = {
    "heldout": ["benchmarks/results/heldout.md"],
    "realnews-mix": ["benchmarks/results/realnews-mix.md", "benchmarks/results/realnews-mix-finetune.md", "benchmarks/results/realnews-mix-finetune-w1.md"],
    "quantisation": ["benchmarks/results/heldout-float32.md"],
    "semeval2023": ["benchmarks/results/semeval2023.md"],
    "frac": ["benchmarks/results/frac.md"],
    "learning-curve": ["benchmarks/results/learning-curve.md", "benchmarks/results/learning-curve-finetune.md"],
    "speed": ["benchmarks/results/speed.md", "benchmarks/results/speed-1m.md"],
    "large-compare": ["benchmarks/results/large-compare.md"],
    "corpus-check-scale": ["benchmarks/results/corpus-check-scale.md"],
    "annotate-loop": ["docs/annotate-loop.md"],
}


def run(command: str) -> str:
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", COLUMNS="150", HF_HUB_OFFLINE="1")
    result = subprocess.run(["bash", "-c", command + " 2>&1"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    if result.returncode not in (0, 3):
        raise SystemExit(f"`{command}` failed with exit code {result.returncode}:\n{result.stdout}")
    return result.stdout.rstrip()


def main(names: list[str]) -> None:
    sys.path.insert(0, str(ROOT))
    from framing.tables import replace_marked_block

    for name in names or list(EXAMPLES) + list(RESULTS):
        if name in RESULTS:
            content = "\n\n".join((ROOT / path).read_text(encoding="utf-8").strip() for path in RESULTS[name] if (ROOT / path).is_file())
            replace_marked_block(ROOT / "README.md", f"results:{name}", content)
            print(f"updated results {name}")
            continue
        command = EXAMPLES[name]
        output = run(command)
        replace_marked_block(ROOT / "README.md", f"example:{name}", f"```console\n$ {command}\n{output}\n```")
        print(f"updated example {name}")


if __name__ == "__main__":
    main(sys.argv[1:])
