"""Real-news labels stored stand-off: text rebuilt from the article folder, refused when it does not match.

Most tests build a small article folder of their own, so they run anywhere; the tests of the committed
labels need ``../shared/realnews`` and skip, saying so, where it is absent.
"""

import json
import shutil

import pandas as pd
import pytest

from framing.codebook import load_codebook
from framing.corpus import load_corpus
from framing.errors import InputError
from framing.evaluation import REAL_TEST, train_and_register
from framing.models import DEFAULT_POINTER
from framing.realnews import (
    default_realnews_dir, final_labels, load_realnews, paragraph_hash, read_standoff, repository_realnews_labels, split_paragraphs,
    standoff_statistics,
)

from .conftest import ROOT

CODEBOOK = load_codebook()
REALNEWS = default_realnews_dir()
needs_realnews = pytest.mark.skipif(not REALNEWS.is_dir(), reason=f"the real-news articles are not at {REALNEWS} (set FRAMING_REALNEWS_DIR); stand-off labels cannot be rebuilt")

ARTICLES = {
    "article1.txt": ("Border wall vote", [
        "The administration says a nation that cannot decide who crosses its border is not a nation, and the wall will be built.",
        "Reporting by A. Writer; editing by B. Editor.",
        "Exporters warned the tariffs would cost them millions of dollars in lost sales this year.",
    ]),
    "article2.txt": ("Plague outbreak", [
        "Health officials confirmed hundreds of plague cases and said hospitals in the capital were overwhelmed.",
        "Share this article",
        "Leftists and conservatives traded blame for the crisis as the two camps lined up against each other.",
    ]),
}


def _write_folder(root, articles=ARTICLES):
    folder = root / "realnews" / "semeval-en"
    folder.mkdir(parents=True)
    for name, (title, paragraphs) in articles.items():
        (folder / name).write_text(title + "\n\n" + "\n".join(paragraphs) + "\n", encoding="utf-8")
    (folder.parent / "pool.txt").write_text("\n".join(articles) + "\n")
    return folder.parent


def _row(article, paragraph, labels, split="train", cluster=None, text=None):
    text = text if text is not None else ARTICLES[article][1][paragraph]
    return {"article": article, "paragraph": paragraph, "sha256": paragraph_hash(text), "labels": labels, "annotator": "agent-a1",
            "selection": "random", "split": split, "cluster": cluster or article.split(".")[0]}


def _write_labels(labeled, rows):
    folder = labeled / "realnews"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "labels.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


@pytest.fixture
def realnews(tmp_path):
    return _write_folder(tmp_path)


@pytest.fixture
def labeled(tmp_path):
    rows = [_row("article1.txt", 0, ["sovereignty"]), _row("article1.txt", 1, []), _row("article1.txt", 2, ["economic"], split="dev", cluster="c1"),
            _row("article2.txt", 0, ["humanitarian"], split="test", cluster="c2"), _row("article2.txt", 2, ["ideological-bloc"], split="test", cluster="c2")]
    labeled = tmp_path / "labeled"
    rows[0]["cluster"] = rows[1]["cluster"] = "c0"
    _write_labels(labeled, rows)
    return labeled


def test_split_paragraphs_skips_the_title_and_blank_lines():
    title, paragraphs = split_paragraphs("Title\n\nFirst.\n\n  \nSecond.\r\n")
    assert title == "Title" and paragraphs == ["First.", "Second."]


def test_the_loader_rebuilds_the_text_from_the_folder(labeled, realnews):
    corpus = load_realnews(labeled / "realnews", realnews)
    assert corpus["id"].tolist() == ["article1.txt#0", "article1.txt#1", "article1.txt#2", "article2.txt#0", "article2.txt#2"]
    assert corpus["text"].iloc[3] == ARTICLES["article2.txt"][1][0]
    assert corpus["labels"].iloc[0] == ["sovereignty"] and corpus["labels"].iloc[1] == []
    assert set(corpus["source"]) == {"real"} and corpus["story"].tolist() == ["c0", "c0", "c1", "c2", "c2"]


