"""Bad input gets a one-line error naming the file (and line or row), a documented exit code and no
traceback; one bad article does not sink a batch. The fixtures are in tests/malformed/ (its README lists
each with the expected message); big files are generated in tmp_path."""

import json
import os
import subprocess
import sys
import time

import pandas as pd
import pytest

from framing.errors import EXIT_INPUT, EXIT_OK, EXIT_PARTIAL
from framing.segmentation import segment
from framing.tables import read_table

from .conftest import EXAMPLES, ROOT

MALFORMED = ROOT / "tests" / "malformed"
ARTICLES, TABLES, LABELED = MALFORMED / "articles", MALFORMED / "tables", MALFORMED / "labeled"
MISSING = MALFORMED / "no-such-file.txt"
NOT_SCORED = "error: no article could be scored ("


def _assert_fails(result, code: int, *fragments: str) -> None:
    assert result.exit_code == code, result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) <= 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr + result.stdout, result.stderr


CASES = [
    # every command, a missing path
    (["score", MISSING], [f"error: {MISSING}: no such file or folder"]),
    (["compare", MISSING], [f"error: {MISSING}: no such file or folder"]),
    (["classify", TABLES / "missing.csv"], [f"error: {TABLES / 'missing.csv'}: no such file"]),
    (["corpus", "check", MISSING], [f"error: {MISSING}: no such file or folder"]),
    (["train", "--data", MISSING], [f"error: {MISSING}: no such file or folder"]),
    (["evaluate", "--data", MISSING], [f"error: {MISSING}: no such file or folder"]),
    # articles that cannot be scored, alone
    (["score", ARTICLES / "empty.txt"], [NOT_SCORED, f"{ARTICLES / 'empty.txt'}: the file is empty"]),
    (["score", ARTICLES / "binary.txt"], [NOT_SCORED, f"{ARTICLES / 'binary.txt'}: binary data (NUL bytes), not text"]),
    (["score", ARTICLES / "headings-only.txt"], [NOT_SCORED, f"{ARTICLES / 'headings-only.txt'}: no passages left after segmentation"]),
    (["score", ARTICLES / "nav-only.html"], [NOT_SCORED, f"{ARTICLES / 'nav-only.html'}: no passages left after segmentation"]),
    (["compare", ARTICLES / "empty.txt", ARTICLES / "binary.txt"], [NOT_SCORED, f"{ARTICLES / 'empty.txt'}: the file is empty",
                                                                   f"{ARTICLES / 'binary.txt'}: binary data"]),
    # broken tables, for every command that reads one
    *[([*command, TABLES / "no-text-column.csv"], [f"error: {TABLES / 'no-text-column.csv'}: no 'text' column (columns: id, body)"])
      for command in (["classify"], ["score"], ["corpus", "check"])],
    *[([*command, TABLES / "broken-quoting.csv"], [f"error: {TABLES / 'broken-quoting.csv'}:3: broken CSV (", "row that starts on line 3"])
      for command in (["classify"], ["score"], ["compare"], ["corpus", "check"], ["train", "--data"], ["evaluate", "--data"])],
    *[([*command, TABLES / "unquoted-comma.csv"], [f"error: {TABLES / 'unquoted-comma.csv'}:2: broken CSV (the row on line 2 has 3 fields, the header 2"])
      for command in (["classify"], ["score"])],
    *[([*command, TABLES / "truncated.jsonl"], [f"error: {TABLES / 'truncated.jsonl'}:3: not valid JSON (", "is the file truncated?"])
      for command in (["classify"], ["score"], ["compare"], ["corpus", "check"], ["corpus", "stats"], ["train", "--data"], ["evaluate", "--data"])],
    *[([*command, TABLES / "truncated.parquet"], [f"error: {TABLES / 'truncated.parquet'}: unreadable Parquet file (", "is it truncated?"])
      for command in (["classify"], ["score"], ["corpus", "check"], ["corpus", "stats"], ["train", "--data"])],
    (["classify", TABLES / "empty.csv"], [f"error: {TABLES / 'empty.csv'}: the file is empty"]),
    (["score", TABLES / "empty.csv"], [f"error: {TABLES / 'empty.csv'}: the file is empty"]),
    (["classify", TABLES / "binary.csv"], [f"error: {TABLES / 'binary.csv'}: binary data (NUL bytes), not text"]),
    (["classify", TABLES / "empty-text.csv"], [f"error: {TABLES / 'empty-text.csv'}:row 2: empty text"]),
    (["classify", TABLES / "articles.xlsx"], [f"error: {TABLES / 'articles.xlsx'}: unknown table format '.xlsx'"]),
    (["classify", ARTICLES / "spanish.txt"], [f"error: {ARTICLES / 'spanish.txt'}: unknown table format '.txt'"]),
    (["score", TABLES / "articles.xlsx"], [f"error: {TABLES / 'articles.xlsx'}: unsupported file type '.xlsx'"]),
    # a text that is not a string, and a table with a header only: said as such, the same in every command
    (["classify", TABLES / "non-string-text.jsonl"], [f"error: {TABLES / 'non-string-text.jsonl'}:row 1: the text is a number (1), not a string"]),
    *[([*command, TABLES / "header-only.csv"], [f"error: {TABLES / 'header-only.csv'}: the table has a header but no rows"])
      for command in (["classify"], ["score"], ["compare"])],
    *[([*command, LABELED / "header-only.csv"], [f"error: {LABELED / 'header-only.csv'}: the table has a header but no rows"])
      for command in (["corpus", "check"], ["train", "--data"], ["evaluate", "--data"])],
    (["corpus", "check", LABELED / "no-id.jsonl"], [f"{LABELED / 'no-id.jsonl'}:row 2 (no id): no id; every passage needs its own id"]),
    (["train", "--data", LABELED / "no-id.jsonl", "--model", "tfidf", "--no-promote"],
     [f"error: {LABELED / 'no-id.jsonl'}: the labeled data fails `framing corpus check`", "row 2 (no id): no id"]),
    (["score", ARTICLES / "chinese.txt"], [NOT_SCORED, f"{ARTICLES / 'chinese.txt'}: no passages left after segmentation (the text does not look like English"]),
    # labeled data with a frame the codebook does not have
    (["corpus", "check", LABELED / "unknown-label.jsonl"], [f"{LABELED / 'unknown-label.jsonl'}:row 1 (id u1): unknown frame 'tariffs'; the codebook has"]),
    (["evaluate", "--data", LABELED / "unknown-label.jsonl", "--model", "tfidf"],
     [f"error: {LABELED / 'unknown-label.jsonl'}: the labeled data fails `framing corpus check` (1 problem(s))", "row 1 (id u1): unknown frame 'tariffs'"]),
]


