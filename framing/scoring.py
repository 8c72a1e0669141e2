"""Passages -> frame probabilities -> article mixes.

The passage table (one row per passage) has the columns::

    article_id, outlet, passage_index, start, end, n_words, text, p_<frame>..., labels

``start``/``end`` index the article's text (for HTML: the extracted text); ``labels`` joins with ";"
the frames whose probability reaches that frame's threshold ("" for none).

The article table (one row per article) has::

    article_id, outlet, title, published, kind, n_passages, n_words, share_<frame>..., share_none,
    dominant_frame, source, <any other metadata column>...

``published`` is an ISO date (``2024-03-05``), stored as a date in Parquet.

**The mix.** Each passage spreads one unit of weight over the frames and ``none``: frame f gets
``p_f / Z`` and none gets ``prod(1 - p_f) / Z`` (the probability that no frame applies, with
``Z`` normalising the total to 1). An article's share of f is the passage weights averaged with each
passage weighted by its number of words, so the shares of the frames and none sum to 1.
``dominant_frame`` is the frame with the largest share (``none`` only if every frame's share is 0).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from framing.articles import NOT_ENGLISH, Article, ArticleFailure
from framing.codebook import NONE_LABEL, Codebook
from framing.segmentation import segment

DEFAULT_BATCH_PASSAGES = 4096


def passage_weights(probabilities: np.ndarray) -> np.ndarray:
    """(n, F) probabilities -> (n, F+1) weights over the frames and none, each row summing to 1."""
    probabilities = np.clip(np.asarray(probabilities, dtype=float), 0.0, 1.0)
    none = np.prod(1.0 - probabilities, axis=1, keepdims=True)
    weights = np.hstack([probabilities, none])
    return weights / weights.sum(axis=1, keepdims=True)


def mix(probabilities: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The length-weighted mix (F+1 shares summing to 1) of one article's passages."""
    lengths = np.asarray(lengths, dtype=float)
    if len(lengths) == 0:
        raise ValueError("an article with no passages has no mix")
    lengths = np.maximum(lengths, 1.0)
    return (passage_weights(probabilities) * lengths[:, None]).sum(axis=0) / lengths.sum()


def dominant(shares: np.ndarray, frame_names: list[str]) -> str:
    frame_shares = np.asarray(shares)[: len(frame_names)]
    return frame_names[int(np.argmax(frame_shares))] if frame_shares.max() > 0 else NONE_LABEL


def share_columns(codebook: Codebook) -> list[str]:
    return [f"share_{name}" for name in codebook.frame_names] + [f"share_{NONE_LABEL}"]


def label_strings(probabilities: np.ndarray, thresholds: np.ndarray, frame_names: list[str]) -> list[str]:
    hits = probabilities >= thresholds[None, :]
    return [";".join(name for name, hit in zip(frame_names, row) if hit) for row in hits]


def classify_texts(model, texts: list[str], ids: list[str] | None = None) -> pd.DataFrame:
    """The passage-level table of ``framing classify``: id, text, p_<frame>..., labels."""
    codebook = model.codebook
    probabilities = model.predict_proba(texts)
    table = pd.DataFrame({"id": ids if ids is not None else [str(i) for i in range(1, len(texts) + 1)], "text": texts})
    for j, column in enumerate(codebook.probability_columns):
        table[column] = probabilities[:, j].round(4)
    table["labels"] = label_strings(probabilities, model.thresholds, codebook.frame_names)
    return table


@dataclass
class ScoredBatch:
    passages: pd.DataFrame
    articles: pd.DataFrame
    failures: list[ArticleFailure] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (article source, message)


def _score_batch(model, batch: list[tuple[Article, list]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    codebook = model.codebook
    texts = [p.text for _, passages in batch for p in passages]
    probabilities = model.predict_proba(texts)
    lengths = np.array([max(1, p.n_words) for _, passages in batch for p in passages])
    passage_rows = {
        "article_id": [a.id for a, passages in batch for _ in passages],
        "outlet": [a.outlet for a, passages in batch for _ in passages],
        "passage_index": [p.index for _, passages in batch for p in passages],
        "start": [p.start for _, passages in batch for p in passages],
        "end": [p.end for _, passages in batch for p in passages],
        "n_words": lengths,
        "text": texts,
    }
    passage_table = pd.DataFrame(passage_rows)
    for j, column in enumerate(codebook.probability_columns):
        passage_table[column] = probabilities[:, j].round(4)
    passage_table["labels"] = label_strings(probabilities, model.thresholds, codebook.frame_names)

    article_rows = []
    cursor = 0
    for article, passages in batch:
        n = len(passages)
        shares = mix(probabilities[cursor : cursor + n], lengths[cursor : cursor + n])
        cursor += n
        row = {
            "article_id": article.id, "outlet": article.outlet, "title": article.title, "published": article.published,
            "kind": article.kind, "n_passages": n, "n_words": int(lengths[cursor - n : cursor].sum()),
        }
        row.update({column: round(float(s), 4) for column, s in zip(share_columns(codebook), shares)})
        row["dominant_frame"] = dominant(shares, codebook.frame_names)
        row["source"] = article.source
        row.update({column: value for column, value in article.extra.items() if column not in row})
        article_rows.append(row)
    return passage_table, pd.DataFrame(article_rows)


def score_articles(
    items: Iterable[Article | ArticleFailure], model, batch_passages: int = DEFAULT_BATCH_PASSAGES, skip_ids: set[str] | None = None
) -> Iterator[ScoredBatch]:
    """Score articles in batches of about ``batch_passages`` passages; yields one ScoredBatch per batch.

    Articles whose id is in ``skip_ids`` (already scored, for --resume) are skipped.
    """
    batch: list[tuple[Article, list]] = []
    pending = ScoredBatch(pd.DataFrame(), pd.DataFrame())
    n_passages = 0
    for item in items:
        if skip_ids and item.id in skip_ids:
            continue
        if isinstance(item, ArticleFailure):
            pending.failures.append(item)
            continue
        pending.warnings.extend((item.source, w) for w in item.warnings)
        passages = segment(item.text)
        if not passages:
            why = NOT_ENGLISH if NOT_ENGLISH in item.warnings else "only headings, hashtags or bylines"
            pending.failures.append(ArticleFailure(item.id, item.source, f"no passages left after segmentation ({why})"))
            continue
        batch.append((item, passages))
        n_passages += len(passages)
        if n_passages >= batch_passages:
            pending.passages, pending.articles = _score_batch(model, batch)
            yield pending
            batch, n_passages, pending = [], 0, ScoredBatch(pd.DataFrame(), pd.DataFrame())
    if batch:
        pending.passages, pending.articles = _score_batch(model, batch)
    if batch or pending.failures or pending.warnings:
        yield pending
