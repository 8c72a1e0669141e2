"""Article mixes -> comparisons: intervals, distances and evidence.

Tables (all DataFrames, written by ``reports``; one tidy shape everywhere: numbers in their own columns):

- ``mixes``: one row per unit (an article, or a group of articles sharing a metadata value such as the
  outlet): ``unit, n_articles, n_passages, n_words``, then for every frame and none ``share_<x>``,
  ``low_<x>``, ``high_<x>`` (bootstrap percentile interval), and ``dominant_frame``. Units are in natural
  order (``2-8`` before ``2-79``).
- ``distances``: ``unit_a, unit_b, jensen_shannon, low, high, p_value``: the Jensen-Shannon distance
  (base 2, so 0 = identical mixes, 1 = disjoint) with its bootstrap interval and permutation p-value
  (see ``framing.uncertainty``). With more than ``MAX_PAIRWISE_UNITS`` units, the pairs (79,800 for 400
  articles) are computed only on request (``all_pairs``), and then without interval and test.
- ``evidence``: ``unit, article_id, frame, rank, probability, passage_index, start, end, text``: the
  passages that carry each frame most strongly (probability at or above the frame's threshold).
- ``trend`` (with ``over``): one row per group and period of ``published``: the group (a column named
  after ``by``; ``group``, always "all articles", when comparing articles), ``period`` (the ISO date its
  week, month or year starts), and the columns of ``mixes`` from ``n_articles`` on.

**Intervals.** The two-level bootstrap of ``framing.uncertainty``: a unit's articles are resampled, then
the passages within each drawn article. A group with fewer than ``MIN_GROUP_ARTICLES`` articles is named
in ``warnings``: its interval rests on too few stories to say much.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from framing.codebook import NONE_LABEL, Codebook
from framing.scoring import dominant, passage_weights
from framing.uncertainty import MIN_GROUP_ARTICLES, item_sums, js_distance, percentile_interval, permutation_p_value, two_level_bootstrap

ARTICLE = "article"
PERIODS = {"week": "W", "month": "M", "year": "Y"}
MAX_PAIRWISE_UNITS = 40
DISTANCE_COLUMNS = ["unit_a", "unit_b", "jensen_shannon", "low", "high", "p_value"]


@dataclass
class Comparison:
    by: str
    mixes: pd.DataFrame
    distances: pd.DataFrame
    evidence: pd.DataFrame
    confidence: float
    n_bootstrap: int
    n_permutations: int = 0
    warnings: list[str] = field(default_factory=list)
    trend: pd.DataFrame | None = None
    over: str | None = None

    @property
    def pairs_skipped(self) -> bool:
        """True when the units were too many for pairwise distances and they were not asked for."""
        return self.distances.empty and len(self.mixes) > 1


def unit_column(by: str) -> str:
    """The passage-table column that names a passage's unit: ``article_id`` for articles, else the metadata column."""
    return "article_id" if by == ARTICLE else by


def natural_order(values) -> list:
    """Values in natural order, case ignored: ``2-8`` before ``2-79``, ``b`` before ``C``."""
    from natsort import natsorted, ns

    return natsorted(values, alg=ns.IGNORECASE)


class _Weights:
    """The passages' length-weighted frame weights, and the labels they are over."""

    def __init__(self, passages: pd.DataFrame, codebook: Codebook):
        self.labels = codebook.frame_names + [NONE_LABEL]
        self.frames = codebook.frame_names
        probabilities = passages[codebook.probability_columns].to_numpy(dtype=float)
        self.lengths = passages["n_words"].to_numpy(dtype=float).clip(min=1)
        self.weighted = passage_weights(probabilities) * self.lengths[:, None]
        self.articles, _ = pd.factorize(passages["article_id"])


