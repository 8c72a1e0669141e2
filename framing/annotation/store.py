"""The labels file: JSONL, one answer per line, appended, flushed and fsynced as each answer arrives.

A server killed mid-write can leave a torn last line; opening the file drops it (that answer is the one
that was on screen). Undo removes the last line by truncating the file where it starts. Every line is a
row of the labeled format (``framing.corpus``): ``id``, ``text``, ``labels``, ``story`` (the article, so
cross-validation keeps an article's passages together), ``register``, ``source``, ``annotator``, plus
where the passage came from and how the answer was given.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from framing.errors import InputError
from framing.tables import drop_torn_line


class LabelStore:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.rows: list[dict] = []
        self._offsets: list[int] = []  # byte offset where each row's line starts
        if self.path.exists():
            self._read()
        self._handle = self.path.open("ab")

    def _read(self) -> None:
        data = drop_torn_line(self.path)
        offset = 0
        for number, line in enumerate(data.splitlines(keepends=True), start=1):
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError):
                row = None
            if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not isinstance(row.get("labels"), list):
                raise InputError(f"{self.path}:line {number}: not a labeled row (a JSON object with an id and a list of labels); "
                                 "give --labels a file written by framing annotate")
            self.rows.append(row)
            self._offsets.append(offset)
            offset += len(line)

    @property
    def answered_ids(self) -> set[str]:
        return {row["id"] for row in self.rows}

    def append(self, row: dict) -> None:
        offset = os.fstat(self._handle.fileno()).st_size  # the file is always flushed; tell() is stale after an undo
        self._handle.write((json.dumps(row, ensure_ascii=False) + "\n").encode("utf-8"))
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.rows.append(row)
        self._offsets.append(offset)

    def undo(self) -> dict | None:
        """Remove the last answer from the file; returns it (None if there is none)."""
        if not self.rows:
            return None
        self._handle.truncate(self._offsets.pop())
        self._handle.flush()
        os.fsync(self._handle.fileno())
        return self.rows.pop()

    def close(self) -> None:
        self._handle.close()



def labeled_row(passage: dict, labels: list[str], annotator: str, seconds: float | None, selected_by: str) -> dict:
    """One answer as a row of the labeled format. ``passage`` has id, text, article_id, outlet, title,
    kind and passage_index; the article is the story (the group cross-validation keeps together), and
    its kind is the register when it is one of the corpus registers."""
    from framing.corpus import ANNOTATED_SOURCE, REGISTERS

    kind = str(passage.get("kind") or "")
    index = passage.get("passage_index")
    return {
        "id": str(passage["id"]), "text": passage["text"], "labels": list(labels),
        "story": str(passage["article_id"]), "register": kind if kind in REGISTERS else "",
        "source": ANNOTATED_SOURCE, "annotator": annotator,
        "article_id": str(passage["article_id"]), "outlet": str(passage.get("outlet") or ""), "title": str(passage.get("title") or ""),
        "passage_index": None if index is None else int(index),
        "seconds": None if seconds is None else round(max(0.0, float(seconds)), 2),
        "selected_by": selected_by,
    }
