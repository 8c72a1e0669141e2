"""Real news paragraphs annotated stand-off: the labels live in the repository, the text does not.

The articles (``../shared/realnews/`` beside a checkout) are licensed for research, not for
redistribution, so ``labeled/realnews/*.jsonl`` stores for each annotated paragraph only

============ ==========================================================================================
column       meaning
============ ==========================================================================================
article      the article's file name in the real-news folder (``article111111111.txt``)
paragraph    the paragraph's index: 0 is the first non-blank line after the title
sha256       SHA-256 of the paragraph's text (UTF-8, as stored in the file, without its line break)
labels       the frames it carries (a list, ``[]`` for none)
annotator    who gave the final labels (``agent-a1`` ..., or ``adjudicated`` after a disagreement)
selection    how the paragraph was chosen: ``random``, ``uncertain:<frame>`` or ``disagreement``
split        ``train``, ``dev`` or ``test`` (whole story clusters; see ``labeled/realnews/README.md``)
cluster      the story cluster of the article (articles of one story share it)
============ ==========================================================================================

``load_realnews`` rebuilds the text from the folder it is given and refuses, with the file and row, a
row whose paragraph is missing or whose text no longer hashes to ``sha256``. The rebuilt rows have the
columns of a labeled corpus (``framing.corpus``): ``id`` is ``<article>#<paragraph>``, ``story`` is the
cluster, ``register`` is ``real`` and ``source`` is ``real``.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pandas as pd

from framing.errors import InputError

STANDOFF_COLUMNS = ("article", "paragraph", "sha256", "labels", "annotator", "selection", "split", "cluster")
SPLITS = ("train", "dev", "test")
REALNEWS_ENV = "FRAMING_REALNEWS_DIR"
REAL_REGISTER = "real"
REAL_SOURCE = "real"
# What reports print in place of a real paragraph's text (it may not enter the repository).
STANDOFF_TEXT = "(real-news paragraph: text not stored, rebuild it from the id)"
LABELS_FILE = "labels.jsonl"


def repository_realnews_labels() -> Path:
    return Path(__file__).resolve().parents[1] / "labeled" / "realnews"


def default_realnews_dir() -> Path:
    """``$FRAMING_REALNEWS_DIR``, else ``../shared/realnews/semeval-en`` beside the checkout."""
    if os.environ.get(REALNEWS_ENV):
        return Path(os.environ[REALNEWS_ENV])
    return Path(__file__).resolve().parents[2] / "shared" / "realnews" / "semeval-en"


def article_folder(path: str | Path) -> Path:
    """The folder holding the article files: ``path`` itself, or its ``semeval-en/`` subfolder."""
    path = Path(path)
    if not path.is_dir():
        raise InputError(f"{path}: no such real-news folder (the articles the stand-off labels point into; give it with --realnews)")
    if (path / "semeval-en").is_dir():
        path = path / "semeval-en"
    return path


def paragraph_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_paragraphs(content: str) -> tuple[str, list[str]]:
    """An article file's title and its paragraphs: the non-blank lines after the title, in order."""
    lines = content.replace("\r\n", "\n").split("\n")
    title = lines[0].strip() if lines else ""
    return title, [line for line in lines[1:] if line.strip()]


def article_paragraphs(folder: str | Path, article: str) -> tuple[str, list[str]]:
    path = article_folder(folder) / article
    if not path.is_file():
        raise InputError(f"{path}: no such article in the real-news folder")
    return split_paragraphs(path.read_text(encoding="utf-8"))


def is_standoff_folder(path: str | Path) -> bool:
    return (Path(path) / LABELS_FILE).is_file()


def standoff_labels_of(labeled: str | Path) -> Path | None:
    """The stand-off labels of a labeled folder: ``<labeled>/realnews/labels.jsonl``, the folder itself, or None."""
    labeled = Path(labeled)
    for folder in (labeled / "realnews", labeled):
        if labeled.is_dir() and is_standoff_folder(folder):
            return folder
    return None


def standoff_files(path: str | Path) -> list[Path]:
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise InputError(f"{path}: no such file or folder of real-news labels")
    if not is_standoff_folder(path):
        raise InputError(f"{path}: no {LABELS_FILE} of real-news labels")
    return [path / LABELS_FILE]


def read_standoff(path: str | Path) -> pd.DataFrame:
    """The stand-off rows of a file or folder, checked for their columns, with ``file`` and ``row``."""
    from framing.tables import read_table

    frames = []
    for file in standoff_files(path):
        rows = []
        # framing's JSONL reader: located errors for a broken line; rows are numbered from 1 in file order.
        for number, record in enumerate(read_table(file, required=()).to_dict("records"), start=1):
            missing = [c for c in STANDOFF_COLUMNS if c not in record or (not isinstance(record[c], list) and pd.isna(record[c]))]
            if missing:
                raise InputError(f"{file}:row {number}: no {', '.join(map(repr, missing))}")
            if not isinstance(record["paragraph"], int) or record["paragraph"] < 0:
                raise InputError(f"{file}:row {number}: paragraph must be a non-negative integer, got {record['paragraph']!r}")
            if not isinstance(record["labels"], list):
                raise InputError(f"{file}:row {number}: labels must be a list")
            if record["split"] not in SPLITS:
                raise InputError(f"{file}:row {number}: split {record['split']!r} is not one of {', '.join(SPLITS)}")
            rows.append(dict(record, file=str(file), row=number))
        frames.append(pd.DataFrame(rows, columns=[*STANDOFF_COLUMNS, "file", "row"]))
    return pd.concat(frames, ignore_index=True)


