"""Article mixes -> comparisons: intervals, distances and evidence.

Tables (all DataFrames, written as CSV by ``reports``):

- ``mixes``: one row per unit (article or outlet): ``unit, n_articles, n_passages, n_words``, then for
  every frame and none ``share_<x>``, ``low_<x>``, ``high_<x>`` (bootstrap percentile interval), and
  ``dominant_frame``.
- ``distances``: ``unit_a, unit_b, jensen_shannon`` (base 2, so 0 = identical mixes, 1 = disjoint).
- ``evidence``: ``unit, article_id, frame, rank, probability, passage_index, start, end, text``: the
  passages that carry each frame most strongly (probability at or above the frame's threshold).

**Intervals.** The bootstrap resamples the unit's clusters with replacement and recomputes the mix:
passages when units are articles; whole articles when units are outlets (passages of one article are
not independent). Each share's interval is the percentile interval at ``confidence``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from framing.codebook import NONE_LABEL, Codebook
from framing.scoring import dominant, passage_weights

UNITS = ("article", "outlet")


@dataclass
class Comparison:
    by: str
    mixes: pd.DataFrame
    distances: pd.DataFrame
    evidence: pd.DataFrame
    confidence: float
    n_bootstrap: int


def _unit_column(by: str) -> str:
    if by not in UNITS:
        raise ValueError(f"--by must be one of {', '.join(UNITS)}")
    return "article_id" if by == "article" else "outlet"


def bootstrap_mix(weighted: np.ndarray, lengths: np.ndarray, n_bootstrap: int, confidence: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of the mix, resampling clusters.

    ``weighted`` is (clusters, F+1): each cluster's length-weighted frame weights, summed over its
    passages; ``lengths`` is each cluster's total length. The mix of a resample is the sum of the drawn
    clusters' weights over the sum of their lengths.
    """
    n = len(lengths)
    counts = rng.multinomial(n, np.full(n, 1.0 / n), size=n_bootstrap)
    resampled = (counts @ weighted) / (counts @ lengths)[:, None]
    alpha = (1.0 - confidence) / 2.0
    return np.quantile(resampled, alpha, axis=0), np.quantile(resampled, 1.0 - alpha, axis=0)


def compare(passages: pd.DataFrame, codebook: Codebook, thresholds: np.ndarray, by: str = "article", n_bootstrap: int = 2000,
            confidence: float = 0.95, n_evidence: int = 2, seed: int = 0) -> Comparison:
    """Compare the units (articles or outlets) of a scored passage table."""
    unit_column = _unit_column(by)
    if by == "outlet" and (passages["outlet"].fillna("") == "").any():
        missing = sorted(passages.loc[passages["outlet"].fillna("") == "", "article_id"].unique())
        raise ValueError(f"--by outlet needs an outlet for every article; missing for: {', '.join(missing[:10])}")
    frames = codebook.frame_names
    labels = frames + [NONE_LABEL]
    probabilities = passages[codebook.probability_columns].to_numpy(dtype=float)
    lengths = passages["n_words"].to_numpy(dtype=float).clip(min=1)
    weighted = passage_weights(probabilities) * lengths[:, None]
    rng = np.random.default_rng(seed)

    rows = []
    unit_mixes = {}
    for unit, index in passages.groupby(unit_column, sort=False).indices.items():
        group = passages.iloc[index]
        cluster_keys = group["passage_index"].astype(str) + "@" + group["article_id"] if by == "article" else group["article_id"]
        cluster_codes, _ = pd.factorize(cluster_keys)
        cluster_weighted = np.zeros((cluster_codes.max() + 1, len(labels)))
        np.add.at(cluster_weighted, cluster_codes, weighted[index])
        cluster_lengths = np.bincount(cluster_codes, weights=lengths[index])
        shares = cluster_weighted.sum(axis=0) / cluster_lengths.sum()
        low, high = bootstrap_mix(cluster_weighted, cluster_lengths, n_bootstrap, confidence, rng)
        unit_mixes[unit] = shares
        row = {"unit": unit, "n_articles": group["article_id"].nunique(), "n_passages": len(group), "n_words": int(lengths[index].sum())}
        for j, label in enumerate(labels):
            row[f"share_{label}"] = round(float(shares[j]), 4)
            row[f"low_{label}"] = round(float(low[j]), 4)
            row[f"high_{label}"] = round(float(high[j]), 4)
        row["dominant_frame"] = dominant(shares, frames)
        rows.append(row)
    mixes = pd.DataFrame(rows)
    return Comparison(by, mixes, _distances(unit_mixes), _evidence(passages, codebook, thresholds, unit_column, n_evidence), confidence, n_bootstrap)


def _distances(unit_mixes: dict[str, np.ndarray]) -> pd.DataFrame:
    from scipy.spatial.distance import jensenshannon

    units = list(unit_mixes)
    rows = [
        {"unit_a": a, "unit_b": b, "jensen_shannon": round(float(jensenshannon(unit_mixes[a], unit_mixes[b], base=2)), 4)}
        for i, a in enumerate(units) for b in units[i + 1 :]
    ]
    return pd.DataFrame(rows, columns=["unit_a", "unit_b", "jensen_shannon"])


def _evidence(passages: pd.DataFrame, codebook: Codebook, thresholds: np.ndarray, unit_column: str, n_evidence: int) -> pd.DataFrame:
    rows = []
    for unit, group in passages.groupby(unit_column, sort=False):
        for name, column, threshold in zip(codebook.frame_names, codebook.probability_columns, thresholds):
            carriers = group[group[column] >= threshold].sort_values(column, ascending=False).head(n_evidence)
            for rank, passage in enumerate(carriers.to_dict("records"), start=1):
                rows.append({
                    "unit": unit, "article_id": passage["article_id"], "frame": name, "rank": rank, "probability": passage[column],
                    "passage_index": passage["passage_index"], "start": passage["start"], "end": passage["end"], "text": passage["text"],
                })
    return pd.DataFrame(rows, columns=["unit", "article_id", "frame", "rank", "probability", "passage_index", "start", "end", "text"])