@pytest.mark.parametrize("args, fragments", CASES, ids=[" ".join(str(a).replace(str(ROOT) + "/", "") for a in args) for args, _ in CASES])
def test_bad_input_gets_a_located_one_line_error(run_cli, args, fragments):
    _assert_fails(run_cli(*args), EXIT_INPUT, *fragments)


def test_train_refuses_labeled_data_that_fails_the_check(run_cli, tmp_path):
    result = run_cli("train", "--data", LABELED / "unknown-label.jsonl", "--model", "tfidf", "--models-dir", tmp_path / "models")
    _assert_fails(result, EXIT_INPUT, "fails `framing corpus check`", f"{LABELED / 'unknown-label.jsonl'}:row 1 (id u1): unknown frame 'tariffs'")
    assert not (tmp_path / "models").exists()


@pytest.mark.parametrize("command", ["score", "compare"])
def test_a_folder_without_articles(run_cli, tmp_path, command):
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    _assert_fails(run_cli(command, tmp_path), EXIT_INPUT, f"error: {tmp_path}: the folder has no .txt, .md or .html articles")


def test_a_folder_of_unreadable_articles(run_cli, tmp_path):
    for name in ["empty.txt", "binary.txt", "headings-only.txt"]:
        (tmp_path / name).write_bytes((ARTICLES / name).read_bytes())
    _assert_fails(run_cli("score", tmp_path), EXIT_INPUT, NOT_SCORED, "the file is empty", "binary data", "no passages left")


def _passages(run_cli, tmp_path, *paths):
    result = run_cli("score", *paths, "--output", tmp_path / "articles.csv", "--passages", tmp_path / "passages.jsonl")
    assert result.exit_code == EXIT_OK, result.stderr
    return read_table(tmp_path / "articles.csv", required=()), read_table(tmp_path / "passages.jsonl")


@pytest.mark.parametrize("name", ["latin1.txt", "cp1252.txt", "utf16-bom.txt", "utf16-nobom.txt"])
def test_text_that_is_not_utf8_is_decoded(run_cli, tmp_path, name):
    _, passages = _passages(run_cli, tmp_path, ARTICLES / name)
    first = passages["text"].iloc[0]
    assert first.startswith("The foreign ministry in Bogotá said on Tuesday")
    if name != "latin1.txt":  # Latin-1 has no curly quotes
        assert "as “an unacceptable interference” in the country’s internal affairs." in first
    assert len(passages) == 2 and "\ufffd" not in "".join(passages["text"])


