"""Labeled data: loading, checking, statistics and the held-out split.

A labeled file is JSONL, CSV or Parquet with one passage (or article) per row:

========== ===========================================================================================
column     meaning
========== ===========================================================================================
id         unique identifier (required)
text       the passage or article text (required)
labels     the frames it carries: a JSON list in JSONL/Parquet, ``;``-separated in CSV; empty for none
story      the dispute or story it belongs to; folds and the test split keep whole stories together
register   wire, editorial, analysis, op-ed, official-statement, explainer, feature, live-blog,
           press-briefing, interview (optional for custom data)
source     ``seed`` (from the example articles), ``constructed`` (written for the corpus), ``real`` or
           ``annotated`` (labeled with `framing annotate`, or imported with `framing corpus import`)
annotator  who labeled it
========== ===========================================================================================

``labeled/`` holds the default corpus in ``labeled/corpus/*.jsonl``; ``labeled/test_stories.txt`` names
the stories held out for testing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from framing.codebook import NONE_LABEL, Codebook
from framing.errors import InputError
from framing.tables import TABLE_FORMATS, read_table

REQUIRED_COLUMNS = ("id", "text", "labels")
REGISTERS = ("wire", "editorial", "analysis", "op-ed", "official-statement", "explainer", "feature", "live-blog", "press-briefing", "interview")
ANNOTATED_SOURCE = "annotated"  # written by `framing annotate` or `corpus import`
SOURCES = ("seed", "constructed", "real", ANNOTATED_SOURCE)
TEST_STORIES_FILE = "test_stories.txt"
MIN_WORDS, MAX_WORDS = 15, 120
NEAR_DUPLICATE_SIMILARITY = 0.85
# MinHash LSH for near-duplicate candidates: 64 permutations, candidates from a Jaccard of about 0.4 (see near_duplicate_pairs).
MINHASH_PERMUTATIONS, LSH_JACCARD = 64, 0.4


def repository_labeled_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "labeled"


def labeled_files(path: str | Path) -> list[Path]:
    """The table files of a labeled folder (recursively; only its ``corpus/`` subfolder if it has one), or the file itself."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file or folder")
    if path.is_dir() and (path / "corpus").is_dir():
        path = path / "corpus"
    if path.is_file():
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TABLE_FORMATS)
    if not files:
        raise InputError(f"{path}: no .jsonl, .csv or .parquet files with labeled data")
    return files


def _parse_labels(value) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(v).strip() for v in value if str(v).strip() and str(v).strip() != NONE_LABEL]
    text = str(value).strip()
    if text.startswith("["):
        try:
            return _parse_labels(json.loads(text))
        except json.JSONDecodeError:
            pass
    return [part.strip() for part in text.replace(",", ";").split(";") if part.strip() and part.strip() != NONE_LABEL]


def load_corpus(path: str | Path) -> pd.DataFrame:
    """All labeled rows of a file or folder, with ``labels`` as lists and a ``file`` column."""
    frames = []
    for file in labeled_files(path):
        table = read_table(file, required=("text",))
        missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
        if missing:
            raise InputError(f"{file}: no {', '.join(repr(c) for c in missing)} column")
        table = table.copy()
        table["labels"] = [_parse_labels(v) for v in table["labels"]]
        table["file"] = str(file)
        table["row"] = np.arange(1, len(table) + 1)
        frames.append(table)
    corpus = pd.concat(frames, ignore_index=True)
    # A missing id (NaN in JSONL, a gap in CSV) is "", which check_corpus reports; "nan" would pass as an id.
    corpus["id"] = corpus["id"].map(lambda v: "" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip() and str(v))
    for column in ("story", "register", "source", "annotator"):
        if column not in corpus.columns:
            corpus[column] = ""
        corpus[column] = corpus[column].fillna("").astype(str)
    return corpus


def label_matrix(corpus: pd.DataFrame, codebook: Codebook) -> np.ndarray:
    names = codebook.frame_names
    return np.array([[int(name in labels) for name in names] for labels in corpus["labels"]], dtype=int)


def data_hash(corpus: pd.DataFrame) -> str:
    """SHA-256 over the (id, text, labels) of every row, in id order: the training data's identity."""
    digest = hashlib.sha256()
    for row in corpus.sort_values("id")[["id", "text", "labels"]].itertuples(index=False):
        digest.update(json.dumps([row.id, row.text, sorted(row.labels)], ensure_ascii=False).encode())
    return digest.hexdigest()


# -- checking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    where: str  # "file:row N"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _where(row) -> str:
    return f"{row['file']}:row {row['row']} ({'id ' + row['id'] if row['id'] else 'no id'})"