def test_a_changed_paragraph_is_refused_with_its_file_and_row(labeled, realnews):
    path = realnews / "semeval-en" / "article2.txt"
    path.write_text(path.read_text().replace("hundreds", "thousands"))
    with pytest.raises(InputError, match=r"labels\.jsonl:row 4 \(article2\.txt paragraph 0\): the text .* does not match the stored hash"):
        load_realnews(labeled / "realnews", realnews)


def test_a_missing_folder_article_or_paragraph_is_refused(labeled, realnews, tmp_path):
    with pytest.raises(InputError, match="no such real-news folder"):
        load_realnews(labeled / "realnews", tmp_path / "nowhere")
    shutil.move(realnews / "semeval-en" / "article1.txt", tmp_path / "moved.txt")
    with pytest.raises(InputError, match=r"row 1 \(article1\.txt paragraph 0\): no such article"):
        load_realnews(labeled / "realnews", realnews)
    _write_labels(labeled, [_row("article2.txt", 7, [], text="x")])
    with pytest.raises(InputError, match="the article has only 3 paragraphs"):
        load_realnews(labeled / "realnews", realnews)


def test_malformed_standoff_rows_are_located(tmp_path):
    folder = _write_labels(tmp_path, [])
    (folder / "labels.jsonl").write_text('{"article": "a.txt"}\n')
    with pytest.raises(InputError, match=r"labels\.jsonl:row 1: no 'paragraph'"):
        read_standoff(folder)
    (folder / "labels.jsonl").write_text(json.dumps(dict(_row("article1.txt", 0, []), split="validation")) + "\n")
    with pytest.raises(InputError, match="split 'validation' is not one of train, dev, test"):
        read_standoff(folder)


def test_corpus_check_covers_the_standoff_labels(run_cli, labeled, realnews, monkeypatch, tmp_path):
    shutil.copytree(ROOT / "labeled" / "corpus", labeled / "corpus")
    result = run_cli("corpus", "check", labeled, "--realnews", realnews)
    assert result.exit_code == 0, result.stderr
    assert "5 real-news rows, text rebuilt" in result.stderr
    # Without the folder (not given, and not at the default place) only the stand-off rows are checked.
    monkeypatch.setenv("FRAMING_REALNEWS_DIR", str(tmp_path / "absent"))
    result = run_cli("corpus", "check", labeled)
    assert result.exit_code == 0 and "checked without their text" in result.stderr
    # Bad labels, a repeated paragraph and a tampered text each fail with their place.
    rows = [json.loads(line) for line in (labeled / "realnews" / "labels.jsonl").read_text().splitlines()]
    rows[1]["labels"] = ["trade"]
    rows.append(dict(rows[0]))
    _write_labels(labeled, rows)
    result = run_cli("corpus", "check", labeled)
    assert result.exit_code == 2
    assert "row 2 (article1.txt paragraph 1): unknown frame 'trade'" in result.stdout
    assert "row 6 (article1.txt paragraph 0): the paragraph is labeled again (first at" in result.stdout
    rows = rows[:5]
    rows[1]["labels"] = []
    _write_labels(labeled, rows)
    (realnews / "semeval-en" / "article1.txt").write_text("Border wall vote\n\nSomething else entirely.\n")
    result = run_cli("corpus", "check", labeled, "--realnews", realnews)
    assert result.exit_code == 2 and "does not match the stored hash" in result.stderr


def test_train_needs_the_folder_it_is_given(run_cli, labeled, tmp_path):
    shutil.copytree(ROOT / "labeled" / "corpus", labeled / "corpus")
    result = run_cli("train", "--data", labeled, "--model", "tfidf", "--realnews", tmp_path / "nowhere", "--models-dir", tmp_path / "models")
    assert result.exit_code == 2
    assert "nowhere: no such real-news folder" in result.stderr
    assert not (tmp_path / "models").exists()


def test_standoff_statistics_need_no_text(labeled):
    tables = standoff_statistics(labeled / "realnews", CODEBOOK.frame_names)
    overall = dict(zip(tables["overall"]["statistic"], tables["overall"]["value"]))
    assert overall["paragraphs"] == 5 and overall["articles"] == 2
    per_split = tables["per_split"].set_index("split")
    assert per_split.loc["test", "paragraphs"] == 2 and per_split.loc["test", "humanitarian"] == 1
    assert final_labels(labeled / "realnews")["article1.txt#2"] == ["economic"]