def test_html_is_reduced_to_the_article_text(run_cli, tmp_path):
    articles, passages = _passages(run_cli, tmp_path, ARTICLES / "page.html")
    assert articles["title"].tolist() == ["Peru recalls envoy over asylum row"]
    texts = passages["text"].tolist()
    assert len(texts) == 3
    assert texts[0].startswith("Peru recalled its ambassador from Mexico on Tuesday") and texts[2].startswith("Avocado and blueberry exporters")
    for boilerplate in ["Home", "Subscribe", "Menu", "Sign in", "rights reserved", "Privacy", "Cookie"]:
        assert boilerplate not in " ".join(texts)


def test_text_that_is_not_english_gets_a_warning(run_cli, tmp_path):
    result = run_cli("score", ARTICLES / "spanish.txt", "--output", tmp_path / "articles.csv")
    assert result.exit_code == EXIT_OK, result.stderr
    assert f"warning: {ARTICLES / 'spanish.txt'}: the text does not look like English; the default model is trained on English news" in result.stderr


@pytest.mark.parametrize("name", ["cp1252.csv", "utf16-bom.csv"])
def test_a_table_that_is_not_utf8_is_decoded(run_cli, name):
    result = run_cli("classify", TABLES / name, "--format", "jsonl")
    assert result.exit_code == EXIT_OK, result.stderr
    assert json.loads(result.stdout)["text"] == "“We will not be intimidated,” the minister said in Bogotá on Monday."


def test_one_bad_article_does_not_sink_the_batch(run_cli, tmp_path):
    output = tmp_path / "mixes.parquet"
    result = run_cli("score", ARTICLES, "--output", output)
    assert result.exit_code == EXIT_PARTIAL, result.stderr
    assert "Traceback" not in result.stderr
    assert f"5 article(s) failed, listed in {tmp_path / 'mixes.errors.csv'}" in result.stderr
    assert sorted(read_table(output, required=())["article_id"]) == ["cp1252", "latin1", "page", "spanish", "utf16-bom", "utf16-nobom"]
    failures = pd.read_csv(tmp_path / "mixes.errors.csv").set_index("id")
    assert failures.loc["binary", "reason"] == "binary data (NUL bytes), not text"
    assert failures.loc["empty", "reason"] == "the file is empty"
    assert failures.loc["headings-only", "reason"].startswith("no passages left after segmentation")
    assert failures.loc["nav-only", "source"] == str(ARTICLES / "nav-only.html")


def test_a_bad_row_of_a_table_is_listed_with_its_row(run_cli, tmp_path):
    result = run_cli("score", TABLES / "empty-text.csv", "--output", tmp_path / "mixes.csv", "--errors", tmp_path / "failed.csv")
    assert result.exit_code == EXIT_PARTIAL, result.stderr
    assert read_table(tmp_path / "mixes.csv", required=())["article_id"].astype(str).tolist() == ["1", "3"]
    assert pd.read_csv(tmp_path / "failed.csv").to_dict("records") == [{"id": 2, "source": f"{TABLES / 'empty-text.csv'}:row 2", "reason": "empty text"}]


def test_compare_reports_the_good_articles_and_lists_the_bad(run_cli, tmp_path):
    result = run_cli("compare", ARTICLES, "--reports-dir", tmp_path, "--bootstrap", "100")
    assert result.exit_code == EXIT_PARTIAL, result.stderr
    assert sorted(pd.read_csv(tmp_path / "articles" / "errors.csv")["id"]) == ["binary", "chinese", "empty", "headings-only", "nav-only"]
    assert len(pd.read_csv(tmp_path / "articles" / "mixes.csv")) == 6


# -- big inputs: refused or processed within seconds, never a hang ----------------------------------


