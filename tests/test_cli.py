"""The CLI contracts of the toolkit issue: columns, formats, ids, report files, help texts."""
import re

import json

import pandas as pd
import pytest

from framing.tables import read_table

from .conftest import EXAMPLES, SEEDS

P_COLUMNS = ["p_sovereignty", "p_humanitarian", "p_ideological-bloc", "p_economic"]
TEXTS = ["Lima expelled Mexico's ambassador, citing interference in its internal affairs.",
         "Avocado exporters fear losing 200 million dollars in sales.",
         "The talks begin on Monday."]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_classify_reads_and_writes_every_format(run_cli, tmp_path, suffix):
    source = tmp_path / f"in{suffix}"
    frame = pd.DataFrame({"id": ["a", "b", "c"], "text": TEXTS})
    {".csv": lambda: frame.to_csv(source, index=False), ".jsonl": lambda: frame.to_json(source, orient="records", lines=True),
     ".parquet": lambda: frame.to_parquet(source)}[suffix]()
    target = tmp_path / f"out{suffix}"
    result = run_cli("classify", source, "--output", target)
    assert result.exit_code == 0, result.stderr
    table = read_table(target)
    assert list(table.columns) == ["id", "text", *P_COLUMNS, "labels"]
    assert table["id"].astype(str).tolist() == ["a", "b", "c"]
    assert table[P_COLUMNS].astype(float).apply(lambda c: c.between(0, 1)).all().all()
    labels = table["labels"].fillna("").astype(str).tolist()
    assert "sovereignty" in labels[0].split(";") and "economic" in labels[1].split(";")
    assert labels[2] == ""


def test_classify_without_id_numbers_rows_from_one(run_cli, tmp_path):
    source = tmp_path / "in.csv"
    pd.DataFrame({"text": TEXTS}).to_csv(source, index=False)
    result = run_cli("classify", source, "--format", "jsonl")
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["1", "2", "3"]


def test_classify_from_stdin_one_passage_per_line(run_cli):
    result = run_cli("classify", "-", "--format", "csv", stdin="\n".join(TEXTS) + "\n")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "id,text," + ",".join(P_COLUMNS) + ",labels"
    assert len(lines) == 4 and lines[1].startswith("1,")


def test_classify_prints_a_table_on_the_terminal(run_cli):
    result = run_cli("classify", "-", stdin=TEXTS[0])
    assert "p_sovereignty" in result.stdout and "labels" in result.stdout


def test_score_article_and_passage_tables(run_cli, tmp_path):
    articles_path, passages_path = tmp_path / "articles.csv", tmp_path / "passages.parquet"
    result = run_cli("score", *SEEDS, "--output", articles_path, "--passages", passages_path)
    assert result.exit_code == 0, result.stderr
    articles = read_table(articles_path, required=())
    assert articles["article_id"].tolist() == ["editorial", "wire-a", "wire-b"]
    shares = [c for c in articles.columns if c.startswith("share_")]
    assert shares == ["share_sovereignty", "share_humanitarian", "share_ideological-bloc", "share_economic", "share_none"]
    assert (articles[shares].astype(float).sum(axis=1) - 1).abs().max() < 1e-3
    assert set(articles["dominant_frame"]) <= {"sovereignty", "humanitarian", "ideological-bloc", "economic", "none"}
    # metadata.csv beside the inputs supplies the outlet
    assert articles["outlet"].tolist() == ["Editorial desk", "Wire service A", "Wire service B"]
    passages = read_table(passages_path)
    assert list(passages.columns[:7]) == ["article_id", "outlet", "passage_index", "start", "end", "n_words", "text"]
    assert P_COLUMNS == [c for c in passages.columns if c.startswith("p_")]
    assert passages.groupby("article_id").size().to_dict() == {"editorial": 8, "wire-a": 11, "wire-b": 8}
    originals = {p.stem: p.read_text(encoding="utf-8") for p in SEEDS}
    for row in passages.itertuples():
        assert originals[row.article_id][int(row.start) : int(row.end)] == row.text


