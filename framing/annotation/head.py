"""The cheap update of the order: a linear head per frame over the passages' cached embeddings, refitted
on the answers so far, blended with the model's probabilities.

The blend weighs the head by ``n / (n + PRIOR_ANSWERS)`` after ``n`` answers, so a handful of answers
moves the order a little and a few hundred move it a lot. A frame whose answers are all one way keeps
the model's probabilities. ``Refresher`` runs the fit in a background thread: an answer only signals it,
and the page never waits for a fit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

PRIOR_ANSWERS = 20
MIN_PER_CLASS = 2


def refitted_probabilities(embeddings: np.ndarray, model_probabilities: np.ndarray, answered: np.ndarray, Y: np.ndarray, seed: int = 0) -> np.ndarray:
    """(n, F) probabilities for every passage after fitting a head on the ``answered`` rows' labels ``Y``."""
    from sklearn.linear_model import LogisticRegression

    blended = np.array(model_probabilities, dtype=float, copy=True)
    n_answers = len(answered)
    if n_answers == 0:
        return blended
    weight = n_answers / (n_answers + PRIOR_ANSWERS)
    X = embeddings[answered]
    for j in range(Y.shape[1]):
        positives = int(Y[:, j].sum())
        if positives < MIN_PER_CLASS or n_answers - positives < MIN_PER_CLASS:
            continue
        head = LogisticRegression(C=1.0, class_weight="balanced", max_iter=500, random_state=seed).fit(X, Y[:, j])
        blended[:, j] = (1 - weight) * blended[:, j] + weight * head.predict_proba(embeddings)[:, 1]
    return blended


class Refresher:
    """Calls ``compute()`` then ``apply(result)`` in a daemon thread after ``request()``; requests that
    arrive during a fit are folded into one more fit after it."""

    def __init__(self, compute: Callable[[], object], apply: Callable[[object], None]):
        self._compute = compute
        self._apply = apply
        self._condition = threading.Condition()
        self._requested = 0
        self._done = 0
        self.fits = 0
        self.error: BaseException | None = None
        threading.Thread(target=self._loop, name="framing-annotate-refresh", daemon=True).start()

    def request(self) -> None:
        with self._condition:
            self._requested += 1
            self._condition.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every request so far has been fitted (for tests); False on timeout."""
        with self._condition:
            return self._condition.wait_for(lambda: self._done == self._requested, timeout)

    def _loop(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._done != self._requested)
                target = self._requested
            try:
                self._apply(self._compute())
                self.fits += 1
                self.error = None
            except Exception as exc:  # a failed fit keeps the previous order; the page shows the error
                self.error = exc
            with self._condition:
                self._done = target
                self._condition.notify_all()