def load_realnews(labels_path: str | Path, realnews_dir: str | Path) -> pd.DataFrame:
    """Annotated real paragraphs with their text rebuilt from ``realnews_dir``, as labeled corpus rows.

    Raises InputError, naming the file and row, when the folder is missing, an article or paragraph
    does not exist there, or the paragraph's text does not match the stored hash.
    """
    return rebuild_text(read_standoff(labels_path), realnews_dir)


def rebuild_text(standoff: pd.DataFrame, realnews_dir: str | Path) -> pd.DataFrame:
    """Stand-off rows (from ``read_standoff``) with their text read from ``realnews_dir`` and checked against the hashes."""
    folder = article_folder(realnews_dir)
    texts, articles = [], {}
    for row in standoff.itertuples(index=False):
        where = f"{row.file}:row {row.row} ({row.article} paragraph {row.paragraph})"
        path = folder / row.article
        if not path.is_file():
            raise InputError(f"{where}: no such article in {folder}")
        if row.article not in articles:
            articles[row.article] = split_paragraphs(path.read_text(encoding="utf-8"))[1]
        paragraphs = articles[row.article]
        if row.paragraph >= len(paragraphs):
            raise InputError(f"{where}: the article has only {len(paragraphs)} paragraphs")
        text = paragraphs[row.paragraph]
        if paragraph_hash(text) != row.sha256:
            raise InputError(f"{where}: the text in {path} does not match the stored hash (the article was changed, or the row points at the wrong paragraph)")
        texts.append(text)
    corpus = standoff.assign(
        id=[f"{a}#{p}" for a, p in zip(standoff["article"], standoff["paragraph"])],
        text=texts,
        story=standoff["cluster"].astype(str),
        register=REAL_REGISTER,
        source=REAL_SOURCE,
    )
    return corpus


def pool_articles(realnews_dir: str | Path) -> set[str] | None:
    """The article names of ``pool.txt`` beside the article folder, or None when there is no pool list."""
    folder = article_folder(realnews_dir)
    for candidate in (folder / "pool.txt", folder.parent / "pool.txt"):
        if candidate.is_file():
            return {line.strip() for line in candidate.read_text(encoding="utf-8").splitlines() if line.strip()}
    return None


def check_standoff(standoff: pd.DataFrame, frame_names: list[str], pool: set[str] | None = None) -> list[str]:
    """Problems of stand-off rows that need no text: unknown or repeated labels, repeated paragraphs, articles
    outside the pool, a story cluster split across train, dev and test."""
    problems = []
    seen: dict[tuple[str, int], str] = {}
    for row in standoff.itertuples(index=False):
        where = f"{row.file}:row {row.row} ({row.article} paragraph {row.paragraph})"
        unknown = [label for label in row.labels if label not in frame_names]
        if unknown:
            problems.append(f"{where}: unknown frame {', '.join(map(repr, unknown))}; the codebook has {', '.join(frame_names)}")
        if len(set(row.labels)) != len(row.labels):
            problems.append(f"{where}: a label is repeated")
        if not str(row.annotator).strip():
            problems.append(f"{where}: no annotator")
        if not str(row.selection).strip():
            problems.append(f"{where}: no selection")
        if pool is not None and row.article not in pool:
            problems.append(f"{where}: {row.article} is not in pool.txt (only pool articles may be annotated)")
        key = (row.article, row.paragraph)
        if key in seen:
            problems.append(f"{where}: the paragraph is labeled again (first at {seen[key]})")
        seen.setdefault(key, where)
    splits_per_cluster = standoff.groupby("cluster")["split"].nunique()
    for cluster in splits_per_cluster[splits_per_cluster > 1].index:
        problems.append(f"cluster {cluster}: its articles are in more than one split ({', '.join(sorted(standoff.loc[standoff['cluster'] == cluster, 'split'].unique()))})")
    return problems


def final_labels(labels_path: str | Path) -> dict[str, list[str]]:
    """``<article>#<paragraph>`` -> final labels, read from the stand-off rows alone (no text needed)."""
    standoff = read_standoff(labels_path)
    return {f"{a}#{p}": list(labels) for a, p, labels in zip(standoff["article"], standoff["paragraph"], standoff["labels"])}


def standoff_statistics(labels_path: str | Path, frame_names: list[str]) -> dict[str, pd.DataFrame]:
    """Tables of the stand-off labels alone: overall counts, and frames per split, selection and annotator."""
    standoff = read_standoff(labels_path)
    Y = pd.DataFrame([[int(name in labels) for name in frame_names] for labels in standoff["labels"]], columns=frame_names)
    n_labels = Y.sum(axis=1)
    Y["none"] = (n_labels == 0).astype(int)
    overall = pd.DataFrame(
        [
            ("paragraphs", len(standoff)),
            ("articles", standoff["article"].nunique()),
            ("story clusters", standoff["cluster"].nunique()),
            ("none (no frame)", f"{int((n_labels == 0).sum())} ({(n_labels == 0).mean():.1%})"),
            ("multi-label (2+ frames)", f"{int((n_labels >= 2).sum())} ({(n_labels >= 2).mean():.1%})"),
        ],
        columns=["statistic", "value"],
    )
    per_frame = pd.DataFrame({"frame": [*frame_names, "none"], "paragraphs": [int(Y[c].sum()) for c in [*frame_names, "none"]]})
    per_frame["share"] = (per_frame["paragraphs"] / len(standoff)).round(3)

    def by(column: str) -> pd.DataFrame:
        grouped = Y.assign(**{column: standoff[column].values}).groupby(column).sum()
        grouped.insert(0, "articles", standoff.groupby(column)["article"].nunique())
        grouped.insert(0, "paragraphs", standoff.groupby(column).size())
        return grouped.reset_index()

    return {"overall": overall, "per_frame": per_frame, "per_split": by("split"), "per_selection": by("selection"), "per_annotator": by("annotator")}
