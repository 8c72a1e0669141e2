"""Reading and writing tables: CSV, JSONL and Parquet, chosen by the file's extension.

Writers are atomic: rows go to a temporary file beside the target, which is renamed over the target
only when the writer is closed without error. An interrupted run therefore never leaves a half-written
output; it leaves either the previous file or nothing.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from framing.errors import InputError

TABLE_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
DEFAULT_CHUNK_ROWS = 10_000
DATE_COLUMNS = ("published",)  # ISO date text in memory, CSV and JSONL; a date in Parquet


def table_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise InputError(f"{path}: unknown table format {suffix or '(no extension)'!r}; use .csv, .jsonl or .parquet")
    return TABLE_FORMATS[suffix]


def check_output_paths(outputs: dict[str, str | Path | None]) -> None:
    """Refuse, before any work, output paths that would fail or clobber at the end: an unknown format, a
    folder, a place that cannot be written, or two outputs on one path. ``outputs`` maps option names
    (``--output``) to paths; None entries are skipped."""
    seen: dict[Path, str] = {}
    for option, path in outputs.items():
        if path is None:
            continue
        path = Path(path)
        table_format(path)
        if path.is_dir():
            raise InputError(f"{option} {path}: is a folder; give a file name such as {path / 'out.csv'}")
        resolved = path.resolve()
        if resolved in seen:
            raise InputError(f"{option} {path}: the same file as {seen[resolved]}; give each output its own path")
        seen[resolved] = option
        try:
            # A real probe (permission bits say nothing for root or on read-only and special file systems).
            resolved.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=resolved.parent):
                pass
        except OSError as exc:
            raise InputError(f"{option} {path}: cannot be written there ({exc.strerror or exc})") from None


def is_table(path: str | Path) -> bool:
    return Path(path).suffix.lower() in TABLE_FORMATS


def iter_table(path: str | Path, chunk_rows: int = DEFAULT_CHUNK_ROWS, required: tuple[str, ...] = ("text",)) -> Iterator[pd.DataFrame]:
    """Read a table in chunks of at most ``chunk_rows`` rows, so memory stays flat with file size.

    Raises InputError naming the file (and the line or row where the format tells) for a missing
    required column, broken CSV quoting, a truncated JSONL line or a damaged Parquet file.
    """
    path = Path(path)
    fmt = table_format(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: the file is empty")
    readers = {"csv": _iter_csv, "jsonl": _iter_jsonl, "parquet": _iter_parquet}
    first, rows = True, 0
    for chunk in readers[fmt](path, chunk_rows):
        if first:
            missing = [c for c in required if c not in chunk.columns]
            if missing:
                raise InputError(f"{path}: no {', '.join(repr(c) for c in missing)} column (columns: {', '.join(map(str, chunk.columns))})")
            first = False
        if len(chunk):  # a CSV with a header only reads as one empty chunk
            rows += len(chunk)
            yield chunk
    if not rows:
        raise InputError(f"{path}: the table has a header but no rows" if not first else f"{path}: the table has no rows")


def count_rows(path: str | Path) -> int:
    """The number of rows of a table, without building it (for a progress bar's total): Parquet's metadata,
    JSONL's non-blank lines, CSV's records (a quoted text may span lines). 0 for a table that cannot be read."""
    path = Path(path)
    try:
        fmt = table_format(path)
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.ParquetFile(path).metadata.num_rows
        if fmt == "jsonl":
            with path.open("rb") as handle:
                return sum(1 for line in handle if line.strip())
        encoding = _csv_encoding(path)
        with path.open(encoding="utf-8-sig" if encoding == "utf-8" else encoding, errors="replace", newline="") as handle:
            return max(0, sum(1 for _ in csv.reader(handle)) - 1)
    except Exception:  # a broken table is reported by its reader, with the place; the bar just has no total
        return 0


def read_table(path: str | Path, required: tuple[str, ...] = ("text",)) -> pd.DataFrame:
    chunks = list(iter_table(path, required=required))
    return pd.concat(chunks, ignore_index=True)


def _csv_encoding(path: Path) -> str:
    """The encoding of a CSV file, detected from its first megabyte as for article files (spreadsheets often
    save CSV as Windows-1252 or UTF-16); InputError for binary data."""
    from framing.articles import NotText, text_encoding  # framing.articles imports this module

    with path.open("rb") as handle:
        sample = handle.read(1 << 20)
    try:
        return text_encoding(sample)
    except NotText as exc:
        raise InputError(f"{path}: {exc}") from None


def _iter_csv(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    encoding = _csv_encoding(path)
    # The csv module refuses fields over 128 KB; a longer article is read, and refused by the article reader.
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))
    problem = _csv_problem(path, encoding, rows=1)
    if problem:
        raise InputError(f"{path}:{problem}")
    try:
        # dtype=str keeps ids like "007" intact.
        reader = pd.read_csv(path, chunksize=chunk_rows, dtype=str, keep_default_na=False, engine="python", on_bad_lines="error",
                             encoding="utf-8-sig" if encoding == "utf-8" else encoding)
        yield from reader
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, csv.Error) as exc:
        problem = _csv_problem(path, encoding)
        raise InputError(f"{path}:{problem}" if problem else f"{path}: broken CSV ({_one_line(exc)})") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not {encoding} text ({exc.reason}); save the table as UTF-8") from None


def _csv_problem(path: Path, encoding: str, rows: int | None = None) -> str | None:
    """``LINE: broken CSV (why)`` for the first row (of the first ``rows``) that Python's csv module
    (pandas' python engine) cannot parse or that has more fields than the header.

    pandas does not say where a quoting error is, and reads a first row with one field too many (a text
    with an unquoted comma) silently, taking the first column for an index; so the first row is checked
    before pandas reads the file, and all of them when pandas fails.
    """
    with path.open(encoding=encoding, newline="") as handle:
        reader = csv.reader(handle, strict=True)
        start = 1
        try:
            header = next(reader, [])
            start = reader.line_num + 1
            for row in itertools.islice(reader, rows):
                if len(row) > len(header):
                    return (f"{start}: broken CSV (the row on line {start} has {len(row)} fields, the header {len(header)}; "
                            "put texts that contain commas in double quotes)")
                start = reader.line_num + 1
        except csv.Error as exc:
            return f"{start}: broken CSV ({exc} in the row that starts on line {start}; is a quote left open?)"
    return None


def iter_json_lines(path: Path) -> Iterator[tuple[int, dict]]:
    """(line number, object) for every non-blank line of a JSONL file; InputError naming the line for one
    that is not a JSON object or not UTF-8."""
    with path.open("r", encoding="utf-8-sig") as handle:
        line_number = 0
        try:
            for line_number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{path}:{line_number}: not valid JSON ({exc.msg} column {exc.colno}); is the file truncated?") from None
                if not isinstance(row, dict):
                    raise InputError(f"{path}:{line_number}: each line must be a JSON object")
                yield line_number, row
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}:{line_number + 1}: not UTF-8 text at byte {exc.start}") from None


def _iter_jsonl(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    rows: list[dict] = []
    for _, row in iter_json_lines(path):
        if "id" in row and isinstance(row["id"], (int, float)) and not isinstance(row["id"], bool):
            # An id comes back as it was written: 1 stays "1" (pandas would make a column with a gap 1.0).
            row["id"] = json.dumps(row["id"])
        rows.append(row)
        if len(rows) >= chunk_rows:
            yield pd.DataFrame(rows)
            rows = []
    if rows:
        yield pd.DataFrame(rows)


def _iter_parquet(path: Path, chunk_rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            yield batch.to_pandas()
    except Exception as exc:  # pyarrow raises several unrelated types for a damaged file
        raise InputError(f"{path}: unreadable Parquet file ({_one_line(exc)}); is it truncated?") from None


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


# One rule for every writer (CSV, JSONL, Parquet, stdout): floats are rounded to 6 decimal places, so
# arithmetic noise (0.1 + 0.2 = 0.30000000000000004) never reaches a file and every format holds the same
# numbers. Probabilities and shares are already rounded to 4 places where they are computed.
FLOAT_DECIMALS = 6


def rounded(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its float columns rounded to FLOAT_DECIMALS places (the frame itself if it has none)."""
    floats = frame.select_dtypes(include="floating").columns
    if not len(floats):
        return frame
    frame = frame.copy()
    frame[floats] = frame[floats].round(FLOAT_DECIMALS)
    return frame


def jsonl_text(frame: pd.DataFrame) -> str:
    """One JSON object per row and line. pandas escapes every "/" as "\\/" (valid JSON, but noise in paths
    and URLs); a backslash followed by a slash in its output is only ever that escape, so it is undone."""
    text = rounded(frame).to_json(orient="records", lines=True, force_ascii=False, double_precision=15).replace("\\/", "/")
    return text if text.endswith("\n") else text + "\n"


def write_csv(frame: pd.DataFrame, handle, header: bool = True) -> None:
    """CSV that reads back as written. Python's csv module (3.11) quotes a field only for the delimiter, the
    quote and the line terminator's characters, so a text holding a lone carriage return would be written
    bare and read back as two rows: such a chunk quotes every non-numeric field instead."""
    frame = rounded(frame)
    texts = frame.select_dtypes(include=["object", "string"])
    has_cr = any(texts[c].astype(str).str.contains("\r", regex=False).any() for c in texts.columns)
    frame.to_csv(handle, index=False, header=header, quoting=csv.QUOTE_NONNUMERIC if has_cr else csv.QUOTE_MINIMAL)


class TableWriter:
    """Write a table chunk by chunk to CSV, JSONL or Parquet, atomically.

    Use as a context manager: the target appears only if the block finishes without an exception.
    Parquet needs a fixed schema, taken from the first chunk.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.format = table_format(self.path)
        self.rows_written = 0
        self._tmp_path: Path | None = None
        self._handle = None
        self._parquet = None
        self._header_written = False

    def __enter__(self) -> TableWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _temporary_beside(self.path)
        os.close(fd)
        self._tmp_path = Path(tmp)
        if self.format != "parquet":
            self._handle = self._tmp_path.open("w", encoding="utf-8", newline="")
        return self

    def write(self, frame: pd.DataFrame) -> None:
        if frame.empty and self._header_written:
            return
        if self.format == "csv":
            write_csv(frame, self._handle, header=not self._header_written)
        elif self.format == "jsonl":
            if not frame.empty:
                self._handle.write(jsonl_text(frame))
        else:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = _dates_as_dates(pa.Table.from_pandas(rounded(frame), preserve_index=False))
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self._tmp_path, table.schema)
            self._parquet.write_table(table.cast(self._parquet.schema))
        self._header_written = True
        self.rows_written += len(frame)

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._handle is not None:
            self._handle.close()
        if self._parquet is not None:
            self._parquet.close()
        if exc_type is None:
            if self.format == "parquet" and self._parquet is None:
                import pyarrow as pa
                import pyarrow.parquet as pq

                pq.write_table(pa.table({}), self._tmp_path)
            os.replace(self._tmp_path, self.path)
        else:
            self._tmp_path.unlink(missing_ok=True)


def _dates_as_dates(table):
    """The ISO date text of DATE_COLUMNS ("" for none) as Parquet dates, so a reader gets dates, not strings
    (a column with any other text is left as it is)."""
    import datetime

    import pyarrow as pa

    for name in DATE_COLUMNS:
        index = table.schema.get_field_index(name)
        if index >= 0 and not pa.types.is_date(table.schema.field(index).type):
            try:
                values = [datetime.date.fromisoformat(v) if v else None for v in table.column(index).to_pylist()]
            except (TypeError, ValueError):
                continue
            table = table.set_column(index, name, pa.array(values, type=pa.date32()))
    return table


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a whole DataFrame atomically in the format the extension names."""
    with TableWriter(path) as writer:
        writer.write(frame)
    return Path(path)


def _temporary_beside(path: Path) -> tuple[int, str]:
    """A temporary file in ``path``'s folder (so the final rename is atomic), with the permissions a plain
    ``open`` would give (mkstemp makes it owner-only)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    return fd, tmp


def drop_torn_line(path: Path) -> bytes:
    """The complete lines of an append-only file, after cutting off a torn last line in place (a process
    killed mid-write leaves one; the checkpoints and the labels file are written a line at a time)."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        data = data[: data.rfind(b"\n") + 1]
        with path.open("r+b") as handle:
            handle.truncate(len(data))
            os.fsync(handle.fileno())
    return data


def write_text_atomic(path: str | Path, content: str | bytes) -> Path:
    """Write a text (report, JSON) or bytes (an image) file atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temporary_beside(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def markdown_table(frame: pd.DataFrame, index: bool = False) -> str:
    """A DataFrame as a GitHub Markdown table (pipes and newlines in cells escaped)."""
    frame = frame.reset_index() if index else frame
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"
    body = ["| " + " | ".join(str(v).replace("|", "\\|").replace("\n", " ") for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body])


def replace_marked_block(path: str | Path, name: str, content: str) -> Path:
    """Replace the text between ``<!-- name:begin -->`` and ``<!-- name:end -->`` in a file, atomically."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    if begin not in text or end not in text:
        raise InputError(f"{path}: no {begin} ... {end} block to update")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return write_text_atomic(path, f"{head}{begin}\n{content.strip()}\n{end}{tail}")


_STATA_RESERVED = frozenset("_all _b byte _coef _cons double float if in int long _n _N _pi _pred _rc _skip strL using with".split())


def stata_names(columns) -> list[str]:
    """Column names that Stata (and ``pandas.DataFrame.to_stata``) takes as they are: letters, digits and
    ``_`` only, not starting with a digit, at most 32 characters, no reserved word, all distinct
    (``share_ideological-bloc`` -> ``share_ideological_bloc``; a clash gets ``_2``, ``_3``...)."""
    import re

    names: list[str] = []
    for column in map(str, columns):
        name = re.sub(r"[^A-Za-z0-9_]", "_", column) or "_"
        if name[0].isdigit() or name in _STATA_RESERVED or re.fullmatch(r"str\d+", name):
            name = "_" + name
        name, base, suffix = name[:32], name[:32], 1
        while name in names:
            suffix += 1
            name = f"{base[: 32 - len(str(suffix)) - 1]}_{suffix}"
        names.append(name)
    return names
