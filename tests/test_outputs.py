"""Outputs that read back as written, on paths checked before the work: round-trips, ids, unique articles, output paths."""

import io
import json
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framing.tables import TableWriter, read_table, write_csv

from .conftest import EXAMPLES

# Any Unicode (surrogates cannot be encoded), with the characters that break CSV made frequent.
TEXTS = st.lists(st.text(alphabet=st.one_of(st.sampled_from(["\r", "\n", "/", "\\", '"', ",", "'", " ", "\x00", "\t", "é", "—"]),
                                            st.characters(blacklist_categories=("Cs",))), min_size=1, max_size=40),
                 min_size=1, max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(TEXTS)
@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_every_writer_round_trips_every_text(suffix, texts):
    frame = pd.DataFrame({"id": [f"0{i}" for i in range(len(texts))], "text": texts, "p_economic": [0.5] * len(texts)})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"out{suffix}"
        with TableWriter(path) as writer:
            writer.write(frame.iloc[:1])
            writer.write(frame.iloc[1:])
        if suffix == ".csv":
            back = pd.read_csv(path, dtype=str, keep_default_na=False)
        elif suffix == ".jsonl":
            back = pd.read_json(path, lines=True, dtype=False)
        else:
            back = pd.read_parquet(path)
        assert back["text"].tolist() == texts
        assert back["id"].tolist() == frame["id"].tolist()
        if "\x00" not in "".join(texts):  # framing's reader refuses NUL bytes in a table, as in an article
            assert read_table(path)["text"].tolist() == texts


def test_a_lone_carriage_return_is_quoted_on_stdout_too():
    buffer = io.StringIO()
    write_csv(pd.DataFrame({"id": ["1", "2", "3"], "text": ["one\rtwo", "plain", "x"]}), buffer)
    back = pd.read_csv(io.StringIO(buffer.getvalue()), dtype=str, keep_default_na=False)
    assert back["text"].tolist() == ["one\rtwo", "plain", "x"]


def test_ids_come_back_exactly_as_they_went_in(run_cli, tmp_path):
    source = tmp_path / "ids.jsonl"
    source.write_text('{"id": 1, "text": "Lima expelled the ambassador."}\n{"id": 3, "text": "Exporters fear losses."}\n'
                      '{"id": "007", "text": "The statement came at midnight."}\n{"id": " 42 ", "text": "Talks resume on Monday."}\n')
    for command, column in (("classify", "id"), ("score", "article_id")):
        out = tmp_path / f"{command}.jsonl"
        result = run_cli(command, source, "-o", out)
        assert result.exit_code == 0, result.stderr
        ids = [json.loads(line)[column] for line in out.read_text().splitlines()]
        assert ids == ["1", "3", "007", " 42 "], (command, ids)


def test_a_row_without_an_id_in_an_id_column_is_refused(run_cli, tmp_path):
    source = tmp_path / "ids.jsonl"
    source.write_text('{"id": 1, "text": "Lima expelled the ambassador."}\n{"text": "Exporters fear losses."}\n')
    result = run_cli("classify", source, "-f", "csv")
    assert result.exit_code == 2 and "row 2: empty id" in result.stderr


def test_jsonl_does_not_escape_slashes(tmp_path):
    path = tmp_path / "out.jsonl"
    with TableWriter(path) as writer:
        writer.write(pd.DataFrame({"id": ["a/b"], "text": ["see https://example.org/x and C:\\\\dir\\\\/file"]}))
    line = path.read_text()
    assert '"a/b"' in line and "https://example.org/x" in line and "\\/" not in line.replace("\\\\/", "")
    assert json.loads(line)["text"] == "see https://example.org/x and C:\\\\dir\\\\/file"


def test_two_articles_never_share_an_id(run_cli, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("story.txt", "story.md", "other.txt"):
        (folder / name).write_text(f"Lima expelled the ambassador, said the note filed as {name}.\n")
    result = run_cli("score", folder, "-o", tmp_path / "mixes.csv")
    assert result.exit_code == 0, result.stderr
    assert len(pd.read_csv(tmp_path / "mixes.csv")) == 3
    table = tmp_path / "dup.csv"
    table.write_text("id,text\ndup,Lima expelled the ambassador today.\nb,Exporters fear losses.\ndup,Another text entirely.\n")
    result = run_cli("score", table, "-o", tmp_path / "out.csv")
    assert result.exit_code == 2
    assert "dup.csv:row 3: id 'dup' is already used by" in result.stderr and "row 1" in result.stderr


@pytest.mark.parametrize("extra, message", [
    (["--errors", "{out}"], "--errors {out}: the same file as --output"),
    (["--passages", "{out}"], "--passages {out}: the same file as --output"),
    (["--errors", "{tmp}/missing/errors.txt"], "unknown table format '.txt'"),
])
def test_output_paths_are_checked_before_any_work(run_cli, tmp_path, extra, message):
    out = tmp_path / "mixes.csv"
    args = [a.format(out=out, tmp=tmp_path) for a in extra]
    result = run_cli("score", EXAMPLES, "-o", out, *args)
    assert result.exit_code == 2 and message.format(out=out, tmp=tmp_path) in result.stderr
    assert not out.exists() and not list(tmp_path.glob("*.partial*"))


def test_an_output_that_is_a_folder_or_unwritable_is_refused_without_leftovers(run_cli, tmp_path):
    folder = tmp_path / "taken.csv"
    folder.mkdir()
    result = run_cli("score", EXAMPLES, "-o", folder)
    assert result.exit_code == 2 and "is a folder" in result.stderr
    result = run_cli("classify", "-", "-o", "/proc/framing-test.csv", stdin="Lima expelled the ambassador.\n")
    assert result.exit_code == 2 and "cannot be written there" in result.stderr
    assert not list(tmp_path.rglob("*.partial*"))


def test_stdin_in_a_legacy_encoding_is_decoded_like_a_file():
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "framing.cli", "classify", "-", "-f", "csv"], input=b"Bogot\xe1 expelled the ambassador of Mexico.\n",
                            capture_output=True, env={**__import__("os").environ, "HF_HUB_OFFLINE": "1"}, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    assert "Bogotá expelled" in result.stdout.decode("utf-8")


@pytest.mark.parametrize("garbage", ["not json at all\n", "\n", '["a list"]\n'])
def test_a_damaged_checkpoint_is_refused_with_its_line(run_cli, tmp_path, garbage):
    out = tmp_path / "mixes.csv"
    checkpoint = tmp_path / "mixes.csv.partial.jsonl"
    checkpoint.write_text('{"article_id": "editorial", "n_passages": 1}\n' + garbage)
    result = run_cli("score", EXAMPLES, "-o", out, "--resume")
    assert result.exit_code == 2, result.stderr
    assert "mixes.csv.partial.jsonl:line 2: not a row written by framing" in result.stderr


def test_metadata_with_a_repeated_id_is_refused(run_cli, tmp_path):
    metadata = tmp_path / "metadata.csv"
    metadata.write_text("id,outlet\neditorial,A\neditorial,B\n")
    result = run_cli("score", EXAMPLES, "--metadata", metadata, "-f", "csv")
    assert result.exit_code == 2 and "id 'editorial' is given more than once (lines 2, 3)" in result.stderr


def test_score_without_output_leaves_no_temporary_folder(run_cli, tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = run_cli("score", EXAMPLES, "-f", "csv")
    assert result.exit_code == 0 and "editorial" in result.stdout
    assert not list(tmp_path.glob("framing-*"))


def test_metadata_that_matches_no_article_is_warned_about(run_cli, tmp_path):
    metadata = tmp_path / "metadata.csv"
    metadata.write_text("id,outlet\neditorial,El Diario\nwire-a.txt,Wire\nwire_b,Wire\n")
    result = run_cli("score", EXAMPLES, "--metadata", metadata, "-f", "csv")
    assert result.exit_code == 0, result.stderr
    assert (f"warning: {metadata}: 2 of 3 metadata rows match no article ('wire-a.txt', 'wire_b') and are not applied; "
            "article ids are file names without the suffix, such as 'editorial'") in result.stderr
    assert "El Diario" in result.stdout
    result = run_cli("-q", "score", EXAMPLES, "--metadata", metadata, "-f", "csv")
    assert "warning" not in result.stderr
    table = tmp_path / "articles.csv"
    table.write_text("id,text\na1,Lima expelled the Mexican ambassador over what it called interference in its internal affairs.\n")
    result = run_cli("score", table, "--metadata", metadata, "-f", "csv")
    assert "metadata applies to article files" in result.stderr
    result = run_cli("score", EXAMPLES / "editorial.txt", "-f", "csv")  # the folder's own metadata.csv, found beside one of its files
    assert result.exit_code == 0 and "warning" not in result.stderr and "Editorial desk" in result.stdout


def test_a_failed_score_leaves_no_partial_file(run_cli, tmp_path):
    from .test_errors import ARTICLES

    result = run_cli("score", ARTICLES / "empty.txt", "-o", tmp_path / "out.csv", "--passages", tmp_path / "passages.csv")
    assert result.exit_code == 2 and "the file is empty" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_every_writer_writes_the_same_rounded_numbers(run_cli, tmp_path):
    """No float noise (0.7695000000000001) in any format: the file written with --output holds what -f csv prints."""
    import re

    result = run_cli("score", EXAMPLES, "-o", tmp_path / "mixes.csv", "--passages", tmp_path / "passages.csv")
    assert result.exit_code == 0, result.stderr
    noise = re.compile(r"\d\.\d{7,}")
    for name in ("mixes.csv", "passages.csv"):
        assert not noise.search((tmp_path / name).read_text()), name
    printed = run_cli("score", EXAMPLES, "-f", "csv").stdout
    assert printed == (tmp_path / "mixes.csv").read_text()
    frame = pd.DataFrame({"id": ["a"], "share": [0.1 + 0.2], "p": [1 / 3]})
    for suffix in (".csv", ".jsonl", ".parquet"):
        write_table = __import__("framing.tables", fromlist=["write_table"]).write_table
        back = read_table(write_table(frame, tmp_path / f"f{suffix}"), required=())
        assert back["share"].astype(float).tolist() == [0.3] and back["p"].astype(float).tolist() == [0.333333], suffix


@pytest.mark.parametrize("width", [80, 120])
def test_terminal_tables_fit_the_real_width(run_cli, monkeypatch, width):
    """On a terminal the table takes its real width, keeps whole ids and says which columns it left out."""
    import re

    monkeypatch.setenv("FORCE_COLOR", "1")  # rich then treats captured stdout as a terminal
    monkeypatch.setenv("COLUMNS", str(width))
    result = run_cli("score", EXAMPLES)
    assert result.exit_code == 0, result.stderr
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in result.stdout.splitlines()]
    assert lines and max(map(len, lines)) <= width
    rows = [line for line in lines if line.startswith("│")]
    assert {row.split("│")[1].strip() for row in rows} == {"editorial", "wire-a", "wire-b"}  # ids never cut into fragments
    assert "column(s) not shown, to fit the terminal: " in result.stderr and "-f csv" in result.stderr


def test_piped_tables_are_never_cut(run_cli, monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "60")
    result = run_cli("score", EXAMPLES)
    header = next(line for line in result.stdout.splitlines() if "article_id" in line)
    assert "dominant_frame" in header and "share_economic" in header and "not shown" not in result.stderr