def _mix_rows(passages: pd.DataFrame, weights: _Weights, key: pd.Series, n_bootstrap: int, confidence: float,
              rng: np.random.Generator) -> tuple[list[dict], dict, dict]:
    """One row of mix and interval per value of ``key`` (natural order), with each unit's point mix and resamples."""
    rows, point, resamples = [], {}, {}
    indices = key.groupby(key, sort=False).indices
    for unit in natural_order(indices):
        index = indices[unit]
        articles = pd.factorize(weights.articles[index])[0]
        shares = weights.weighted[index].sum(axis=0) / weights.lengths[index].sum()
        resampled = two_level_bootstrap(weights.weighted[index], weights.lengths[index], articles, n_bootstrap, rng)
        low, high = percentile_interval(resampled, confidence)
        point[unit], resamples[unit] = shares, resampled
        row = {"unit": unit, "n_articles": int(articles.max()) + 1, "n_passages": len(index), "n_words": int(weights.lengths[index].sum())}
        for j, label in enumerate(weights.labels):
            row[f"share_{label}"] = round(float(shares[j]), 4)
            row[f"low_{label}"] = round(float(low[j]), 4)
            row[f"high_{label}"] = round(float(high[j]), 4)
        row["dominant_frame"] = dominant(shares, weights.frames)
        rows.append(row)
    return rows, point, resamples


def compare(passages: pd.DataFrame, codebook: Codebook, thresholds: np.ndarray, by: str = ARTICLE, n_bootstrap: int = 2000,
            confidence: float = 0.95, n_evidence: int = 2, seed: int = 0, n_permutations: int = 1000, all_pairs: bool = False,
            over: str | None = None, published: pd.Series | None = None) -> Comparison:
    """Compare the units of a scored passage table: its articles, or the groups of its column ``by``.

    With ``over`` (week, month or year), also the trend of each group's mix (of all articles when ``by``
    is article) over the periods of ``published``, a Series of dates indexed by article id.
    """
    column = unit_column(by)
    if column not in passages.columns:
        raise ValueError(f"--by {by}: the passages have no {by!r} column")
    missing = passages[column].isna() | (passages[column].astype(str) == "")
    if missing.any():
        ids = natural_order(passages.loc[missing, "article_id"].unique())
        raise ValueError(f"--by {by}: {len(ids)} article(s) have no {by} (first: {', '.join(map(str, ids[:10]))})")
    weights = _Weights(passages, codebook)
    rng = np.random.default_rng(seed)
    units = passages[column].astype(str)
    rows, point, resamples = _mix_rows(passages, weights, units, n_bootstrap, confidence, rng)
    mixes = pd.DataFrame(rows)
    warnings = []
    if by != ARTICLE:
        few = mixes[mixes["n_articles"] < MIN_GROUP_ARTICLES]
        if not few.empty:
            listed = ", ".join(f"{u} ({n})" for u, n in zip(few["unit"][:10], few["n_articles"][:10]))
            warnings.append(f"{len(few)} of {len(mixes)} {by} group(s) have fewer than {MIN_GROUP_ARTICLES} articles, so their intervals and "
                            f"tests rest on very few stories: {listed}{', ...' if len(few) > 10 else ''}")
    if len(mixes) <= MAX_PAIRWISE_UNITS:
        # Permutations shuffle articles between groups, or passages between two articles.
        items = weights.articles if by != ARTICLE else np.arange(len(passages))
        distances = _distances(units.to_numpy(), items, weights, point, resamples, confidence, n_permutations, rng)
    elif all_pairs:
        distances = _point_distances(point)
    else:
        distances = pd.DataFrame(columns=DISTANCE_COLUMNS)
    comparison = Comparison(by, mixes, distances, _evidence(passages, codebook, thresholds, column, n_evidence), confidence, n_bootstrap,
                            n_permutations, warnings)
    if over is not None:
        comparison.over = over
        comparison.trend = _trend(passages, weights, by, over, published, n_bootstrap, confidence, rng)
    return comparison


