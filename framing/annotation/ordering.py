"""Which passage to ask next. Pure functions of probabilities, thresholds and embeddings.

- ``random``: a seeded shuffle.
- ``uncertain``: the passage whose closest frame is nearest its threshold first. A frame's margin is
  the distance of its probability from the threshold as a share of the room on that side
  (``|p - t| / t`` below it, ``(p - t) / (1 - t)`` above), so 0 is on the threshold and 1 is certain;
  a passage's uncertainty is 1 minus its smallest margin.
- ``diverse``: the passages are clustered (k-means on their embeddings); the clusters take turns,
  largest first, and inside each cluster the most uncertain passage comes first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ORDERS = ("random", "uncertain", "diverse")
MAX_CLUSTERS = 8


def uncertainty(probabilities: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """(n, F) probabilities and (F,) thresholds -> (n,) uncertainty in [0, 1], 1 on a threshold."""
    p = np.asarray(probabilities, dtype=float)
    t = np.clip(np.asarray(thresholds, dtype=float)[None, :], 1e-6, 1 - 1e-6)
    room = np.where(p < t, t, 1.0 - t)
    margins = np.clip(np.abs(p - t) / room, 0.0, 1.0)
    return 1.0 - margins.min(axis=1)


def clusters(embeddings: np.ndarray, seed: int = 0, max_clusters: int = MAX_CLUSTERS) -> np.ndarray:
    """A k-means cluster per passage, k = min(max_clusters, sqrt(n)) (at least 1)."""
    from sklearn.cluster import KMeans

    n = len(embeddings)
    k = max(1, min(max_clusters, int(np.sqrt(n))))
    if k == 1:
        return np.zeros(n, dtype=int)
    return KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(np.asarray(embeddings, dtype=float))


@dataclass(frozen=True)
class Pick:
    index: int  # row of the passage table
    reason: str  # how it was selected, recorded with the answer


def plan(order: str, candidates: np.ndarray, probabilities: np.ndarray, thresholds: np.ndarray,
         cluster_of: np.ndarray | None = None, seed: int = 0, source: str = "model") -> list[Pick]:
    """The ``candidates`` (row indices) in the order to ask them. ``source`` names what the
    probabilities came from (the model, or the head refitted on the answers so far)."""
    candidates = np.asarray(candidates, dtype=int)
    if order == "random":
        shuffled = np.random.default_rng(seed).permutation(candidates)
        return [Pick(int(i), "random") for i in shuffled]
    scores = uncertainty(probabilities[candidates], thresholds)
    by_uncertainty = np.argsort(-scores, kind="stable")
    if order == "uncertain":
        return [Pick(int(candidates[k]), f"uncertain: {scores[k]:.3f} ({source})") for k in by_uncertainty]
    if order == "diverse":
        if cluster_of is None:
            raise ValueError("the diverse order needs a cluster per passage")
        queues: dict[int, list[int]] = {}
        for k in by_uncertainty:
            queues.setdefault(int(cluster_of[candidates[k]]), []).append(int(k))
        turns = sorted(queues, key=lambda c: (-len(queues[c]), c))
        picks: list[Pick] = []
        depth = 0
        while len(picks) < len(candidates):
            for c in turns:
                if depth < len(queues[c]):
                    k = queues[c][depth]
                    picks.append(Pick(int(candidates[k]), f"diverse: cluster {c}, uncertainty {scores[k]:.3f} ({source})"))
            depth += 1
        return picks
    raise ValueError(f"unknown order {order!r}; choose one of {', '.join(ORDERS)}")
