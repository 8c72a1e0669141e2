import json

import pandas as pd
import pytest

from framing.codebook import load_codebook
from framing.corpus import check_corpus, held_out_stories, label_matrix, load_corpus, split_by_story, statistics

from .conftest import ROOT

CODEBOOK = load_codebook()
LABELED = ROOT / "labeled"


@pytest.fixture(scope="module")
def corpus():
    return load_corpus(LABELED)


def test_the_committed_corpus_passes_the_check(corpus):
    assert check_corpus(corpus, CODEBOOK) == []


def test_corpus_files_load_straight_into_datasets():
    import datasets

    files = sorted(str(p) for p in (LABELED / "corpus").glob("*.jsonl"))
    dataset = datasets.load_dataset("json", data_files=files, split="train")
    assert {"id", "text", "labels", "story", "register", "source", "annotator"} <= set(dataset.column_names)
    assert isinstance(dataset[0]["labels"], list)


def test_held_out_split_keeps_whole_stories_apart(corpus):
    stories = held_out_stories(LABELED)
    assert len(stories) >= 5
    train, test = split_by_story(corpus, stories)
    assert set(train["story"]).isdisjoint(test["story"])
    assert set(test["story"]) == set(stories)
    assert len(train) + len(test) == len(corpus)


def test_statistics_count_every_frame(corpus):
    tables = statistics(corpus, CODEBOOK)
    per_frame = tables["per_frame"].set_index("frame")["passages"]
    assert per_frame.drop("none").tolist() == label_matrix(corpus, CODEBOOK).sum(axis=0).tolist()
    assert tables["per_story"]["passages"].sum() == len(corpus)


def _write(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def _row(i, text, labels=(), **extra):
    return {"id": str(i), "text": text, "labels": list(labels), "story": "s", "register": "wire", "source": "constructed", "annotator": "a", **extra}


BASE = "The foreign ministry summoned the ambassador on Tuesday and handed him a formal note of protest over remarks made in parliament"


def test_check_finds_and_locates_every_kind_of_problem(tmp_path):
    _write(tmp_path / "a.jsonl", [
        _row(1, BASE + ".", ["sovereignty"]),
        _row(2, BASE + " last week.", ["sovereignty"]),  # near duplicate of 1
        _row(3, "Too short to be a passage.", []),
        _row(4, " ".join(["word"] * 130), []),
        _row(5, "Exporters said the closure of the border crossing had stranded four hundred lorries loaded with fruit and flowers.", ["trade"]),
        _row(6, "", []),
        _row(1, "A different passage with the same id as the first one, about tariffs on steel and aluminium imports.", ["economic"], register="blog"),
    ])
    _write(tmp_path / "b.jsonl", [_row(9, BASE + ".", ["sovereignty"])])  # exact duplicate across files
    problems = [str(p) for p in check_corpus(load_corpus(tmp_path), CODEBOOK)]
    text = "\n".join(problems)
    assert "a.jsonl:row 2 (id 2): near duplicate" in text
    assert "a.jsonl:row 3 (id 3): text has 6 words, under the 15-word minimum" in text
    assert "a.jsonl:row 4 (id 4): text has 130 words, over the 120-word limit" in text
    assert "a.jsonl:row 5 (id 5): unknown frame 'trade'" in text
    assert "a.jsonl:row 6 (id 6): empty text" in text
    assert "register 'blog' is not one of" in text
    assert "id '1' is used again" in text
    assert "b.jsonl:row 1 (id 9): exact duplicate of" in text and "a.jsonl:row 1" in text


def test_corpus_check_command_fails_with_located_errors(run_cli, tmp_path):
    _write(tmp_path / "bad.jsonl", [_row(1, BASE + ".", ["sovreignty"])])
    result = run_cli("corpus", "check", tmp_path)
    assert result.exit_code == 2
    assert "bad.jsonl:row 1 (id 1): unknown frame 'sovreignty'" in result.stdout


def test_csv_labels_are_semicolon_separated(tmp_path):
    pd.DataFrame([{"id": "x", "text": BASE, "labels": "sovereignty;economic"}, {"id": "y", "text": BASE + " again", "labels": ""}]).to_csv(tmp_path / "c.csv", index=False)
    corpus = load_corpus(tmp_path)
    assert corpus["labels"].tolist() == [["sovereignty", "economic"], []]


def test_near_duplicates_are_found_without_comparing_every_pair():
    """The LSH search finds what the exhaustive cosine search finds (benchmarks/corpus_check_scale.py measures it at 10x)."""
    import random

    from sklearn.feature_extraction.text import TfidfVectorizer

    from framing.corpus import NEAR_DUPLICATE_SIMILARITY, load_corpus, near_duplicate_pairs

    texts = [" ".join(t.lower().split()) for t in load_corpus(ROOT / "labeled")["text"][:600]]
    rng = random.Random(3)
    for i in rng.sample(range(600), 40):
        words = texts[i].split()
        words[rng.randrange(len(words))] = "meanwhile"
        texts.append(" ".join(words))
    X = TfidfVectorizer(ngram_range=(1, 3), sublinear_tf=True).fit_transform(texts)
    similarity = (X @ X.T).toarray()
    exhaustive = {(i, j) for i in range(len(texts)) for j in range(i) if similarity[i, j] >= NEAR_DUPLICATE_SIMILARITY}
    found = {(i, j) for i, j, _ in near_duplicate_pairs(texts)}
    assert len(exhaustive) >= 30 and found <= exhaustive
    assert len(found) >= 0.95 * len(exhaustive)


def test_annotated_rows_need_no_register_but_corpus_rows_do(tmp_path):
    """A researcher's archive rarely says an article's register: `framing annotate`'s file must pass the check without one."""
    text = "Lima recalled its ambassador and said the Mexican president had interfered in the internal affairs of a sovereign nation."
    rows = [{"id": "a:0", "text": text, "labels": ["sovereignty"], "story": "a", "register": "", "source": "annotated", "annotator": "ana"},
            {"id": "b:0", "text": text + " Again.", "labels": [], "story": "b", "register": "", "source": "constructed", "annotator": "ana"}]
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    problems = [str(p) for p in check_corpus(load_corpus(path), load_codebook())]
    assert [p for p in problems if "register" in p] == [f"{path}:row 2 (id b:0): register '' is not one of " + ", ".join(__import__("framing.corpus", fromlist=["REGISTERS"]).REGISTERS)]
