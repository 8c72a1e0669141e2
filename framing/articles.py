"""Reading articles from what researchers have: text, Markdown and HTML files, folders of them, or tables.

``iter_articles`` yields an :class:`Article` for every readable article and an :class:`ArticleFailure`
(with the reason) for every unreadable one, so one bad file never stops a batch. Problems with the
request itself (a path that does not exist, a folder with nothing readable in it) raise InputError.

Text that is not UTF-8 is decoded from its byte-order mark (UTF-16/32), as Windows-1252 (a superset of
Latin-1's printable characters) when that gives mostly ASCII, or by charset detection (charset-normalizer).
HTML pages go through trafilatura, which extracts the article body and drops navigation, footers and
other boilerplate.

An article is at most ``MAX_ARTICLE_CHARS`` characters (about 80,000 words, far beyond any news
article): a longer text is a dump of many articles, or not prose, and scoring it as one article would
take long and mean nothing. Files over ``MAX_ARTICLE_FILE_BYTES`` are not even read (an HTML page's
markup and scripts make it several times the size of its text).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from framing.errors import InputError, InputWarning
from framing.tables import is_table, iter_table, read_table

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
ARTICLE_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES
MAX_ARTICLE_CHARS = 500_000
MAX_ARTICLE_FILE_BYTES = 20_000_000
METADATA_FILENAME = "metadata.csv"
METADATA_COLUMNS = ("outlet", "title", "published", "kind")
_BOMS = [(codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")]
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_LETTER = re.compile(r"[^\W\d_]")
_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f]")
NOT_ENGLISH = "the text does not look like English; the default model is trained on English news"
_ENGLISH_FUNCTION_WORDS = frozenset("the of and to in a is that for on was with as by it said at from has have be are his her its an their not this which".split())


@dataclass
class Article:
    """One article. ``source`` says where it came from (a path, or ``table.csv:row 12``)."""

    id: str
    text: str
    outlet: str = ""
    title: str = ""
    published: str = ""
    kind: str = ""
    source: str = ""
    warnings: list[str] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)  # the other metadata columns (country, a custom one), as text


@dataclass
class ArticleFailure:
    id: str
    source: str
    reason: str


class NotText(Exception):
    """The bytes are not decodable text."""


def text_encoding(data: bytes) -> str:
    """The encoding of text that starts with ``data`` (see the module docstring); raise NotText for binary data."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    if b"\x00" in data:  # anywhere, not only in a sample: a late NUL would pass into the output
        utf16 = _utf16_without_bom(data)
        if utf16 is None:
            raise NotText("binary data (NUL bytes), not text")
        return utf16
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data)  # not final: a sample may end inside a character
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # Charset detection misreads short Western texts (Latin-1 "Bogotá" as Baltic cp1257 "Bogotį"), and
    # mostly-ASCII text in a legacy encoding is nearly always Windows-1252.
    sample = data[: 1 << 20]
    try:
        text = sample.decode("cp1252")
        if len(text.encode("ascii", "ignore")) >= 0.9 * len(text):
            return "cp1252"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise NotText("not text in any encoding that could be detected")
    return best.encoding


def _utf16_without_bom(data: bytes) -> str | None:
    """``utf-16-le`` or ``-be`` for UTF-16 saved without a byte-order mark, None for binary data.

    Text in a Latin script is mostly code points under 256, so in UTF-16 every other byte is NUL: the odd
    bytes in little-endian, the even ones in big-endian. Binary data has no such pattern, and no NUL
    in the other half.
    """
    sample = data[: 1 << 16]
    if len(data) % 2 or len(sample) < 16:
        return None
    even, odd = sample[0::2], sample[1::2]
    half = len(sample) // 2
    for zeros, others, encoding in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
        if zeros.count(0) >= 0.6 * half and others.count(0) == 0:
            try:
                data.decode(encoding)
            except UnicodeDecodeError:
                return None
            return encoding
    return None


def decode_bytes(data: bytes) -> str:
    """Decode bytes of unknown encoding; raise NotText for binary data."""
    text = data.decode(text_encoding(data), errors="replace")
    control = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if control > 0.01 * min(len(text), 65536):
        raise NotText("binary data, not text")
    return text


def html_to_text(html: str) -> tuple[str, str]:
    """The main text of an HTML page, boilerplate dropped, and its title."""
    import trafilatura

    document = trafilatura.bare_extraction(html, include_comments=False, include_tables=False, with_metadata=True)
    if document is None:
        return "", ""
    return (document.text or "").strip(), (document.title or "").strip()


