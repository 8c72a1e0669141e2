"""One annotator's pass over a passage table: the passage on screen, the queue behind it, the answers.

Every method is thread-safe (the web server and the refresh thread share the session). The passage on
screen stays until it is answered or skipped; a refreshed order only reorders the passages behind it.
Skips last for the session: a restarted session asks skipped passages again (they have no answer).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from framing.annotation.ordering import Pick, clusters, plan
from framing.annotation.store import LabelStore, labeled_row
from framing.codebook import NONE_LABEL, Codebook


@dataclass
class SessionOptions:
    order: str = "uncertain"
    blind: bool = False
    annotator: str = "annotator"
    seed: int = 0
    model_name: str = ""


class NotCurrent(Exception):
    """An answer or skip for a passage that is not the one on screen (a second tab, a repeated request)."""


class AnnotationSession:
    def __init__(self, passages: pd.DataFrame, codebook: Codebook, thresholds: np.ndarray, store: LabelStore,
                 options: SessionOptions, embeddings: np.ndarray | None = None):
        from framing.annotation.head import Refresher

        self.passages = passages.reset_index(drop=True)
        self.codebook = codebook
        self.thresholds = np.asarray(thresholds, dtype=float)
        self.store = store
        self.options = options
        self.embeddings = embeddings
        self.model_probabilities = self.passages[codebook.probability_columns].to_numpy(dtype=float)
        self._probabilities = self.model_probabilities
        self._probability_source = "model"
        self._row_of = {pid: i for i, pid in enumerate(self.passages["id"])}
        self._neighbours = {(a, int(p)): i for i, (a, p) in enumerate(zip(self.passages["article_id"], self.passages["passage_index"]))}
        self._cluster_of = clusters(embeddings, options.seed) if options.order == "diverse" else None
        self._lock = threading.RLock()
        self._skipped: set[int] = set()
        self._history: list[tuple[str, Pick]] = []  # ("answer" | "skip", the pick) of this session, for undo
        self._current: Pick | None = None
        self._queue: list[Pick] = []
        self._replan()
        self._advance()
        # The cheap update needs embeddings and an order that uses the probabilities.
        self.refresher = Refresher(self._refit, self._apply_refit) if embeddings is not None and options.order != "random" else None
        if self._answered_rows():  # a resumed session orders by the answers already in the file
            self._request_refresh()

    # -- the queue ---------------------------------------------------------------------------------
    def _answered_rows(self) -> list[int]:
        return [self._row_of[row["id"]] for row in self.store.rows if row["id"] in self._row_of]

    def _replan(self) -> None:
        excluded = set(self._answered_rows()) | self._skipped | ({self._current.index} if self._current else set())
        candidates = np.array([i for i in range(len(self.passages)) if i not in excluded], dtype=int)
        self._queue = plan(self.options.order, candidates, self._probabilities, self.thresholds, self._cluster_of,
                           seed=self.options.seed, source=self._probability_source)

    def _advance(self) -> None:
        if self._current is None and self._queue:
            self._current = self._queue.pop(0)

    def _refit(self):
        from framing.annotation.head import refitted_probabilities

        with self._lock:
            rows = self._answered_rows()
            labels = [row["labels"] for row in self.store.rows if row["id"] in self._row_of]
        Y = np.array([[int(name in answer) for name in self.codebook.frame_names] for answer in labels], dtype=int).reshape(len(rows), -1)
        return refitted_probabilities(self.embeddings, self.model_probabilities, np.array(rows, dtype=int), Y, seed=self.options.seed), len(rows)

    def _apply_refit(self, result) -> None:
        probabilities, n_answers = result
        with self._lock:
            self._probabilities = probabilities
            self._probability_source = f"head refitted on {n_answers} answers" if n_answers else "model"
            self._replan()

    def _request_refresh(self) -> None:
        if self.refresher is not None:
            self.refresher.request()

    # -- actions -----------------------------------------------------------------------------------
    def _check_current(self, passage_id: str) -> int:
        if self._current is None or self.passages.at[self._current.index, "id"] != passage_id:
            raise NotCurrent(f"passage {passage_id!r} is not the one on screen; reload the page")
        return self._current.index

    def answer(self, passage_id: str, labels: list[str], seconds: float) -> dict:
        unknown = self.codebook.validate_labels([label for label in labels if label != NONE_LABEL])
        if unknown:
            raise ValueError(f"unknown frame {', '.join(map(repr, unknown))}")
        with self._lock:
            index = self._check_current(passage_id)
            self.store.append(self._row(index, [f for f in self.codebook.frame_names if f in labels], seconds))
            self._history.append(("answer", self._current))
            self._current = None
            self._advance()
        self._request_refresh()
        return self.state()

    def skip(self, passage_id: str) -> dict:
        with self._lock:
            index = self._check_current(passage_id)
            self._skipped.add(index)
            self._history.append(("skip", self._current))
            self._current = None
            self._advance()
            return self.state()

    def undo(self) -> dict:
        """Take back the last answer or skip of this session (or, in a resumed session with none yet,
        the last answer in the file); its passage is shown again."""
        with self._lock:
            if self._history:
                action, pick = self._history.pop()
                if action == "skip":
                    self._skipped.discard(pick.index)
                else:
                    self.store.undo()
            elif self.store.rows and self.store.rows[-1]["id"] in self._row_of:
                row = self.store.undo()
                action, pick = "answer", Pick(self._row_of[row["id"]], str(row.get("selected_by", "")))
            else:
                return self.state()
            self._current = pick
            self._replan()
        if action == "answer":
            self._request_refresh()
        return self.state()

    def _row(self, index: int, labels: list[str], seconds: float) -> dict:
        row = labeled_row(self.passages.iloc[index].to_dict(), labels, self.options.annotator, seconds, self._current.reason)
        row.update({"blind": self.options.blind, "model": self.options.model_name,
                    "annotated_at": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        return row

    # -- what the page shows -----------------------------------------------------------------------
    def state(self) -> dict:
        with self._lock:
            current = self._current
            counts = {name: 0 for name in self.codebook.frame_names + [NONE_LABEL]}
            for row in self.store.rows:
                for label in row["labels"] or [NONE_LABEL]:
                    counts[label] = counts.get(label, 0) + 1
            state = {
                "passage": self._passage(current) if current else None,
                "progress": {"done": len(self.store.rows), "left": len(self._queue) + (current is not None),
                             "skipped": len(self._skipped), "counts": counts},
                "can_undo": bool(self._history) or bool(self.store.rows and self.store.rows[-1]["id"] in self._row_of),
                "order": {"name": self.options.order, "source": self._probability_source,
                          "fits": self.refresher.fits if self.refresher else 0,
                          "error": str(self.refresher.error) if self.refresher and self.refresher.error else None},
            }
        return state

    def _passage(self, pick: Pick) -> dict:
        row = self.passages.iloc[pick.index]

        def neighbour(offset: int) -> str | None:
            other = self._neighbours.get((row["article_id"], int(row["passage_index"]) + offset))
            return None if other is None else self.passages.at[other, "text"]

        suggestion = None
        if not self.options.blind:
            suggestion = {name: round(float(p), 3) for name, p in zip(self.codebook.frame_names, self.model_probabilities[pick.index])}
        return {"id": row["id"], "text": row["text"], "title": row["title"], "outlet": row["outlet"], "article_id": row["article_id"],
                "passage_index": int(row["passage_index"]), "before": neighbour(-1), "after": neighbour(1),
                "selected_by": pick.reason, "suggestion": suggestion}

    def codebook_view(self) -> dict:
        """The codebook as the page shows it: every frame with its key, definition, includes and excludes."""
        frames = [{"name": f.name, "key": str(i) if i <= 9 else "", "definition": f.definition, "includes": list(f.includes),
                   "excludes": list(f.excludes), "color": self.codebook.colors[f.name],
                   "threshold": round(float(t), 3)} for i, (f, t) in enumerate(zip(self.codebook.frames, self.thresholds), start=1)]
        return {"name": self.codebook.name, "version": self.codebook.version, "none_definition": self.codebook.none_definition,
                "frames": frames, "blind": self.options.blind, "annotator": self.options.annotator, "labels_file": Path(self.store.path).name}
