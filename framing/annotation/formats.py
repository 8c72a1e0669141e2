"""Tasks for the annotation tools researchers already use, and their exported annotations read back.

**Label Studio.** ``export_label_studio`` writes a JSON list of tasks, each ``{"data": {"text", "passage_id",
"article_id", ...}, "predictions": [{"model_version", "score", "result": [{"from_name": "frames",
"to_name": "text", "type": "choices", "value": {"choices": [...]}}]}]}`` (the model's frames over their
thresholds as the pre-annotation), and beside it ``<name>.label-config.xml``, the labeling interface to
paste into the project's settings (a multiple-choice ``<Choices name="frames" toName="text">``).
Its "JSON" export (a list of tasks with ``annotations``) is what ``read_label_studio`` reads; a cancelled
(skipped) annotation is left out, and each remaining annotation becomes a row.

**Prodigy.** ``export_prodigy`` writes JSONL tasks for the ``choice`` interface (``"choice_style":
"multiple"``): ``{"text", "options": [{"id", "text"}], "accept": [...], "meta": {...}}``, ``accept``
pre-selecting the model's frames. ``prodigy db-out`` exports the same tasks with ``"answer"``
(``accept``, ``reject`` or ``ignore``) and the chosen options in ``accept``; ``read_prodigy`` keeps the
accepted ones.

Both readers return rows of the labeled format of ``framing annotate`` (``id``, ``text``, ``labels``,
``story`` = the article, ...), so ``framing corpus check`` and ``framing train`` read the result.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pandas as pd

from framing.annotation.store import labeled_row
from framing.codebook import Codebook
from framing.errors import InputError

EXPORT_FORMATS = ("label-studio", "prodigy")
FROM_NAME, TO_NAME = "frames", "text"


def _predicted(probabilities: np.ndarray, thresholds: np.ndarray, names: list[str]) -> list[str]:
    return [name for name, p, t in zip(names, probabilities, thresholds) if p >= t]


def _meta(passage) -> dict:
    return {"passage_id": passage["id"], "article_id": passage["article_id"], "outlet": passage["outlet"], "title": passage["title"],
            "kind": passage["kind"], "passage_index": int(passage["passage_index"])}


def label_studio_config(codebook: Codebook) -> str:
    choices = "\n".join(f"    <Choice value={quoteattr(name)}/>" for name in codebook.frame_names)
    return (f'<View>\n  <Header value="$title"/>\n  <Text name="{TO_NAME}" value="$text"/>\n'
            f'  <Choices name="{FROM_NAME}" toName="{TO_NAME}" choice="multiple" showInLine="true">\n{choices}\n  </Choices>\n</View>\n')


def export_label_studio(passages: pd.DataFrame, codebook: Codebook, thresholds: np.ndarray, path: str | Path, model_version: str) -> list[Path]:
    from framing.tables import write_text_atomic

    probabilities = passages[codebook.probability_columns].to_numpy(dtype=float)
    tasks = []
    for i, passage in enumerate(passages.to_dict("records")):
        frames = _predicted(probabilities[i], thresholds, codebook.frame_names)
        scores = [float(p) for p, name in zip(probabilities[i], codebook.frame_names) if name in frames]
        tasks.append({
            "data": {"text": passage["text"], **_meta(passage)},
            "predictions": [{"model_version": model_version, "score": round(min(scores), 4) if scores else 0.0,
                             "result": [{"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices", "value": {"choices": frames}}]}],
        })
    path = Path(path)
    config = path.with_name(path.stem + ".label-config.xml")
    write_text_atomic(path, json.dumps(tasks, indent=1, ensure_ascii=False) + "\n")
    write_text_atomic(config, label_studio_config(codebook))
    return [path, config]


def export_prodigy(passages: pd.DataFrame, codebook: Codebook, thresholds: np.ndarray, path: str | Path, model_version: str) -> list[Path]:
    from framing.tables import write_text_atomic

    probabilities = passages[codebook.probability_columns].to_numpy(dtype=float)
    options = [{"id": name, "text": name} for name in codebook.frame_names]
    lines = []
    for i, passage in enumerate(passages.to_dict("records")):
        meta = _meta(passage)
        meta["model"] = model_version
        meta.update({f"p_{name}": round(float(p), 4) for name, p in zip(codebook.frame_names, probabilities[i])})
        lines.append(json.dumps({"text": passage["text"], "options": options, "accept": _predicted(probabilities[i], thresholds, codebook.frame_names),
                                 "config": {"choice_style": "multiple"}, "meta": meta}, ensure_ascii=False))
    write_text_atomic(path, "\n".join(lines) + "\n")
    return [Path(path)]


# -- reading exported annotations back --------------------------------------------------------------


def _row(text: str, labels: list[str], meta: dict, annotator: str, seconds, tool: str) -> dict:
    """A row from an exported task; a task that framing did not write gets an id from its text and no article."""
    passage = {"text": text, "article_id": "", **{k: v for k, v in meta.items() if k != "passage_id"}}
    passage["id"] = meta.get("passage_id") or "text-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return labeled_row(passage, labels, annotator, seconds, f"imported from {tool}")


def read_label_studio(path: Path) -> list[dict]:
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not a Label Studio JSON export ({exc})") from None
    if not isinstance(tasks, list):
        raise InputError(f"{path}: a Label Studio JSON export is a list of tasks")
    rows = []
    for number, task in enumerate(tasks, start=1):
        data = task.get("data") if isinstance(task, dict) else None
        if not isinstance(data, dict) or not isinstance(data.get("text"), str):
            raise InputError(f"{path}: task {number} has no data.text")
        for annotation in task.get("annotations") or []:
            if annotation.get("was_cancelled"):
                continue
            labels: list[str] = []
            for result in annotation.get("result") or []:
                if result.get("type") == "choices" and result.get("from_name") == FROM_NAME:
                    labels.extend(result.get("value", {}).get("choices", []))
            who = annotation.get("completed_by")
            if isinstance(who, dict):
                who = who.get("email") or who.get("id")
            rows.append(_row(data["text"], labels, data, f"label-studio:{who}" if who is not None else "label-studio",
                             annotation.get("lead_time"), "label-studio"))
    return rows


def read_prodigy(path: Path) -> list[dict]:
    from framing.tables import iter_json_lines

    rows = []
    for number, task in iter_json_lines(path):
        if not isinstance(task.get("text"), str):
            raise InputError(f"{path}:line {number}: a Prodigy task needs a text")
        if "answer" not in task:
            raise InputError(f"{path}:line {number}: no answer; export the annotations with `prodigy db-out DATASET`")
        if task["answer"] != "accept":
            continue
        annotator = task.get("_annotator_id") or task.get("_session_id")
        rows.append(_row(task["text"], [str(a) for a in task.get("accept") or []], task.get("meta") or {},
                         f"prodigy:{annotator}" if annotator else "prodigy", None, "prodigy"))
    return rows


def detect_format(path: Path) -> str:
    """``label-studio`` for a JSON list, ``prodigy`` for JSON lines."""
    with path.open(encoding="utf-8", errors="replace") as handle:
        start = handle.read(4096).lstrip()
    if start.startswith("["):
        return "label-studio"
    if start.startswith("{"):
        return "prodigy"
    raise InputError(f"{path}: neither a Label Studio JSON export (a list of tasks) nor Prodigy JSONL (one task per line)")


def import_annotations(path: str | Path, codebook: Codebook, tool: str | None = None) -> pd.DataFrame:
    """The annotations of a Label Studio or Prodigy export as labeled rows; unknown frames are an error."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    tool = tool or detect_format(path)
    rows = read_label_studio(path) if tool == "label-studio" else read_prodigy(path)
    if not rows:
        raise InputError(f"{path}: no accepted annotations")
    for row in rows:
        unknown = codebook.validate_labels(row["labels"])
        if unknown:
            raise InputError(f"{path}: passage {row['id']}: unknown frame {', '.join(map(repr, unknown))}; the codebook has {', '.join(codebook.frame_names)}")
        row["labels"] = [name for name in codebook.frame_names if name in row["labels"]]
    return pd.DataFrame(rows)