def looks_english(text: str) -> bool:
    """A cheap check on function words: the default model is trained on English only."""
    # A regular expression over the first 3,000 characters: a Python loop over every word of every article
    # cost more than the TF-IDF model's whole classification.
    sample = text[:3000]
    letters = len(_LETTER.findall(sample))
    # Chinese or Japanese has no spaces between words, so a whole sentence would count as one "word".
    if letters >= 20 and len(_LATIN_LETTER.findall(sample)) < 0.5 * letters:
        return False
    words = _WORD.findall(sample.lower())
    if len(words) < 20:
        return True
    return sum(map(_ENGLISH_FUNCTION_WORDS.__contains__, words)) / len(words) >= 0.08


def read_article_file(path: Path, article_id: str) -> Article | ArticleFailure:
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_ARTICLE_FILE_BYTES:
            return ArticleFailure(article_id, source, f"the file is {size / 1e6:.1f} MB, over the {MAX_ARTICLE_FILE_BYTES / 1e6:.0f} MB limit for one "
                                  "article file; split it into articles (a file each, or a table with one row per article)")
        data = path.read_bytes()
    except FileNotFoundError:
        target = path.readlink() if path.is_symlink() else path
        return ArticleFailure(article_id, source, f"a link to a missing file ({target})" if path.is_symlink() else "the file was removed while the run went on")
    except OSError as exc:
        return ArticleFailure(article_id, source, f"cannot read: {exc.strerror}")
    if not data.strip():
        return ArticleFailure(article_id, source, "the file is empty")
    try:
        text = decode_bytes(data)
    except NotText as exc:
        return ArticleFailure(article_id, source, str(exc))
    title = ""
    if path.suffix.lower() in HTML_SUFFIXES:
        text, title = html_to_text(text)
        if not text:
            return ArticleFailure(article_id, source, "no article text found in the HTML page")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _checked(Article(id=article_id, text=text, title=title, source=source))


def _checked(article: Article) -> Article | ArticleFailure:
    if len(article.text) > MAX_ARTICLE_CHARS:
        return ArticleFailure(article.id, article.source, f"{len(article.text):,} characters of text, over the {MAX_ARTICLE_CHARS:,}-character limit "
                              "for one article; split it into articles")
    if not looks_english(article.text):
        article.warnings.append(NOT_ENGLISH)
    return article


def list_article_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if _is_article_file(p))


def _is_article_file(path: Path) -> bool:
    # A dangling link is kept (it is not is_file()) so that it is listed among the failures, not skipped.
    return (path.is_file() or (path.is_symlink() and not path.exists())) and path.suffix.lower() in ARTICLE_SUFFIXES and not path.name.startswith(".")


def _has_article_files(folder: Path) -> bool:
    """Whether ``folder`` holds an article (the same rule as list_article_files), stopping at the first: the
    full listing of a large archive is made once, by the reader."""
    return any(map(_is_article_file, folder.rglob("*")))


def _ids_for(files: list[Path]) -> list[str]:
    """File stems as ids; where two files share a stem, their paths keep them apart (with the suffix when
    only the suffix differs: ``story.txt`` and ``story.md``)."""
    from collections import Counter

    stems = [f.stem for f in files]
    bare = [str(f.with_suffix("")) for f in files]
    # Counted once: list.count per file was quadratic in the size of the folder.
    stem_counts, bare_counts = Counter(stems), Counter(bare)
    return [stem if stem_counts[stem] == 1 else (path if bare_counts[path] == 1 else str(f)) for stem, path, f in zip(stems, bare, files)]


def load_metadata(path: str | Path) -> pd.DataFrame:
    """A metadata table keyed by ``id`` (or ``file``, whose stem is the id), with outlet/title/published/kind
    and any other columns (country, a custom one), which travel with the article as ``extra``."""
    table = read_table(path, required=())
    if "id" not in table.columns:
        if "file" not in table.columns:
            raise InputError(f"{path}: a metadata table needs an 'id' or a 'file' column")
        table["id"] = [Path(f).stem for f in table["file"]]
    ids = table["id"].astype(str)
    repeated = ids[ids.duplicated(keep=False)]
    if not repeated.empty:
        rows = ", ".join(str(i + 2) for i in repeated.index[:10])  # +2: the header is line 1
        raise InputError(f"{path}: id {repeated.iloc[0]!r} is given more than once (lines {rows}); each article needs one metadata row")
    return table.set_index(ids)


