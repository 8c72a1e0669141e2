"""The external-benchmark scripts (benchmarks/semeval2023.py, benchmarks/frac.py) on tiny made-up data sets
laid out like the real ones. No benchmark data is used or needed: every text here is invented."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"

pytest.importorskip("sklearn")


def _load(name: str):
    path = BENCHMARKS / f"{name}.py"
    if not path.is_file():
        pytest.skip(f"{path} is missing")
    spec = importlib.util.spec_from_file_location(f"_benchmark_{name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def semeval():
    return _load("semeval2023")


@pytest.fixture(scope="module")
def frac():
    return _load("frac")


# -- made-up data in the benchmarks' file layouts -------------------------------------------------------

# Invented sentences, a few per frame, so that a TF-IDF model has something to learn.
SENTENCES = {
    "Economic": ["The levy will cost taxpayers millions and push up prices at the till.",
                 "Exporters warned that the tariff would wipe out profits and jobs this quarter.",
                 "The budget office said the plan would add billions to the deficit."],
    "Crime_and_punishment": ["Police arrested the suspect and prosecutors filed fraud charges on Friday.",
                             "The judge sentenced the smuggler to twelve years in prison.",
                             "Detectives say the gang laundered the stolen money through shell firms."],
    "Political": ["The opposition party accused the governing coalition of playing politics before the election.",
                  "Senators split along party lines as the campaign heated up.",
                  "The minister's rivals in the party are plotting a leadership challenge."],
    "Health_and_safety": ["Hospitals reported a surge of infections and the vaccine campaign was extended.",
                          "Doctors warned that the outbreak could overwhelm intensive care wards.",
                          "Inspectors found the factory had ignored basic safety rules for workers."],
}
# Neutral made-up words: every article gets its own random filler, so no two articles are near duplicates.
FILLER_WORDS = ("officials meeting tuesday talks resume week capital river bridge market square morning council statement visit "
                "delegation harbour train station letter weekend schedule archive museum garden region northern southern hall").split()


def _article(frames: list[str], k: int) -> str:
    rng = np.random.default_rng(k)
    body = [SENTENCES[f][(k + i) % 3] for i, f in enumerate(frames)]
    filler = [" ".join(rng.choice(FILLER_WORDS, size=14)).capitalize() + "." for _ in range(3)]
    return f"A made-up headline number {k}\n\n" + "\n\n".join(body + filler)


def write_semeval(folder: Path, n: int = 30) -> dict[str, list[str]]:
    """``folder/train/article<ID>.txt`` and ``folder/train-labels-subtask-2.txt``; returns the labels written."""
    (folder / "train").mkdir(parents=True)
    names = list(SENTENCES)
    labels: dict[str, list[str]] = {}
    for k in range(n):
        frames = [names[k % 4]] + ([names[(k + 1) % 4]] if k % 3 == 0 else [])
        identifier = str(700000 + k)
        labels[identifier] = frames
        (folder / "train" / f"article{identifier}.txt").write_text(_article(frames, k), encoding="utf-8")
    # An exact duplicate (other case and spacing) of the first article, with another label: merged into one row.
    first = (folder / "train" / "article700000.txt").read_text(encoding="utf-8")
    (folder / "train" / "article799999.txt").write_text("  " + first.upper().replace(" ", "  ") + "\n", encoding="utf-8")
    labels["799999"] = ["Political"]
    # An article with no label line is skipped.
    (folder / "train" / "article800000.txt").write_text(_article(["Economic"], 1), encoding="utf-8")
    lines = [f"{i}\t{','.join(f)}" for i, f in labels.items()]
    (folder / "train-labels-subtask-2.txt").write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    return labels


FRAC_CODES = {"1": "Economic", "5": "Crime_and_punishment", "6": "Political", "9": "Health_and_safety"}


def write_frac(folder: Path, per_code: int = 8) -> Path:
    import csv

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    path = folder / "gold_standard_single_label_all.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")  # the real file has CRLF line ends
        writer.writerow(["sentence", "label"])
        for i in range(per_code):
            for code, frame in FRAC_CODES.items():
                writer.writerow([f"{SENTENCES[frame][i % 3]} {' '.join(rng.choice(FILLER_WORDS, size=6))}", code])
            writer.writerow([f"The weather was mild for the time of year, said {' '.join(rng.choice(FILLER_WORDS, size=6))}.", "15"])
    return path


# -- SemEval ---------------------------------------------------------------------------------------------


def test_semeval_label_names_and_label_file(semeval, tmp_path):
    assert semeval.frame_name("Legality_Constitutionality_and_jurisprudence") == "legality-constitutionality-and-jurisprudence"
    assert semeval.frame_name(" Capacity_and_resources ") == "capacity-and-resources"
    path = tmp_path / "labels.txt"
    path.write_text("101\tPolitical,Crime_and_punishment\n\n102\tEconomic\n103\t\n", encoding="utf-8")
    assert semeval.parse_labels_file(path) == {"101": ["political", "crime-and-punishment"], "102": ["economic"], "103": []}
    path.write_text("101\tPolitical\n101\tEconomic\n", encoding="utf-8")
    with pytest.raises(ValueError, match="twice"):
        semeval.parse_labels_file(path)


def test_semeval_codebook_has_the_14_frames(semeval):
    from framing.codebook import load_codebook

    codebook = load_codebook(semeval.CODEBOOK)
    official = ["Economic", "Capacity_and_resources", "Morality", "Fairness_and_equality", "Legality_Constitutionality_and_jurisprudence",
                "Policy_prescription_and_evaluation", "Crime_and_punishment", "Security_and_defense", "Health_and_safety", "Quality_of_life",
                "Cultural_identity", "Public_opinion", "Political", "External_regulation_and_reputation"]
    assert codebook.frame_names == [semeval.frame_name(f) for f in official]
    assert all(f.definition for f in codebook.frames)


def test_semeval_conversion(semeval, tmp_path):
    from framing.codebook import load_codebook

    labels = write_semeval(tmp_path / "data")
    corpus, notes = semeval.load_semeval(tmp_path / "data", load_codebook(semeval.CODEBOOK))
    assert notes["exact_duplicates_merged"] == 1 and notes["articles_without_labels_skipped"] == 1
    assert len(corpus) == len(labels) - 1
    merged = corpus.set_index("id").loc["700000+799999"]
    assert merged["labels"] == ["economic", "crime-and-punishment", "political"]
    row = corpus.set_index("id").loc["700005"]
    assert row["labels"] == [semeval.frame_name(f) for f in labels["700005"]]
    assert row["text"].startswith("A made-up headline number 5\n\n")
    assert (corpus["story"] == "").all()


def test_semeval_unknown_label_is_refused(semeval, tmp_path):
    from framing.codebook import load_codebook

    write_semeval(tmp_path / "data", n=6)
    with (tmp_path / "data" / "train-labels-subtask-2.txt").open("a", encoding="utf-8") as handle:
        handle.write("700100\tPolitical,Not_a_frame\n")
    (tmp_path / "data" / "train" / "article700100.txt").write_text(_article(["Political"], 2), encoding="utf-8")
    with pytest.raises(SystemExit, match="not-a-frame"):
        semeval.load_semeval(tmp_path / "data", load_codebook(semeval.CODEBOOK))


def test_semeval_main_runs_tfidf_and_the_baselines(semeval, tmp_path):
    write_semeval(tmp_path / "data")
    output = tmp_path / "results" / "semeval"
    payload = semeval.main([str(tmp_path / "data"), "--families", "tfidf", "--folds", "3", "--output", str(output), "--param", "tfidf.C=2"])
    result = payload["families"]["tfidf (C=2)"]
    assert 0.5 < result["micro_f1"] <= 1 and 0 <= result["macro_f1"] <= 1
    from framing.codebook import load_codebook

    assert list(result["per_frame"]) == load_codebook(semeval.CODEBOOK).frame_names
    baseline = payload["baselines"]["best constant set"]
    assert 0 < baseline["micro_f1"] < result["micro_f1"]
    saved = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))
    assert saved["n"] == 30 and saved["folds"] == 3
    markdown = output.with_suffix(".md").read_text(encoding="utf-8")
    assert "| tfidf (C=2) |" in markdown and "baseline: best constant set" in markdown
    # No text of the data ends up in the results.
    assert "made-up headline" not in markdown.lower() and "made-up headline" not in output.with_suffix(".json").read_text().lower()


def test_best_constant_set_maximises_micro_f1(semeval):
    import itertools

    from common import best_constant_set

    rng = np.random.default_rng(0)
    Y = (rng.random((40, 5)) < np.array([0.7, 0.5, 0.3, 0.1, 0.45])).astype(int)
    chosen = best_constant_set(Y)

    def micro(s):
        tp = (Y * s).sum()
        return 2 * tp / (s.sum() * len(Y) + Y.sum())

    best = max(micro(np.array(s)) for s in itertools.product([0, 1], repeat=5) if any(s))
    assert micro(chosen) == pytest.approx(best)


def test_export_refuses_the_repository_and_feeds_the_cli(semeval, tmp_path, run_cli):
    write_semeval(tmp_path / "data")
    with pytest.raises(SystemExit, match="inside the repository"):
        semeval.main([str(tmp_path / "data"), "--export", str(ROOT / "benchmarks" / "results")])
    assert not (ROOT / "benchmarks" / "results" / "semeval2023.jsonl").exists()
    semeval.main([str(tmp_path / "data"), "--export", str(tmp_path / "export")])
    exported = tmp_path / "export" / "semeval2023.jsonl"
    rows = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 30 and {"id", "text", "labels", "story"} <= set(rows[0])
    result = run_cli("evaluate", "--data", exported, "--codebook", semeval.CODEBOOK, "--model", "tfidf", "--lenient", "--folds", "2",
                     "--output", tmp_path / "metrics.json")
    assert result.exit_code == 0, result.stderr
    metrics = json.loads((tmp_path / "metrics.json").read_text(encoding="utf-8"))["cross-validation"]
    assert 0 <= metrics["micro_f1"] <= 1 and "political" in metrics["per_frame"]


# -- FrAC ------------------------------------------------------------------------------------------------


def test_frac_codes_and_codebook(frac):
    from framing.codebook import load_codebook

    codebook = load_codebook(frac.CODEBOOK)
    assert len(codebook.frame_names) == 10 and set(frac.CODES.values()) == set(codebook.frame_names)
    assert frac.code_to_frame("15") == "other" and frac.code_to_frame(" 5 ") == "legality-and-crime" and frac.code_to_frame("6.0") == "political-and-policies"
    with pytest.raises(ValueError):
        frac.code_to_frame("7")


def test_frac_conversion(frac, tmp_path):
    path = write_frac(tmp_path / "data")
    corpus, notes = frac.load_frac(tmp_path / "data")
    assert len(corpus) == 40 and notes["exact_duplicates_merged"] == 0
    assert (corpus["labels"].str.len() == 1).all()
    assert corpus["labels"].str[0].value_counts().to_dict() == {name: 8 for name in ["economic", "legality-and-crime", "political-and-policies", "health-and-safety", "other"]}
    same, _ = frac.load_frac(path)  # the CSV file itself works too
    assert same.equals(corpus)


def test_frac_main_runs_tfidf_with_single_label_metrics(frac, tmp_path):
    write_frac(tmp_path / "data")
    output = tmp_path / "frac"
    payload = frac.main([str(tmp_path / "data"), "--families", "tfidf", "--folds", "2", "--output", str(output)])
    result = payload["families"]["tfidf"]
    assert 0 <= result["macro_f1"] <= 1 and len(result["per_frame"]) == 10
    assert result["argmax_accuracy"] > payload["baselines"]["majority class"]["argmax_accuracy"]
    assert "argmax accuracy" in output.with_suffix(".md").read_text(encoding="utf-8")


def test_single_label_metrics(frac):
    Y = np.eye(3, dtype=int)[[0, 1, 2, 2]]
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.5, 0.1, 0.4], [0.1, 0.1, 0.8]])
    result = frac.single_label_metrics(Y, scores)
    assert result["argmax_accuracy"] == 0.75
    assert result["argmax_macro_f1"] == pytest.approx(np.mean([2 / 3, 1.0, 2 / 3]), abs=1e-4)


def test_family_specs_and_params(semeval):
    from common import parse_params, parse_system, system_name

    assert parse_system("tfidf") == ("tfidf", {})
    assert parse_system("tfidf:C=16,ngram_max=1,solver=lbfgs") == ("tfidf", {"C": 16, "ngram_max": 1, "solver": "lbfgs"})
    assert parse_params(["embed.C=0.5", "tfidf.min_df=3"]) == {"embed": {"C": 0.5}, "tfidf": {"min_df": 3}}
    assert system_name("tfidf", {"ngram_max": 1, "C": 16}) == "tfidf (C=16, ngram_max=1)"
    with pytest.raises(SystemExit):
        parse_system("tfidf:C")


# -- benchmarks/heldout.py: the held-out-story comparison on the committed corpus ----------------------------


def test_heldout_rerun_keeps_the_families_it_did_not_redo(tmp_path):
    heldout = _load("heldout")
    output = tmp_path / "heldout"
    first = heldout.main(["--families", "tfidf", "--output", str(output)])
    earlier = json.loads(output.with_suffix(".json").read_text())
    # A family measured by an earlier run on the same split, seed and backend (its numbers copied from tfidf's).
    earlier["results"]["finetune"] = {**first["tfidf"], "command": "python benchmarks/heldout.py --families finetune"}
    output.with_suffix(".json").write_text(json.dumps(earlier))

    again = heldout.main(["--families", "tfidf", "--output", str(output)])
    assert list(again) == ["tfidf", "finetune"]
    assert again["tfidf"]["macro_f1"] == first["tfidf"]["macro_f1"]  # same data and seed, same metrics
    markdown = output.with_suffix(".md").read_text()
    assert "| finetune |" in markdown and "- `python benchmarks/heldout.py --families finetune`" in markdown

    assert list(heldout.main(["--families", "tfidf", "--output", str(output), "--no-merge"])) == ["tfidf"]