def _distances(units: np.ndarray, items: np.ndarray, weights: _Weights, point: dict, resamples: dict, confidence: float,
               n_permutations: int, rng: np.random.Generator) -> pd.DataFrame:
    names = list(point)
    rows = []
    for i, a in enumerate(names):
        others = names[i + 1 :]
        if not others:
            break
        observed = js_distance(point[a][None, :], np.array([point[b] for b in others]))
        boot = js_distance(resamples[a][None, :, :], np.stack([resamples[b] for b in others]))  # (others, B)
        lows, highs = percentile_interval(boot.T, confidence)
        for b, distance, low, high in zip(others, observed, lows, highs):
            p_value = np.nan
            if n_permutations:
                index = np.flatnonzero((units == a) | (units == b))
                codes, _ = pd.factorize(items[index])
                sums, lengths = item_sums(weights.weighted[index], weights.lengths[index], codes)
                in_a = np.zeros(len(lengths), dtype=bool)
                in_a[codes[units[index] == a]] = True
                p_value = round(permutation_p_value(sums, lengths, in_a, float(distance), n_permutations, rng), 4)
            rows.append({"unit_a": a, "unit_b": b, "jensen_shannon": round(float(distance), 4), "low": round(float(low), 4),
                         "high": round(float(high), 4), "p_value": p_value})
    return pd.DataFrame(rows, columns=DISTANCE_COLUMNS)


def _point_distances(point: dict) -> pd.DataFrame:
    """Every pair's distance, without interval or test (past MAX_PAIRWISE_UNITS units they would take minutes)."""
    names = list(point)
    a, b = np.triu_indices(len(names), k=1)
    mixes = np.array([point[n] for n in names])
    return pd.DataFrame({"unit_a": np.array(names, dtype=object)[a], "unit_b": np.array(names, dtype=object)[b],
                         "jensen_shannon": js_distance(mixes[a], mixes[b]).round(4), "low": np.nan, "high": np.nan, "p_value": np.nan})


def _trend(passages: pd.DataFrame, weights: _Weights, by: str, over: str, published: pd.Series | None, n_bootstrap: int, confidence: float,
           rng: np.random.Generator) -> pd.DataFrame:
    if over not in PERIODS:
        raise ValueError(f"--over {over}: use one of {', '.join(PERIODS)}")
    dates = pd.to_datetime(passages["article_id"].map(published if published is not None else {}), errors="coerce")
    if dates.isna().any():
        ids = natural_order(passages.loc[dates.isna(), "article_id"].unique())
        raise ValueError(f"--over {over}: {len(ids)} article(s) have no published date (first: {', '.join(map(str, ids[:10]))})")
    group_name = "group" if by == ARTICLE else by
    groups = pd.Series("all articles", index=passages.index) if by == ARTICLE else passages[by].astype(str)
    periods = dates.dt.to_period(PERIODS[over]).dt.start_time.dt.strftime("%Y-%m-%d")
    # A key that sorts naturally by group, then by period (ISO dates sort as text).
    key = groups + "\x00" + periods
    rows, _, _ = _mix_rows(passages, weights, key, n_bootstrap, confidence, rng)
    trend = pd.DataFrame(rows)
    split = trend.pop("unit").str.split("\x00", expand=True)
    trend.insert(0, "period", split[1])
    trend.insert(0, group_name, split[0])
    return trend


def _evidence(passages: pd.DataFrame, codebook: Codebook, thresholds: np.ndarray, column: str, n_evidence: int) -> pd.DataFrame:
    columns = ["unit", "article_id", "frame", "rank", "probability", "passage_index", "start", "end", "text"]
    parts = []
    for order, (name, probability, threshold) in enumerate(zip(codebook.frame_names, codebook.probability_columns, thresholds)):
        carriers = passages[passages[probability] >= threshold]
        parts.append(carriers.assign(unit=carriers[column].astype(str), frame=name, frame_order=order, probability=carriers[probability]))
    if not parts or all(part.empty for part in parts):
        return pd.DataFrame(columns=columns)
    carriers = pd.concat(parts).sort_values("probability", ascending=False, kind="stable")
    carriers = carriers.groupby(["unit", "frame"], sort=False).head(n_evidence)
    carriers["rank"] = carriers.groupby(["unit", "frame"], sort=False).cumcount() + 1
    unit_order = {unit: i for i, unit in enumerate(natural_order(carriers["unit"].unique()))}
    carriers = carriers.assign(unit_order=carriers["unit"].map(unit_order)).sort_values(["unit_order", "frame_order", "rank"], kind="stable")
    return carriers[columns].reset_index(drop=True)