def check_corpus(corpus: pd.DataFrame, codebook: Codebook, min_words: int = MIN_WORDS, max_words: int = MAX_WORDS, strict_schema: bool = True) -> list[Problem]:
    """Every problem found: schema, label names, text length, duplicate ids, exact and near duplicates.

    ``strict_schema`` also requires the corpus columns (story, register, source, annotator) with known
    values; custom data sets (benchmarks, article-level data) are checked without it.
    """
    problems: list[Problem] = []
    records = corpus.to_dict("records")
    for row in records:
        text = row["text"] if isinstance(row["text"], str) else ""
        n_words = len(text.split())
        if not row["id"]:
            problems.append(Problem(_where(row), "no id; every passage needs its own id"))
        if not text.strip():
            problems.append(Problem(_where(row), "empty text"))
        elif max_words and n_words > max_words:
            problems.append(Problem(_where(row), f"text has {n_words} words, over the {max_words}-word limit"))
        elif min_words and n_words < min_words:
            problems.append(Problem(_where(row), f"text has {n_words} words, under the {min_words}-word minimum"))
        unknown = codebook.validate_labels(row["labels"])
        if unknown:
            problems.append(Problem(_where(row), f"unknown frame {', '.join(map(repr, unknown))}; the codebook has {', '.join(codebook.frame_names)}"))
        if len(set(row["labels"])) != len(row["labels"]):
            problems.append(Problem(_where(row), "a label is repeated"))
        if strict_schema:
            if not row["story"]:
                problems.append(Problem(_where(row), "no story"))
            # A researcher's own archive rarely says which register an article is: optional for annotated rows.
            if row["register"] not in REGISTERS and not (row["source"] == ANNOTATED_SOURCE and not row["register"]):
                problems.append(Problem(_where(row), f"register {row['register']!r} is not one of {', '.join(REGISTERS)}"))
            if row["source"] not in SOURCES:
                problems.append(Problem(_where(row), f"source {row['source']!r} is not one of {', '.join(SOURCES)}"))
            if not row["annotator"]:
                problems.append(Problem(_where(row), "no annotator"))
    with_id = corpus[corpus["id"] != ""]
    for identifier, group in with_id[with_id["id"].duplicated(keep=False)].groupby("id"):
        if len(group) > 1:
            places = "; ".join(_where(r) for r in group.to_dict("records")[1:])
            problems.append(Problem(_where(group.iloc[0]), f"id {identifier!r} is used again at {places}"))
    problems.extend(_duplicates(corpus))
    return problems


def _duplicates(corpus: pd.DataFrame) -> list[Problem]:
    """Exact duplicates (after normalising case and spaces) and near duplicates (see :func:`near_duplicate_pairs`)."""
    texts = [" ".join(str(t).lower().split()) for t in corpus["text"]]
    rows = corpus.to_dict("records")
    problems = []
    first_seen: dict[str, int] = {}
    for i, text in enumerate(texts):
        if text in first_seen:
            problems.append(Problem(_where(rows[i]), f"exact duplicate of {_where(rows[first_seen[text]])}"))
        else:
            first_seen.setdefault(text, i)
    exact = {i for i, t in enumerate(texts) if first_seen[t] != i}
    for i, j, similarity in near_duplicate_pairs(texts):
        if i not in exact and texts[i] != texts[j]:
            problems.append(Problem(_where(rows[i]), f"near duplicate ({similarity:.2f}) of {_where(rows[j])}"))
    return problems


def near_duplicate_pairs(texts: list[str], threshold: float = NEAR_DUPLICATE_SIMILARITY) -> list[tuple[int, int, float]]:
    """Pairs ``(i, j, cosine)``, ``j < i``, whose cosine similarity of word 1-3-gram TF-IDF (hashed into 4M
    features, so collisions are rare) is at least ``threshold``.

    Comparing every pair is quadratic (135 s and 3.7 GB on a 30 MB file), so candidates come from MinHash
    locality-sensitive hashing over word-trigram shingles (datasketch), set well below the Jaccard
    similarity that such a cosine implies, and each candidate is then verified with the exact cosine.
    Time and memory grow with the number of texts and of candidate pairs, not with its square; the recall
    against the exact search is measured by ``benchmarks/corpus_check_scale.py``.
    """
    from datasketch import MinHash, MinHashLSH
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

    if len(texts) < 2:
        return []

    def shingles(text: str) -> set[bytes]:
        words = text.split()
        return {" ".join(words[k : k + 3]).encode() for k in range(max(1, len(words) - 2))}

    # Streamed: each text's shingles and MinHash live only while it is queried and indexed.
    index = MinHashLSH(threshold=LSH_JACCARD, num_perm=MINHASH_PERMUTATIONS)
    candidates = []
    for i, minhash in enumerate(MinHash.generator(map(shingles, texts), num_perm=MINHASH_PERMUTATIONS, seed=1)):
        candidates.extend((i, j) for j in index.query(minhash))
        index.insert(i, minhash)
    if not candidates:
        return []
    pairs = np.array(sorted(candidates))
    # Hashed n-grams: a vocabulary of every distinct trigram of a 30 MB corpus alone took gigabytes.
    counts = HashingVectorizer(ngram_range=(1, 3), n_features=1 << 22, alternate_sign=False, norm=None).transform(texts)
    X = TfidfTransformer(sublinear_tf=True).fit_transform(counts)
    del counts
    similarity = np.asarray(X[pairs[:, 0]].multiply(X[pairs[:, 1]]).sum(axis=1)).ravel()
    keep = similarity >= threshold
    return [(int(i), int(j), float(s)) for (i, j), s in zip(pairs[keep], similarity[keep])]