def _prose(n_chars: int) -> str:
    paragraphs = [p for p in (EXAMPLES / "wire-a.txt").read_text(encoding="utf-8").split("\n\n") if len(p) > 200]
    text = " ".join(paragraphs)
    return (text + " ") * (n_chars // len(text) + 1)


def test_a_50_mb_file_is_refused_at_once(run_cli, tmp_path):
    big = tmp_path / "archive.txt"
    big.write_text((_prose(1_000_000) + "\n\n") * 50, encoding="utf-8")
    started = time.monotonic()
    result = run_cli("score", big)
    _assert_fails(result, EXIT_INPUT, NOT_SCORED, f"{big}: the file is {big.stat().st_size / 1e6:.1f} MB, over the 20 MB limit for one article file")
    assert time.monotonic() - started < 30


def test_a_1_mb_line_is_segmented_within_seconds():
    line = _prose(1_000_000)
    started = time.monotonic()
    passages = segment(line)
    assert time.monotonic() - started < 5  # pysbd alone takes most of an hour
    assert len(passages) > 1000 and max(p.n_words for p in passages) <= 120
    assert all(line[p.start : p.end] == p.text for p in passages)


def test_a_1_mb_line_is_refused_as_an_article_and_as_a_passage(run_cli, tmp_path):
    line = tmp_path / "line.txt"
    line.write_text(_prose(1_000_000), encoding="utf-8")
    n = len(line.read_text(encoding="utf-8"))
    _assert_fails(run_cli("score", line), EXIT_INPUT, NOT_SCORED, f"{line}: {n:,} characters of text, over the 500,000-character limit for one article")
    _assert_fails(run_cli("classify", "-", stdin=line.read_text(encoding="utf-8")), EXIT_INPUT,
                  f"error: stdin:line 1: {n:,} characters, over the 500,000-character limit")


def test_a_1_mb_cell_fails_only_its_row(run_cli, tmp_path):
    table = tmp_path / "articles.csv"
    pd.DataFrame({"id": ["short", "giant"], "text": [(EXAMPLES / "wire-b.txt").read_text(encoding="utf-8"), _prose(1_000_000)]}).to_csv(table, index=False)
    result = run_cli("score", table, "--output", tmp_path / "mixes.csv")
    assert result.exit_code == EXIT_PARTIAL, result.stderr
    assert read_table(tmp_path / "mixes.csv", required=())["article_id"].tolist() == ["short"]
    failure = pd.read_csv(tmp_path / "mixes.errors.csv").iloc[0]
    assert failure["source"] == f"{table}:row 2" and "over the 500,000-character limit" in failure["reason"]
    _assert_fails(run_cli("classify", table), EXIT_INPUT, f"error: {table}:row 2: ", "characters, over the 500,000-character limit")


def test_a_1_mb_labeled_passage_is_located_by_corpus_check(run_cli, tmp_path):
    row = {"id": "long", "text": _prose(1_000_000), "labels": ["sovereignty"], "story": "s", "register": "wire", "source": "constructed", "annotator": "a"}
    (tmp_path / "data.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    result = run_cli("corpus", "check", tmp_path / "data.jsonl")
    _assert_fails(result, EXIT_INPUT, f"{tmp_path / 'data.jsonl'}:row 1 (id long): text has", "words, over the 120-word limit")


# -- end to end, through the installed command ----------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["score", str(MISSING)], f"error: {MISSING}: no such file or folder"),
    (["classify", str(TABLES / "broken-quoting.csv")], f"error: {TABLES / 'broken-quoting.csv'}:3: broken CSV ("),
], ids=["score missing", "classify broken-quoting.csv"])
def test_the_command_prints_one_line_and_no_traceback(args, message):
    result = subprocess.run([sys.executable, "-m", "framing.cli", *args], capture_output=True, text=True, timeout=120,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == EXIT_INPUT
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), result.stderr


def test_debug_shows_the_traceback():
    result = subprocess.run([sys.executable, "-m", "framing.cli", "--debug", "classify", str(TABLES / "broken-quoting.csv")],
                            capture_output=True, text=True, timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode != EXIT_OK
    assert "Traceback" in result.stderr and "InputError" in result.stderr


def test_a_text_that_is_not_a_string_is_named_for_what_it_is(run_cli, tmp_path):
    errors = tmp_path / "errors.csv"
    result = run_cli("score", TABLES / "non-string-text.jsonl", "-o", tmp_path / "mixes.csv", "--errors", errors)
    assert result.exit_code == EXIT_PARTIAL, result.stderr
    reasons = pd.read_csv(errors).set_index("id")["reason"].to_dict()
    assert reasons == {"n1": "the text is a number (1), not a string", "n2": "the text is a list, not a string"}


def test_a_dangling_link_in_a_folder_is_listed_with_the_failures(run_cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_bytes((EXAMPLES / "wire-a.txt").read_bytes())
    (folder / "gone.txt").symlink_to(tmp_path / "deleted.txt")
    errors = tmp_path / "errors.csv"
    result = run_cli("score", folder, "-o", tmp_path / "mixes.csv", "--errors", errors)
    assert result.exit_code == EXIT_PARTIAL, result.stderr
    failures = pd.read_csv(errors)
    assert failures["id"].tolist() == ["gone"]
    assert failures["reason"].iloc[0].startswith("a link to a missing file")


def test_a_nul_byte_anywhere_refuses_the_file(run_cli, tmp_path):
    prose = (EXAMPLES / "wire-a.txt").read_bytes()
    late = tmp_path / "late-nul.txt"
    late.write_bytes(prose * (70_000 // len(prose) + 1) + b"\x00 and more text after it.\n")
    result = run_cli("score", late, "-f", "csv")
    _assert_fails(result, EXIT_INPUT, NOT_SCORED, f"{late}: binary data (NUL bytes), not text")