def test_score_a_table_of_articles(run_cli, tmp_path):
    source = tmp_path / "articles.jsonl"
    rows = [{"id": p.stem, "text": p.read_text(), "outlet": "x"} for p in SEEDS]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = run_cli("score", source, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(__import__("io").StringIO(result.stdout))
    assert table["article_id"].tolist() == ["editorial", "wire-a", "wire-b"]


def test_compare_writes_the_whole_report(run_cli, tmp_path):
    result = run_cli("compare", *SEEDS, "--reports-dir", tmp_path, "--bootstrap", "300")
    assert result.exit_code == 0, result.stderr
    folder = tmp_path / "peru-mexico"
    for name in ["articles.csv", "passages.csv", "mixes.csv", "distances.csv", "evidence.csv", "chart.png", "report.html"]:
        assert (folder / name).stat().st_size > 0, name
    mixes = pd.read_csv(folder / "mixes.csv")
    assert mixes["unit"].tolist() == ["editorial", "wire-a", "wire-b"]
    assert {"low_sovereignty", "high_sovereignty", "share_none", "low_none", "high_none"} <= set(mixes.columns)
    assert len(pd.read_csv(folder / "distances.csv")) == 3
    evidence = pd.read_csv(folder / "evidence.csv")
    assert not evidence.empty and set(evidence["unit"]) <= {"editorial", "wire-a", "wire-b"}
    html = (folder / "report.html").read_text()
    assert '<img alt="stacked bar chart' in html and "data:image/png;base64," in html
    assert (folder / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "editorial" in result.stdout and "Jensen-Shannon" in result.stdout
    assert "evidence: the passage that carries each frame most strongly" in result.stdout
    strongest = evidence[evidence["rank"] == 1]["text"].iloc[0]
    assert strongest[:40] in " ".join(result.stdout.replace("│", " ").split())


def test_compare_by_outlet_uses_the_metadata(run_cli, tmp_path):
    result = run_cli("compare", EXAMPLES, "--by", "outlet", "--reports-dir", tmp_path, "--name", "outlets", "--bootstrap", "200")
    assert result.exit_code == 0, result.stderr
    mixes = pd.read_csv(tmp_path / "outlets" / "mixes.csv")
    assert sorted(mixes["unit"]) == ["Editorial desk", "Wire service A", "Wire service B"]
    assert "warning: 3 of 3 outlet group(s) have fewer than 5 articles" in result.stderr


COMMANDS = [["classify"], ["score"], ["compare"], ["train"], ["evaluate"], ["annotate"], ["corpus", "check"], ["corpus", "stats"], ["corpus", "sample"],
            ["corpus", "agreement"], ["corpus", "import"]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_help_carries_an_example_for_the_command_and_each_option(run_cli, command):
    result = run_cli(*command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.stdout
    from framing.cli import app

    import typer.main

    click_command = typer.main.get_command(app)
    for part in command:
        click_command = click_command.commands[part]
    assert re.search(r"Example: .*framing ", click_command.help)
    for parameter in click_command.params:
        if parameter.name != "help":
            assert "Example" in (parameter.help or ""), f"{command} {parameter.name}"


def test_classify_to_a_file_streams_chunks_with_the_in_memory_result(default_model, tmp_path):
    from framing import api
    from framing.errors import InputError

    source = tmp_path / "in.jsonl"
    pd.DataFrame({"text": TEXTS * 9}).to_json(source, orient="records", lines=True)
    streamed = tmp_path / "out.csv"
    assert api.classify_to_file(source, streamed, default_model, chunk_rows=4) == 27
    in_memory = api.classify(api.read_passage_input(source), default_model)
    chunked = read_table(streamed)
    assert chunked["id"].tolist() == [str(i) for i in range(1, 28)]  # row numbers run on across chunks
    pd.testing.assert_frame_equal(chunked[P_COLUMNS].astype(float), in_memory[P_COLUMNS].astype(float), atol=1e-6, check_exact=False)

    broken = tmp_path / "broken.jsonl"
    pd.DataFrame({"text": TEXTS * 3 + [" "]}).to_json(broken, orient="records", lines=True)
    with pytest.raises(InputError, match="row 10: empty text"):
        api.classify_to_file(broken, tmp_path / "never.csv", default_model, chunk_rows=4)
    assert not (tmp_path / "never.csv").exists() and not list(tmp_path.glob("*.partial"))


def test_bracketed_text_is_printed_not_read_as_markup(run_cli):
    result = run_cli("classify", "-", stdin="Minister said [/b] the talks [sic] would resume [bold]soon[/bold].\n")
    assert result.exit_code == 0, result.stderr
    flat = " ".join(result.stdout.split())
    assert "[/b]" in flat and "[sic]" in flat and "[bold]" in flat


@pytest.mark.parametrize("args, message", [
    (["scor"], "No such command 'scor'"),
    (["compare", "a.txt", "--bogus"], "No such option: --bogus"),
    (["classify", "-", "-f", "xml"], "Invalid value for '--format'"),
    (["evaluate", "--folds", "1"], "Invalid value for '--folds'"),
    (["score"], "Missing argument"),
    (["train", "--folds", "1"], "1 fold cannot cross-validate"),
])
def test_usage_errors_exit_2_with_clicks_message(run_cli, args, message):
    result = run_cli(*args)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert message in result.stderr and "UsageError" not in result.stderr and "--debug" not in result.stderr


def test_version(run_cli):
    result = run_cli("--version")
    assert result.exit_code == 0 and result.stdout.startswith("framing ")


def _stderr_on_a_terminal(*args: str) -> str:
    """Run `framing ARGS` with stderr on a pseudo-terminal (as a researcher's shell has it) and return what it showed."""
    import os
    import pty
    import subprocess
    import sys

    import fcntl
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))  # a new pty is 0 columns wide: no room for a bar
    process = subprocess.Popen([sys.executable, "-m", "framing.cli", *args], stdout=subprocess.DEVNULL, stderr=slave,
                               env={**os.environ, "HF_HUB_OFFLINE": "1"})
    os.close(slave)
    shown = b""
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the terminal closes when the process exits
            break
        if not data:
            break
        shown += data
    process.wait(timeout=300)
    os.close(master)
    assert process.returncode == 0, shown.decode(errors="replace")
    return shown.decode(errors="replace")


def test_long_commands_show_a_bar_with_a_total_on_a_terminal(tmp_path):
    table = tmp_path / "passages.csv"
    table.write_text("id,text\n" + "".join(f'{i},"Lima expelled the ambassador, case {i}, over interference."\n' for i in range(40)))
    shown = _stderr_on_a_terminal("classify", str(table), "-o", str(tmp_path / "out.csv"))
    assert "/40 [" in shown and "passage/s" in shown
    shown = _stderr_on_a_terminal("score", str(EXAMPLES), "-o", str(tmp_path / "mixes.csv"))
    assert "/3 [" in shown and "article" in shown
    shown = _stderr_on_a_terminal("compare", str(EXAMPLES), "--reports-dir", str(tmp_path), "--bootstrap", "100", "-f", "csv")
    assert "/3 [" in shown
    shown = _stderr_on_a_terminal("annotate", str(EXAMPLES), "--labels", str(tmp_path / "mine.jsonl"), "--export", "prodigy", str(tmp_path / "tasks.jsonl"))
    assert "/3 [" in shown
    assert "/3 [" not in _stderr_on_a_terminal("-q", "score", str(EXAMPLES), "-o", str(tmp_path / "quiet.csv"))
    from .conftest import ROOT

    tfidf = next((ROOT / "models").glob("tfidf-*"))
    shown = _stderr_on_a_terminal("evaluate", "--data", str(ROOT / "labeled"), "--model", str(tfidf))
    assert "/360 [" in shown and "passage" in shown


def test_help_texts_fit_their_command(run_cli):
    import re

    examples = {}
    for command in (["classify"], ["score"], ["compare"], ["corpus", "stats"], ["corpus", "sample"]):
        text = " ".join(run_cli(*command, "--help").stdout.split())
        examples[" ".join(command)] = re.search(r"Example: --output (\S+)", text).group(1)
    assert len(set(examples.values())) == len(examples), examples
    train = " ".join(run_cli("train", "--help").stdout.split())
    assert "must have been trained" not in train and "the new model is trained for it" in train


def test_the_readme_names_no_path_of_the_machine_it_was_written_on():
    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [line for line in readme.splitlines() if "benchmarks/" in line and "python" in line]
    assert commands and not [line for line in commands if "/work/" in line or "/tmp/" in line]


def test_reports_count_in_words_that_read_right(run_cli, tmp_path):
    from framing.evaluation import counted

    assert [counted(1, "held-out story"), counted(7, "held-out story"), counted(1, "passage"), counted(3, "passage")] == [
        "1 held-out story", "7 held-out stories", "1 passage", "3 passages"]
    from .conftest import ROOT

    data = tmp_path / "mine.jsonl"
    rows = [line for line in (ROOT / "examples" / "mine.jsonl").read_text().splitlines()]
    data.write_text("\n".join(rows) + "\n")
    (tmp_path / "test_stories.txt").write_text(json.loads(rows[0])["story"] + "\n")
    result = run_cli("evaluate", "--data", data, "--model", "models/DEFAULT")
    assert result.exit_code == 0, result.stderr
    assert "of 1 held-out story." in " ".join(result.stdout.split())