def iso_date(value: str) -> str | None:
    """``published`` as an ISO date (``2024-03-05``; a time after it is dropped), or None if it is not one."""
    import datetime

    text = value.strip()
    if len(text) > 10 and text[10] in "T ":
        text = text[:10]
    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def _metadata_fields(record: dict, columns: list[str], skip: tuple[str, ...]) -> tuple[dict[str, str], list[str]]:
    """The metadata of one article from a metadata or article table row: outlet/title/published/kind, then
    ``extra`` with every other column but ``skip`` ("" where a value is missing), and the warnings."""
    def text(column: str) -> str:
        value = record.get(column)
        return "" if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)) else str(value)

    fields: dict = {c: text(c) for c in METADATA_COLUMNS if c in columns and text(c)}
    warnings = []
    if fields.get("published"):
        published = iso_date(fields["published"])
        if published is None:
            warnings.append(f"published {fields['published']!r} is not an ISO 8601 date such as 2024-03-05; left empty")
        fields["published"] = published or ""
    fields["extra"] = {c: text(c) for c in columns if c not in skip and c not in METADATA_COLUMNS}
    return fields, warnings


def unmatched_metadata(paths: list[Path], metadata: pd.DataFrame) -> str | None:
    """Why some metadata rows will not be applied (their id names no article file of the inputs), or None.

    Metadata applies to article files, whose id is the file name without its suffix; a table carries
    its own outlet, title and published columns.
    """
    files = [f for p in paths if not is_table(p) for f in list_article_files(p)]
    ids = set(_ids_for(files))
    unmatched = [i for i in metadata.index if i not in ids]
    if not unmatched:
        return None
    examples = ", ".join(map(repr, unmatched[:3])) + (", ..." if len(unmatched) > 3 else "")
    hint = f"article ids are file names without the suffix, such as {sorted(ids)[0]!r}" if ids else "metadata applies to article files; a table carries its own outlet, title and published columns"
    return f"{len(unmatched)} of {len(metadata)} metadata rows match no article ({examples}) and are not applied; {hint}"


def _apply_metadata(article: Article, metadata: pd.DataFrame | None) -> Article:
    if metadata is not None:
        record = metadata.loc[article.id].to_dict() if article.id in metadata.index else {}
        fields, warnings = _metadata_fields(record, list(metadata.columns), skip=("id", "file", "text"))
        for name, value in fields.items():
            setattr(article, name, value)
        article.warnings.extend(warnings)
    return article


def resolve_inputs(paths: Iterable[str | Path]) -> list[Path]:
    """Check every input path exists before any work starts."""
    resolved = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir() and not _has_article_files(path):
            raise InputError(f"{path}: the folder has no .txt, .md or .html articles")
        if path.is_file() and not (is_table(path) or path.suffix.lower() in ARTICLE_SUFFIXES):
            raise InputError(f"{path}: unsupported file type {path.suffix!r}; use .txt, .md, .html, .csv, .jsonl or .parquet")
        resolved.append(path)
    if not resolved:
        raise InputError("no input given")
    return resolved


def count_articles(paths: list[Path]) -> int:
    """How many articles the inputs hold (files, and rows of tables), for a progress bar's total."""
    from framing.tables import count_rows

    return sum(count_rows(p) if is_table(p) else len(list_article_files(p)) for p in paths)


def find_metadata(paths: list[Path]) -> Path | None:
    """A ``metadata.csv`` in the folder of the inputs, used when --metadata is not given."""
    folders = {p if p.is_dir() else p.parent for p in paths if not is_table(p)}
    candidates = [folder / METADATA_FILENAME for folder in folders if (folder / METADATA_FILENAME).is_file()]
    return candidates[0] if len(candidates) == 1 else None


def metadata_for(paths: list[Path], metadata_path: str | Path | None) -> tuple[Path | None, pd.DataFrame | None]:
    """The metadata file (``metadata_path``, or the ``metadata.csv`` found beside the inputs) and its table; (None, None) without one."""
    metadata_file = Path(metadata_path) if metadata_path else find_metadata(paths)
    return metadata_file, load_metadata(metadata_file) if metadata_file else None


