"""The passages to annotate, from articles (segmented and scored with the model) or from a passage table
written by ``framing score --passages`` (scored again with the model, so suggestions are the current model's).

The table has one row per passage: ``id`` (``<article_id>:<passage_index>``, stable across runs, which
is what resuming keys on), ``article_id``, ``outlet``, ``title``, ``kind``, ``passage_index``, ``text``
and ``p_<frame>`` for every frame of the model's codebook.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from framing.errors import InputError

PASSAGE_TABLE_COLUMNS = ("article_id", "passage_index", "text")


def passage_id(article_id: str, passage_index: int) -> str:
    return f"{article_id}:{int(passage_index)}"


def is_passage_table(paths: list[str | Path]) -> bool:
    """One table whose header has the columns of ``score --passages``."""
    from framing.tables import is_table, iter_table

    if len(paths) != 1 or not is_table(paths[0]) or not Path(paths[0]).is_file():
        return False
    first = next(iter_table(paths[0], chunk_rows=1, required=()), pd.DataFrame())
    return all(column in first.columns for column in PASSAGE_TABLE_COLUMNS)


def read_passage_table(path: str | Path, model) -> pd.DataFrame:
    """The passages of a ``score --passages`` table, scored again with ``model``."""
    from framing.tables import read_table

    table = read_table(path, required=PASSAGE_TABLE_COLUMNS)
    passages = pd.DataFrame({
        "article_id": table["article_id"].astype(str),
        "outlet": table["outlet"].fillna("").astype(str) if "outlet" in table else "",
        "title": table["title"].fillna("").astype(str) if "title" in table else "",
        "kind": table["kind"].fillna("").astype(str) if "kind" in table else "",
        "passage_index": table["passage_index"].astype(int),
        "text": table["text"].fillna("").astype(str),
    })
    passages = passages[passages["text"].str.strip() != ""].reset_index(drop=True)
    if passages.empty:
        raise InputError(f"{path}: no passages with text")
    probabilities = model.predict_proba(passages["text"].tolist())
    for j, column in enumerate(model.codebook.probability_columns):
        passages[column] = probabilities[:, j]
    return passages


def from_scored(articles: pd.DataFrame, scored: pd.DataFrame, codebook) -> pd.DataFrame:
    """The passages of scored articles (the article and passage tables of ``api.score``), with each article's title and kind."""
    passages = scored.merge(articles[["article_id", "title", "kind"]], on="article_id", how="left")
    passages = passages[["article_id", "outlet", "title", "kind", "passage_index", "text", *codebook.probability_columns]].copy()
    for column in ("article_id", "outlet", "title", "kind"):
        passages[column] = passages[column].fillna("").astype(str)
    return passages


def with_ids(passages: pd.DataFrame) -> pd.DataFrame:
    """The passages with their ``id``, in article and passage order; an id given twice is an error."""
    passages = passages.copy()
    passages.insert(0, "id", [passage_id(a, i) for a, i in zip(passages["article_id"], passages["passage_index"])])
    duplicated = passages["id"][passages["id"].duplicated()]
    if not duplicated.empty:
        raise InputError(f"passage {duplicated.iloc[0]!r} appears twice (the same article id and passage index); give every article its own id")
    return passages.sort_values(["article_id", "passage_index"], kind="stable").reset_index(drop=True)