# -- split and statistics ---------------------------------------------------------------------------


def held_out_stories(labeled_path: str | Path) -> list[str]:
    """The held-out stories named in ``test_stories.txt`` beside the data (or in its parent, for ``labeled/corpus``)."""
    labeled_path = Path(labeled_path)
    folder = labeled_path if labeled_path.is_dir() else labeled_path.parent
    candidates = [folder / TEST_STORIES_FILE, folder.parent / TEST_STORIES_FILE]
    path = next((c for c in candidates if c.is_file()), candidates[0])
    if not path.is_file():
        return []
    return [line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines() if line.split("#")[0].strip()]


GROUP_COLUMNS = {"story": ("story",), "article": ("article", "article_id"), "outlet": ("outlet",)}


def fold_groups(corpus: pd.DataFrame, group: str | None = None) -> tuple[np.ndarray | None, str]:
    """What folds keep together, and its name: the ``group`` column ('story', 'article' or 'outlet'); without
    one, the stories when every row has one, else the articles (an ``article`` or ``article_id`` column)
    when every row has one, else nothing (passages fall into folds one by one)."""

    def column_of(name: str) -> str | None:
        return next((c for c in GROUP_COLUMNS[name] if c in corpus.columns and corpus[c].fillna("").astype(str).str.strip().astype(bool).all()), None)

    if group is not None:
        if group not in GROUP_COLUMNS:
            raise InputError(f"--group {group!r}: choose one of {', '.join(GROUP_COLUMNS)}")
        column = column_of(group)
        if column is None:
            raise InputError(f"--group {group}: the data has no {' or '.join(map(repr, GROUP_COLUMNS[group]))} column filled in on every row")
        return corpus[column].astype(str).to_numpy(), group
    for name in ("story", "article"):
        column = column_of(name)
        if column is not None:
            return corpus[column].astype(str).to_numpy(), name
    return None, "passage"


def split_by_story(corpus: pd.DataFrame, held_out: Iterable[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    held_out = set(held_out)
    is_test = corpus["story"].isin(held_out)
    return corpus[~is_test].reset_index(drop=True), corpus[is_test].reset_index(drop=True)


def statistics(corpus: pd.DataFrame, codebook: Codebook) -> dict[str, pd.DataFrame]:
    """Tables describing the corpus: overall counts, and per frame, story, register, source and split."""
    Y = label_matrix(corpus, codebook)
    n_labels = Y.sum(axis=1)
    words = corpus["text"].str.split().str.len()
    overall = pd.DataFrame(
        [
            ("passages", len(corpus)),
            ("stories", corpus["story"].nunique()),
            ("registers", corpus["register"].nunique()),
            ("none (no frame)", f"{int((n_labels == 0).sum())} ({(n_labels == 0).mean():.1%})"),
            ("multi-label (2+ frames)", f"{int((n_labels >= 2).sum())} ({(n_labels >= 2).mean():.1%})"),
            ("words per passage: min / median / max", f"{words.min()} / {int(words.median())} / {words.max()}"),
        ],
        columns=["statistic", "value"],
    )
    per_frame = pd.DataFrame(
        {"frame": codebook.frame_names + [NONE_LABEL], "passages": list(Y.sum(axis=0)) + [int((n_labels == 0).sum())]}
    )
    per_frame["share"] = (per_frame["passages"] / len(corpus)).round(3)

    def by(column: str) -> pd.DataFrame:
        table = pd.DataFrame(Y, columns=codebook.frame_names)
        table[NONE_LABEL] = (n_labels == 0).astype(int)
        table[column] = corpus[column].values
        grouped = table.groupby(column).sum()
        grouped.insert(0, "passages", corpus.groupby(column).size())
        return grouped.reset_index()

    return {"overall": overall, "per_frame": per_frame, "per_story": by("story"), "per_register": by("register"), "per_source": by("source")}
