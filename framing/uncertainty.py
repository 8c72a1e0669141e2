"""How sure a framing mix is: a two-level bootstrap, and distances between mixes with an interval and a permutation test.

A unit (an article, an outlet, any group of articles) is made of articles, and an article of passages.
Passages of one article are not independent, and an outlet's articles are its sample of stories, so the
bootstrap resamples at both levels: the unit's articles with replacement, then the passages within each
drawn article (a unit that is one article is therefore resampled by its passages). A resample's mix is
the sum of the drawn passages' length-weighted frame weights over the sum of their lengths.

Drawing an article ``c`` times and then ``n`` of its passages each time is one multinomial draw of
``c * n`` passages, so a resample costs one multinomial per article, vectorised over the resamples.

The distance between two mixes is the Jensen-Shannon distance (base 2: 0 identical, 1 disjoint). Its
interval pairs the two units' independent resamples; as a distance is never negative, the interval of
two units that do not differ sits above 0, and the permutation test is what says whether they differ:
the items of the two units (articles; passages when the units are articles) are shuffled between them
``n_permutations`` times, and ``p = (1 + #{permuted distance >= observed}) / (1 + n_permutations)``.
"""

from __future__ import annotations

import numpy as np

# An outlet (or other group) with fewer articles than this has an interval that rests on too few stories.
MIN_GROUP_ARTICLES = 5


def item_sums(weighted: np.ndarray, lengths: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-item sums of passage weights (items, K) and lengths (items,), for integer item ``codes`` 0..n-1."""
    n = int(codes.max()) + 1
    sums = np.zeros((n, weighted.shape[1]))
    np.add.at(sums, codes, weighted)
    return sums, np.bincount(codes, weights=lengths, minlength=n)


def two_level_bootstrap(weighted: np.ndarray, lengths: np.ndarray, articles: np.ndarray, n_bootstrap: int, rng: np.random.Generator) -> np.ndarray:
    """(n_bootstrap, K) resampled mixes of one unit.

    ``weighted`` is (passages, K): each passage's frame weights times its length; ``lengths`` the passage
    lengths; ``articles`` each passage's article as an integer code 0..A-1.
    """
    order = np.argsort(articles, kind="stable")
    bounds = np.flatnonzero(np.diff(articles[order])) + 1
    groups = np.split(order, bounds)
    n_articles = len(groups)
    drawn = rng.multinomial(n_articles, np.full(n_articles, 1.0 / n_articles), size=n_bootstrap)  # (B, A)
    totals = np.zeros((n_bootstrap, weighted.shape[1]))
    total_lengths = np.zeros(n_bootstrap)
    for a, index in enumerate(groups):
        n = len(index)
        counts = rng.multinomial(drawn[:, a] * n, np.full(n, 1.0 / n))  # (B, n): passages drawn over all copies of the article
        totals += counts @ weighted[index]
        total_lengths += counts @ lengths[index]
    return totals / total_lengths[:, None]


def percentile_interval(resamples: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(resamples, [alpha, 1.0 - alpha], axis=0)
    return low, high


def js_distance(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Jensen-Shannon distance (base 2) along the last axis; 0 where rounding leaves a tiny negative under the root."""
    from scipy.spatial.distance import jensenshannon

    with np.errstate(invalid="ignore"):
        return np.nan_to_num(jensenshannon(p, q, base=2, axis=-1), nan=0.0)


def permutation_p_value(sums: np.ndarray, lengths: np.ndarray, in_a: np.ndarray, observed: float, n_permutations: int, rng: np.random.Generator) -> float:
    """p-value of ``observed`` (the distance between the mixes of two units) under shuffled item labels.

    ``sums`` and ``lengths`` are per item (article or passage) of both units; ``in_a`` marks unit a's items.
    Each permutation keeps both units' sizes; the +1 correction counts the observed labelling as one of them.
    """
    labels = rng.permuted(np.broadcast_to(in_a, (n_permutations, len(in_a))), axis=1).astype(float)  # (P, N)
    a_sums, a_lengths = labels @ sums, labels @ lengths
    b_sums, b_lengths = sums.sum(axis=0) - a_sums, lengths.sum() - a_lengths
    permuted = js_distance(a_sums / a_lengths[:, None], b_sums / b_lengths[:, None])
    return float((1 + np.count_nonzero(permuted >= observed - 1e-12)) / (1 + n_permutations))
