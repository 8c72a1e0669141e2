"""Comparisons of groups and over time (issue 14, items 5-9): metadata checked first, two-level intervals and
permutation tests, any metadata column and trends, large comparisons, tidy and Stata-safe outputs."""
import io
import re
import shutil
import time
import warnings

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from framing.codebook import load_codebook
from framing.comparison import MAX_PAIRWISE_UNITS, compare
from framing.reports import MAX_CHART_UNITS, chart_groups, write_report
from framing.tables import stata_names
from framing.uncertainty import MIN_GROUP_ARTICLES, two_level_bootstrap

from .conftest import ROOT

CODEBOOK = load_codebook()
THRESHOLDS = np.full(4, 0.5)
BORDER = ROOT / "examples" / "border-closure"
STATA_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,31}")


def _passages(rows):
    table = pd.DataFrame(rows, columns=["article_id", "outlet", "passage_index", "n_words", *CODEBOOK.probability_columns])
    table["start"], table["end"], table["text"] = 0, 1, "x"
    return table


def _synthetic(n_articles, n_outlets, n_passages=6, seed=0, shift=0.0):
    """Random passages; outlet-0 leans ``shift`` towards sovereignty."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(n_articles):
        outlet = f"outlet-{a % n_outlets}"
        for i in range(n_passages):
            p = rng.random(4) * 0.6
            if outlet == "outlet-0":
                p[0] = min(1.0, p[0] + shift)
            rows.append((f"2-{a}", outlet, i, int(rng.integers(20, 120)), *p))
    return _passages(rows)


# -- 5. inputs checked before the work ----------------------------------------------------------------


def test_compare_by_outlet_counts_the_articles_without_one_before_loading_the_model(run_cli, tmp_path):
    for name in ("harbor-01.txt", "harbor-02.txt", "ledger-01.txt"):
        shutil.copy(BORDER / name, tmp_path / name)
    (tmp_path / "metadata.csv").write_text("file,outlet\nharbor-01.txt,Harbor Times\nharbor-02.txt,\n")
    # The model folder does not exist: the metadata is refused before it would be loaded.
    result = run_cli("compare", tmp_path, "--by", "outlet", "--model", tmp_path / "no-model", "--reports-dir", tmp_path / "reports")
    assert result.exit_code == 2, result.stderr
    assert "--by outlet: 2 of 3 articles have no outlet (first: harbor-02, ledger-01)" in result.stderr
    assert not (tmp_path / "reports").exists()


def test_unknown_group_column_and_missing_dates_are_refused_first(run_cli, tmp_path):
    result = run_cli("compare", BORDER, "--by", "region", "--model", tmp_path / "no-model")
    assert result.exit_code == 2
    assert "--by region: not a metadata column" in result.stderr and "country" in result.stderr
    result = run_cli("compare", ROOT / "examples" / "peru-mexico", "--over", "month", "--model", tmp_path / "no-model")
    assert result.exit_code == 2
    assert "--over month: 3 of 3 articles have no published date" in result.stderr


# -- 6. intervals that do not collapse, tests between groups ------------------------------------------


def test_an_outlet_of_one_article_still_has_an_interval_from_its_passages():
    rows = [("a1", "o", i, 30, 1.0 if i % 2 else 0.0, 0, 0, 0) for i in range(10)]
    row = compare(_passages(rows), CODEBOOK, THRESHOLDS, by="outlet", n_bootstrap=500).mixes.iloc[0]
    assert row["low_sovereignty"] < row["share_sovereignty"] < row["high_sovereignty"]
    assert row["high_sovereignty"] - row["low_sovereignty"] > 0.3


def test_two_level_bootstrap_resamples_articles_then_passages():
    # Two articles, each of identical passages: only the article level varies, so the sovereignty share of a
    # resample is 0, 1/2 or 1, in the binomial proportions 1:2:1.
    weighted = np.array([[10.0, 0, 0, 0, 0]] * 3 + [[0, 0, 0, 0, 10.0]] * 3)
    resampled = two_level_bootstrap(weighted, np.full(6, 10.0), np.array([0, 0, 0, 1, 1, 1]), 4000, np.random.default_rng(1))
    values, counts = np.unique(resampled[:, 0].round(6), return_counts=True)
    assert values.tolist() == [0.0, 0.5, 1.0]
    np.testing.assert_allclose(counts / 4000, [0.25, 0.5, 0.25], atol=0.03)
    # One article of differing passages: the passage level gives it width.
    one = two_level_bootstrap(weighted, np.full(6, 10.0), np.zeros(6, dtype=int), 2000, np.random.default_rng(1))
    assert 0.05 < one[:, 0].std() < 0.4 and np.allclose(one.sum(axis=1), 1.0)


def test_small_groups_are_warned_about():
    comparison = compare(_synthetic(6, 2), CODEBOOK, THRESHOLDS, by="outlet", n_bootstrap=200, n_permutations=50)
    assert len(comparison.warnings) == 1
    assert f"2 of 2 outlet group(s) have fewer than {MIN_GROUP_ARTICLES} articles" in comparison.warnings[0]
    assert "outlet-0 (3)" in comparison.warnings[0]
    assert compare(_synthetic(20, 2), CODEBOOK, THRESHOLDS, by="outlet", n_bootstrap=200, n_permutations=50).warnings == []


def test_permutation_test_tells_outlets_that_differ_from_outlets_that_do_not():
    different = compare(_synthetic(24, 2, shift=0.6), CODEBOOK, THRESHOLDS, by="outlet", n_bootstrap=500, n_permutations=999, seed=3)
    alike = compare(_synthetic(24, 2, shift=0.0), CODEBOOK, THRESHOLDS, by="outlet", n_bootstrap=500, n_permutations=999, seed=3)
    d, a = different.distances.iloc[0], alike.distances.iloc[0]
    assert list(different.distances.columns) == ["unit_a", "unit_b", "jensen_shannon", "low", "high", "p_value"]
    assert d["p_value"] == pytest.approx(1 / 1000)  # the +1 correction: never 0
    assert a["p_value"] > 0.05
    assert d["low"] <= d["jensen_shannon"] <= d["high"] and d["jensen_shannon"] > a["jensen_shannon"]
    again = compare(_synthetic(24, 2, shift=0.0), CODEBOOK, THRESHOLDS, by="outlet", n_bootstrap=500, n_permutations=999, seed=3)
    pd.testing.assert_frame_equal(alike.distances, again.distances)


def test_outlet_comparison_of_400_articles_is_fast():
    passages = _synthetic(400, 20, n_passages=10)
    start = time.perf_counter()
    comparison = compare(passages, CODEBOOK, THRESHOLDS, by="outlet", n_bootstrap=2000, n_permutations=1000)
    elapsed = time.perf_counter() - start
    assert len(comparison.mixes) == 20 and len(comparison.distances) == 190 and comparison.distances["p_value"].notna().all()
    assert elapsed < 20, f"{elapsed:.1f} s"


# -- 7. any metadata column, and over time -----------------------------------------------------------


def test_compare_by_a_custom_column_and_over_months(run_cli, tmp_path):
    result = run_cli("compare", BORDER, "--by", "country", "--reports-dir", tmp_path, "--name", "c", "--bootstrap", "200", "--permutations", "99")
    assert result.exit_code == 0, result.stderr
    assert pd.read_csv(tmp_path / "c" / "mixes.csv")["unit"].tolist() == ["Marenca", "Veloria"]
    assert pd.read_csv(tmp_path / "c" / "articles.csv")["country"].nunique() == 2

    result = run_cli("compare", BORDER, "--by", "outlet", "--over", "month", "--reports-dir", tmp_path, "--name", "t", "--bootstrap", "200")
    assert result.exit_code == 0, result.stderr
    trend = pd.read_csv(tmp_path / "t" / "trend.csv")
    assert list(trend.columns[:4]) == ["outlet", "period", "n_articles", "n_passages"]
    assert len(trend) == 15 and trend["period"].unique().tolist() == ["2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01", "2025-05-01"]
    assert trend.groupby("outlet").size().tolist() == [5, 5, 5]
    assert (trend["low_humanitarian"] <= trend["share_humanitarian"] + 1e-9).all()
    assert (tmp_path / "t" / "trend.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = (tmp_path / "t" / "report.html").read_text()
    assert "Over time" in html and html.count("data:image/png;base64,") == 2


def test_trend_over_weeks_of_all_articles():
    passages = _synthetic(8, 2)
    published = pd.Series([f"2025-03-{d:02d}" for d in (3, 4, 5, 10, 11, 12, 17, 18)], index=[f"2-{a}" for a in range(8)])
    comparison = compare(passages, CODEBOOK, THRESHOLDS, n_bootstrap=200, over="week", published=published)
    assert comparison.trend["group"].unique().tolist() == ["all articles"]
    assert comparison.trend["period"].tolist() == ["2025-03-03", "2025-03-10", "2025-03-17"]  # Mondays
    assert comparison.trend["n_articles"].tolist() == [3, 3, 2]


def test_published_is_a_date_in_parquet_and_normalised(run_cli, tmp_path):
    target = tmp_path / "articles.parquet"
    result = run_cli("score", BORDER / "herald-01.txt", BORDER / "herald-02.txt", "--output", target)
    assert result.exit_code == 0, result.stderr
    assert str(pq.read_schema(target).field("published").type) == "date32[day]"
    assert pd.read_parquet(target)["published"].astype(str).tolist() == ["2025-01-06", "2025-02-11"]
    source = tmp_path / "articles.csv"
    pd.DataFrame({"id": ["a", "b"], "text": [(BORDER / "herald-01.txt").read_text()] * 2,
                  "published": ["2025-01-06T09:30:00Z", "6 January"], "desk": ["north", "south"]}).to_csv(source, index=False)
    result = run_cli("score", source, "--format", "csv")
    assert result.exit_code == 0, result.stderr
    table = pd.read_csv(io.StringIO(result.stdout), keep_default_na=False)
    assert table["published"].tolist() == ["2025-01-06", ""] and table["desk"].tolist() == ["north", "south"]
    assert "published '6 January' is not an ISO 8601 date" in result.stderr


# -- 8. large comparisons -----------------------------------------------------------------------------


def test_units_are_in_natural_order():
    rows = [(article, "", 0, 30, 0.9, 0, 0, 0) for article in ("2-79", "2-8", "10-1", "2-10")]
    comparison = compare(_passages(rows), CODEBOOK, THRESHOLDS, n_bootstrap=100)
    assert comparison.mixes["unit"].tolist() == ["2-8", "2-10", "2-79", "10-1"]
    assert comparison.distances[["unit_a", "unit_b"]].iloc[0].tolist() == ["2-8", "2-10"]
    assert comparison.evidence["unit"].tolist() == ["2-8", "2-10", "2-79", "10-1"]


def _articles_of(passages):
    from framing.scoring import mix, share_columns

    rows = []
    for article, group in passages.groupby("article_id", sort=False):
        shares = mix(group[CODEBOOK.probability_columns].to_numpy(), group["n_words"].to_numpy())
        rows.append({"article_id": article, "outlet": group["outlet"].iloc[0], "n_words": int(group["n_words"].sum()),
                     **dict(zip(share_columns(CODEBOOK), shares))})
    return pd.DataFrame(rows)


def test_a_large_comparison_charts_groups_and_keeps_the_page_light(tmp_path):
    from PIL import Image

    passages = _synthetic(400, 8)
    passages["text"] = "A passage long enough to weigh something in the page when it is repeated for every article. " * 3
    comparison = compare(passages, CODEBOOK, THRESHOLDS, n_bootstrap=200)
    assert len(comparison.mixes) == 400 > MAX_CHART_UNITS and MAX_PAIRWISE_UNITS < 400
    assert comparison.distances.empty and comparison.pairs_skipped
    articles = _articles_of(passages)
    assert chart_groups(comparison, articles, CODEBOOK)["unit"].tolist() == ["all 400 articles"] + [f"outlet-{i}" for i in range(8)]
    files = write_report(tmp_path, comparison, articles, passages, CODEBOOK, "test", "large")
    width, height = Image.open(files["chart.png"]).size
    assert width <= 1400 and height <= 1000, (width, height)
    html = files["report.html"].read_text()
    assert files["report.html"].stat().st_size < 400_000
    assert "79,800 pairs" in html
    assert html.count("characters 0-1") == 4 * 2  # evidence: the strongest two per frame, not per article
    assert len(pd.read_csv(files["evidence.csv"])) == len(comparison.evidence) > 8


def test_all_pairs_on_request_past_the_size():
    comparison = compare(_synthetic(MAX_PAIRWISE_UNITS + 5, 3), CODEBOOK, THRESHOLDS, n_bootstrap=100, all_pairs=True)
    n = MAX_PAIRWISE_UNITS + 5
    assert len(comparison.distances) == n * (n - 1) // 2
    assert comparison.distances["jensen_shannon"].between(0, 1).all() and comparison.distances["p_value"].isna().all()


# -- 9. tidy, Stata-safe outputs ----------------------------------------------------------------------


def test_compare_csv_on_stdout_is_the_tidy_mix_table(run_cli, tmp_path):
    result = run_cli("compare", BORDER, "--by", "outlet", "--reports-dir", tmp_path, "--name", "o", "-f", "csv", "--bootstrap", "200", "--permutations", "99")
    assert result.exit_code == 0, result.stderr
    printed = pd.read_csv(io.StringIO(result.stdout))
    pd.testing.assert_frame_equal(printed, pd.read_csv(tmp_path / "o" / "mixes.csv"))
    assert printed["share_sovereignty"].dtype == float and printed["low_sovereignty"].le(printed["share_sovereignty"]).all()


def test_stata_names_are_accepted_by_to_stata(run_cli, tmp_path):
    assert stata_names(["share_ideological-bloc", "2nd", "in", "a" * 40, "a" * 40, "x y"]) == [
        "share_ideological_bloc", "_2nd", "_in", "a" * 32, "a" * 30 + "_2", "x_y"]
    result = run_cli("compare", BORDER, "--by", "outlet", "--reports-dir", tmp_path, "--name", "s", "--stata-names", "-f", "csv",
                     "--bootstrap", "200", "--permutations", "99")
    assert result.exit_code == 0, result.stderr
    for table in (pd.read_csv(io.StringIO(result.stdout)), pd.read_csv(tmp_path / "s" / "mixes.csv"), pd.read_csv(tmp_path / "s" / "articles.csv")):
        assert all(STATA_NAME.fullmatch(c) for c in table.columns), list(table.columns)
        assert "share_ideological_bloc" in table.columns
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # to_stata warns when it renames a column
            table.fillna("").to_stata(tmp_path / "t.dta", write_index=False)