def test_promotion_also_compares_on_the_real_news_test(tmp_path):
    corpus = load_corpus(ROOT / "labeled")
    stories = ["qatar-blockade-2017", "uk-russia-skripal-2018", "australia-china-trade-2020", "venezuela-recognition-2019", "canada-saudi-2018"]
    corpus = corpus[corpus["story"].isin(stories)].reset_index(drop=True)
    # Real-news stand-ins: constructed passages of two other stories, given splits, so the test runs without the pool.
    other = load_corpus(ROOT / "labeled")
    real = other[other["story"].isin(["algeria-morocco-2021", "poland-belarus-border-2021"])].reset_index(drop=True)
    real = real.assign(split="test", article=real["story"], story="real-" + real["story"])
    good = train_and_register("tfidf", corpus, CODEBOOK, ["canada-saudi-2018"], tmp_path, folds=0, real=real)
    assert good.promoted and REAL_TEST in good.model.card.metrics
    # A model trained with its real-news test labels scrambled is worse there: it is not promoted.
    scrambled = real.assign(labels=[["economic"]] * len(real), split="train")
    worse = train_and_register("tfidf", corpus, CODEBOOK, ["canada-saudi-2018"], tmp_path, folds=0, real=pd.concat([scrambled, real]), real_weight=3)
    assert not worse.promoted, worse.promotion_note
    assert "real-news test macro-F1" in worse.promotion_note and "< current default's" in worse.promotion_note
    assert (tmp_path / DEFAULT_POINTER).read_text().strip() == good.folder.name


@needs_realnews
def test_the_committed_labels_match_the_real_articles():
    labels = repository_realnews_labels()
    corpus = load_realnews(labels, REALNEWS)
    assert len(corpus) >= 3000 and corpus["article"].nunique() >= 300
    test = corpus[corpus["split"] == "test"]
    assert (test["selection"] == "random").sum() >= 600
    # Every story cluster sits on one side of the split.
    assert (corpus.groupby("cluster")["split"].nunique() == 1).all()


def test_agreement_of_standoff_labels_needs_no_text(run_cli, labeled, tmp_path):
    passes = labeled / "realnews" / "agreement"
    passes.mkdir()
    first = [{"id": "article1.txt#0", "labels": ["sovereignty"]}, {"id": "article1.txt#1", "labels": []}, {"id": "article2.txt#0", "labels": ["humanitarian"]}]
    second = [{"id": "article1.txt#0", "labels": ["sovereignty"]}, {"id": "article1.txt#1", "labels": ["economic"]}, {"id": "article2.txt#0", "labels": ["humanitarian"]}]
    for name, rows in (("first-pass.jsonl", first), ("second-pass.jsonl", [dict(r, annotator="agent-b1") for r in second])):
        (passes / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = tmp_path / "AGREEMENT.md"
    result = run_cli("corpus", "agreement", labeled / "realnews", "--first", passes / "first-pass.jsonl", "--second", passes / "second-pass.jsonl", "--report", report)
    assert result.exit_code == 0, result.stderr
    text = report.read_text()
    assert "passages annotated twice, independently: **3** (real-news paragraphs" in text
    assert "| sovereignty | " in text and "F1 between passes" in text and "agent-b1" in text


def test_reports_never_quote_real_news_text(labeled, realnews):
    from framing.evaluation import evaluation_report, test_evaluations
    from framing.models import load_model, models_dir
    from framing.realnews import STANDOFF_TEXT

    model = load_model(next(models_dir().glob("tfidf-*")))
    real = load_realnews(labeled / "realnews", realnews).assign(split="test")
    real["labels"] = [list(CODEBOOK.frame_names)] * len(real)  # every paragraph a miss somewhere: the error table is full
    evaluations = test_evaluations(model, real.iloc[:0], real, 0)
    report = evaluation_report(evaluations, CODEBOOK, "report")
    assert "most confident errors" in report and STANDOFF_TEXT in report
    for _, paragraphs in ARTICLES.values():
        assert not any(paragraph in report for paragraph in paragraphs)