def articles_with_metadata(paths: list[str | Path], metadata_path: str | Path | None) -> Iterator[Article | ArticleFailure]:
    """:func:`iter_articles` with the metadata table given, or the ``metadata.csv`` found beside the inputs.
    The inputs are checked and the metadata read at once; metadata rows that match no article are warned about."""
    import warnings

    resolved = resolve_inputs(paths)
    metadata_file, metadata = metadata_for(resolved, metadata_path)
    if metadata is not None:
        # A metadata.csv found beside the inputs describes its whole folder: scoring one file of it is no mistake.
        problem = unmatched_metadata(resolved if metadata_path else [metadata_file.parent], metadata)
        if problem:
            warnings.warn(f"{metadata_file}: {problem}", InputWarning, stacklevel=2)
    return iter_articles(resolved, metadata)


def iter_articles(paths: Iterable[str | Path], metadata: pd.DataFrame | None = None, chunk_rows: int = 10_000) -> Iterator[Article | ArticleFailure]:
    """Every article of the inputs, in order; see the module docstring."""
    resolved = resolve_inputs(paths)
    listings = {p: list_article_files(p) for p in resolved if not is_table(p)}
    files = [f for listing in listings.values() for f in listing]
    ids = dict(zip(files, _ids_for(files)))
    first_source: dict[str, str] = {}

    def unique(item: Article | ArticleFailure) -> Article | ArticleFailure:
        # Two inputs with one id would be merged into one unit downstream (and one lost on --resume): refuse.
        if item.id in first_source:
            raise InputError(f"{item.source}: id {item.id!r} is already used by {first_source[item.id]}; every article needs its own id")
        first_source[item.id] = item.source
        return item

    for path in resolved:
        if is_table(path):
            for item in _iter_table_articles(path, chunk_rows):
                yield unique(item)
            continue
        for file in listings[path]:
            item = read_article_file(file, ids[file])
            yield unique(_apply_metadata(item, metadata) if isinstance(item, Article) else item)


def text_problem(value) -> str | None:
    """Why a table cell cannot be a text (JSONL and Parquet keep numbers and lists), or None."""
    if isinstance(value, str):
        return None if value.strip() else "empty text"
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "empty text"
    if isinstance(value, (bool, int, float)):
        return f"the text is a number ({value!r}), not a string"
    return f"the text is a {type(value).__name__ if not hasattr(value, 'tolist') else 'list'}, not a string"


def _table_records(path: Path, chunk_rows: int) -> Iterator[tuple[str, str, dict, list[str]]]:
    """(id, source, record, columns) for every row of an article table."""
    row_number = 0
    for chunk in iter_table(path, chunk_rows=chunk_rows):
        columns = list(chunk.columns)
        for record in chunk.to_dict("records"):
            row_number += 1
            # The id exactly as given (" 42 " stays " 42 ", as in classify); a row without one is numbered.
            given = record.get("id")
            has_id = given is not None and not (isinstance(given, float) and pd.isna(given)) and str(given).strip() != ""
            yield str(given) if has_id else str(row_number), f"{path}:row {row_number}", record, columns


def _table_article(article_id: str, source: str, record: dict, columns: list[str], text: str) -> Article:
    fields, warnings = _metadata_fields(record, columns, skip=("id", "text"))
    article = Article(id=article_id, text=text, source=source, **fields)
    article.warnings.extend(warnings)
    return article


def _iter_table_articles(path: Path, chunk_rows: int) -> Iterator[Article | ArticleFailure]:
    for article_id, source, record, columns in _table_records(path, chunk_rows):
        text = record.get("text")
        problem = text_problem(text)
        if problem:
            yield ArticleFailure(article_id, source, problem)
            continue
        yield _checked(_table_article(article_id, source, record, columns, text.replace("\r\n", "\n")))


def article_metadata(paths: Iterable[str | Path], metadata: pd.DataFrame | None = None, chunk_rows: int = 10_000) -> pd.DataFrame:
    """The metadata of every input article, without reading an article file: ``id, source, outlet, title,
    published, kind`` and the other metadata columns. What a command checks before it scores anything."""
    resolved = resolve_inputs(paths)
    files = [f for p in resolved if not is_table(p) for f in list_article_files(p)]
    articles = [_apply_metadata(Article(id=i, text="", source=str(f)), metadata) for f, i in zip(files, _ids_for(files))]
    for path in (p for p in resolved if is_table(p)):
        articles += [_table_article(i, source, record, columns, "") for i, source, record, columns in _table_records(path, chunk_rows)]
    return pd.DataFrame([{"id": a.id, "source": a.source, "outlet": a.outlet, "title": a.title, "published": a.published, "kind": a.kind, **a.extra}
                         for a in articles])
